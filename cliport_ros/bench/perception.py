"""Heightmap rate for N cameras through perception_node's own path: messages in, heightmap out.

Every timed frame set goes through :class:`~cliport_ros.perception.pipeline.PerceptionPipeline` as the node
feeds it: each camera's colour and depth message into the approximate time sync, the matched set checked
and decoded (``sensor_msgs/Image`` fields: 16UC1 millimetres, rgb8) and fused with the layout's filters. The
messages are ``rosbags``' ``sensor_msgs`` types, the ones ``cliport replay`` reads, so no ROS is needed; the
frames are the layout's cameras' renders of the demo scene with a RealSense-like camera's artefacts
(:mod:`cliport_ros.perception.depth_model`), so the filters have real work to do.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cliport_ros.bench.config import PerceptionBenchConfig
from cliport_ros.perception.config import PerceptionConfig, load_perception_config, with_real_camera_filters
from cliport_ros.perception.depth_model import RealSenseDepth
from cliport_ros.perception.pipeline import PerceptionPipeline
from cliport_ros.perception.synthetic import demo_scene, render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchPath:
    """One row of the table: a perception config, and whether the pipeline (its cameras' ray grids) lives
    across frame sets, as perception_node's does, or is rebuilt for every set, as the node once did."""

    name: str
    config: PerceptionConfig
    reuse_cameras: bool = True


def paths(cfg: PerceptionBenchConfig) -> list[BenchPath]:
    """The baseline (filters on, cameras rebuilt per set) and the node's path with the filters off (as the
    simulated layout configures it), on (PerceptionConfig's defaults: what a real camera gets), and on with
    the median over the last ``cfg.temporal_sets`` sets."""
    layout = load_perception_config(cfg.config)
    filtered = with_real_camera_filters(layout)
    unfiltered = replace(layout, flying_pixel_threshold=0.0, fill_holes=0)
    rows = [BenchPath("baseline: cameras rebuilt per set", filtered, reuse_cameras=False),
            BenchPath("node: filters off", unfiltered),
            BenchPath("node: filters on", filtered)]
    if cfg.temporal_sets > 1:
        rows.append(BenchPath("node: filters on, temporal", replace(filtered, temporal_sets=cfg.temporal_sets)))
    return rows


def run(cfg: PerceptionBenchConfig) -> list[dict[str, Any]]:
    """Time every path of :func:`paths` on the same messages, interleaved set by set so that a machine's load
    falls on all alike; one row each, with its speed-up over the first."""
    rows_paths = paths(cfg)
    frames = _frames(rows_paths[0].config, cfg.seed)
    pipelines = [PerceptionPipeline(p.config) for p in rows_paths]
    times: list[list[float]] = [[] for _ in rows_paths]
    for i in range(cfg.warmup + cfg.frames):
        for k, path in enumerate(rows_paths):
            messages = _messages(frames, stamp_ns=(i + 1) * 10**8)
            if not path.reuse_cameras:
                pipelines[k] = PerceptionPipeline(path.config)
            elapsed = _one_set(pipelines[k], frames, messages)
            if i >= cfg.warmup:
                times[k].append(elapsed)
    rows = []
    base = float(np.median(times[0]))
    for path, t in zip(rows_paths, times, strict=True):
        t = np.asarray(t)
        cam = path.config.cameras[0]
        rows.append({
            "path": path.name, "cameras": len(path.config.cameras), "resolution": f"{cam.width}x{cam.height}",
            "grid": "x".join(map(str, path.config.workspace.shape)), "filters": _filters(path.config),
            "frames": cfg.frames, "median_ms": float(np.median(t) * 1e3), "p95_ms": float(np.percentile(t, 95) * 1e3),
            "median_hz": float(1.0 / np.median(t)), "speedup": base / float(np.median(t)),
        })
    return rows


def _one_set(pipeline: PerceptionPipeline, frames: list[dict[str, Any]], messages: list[tuple]) -> float:
    """Seconds from the first message of a set to its heightmap: what the node does, less publishing."""
    start = time.perf_counter()
    for name, info in ((f["name"], f["info"]) for f in frames):
        if name not in pipeline.camera_infos:  # a new pipeline (the baseline) hears camera_info first
            pipeline.add_info(name, info)
    matched = None
    for camera, kind, msg in messages:
        matched = pipeline.add_image(camera, kind, msg)
    if matched is None:
        raise RuntimeError("the bench's frame set did not match: its stamps are wrong")
    pipeline.fuse(pipeline.views(matched))
    return time.perf_counter() - start


def _frames(pconfig: PerceptionConfig, seed: int) -> list[dict[str, Any]]:
    """Per camera: its CameraInfo and the rgb8 / 16UC1 bytes a RealSense-like driver would send."""
    from cliport_ros.perception.images import camera_info_message

    model, rng, scene = RealSenseDepth(), np.random.default_rng(seed), demo_scene()
    frames = []
    for cam in pconfig.cameras:
        view = model.apply(render(cam.to_camera(), scene), rng)
        mm = np.nan_to_num(np.round(view.depth * 1000), nan=0).astype(np.uint16)
        frames.append({"name": cam.name, "info": camera_info_message(cam.intrinsics, cam.frame_id),
                       "color": (view.rgb, "rgb8"), "depth": (mm, "16UC1"), "frame_id": cam.frame_id})
    return frames


def _messages(frames: list[dict[str, Any]], stamp_ns: int) -> list[tuple[str, str, Any]]:
    """One set's (camera, kind, Image) in the order a driver sends them, stamped ``stamp_ns``."""
    from cliport_ros.perception.images import image_message

    return [(f["name"], kind, image_message(*f[kind], f["frame_id"], stamp_ns)) for f in frames
            for kind in ("color", "depth")]


def _filters(pconfig: PerceptionConfig) -> str:
    on = [f"flying pixels > {pconfig.flying_pixel_threshold:g} m"] if pconfig.flying_pixel_threshold else []
    on += [f"holes <= {2 * pconfig.fill_holes} cells"] if pconfig.fill_holes else []
    on += [f"median of {pconfig.temporal_sets} sets"] if pconfig.temporal_sets > 1 else []
    return ", ".join(on) or "off"


def print_table(rows: list[dict[str, Any]]) -> None:
    print("| path | cameras | resolution | heightmap | filters | frames | median ms | p95 ms | median Hz "
          "| x baseline |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['path']} | {r['cameras']} | {r['resolution']} | {r['grid']} | {r['filters']} | {r['frames']} "
              f"| {r['median_ms']:.2f} | {r['p95_ms']:.2f} | {r['median_hz']:.1f} | {r['speedup']:.2f} |")
