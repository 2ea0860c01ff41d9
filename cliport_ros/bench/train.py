"""Training cost per sample: where a step's time goes, the plain and the optimised computation side by side.

Every row runs :func:`cliport_ros.learn.train.train_step` on the same synthetic demonstrations (the
step ``cliport train`` runs), with the frozen encoders timed inside the forward pass, so a row's
parts add up to its step: data and augmentation, frozen CLIP + text, trainable forward, backward,
optimiser.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from cliport_ros.bench.config import TrainBenchConfig
from cliport_ros.bench.model import matmul_gflops
from cliport_ros.demonstrations import Episode
from cliport_ros.learn.data import DemoSampler, to_device
from cliport_ros.learn.train import make_optimiser, prepare_layout, train_step
from cliport_ros.model.config import preset
from cliport_ros.model.policy import CLIPortPolicy, count_parameters
from cliport_ros.perception.workspace import Workspace

PARTS = ("data", "frozen", "forward", "backward", "optimiser")


@dataclass(frozen=True)
class Row:
    """One computation to time: a preset and a memory layout."""

    preset: str
    channels_last: bool
    what: str


def _describe(name: str) -> str:
    cfg = preset(name)
    parts = []
    if cfg.downsample > 1:
        parts.append(f"1/{cfg.downsample} resolution")
    if cfg.query == "turned":
        parts.append("query once, turned")
    return f"variant: {' + '.join(parts)}" if parts else "same architecture"


def synthetic_episodes(n: int = 4, seed: int = 0) -> list[Episode]:
    """Demonstrations with random scenes and labels: timing depends on shapes, not content."""
    ws = Workspace()
    rng = np.random.default_rng(seed)
    rows, cols = ws.shape
    episodes = []
    for i in range(n):
        pix = np.stack([rng.integers(40, rows - 40, 2), rng.integers(40, cols - 40, 2)], axis=-1)[None]
        episodes.append(Episode(
            task="bench", seed=i, workspace=ws,
            color=rng.integers(0, 255, (1, rows, cols, 3), dtype=np.uint8),
            height=(rng.random((1, rows, cols)) * 0.05).astype(np.float32),
            pick_xyz=np.zeros((1, 3), np.float32), place_xyz=np.zeros((1, 3), np.float32),
            pick_yaw=np.zeros(1, np.float32), place_yaw=np.zeros(1, np.float32),
            pick_pix=pix[:, 0], place_pix=pix[:, 1], rotation=rng.uniform(-3, 3, 1).astype(np.float32),
            reward=np.ones(1, np.float32), language=["put the red blocks in a green bowl"]))
    return episodes


@contextmanager
def _timed_frozen(policy: CLIPortPolicy, spent: list[float]):
    """Add the time of every frozen-encoder call (CLIP image, sentence) to ``spent[0]``."""
    patched = []
    for owner, name in ((policy.clip, "encode_image"), (policy.clip, "encode_text"), (policy.text, "encode_text")):
        if owner is None:
            continue
        original = getattr(owner, name)

        def wrapper(*args, _original=original, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start

        setattr(owner, name, wrapper)
        patched.append((owner, name))
    try:
        yield
    finally:
        for owner, name in patched:
            delattr(owner, name)  # the instance attribute goes; the class method shows through again


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_row(row: Row, cfg: TrainBenchConfig, episodes: list[Episode]) -> dict:
    device = torch.device(cfg.device)
    torch.manual_seed(0)
    policy = CLIPortPolicy(preset(row.preset, clip_weights=cfg.clip_weights, text_encoder=cfg.text_encoder))
    policy.to(device)
    try:
        prepare_layout(policy, row.channels_last)
    except ValueError as err:
        return {"preset": row.preset, "channels_last": row.channels_last, "what": row.what, "refused": str(err)}
    policy.train()
    optimiser = make_optimiser(policy, 1e-4)
    sampler = DemoSampler(episodes, policy.cfg.n_rotations, seed=0)
    _, trainable = count_parameters(policy)
    with FlopCounterMode(display=False) as flops:  # the warm-up step, counted, untimed
        train_step(policy, optimiser, to_device(sampler.batch(cfg.batch_size), device), row.channels_last)
    gflop = flops.get_total_flops() / 1e9 / cfg.batch_size
    times = {k: [] for k in PARTS}
    for _ in range(cfg.steps):
        spent = [0.0]
        t0 = time.perf_counter()
        batch = to_device(sampler.batch(cfg.batch_size), device)
        _sync(device)
        t1 = time.perf_counter()
        with _timed_frozen(policy, spent):
            train_step(policy, optimiser, batch, row.channels_last, timings=(times, device))
        times["data"].append(t1 - t0)
        times["frozen"].append(spent[0])
        times["forward"][-1] -= spent[0]
    per_sample = {k: float(np.median(v)) / cfg.batch_size for k, v in times.items()}
    total = sum(per_sample.values())
    return {"preset": row.preset, "channels_last": row.channels_last, "what": row.what,
            "trainable_m": trainable / 1e6, "gflop": gflop, "seconds": total, "rate": 1.0 / total, **per_sample}


def timed_rows(cfg: TrainBenchConfig) -> list[Row]:
    """The four timed rows: the baseline plain and channels_last, then the preset's."""
    return [
        Row(cfg.baseline, False, "plain: NCHW eager, the reference computation"),
        Row(cfg.baseline, True, "exact: the same network channels_last (same outputs to float rounding)"),
        Row(cfg.preset, False, _describe(cfg.preset)),
        Row(cfg.preset, True, _describe(cfg.preset) + ", channels_last"),
    ]


def run(cfg: TrainBenchConfig) -> dict:
    episodes = synthetic_episodes()
    rows = [run_row(row, cfg, episodes) for row in timed_rows(cfg)]
    return {"rows": rows, "batch_size": cfg.batch_size, "device": cfg.device, "threads": torch.get_num_threads(),
            "steps": cfg.steps, "matmul_gflops": matmul_gflops(cfg.device)}


def print_table(result: dict) -> None:
    rows = result["rows"]
    base = rows[0]["seconds"]  # the plain row always runs: NCHW is never refused
    print(f"training cost per sample: batch {result['batch_size']}, device {result['device']}, "
          f"{result['threads']} threads, median of {result['steps']} steps; "
          f"fp32 matmul {result['matmul_gflops']:.0f} GFLOP/s")
    print("| preset | computes | trainable (M) | GFLOP/sample | data s | frozen CLIP+text s | forward s "
          "| backward s | optimiser s | s/sample | samples/s | vs plain |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "refused" in r:
            print(f"| {r['preset']} | {r['what']} | refused: {r['refused']} |||||||||")
            continue
        print(f"| {r['preset']} | {r['what']} | {r['trainable_m']:.2f} | {r['gflop']:.1f} | {r['data']:.3f} "
              f"| {r['frozen']:.3f} | {r['forward']:.3f} | {r['backward']:.3f} | {r['optimiser']:.3f} "
              f"| {r['seconds']:.3f} | {r['rate']:.2f} | {base / r['seconds']:.1f}x |")
