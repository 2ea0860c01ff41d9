"""Heightmap rate for N cameras: decode raw RGB-D + fuse, as perception_node does per frame set."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from cliport_ros.perception.camera import decode_depth
from cliport_ros.perception.config import load_perception_config
from cliport_ros.perception.heightmap import RGBDView, fuse
from cliport_ros.perception.synthetic import demo_scene, render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PerceptionBenchConfig:
    """``cliport bench perception`` options."""

    config: str = "cameras_ravens.yaml"
    frames: int = 200
    warmup: int = 10

    def __post_init__(self) -> None:
        if self.frames < 1 or self.warmup < 0:
            raise ValueError(f"frames={self.frames} must be >= 1 and warmup={self.warmup} >= 0")


def run(cfg: PerceptionBenchConfig) -> dict[str, float]:
    """Time decode (16UC1 -> metres) + fusion per frame set; return rate statistics."""
    pconfig = load_perception_config(cfg.config)
    cams = [c.to_camera() for c in pconfig.cameras]
    scene = demo_scene()
    raw = []
    for cam in cams:
        view = render(cam, scene)
        mm = np.nan_to_num(np.round(view.depth * 1000), nan=0).astype(np.uint16)
        raw.append((cam, view.rgb, mm))
    times = []
    for i in range(cfg.warmup + cfg.frames):
        start = time.perf_counter()
        views = [RGBDView(cam, rgb, decode_depth(mm, "16UC1")) for cam, rgb, mm in raw]
        fuse(views, pconfig.workspace, pconfig.floor_tolerance)
        if i >= cfg.warmup:
            times.append(time.perf_counter() - start)
    t = np.asarray(times)
    w = raw[0][0].intrinsics
    return {
        "cameras": len(cams),
        "resolution": f"{w.width}x{w.height}",
        "grid": "x".join(map(str, pconfig.workspace.shape)),
        "frames": cfg.frames,
        "median_ms": float(np.median(t) * 1e3),
        "p95_ms": float(np.percentile(t, 95) * 1e3),
        "median_hz": float(1.0 / np.median(t)),
    }


def print_table(result: dict[str, float]) -> None:
    print("| cameras | resolution | heightmap | frames | median ms | p95 ms | median Hz |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {result['cameras']} | {result['resolution']} | {result['grid']} | {result['frames']} "
        f"| {result['median_ms']:.2f} | {result['p95_ms']:.2f} | {result['median_hz']:.1f} |"
    )
