"""Heightmap rate for N cameras: decode raw RGB-D + fuse, as perception_node does per frame set."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np

from cliport_ros.bench.config import PerceptionBenchConfig
from cliport_ros.perception.camera import decode_depth
from cliport_ros.perception.config import PerceptionConfig, fuse_views, load_perception_config
from cliport_ros.perception.heightmap import RGBDView
from cliport_ros.perception.synthetic import demo_scene, render

log = logging.getLogger(__name__)


def run(cfg: PerceptionBenchConfig) -> list[dict[str, float]]:
    """Time decode (16UC1 -> metres) + fusion per frame set, as the layout configures perception and with
    the real-camera filters on (PerceptionConfig's defaults), in the same run; one row each."""
    configured = load_perception_config(cfg.config)
    defaults = PerceptionConfig(cameras=configured.cameras)
    filtered = replace(configured, flying_pixel_threshold=defaults.flying_pixel_threshold,
                       fill_holes=defaults.fill_holes)
    rows = [_time(cfg, configured)]
    if filtered != configured:
        rows.append(_time(cfg, filtered))
    return rows


def _filters(pconfig: PerceptionConfig) -> str:
    on = [f"flying pixels > {pconfig.flying_pixel_threshold:g} m"] if pconfig.flying_pixel_threshold else []
    on += [f"holes <= {2 * pconfig.fill_holes} cells"] if pconfig.fill_holes else []
    return ", ".join(on) or "off"


def _time(cfg: PerceptionBenchConfig, pconfig: PerceptionConfig) -> dict[str, float]:
    cams = [c.to_camera() for c in pconfig.cameras]  # once, as perception_node builds them once per calibration
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
        fuse_views(views, pconfig)
        if i >= cfg.warmup:
            times.append(time.perf_counter() - start)
    t = np.asarray(times)
    w = raw[0][0].intrinsics
    return {
        "cameras": len(cams),
        "resolution": f"{w.width}x{w.height}",
        "grid": "x".join(map(str, pconfig.workspace.shape)),
        "filters": _filters(pconfig),
        "frames": cfg.frames,
        "median_ms": float(np.median(t) * 1e3),
        "p95_ms": float(np.percentile(t, 95) * 1e3),
        "median_hz": float(1.0 / np.median(t)),
    }


def print_table(rows: list[dict[str, float]]) -> None:
    print("| cameras | resolution | heightmap | filters | frames | median ms | p95 ms | median Hz |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['cameras']} | {r['resolution']} | {r['grid']} | {r['filters']} | {r['frames']} "
              f"| {r['median_ms']:.2f} | {r['p95_ms']:.2f} | {r['median_hz']:.1f} |")
