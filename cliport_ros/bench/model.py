"""Per-decision latency (pick, place, total) and peak memory of the CLIPort policy on this machine."""

from __future__ import annotations

import contextlib
import resource
from dataclasses import dataclass

import numpy as np
import torch

from cliport_ros.model.config import preset
from cliport_ros.model.policy import CLIPortPolicy, count_parameters
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.workspace import Workspace


@dataclass(frozen=True)
class ModelBenchConfig:
    """``cliport bench model`` options."""

    preset: str = "full"
    dtype: str = "fp32"
    decisions: int = 5
    clip_weights: str = "random:0"  # speed does not depend on the weights' values

    def __post_init__(self) -> None:
        if self.dtype not in ("fp32", "bf16"):
            raise ValueError(f"dtype={self.dtype!r} must be fp32 or bf16")
        if self.decisions < 1:
            raise ValueError("decisions must be >= 1")


def _scene(seed: int) -> Heightmap:
    ws = Workspace()
    rng = np.random.default_rng(seed)
    return Heightmap(rng.integers(0, 255, (*ws.shape, 3), dtype=np.uint8),
                     (rng.random(ws.shape) * 0.05).astype(np.float32), ws)


def run(cfg: ModelBenchConfig) -> dict:
    torch.manual_seed(0)
    policy = CLIPortPolicy(preset(cfg.preset, clip_weights=cfg.clip_weights)).eval()
    total, trainable = count_parameters(policy)
    autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if cfg.dtype == "bf16"
                else contextlib.nullcontext())
    instruction = "put the red blocks in a green bowl"
    with autocast:
        policy.act(_scene(0), instruction)  # warm-up: allocations, kernel selection
        times = []
        for i in range(cfg.decisions):
            decision = policy.act(_scene(i + 1), instruction)
            times.append(decision.seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = {k: float(np.median([t[k] for t in times])) for k in times[0]}
    return {"preset": cfg.preset, "dtype": cfg.dtype, "threads": torch.get_num_threads(),
            "params_m": total / 1e6, "trainable_m": trainable / 1e6, "peak_rss_mb": peak_mb,
            "decisions": cfg.decisions, **med}


def print_table(r: dict) -> None:
    print("| preset | dtype | threads | params (M) | trainable (M) | pick s | place s | text s | total s "
          "| peak RSS (MB) | decisions |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {r['preset']} | {r['dtype']} | {r['threads']} | {r['params_m']:.1f} | {r['trainable_m']:.1f} "
          f"| {r['pick']:.3f} | {r['place']:.3f} | {r['text']:.3f} | {r['total']:.3f} | {r['peak_rss_mb']:.0f} "
          f"| {r['decisions']} |")
