"""Per-decision latency (pick, place, total) and peak memory of the CLIPort policy on this machine."""

from __future__ import annotations

import contextlib
import resource
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from cliport_ros.bench.config import ModelBenchConfig
from cliport_ros.model.config import preset
from cliport_ros.model.policy import CLIPortPolicy, count_parameters
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.workspace import Workspace

TARGETS = {"full": 3.0, "small": 0.3}  # seconds per decision on the project's 2-core CPU (issue 5)


class UnsupportedDtypeError(RuntimeError):
    """bf16 asked of a device that would run it on a reference (slow) path."""


def check_dtype(dtype: str, device: str) -> None:
    """Refuse bf16 on a CPU without oneDNN bf16 kernels: its convolutions fall back to a naive loop."""
    if dtype == "bf16" and device == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        raise UnsupportedDtypeError(
            f"this CPU ({torch.backends.cpu.get_cpu_capability()}) has no bf16 support in oneDNN (it needs "
            "AVX-512 BF16 or AMX): bf16 convolutions would run the reference loop, tens of times slower than fp32")


def matmul_gflops(device: str, n: int = 2048, repeats: int = 5) -> float:
    """This device's fp32 matrix-multiply throughput: the practical ceiling for convolutions too."""
    a = torch.rand(n, n, device=device)
    a @ a  # warm-up
    if device != "cpu":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ a
    if device != "cpu":
        torch.cuda.synchronize()
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def _scene(seed: int) -> Heightmap:
    ws = Workspace()
    rng = np.random.default_rng(seed)
    return Heightmap(rng.integers(0, 255, (*ws.shape, 3), dtype=np.uint8),
                     (rng.random(ws.shape) * 0.05).astype(np.float32), ws)


def run(cfg: ModelBenchConfig) -> dict:
    check_dtype(cfg.dtype, cfg.device)
    torch.manual_seed(0)
    if cfg.checkpoint:
        from cliport_ros.model.checkpoint import load_checkpoint, resolve_policy

        policy = load_checkpoint(resolve_policy(cfg.checkpoint)).eval().to(cfg.device)
    else:
        policy = CLIPortPolicy(preset(cfg.preset, clip_weights=cfg.clip_weights)).eval().to(cfg.device)
    total, trainable = count_parameters(policy)
    device_type = torch.device(cfg.device).type
    autocast = (torch.autocast(device_type, dtype=torch.bfloat16) if cfg.dtype == "bf16"
                else contextlib.nullcontext())
    instruction = "put the red blocks in a green bowl"
    with autocast:
        policy.act(_scene(0), instruction)  # warm-up: allocations, kernel selection
        times, decisions = [], []
        for i in range(cfg.decisions):
            decisions.append(policy.act(_scene(i + 1), instruction))
            times.append(decisions[-1].seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with FlopCounterMode(display=False) as flops:
        policy.act(_scene(0), instruction)
    gflop = flops.get_total_flops() / 1e9
    peak_gflops = matmul_gflops(cfg.device)
    med = {k: float(np.median([t[k] for t in times])) for k in times[0]}
    agreement = None
    if cfg.dtype == "bf16":  # bf16 counts only where it decides as fp32 does
        same = [(d.pick_pixel, d.place_pixel, d.rotation_bin) == (f.pick_pixel, f.place_pixel, f.rotation_bin)
                for d, f in ((d, policy.act(_scene(i + 1), instruction)) for i, d in enumerate(decisions))]
        agreement = 100.0 * float(np.mean(same))
    name = policy.cfg.preset + (f" ({cfg.checkpoint})" if cfg.checkpoint else "")
    return {"preset": name, "dtype": cfg.dtype, "device": cfg.device, "threads": torch.get_num_threads(),
            "params_m": total / 1e6, "trainable_m": trainable / 1e6, "peak_rss_mb": peak_mb,
            "decisions": cfg.decisions, "agreement": agreement, "target": TARGETS.get(policy.cfg.preset),
            "gflop": gflop, "peak_gflops": peak_gflops, "floor": gflop / peak_gflops, **med}


def print_table(r: dict) -> None:
    target = f"{r['target']:g}" if r["target"] is not None and r["device"] == "cpu" else "-"
    agreement = f"{r['agreement']:.0f}%" if r["agreement"] is not None else "-"
    print("| preset | dtype | device | threads | params (M) | trainable (M) | pick s | place s | text s | total s "
          "| CPU target s | argmax = fp32 | peak RSS (MB) | decisions | GFLOP | matmul GFLOP/s | floor s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {r['preset']} | {r['dtype']} | {r['device']} | {r['threads']} | {r['params_m']:.1f} "
          f"| {r['trainable_m']:.1f} | {r['pick']:.3f} | {r['place']:.3f} | {r['text']:.3f} | {r['total']:.3f} "
          f"| {target} | {agreement} | {r['peak_rss_mb']:.0f} | {r['decisions']} | {r['gflop']:.1f} "
          f"| {r['peak_gflops']:.0f} | {r['floor']:.3f} |")
    if r["target"] is not None and r["device"] == "cpu" and r["floor"] > r["target"]:
        print(f"note: a decision is {r['gflop']:.0f} GFLOP; at this CPU's measured fp32 matmul rate "
              f"({r['peak_gflops']:.0f} GFLOP/s) it cannot take less than {r['floor']:.2f} s, "
              f"above the {r['target']:g} s target")
