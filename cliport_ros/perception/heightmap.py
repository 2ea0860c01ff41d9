"""Fuse RGB-D views from N calibrated cameras into one top-down colour + height map.

Per camera the highest point in each cell wins (what a top-down view sees);
across cameras height is the maximum and colour the mean of the views that
saw the cell, as in the Ravens/CLIPort reference.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from cliport_ros.perception.camera import Camera, PerceptionError
from cliport_ros.perception.filters import fill_small_holes, reject_flying_pixels
from cliport_ros.perception.workspace import Workspace

MAX_VIEW_THREADS = 4  # views projected at once, at most (and no more than the machine has cores)


@dataclass(frozen=True)
class RGBDView:
    """One synchronised frame of one camera: rgb (H, W, 3) uint8, depth (H, W) metres, NaN invalid."""

    camera: Camera
    rgb: np.ndarray
    depth: np.ndarray

    def __post_init__(self) -> None:
        intr = self.camera.intrinsics
        want = (intr.height, intr.width)
        if self.rgb.shape != (*want, 3) or self.rgb.dtype != np.uint8:
            raise PerceptionError(
                f"camera {self.camera.name!r}: colour is {self.rgb.shape} {self.rgb.dtype}, "
                f"expected {(*want, 3)} uint8"
            )
        if self.depth.shape != want:
            raise PerceptionError(
                f"camera {self.camera.name!r}: depth is {self.depth.shape}, colour and intrinsics are {want}"
            )


@dataclass(frozen=True)
class Heightmap:
    """A fused top-down view. color (rows, cols, 3) uint8; height (rows, cols) float32 metres above z_min;
    seen (rows, cols) bool: the cells that received points (or a small hole enclosed by such cells), where
    known; an unseen cell reads height 0 and black, which is not the same as a table cell."""

    color: np.ndarray
    height: np.ndarray
    workspace: Workspace
    seen: np.ndarray | None = None

    @property
    def observed(self) -> np.ndarray:
        """Cells a camera saw, (rows, cols) bool; without a mask, the cells that are not black at height 0."""
        if self.seen is not None:
            return self.seen
        return self.color.any(axis=-1) | (self.height > 0)


def _project_view(view: RGBDView, ws: Workspace, floor_tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """One view -> (max height per cell, -inf where unseen; rgb of one highest point per cell).

    Works on flat float32 arrays with precomputed rays: this runs at camera
    rate on 3 x 640 x 480 pixels, so every temporary counts. The highest point
    of each cell and which pixel it came from are found in one scatter: a
    non-negative float32's bits order like its value, so (height bits, pixel)
    packed into one int64 key and maximised per cell gives both, exactly.
    """
    rows, cols = ws.shape
    # Only the pixels whose rays cross the workspace (with a margin: the exact test is below) can land in it.
    margin = ws.pixel_size + floor_tolerance
    pixel, (rx, ry, rz) = view.camera.rays_through(
        (ws.x_min - margin, ws.y_min - margin, ws.z_min - margin), (ws.x_max + margin, ws.y_max + margin,
                                                                    ws.z_max + margin))
    px, py, pz = view.camera.pose.position
    depth = np.take(view.depth, pixel)  # np.take: a faster gather than [] here
    inv = np.float32(1.0 / ws.pixel_size)
    col = depth * rx
    col += np.float32(px - ws.x_min)
    col *= inv
    row = depth * ry
    row += np.float32(py - ws.y_min)
    row *= inv
    z = depth * rz
    z += np.float32(pz - ws.z_min)
    # NaN depth fails every comparison, so invalid pixels drop out here too; floor(c) >= 0 iff c >= 0.
    inside = col >= 0
    inside &= col < cols
    inside &= row >= 0
    inside &= row < rows
    inside &= z >= np.float32(-floor_tolerance)
    inside &= z <= np.float32(ws.z_max - ws.z_min)
    keep = np.flatnonzero(inside)
    cell = np.take(row, keep).astype(np.intp)  # truncation is floor: all are >= 0
    cell *= cols
    cell += np.take(col, keep).astype(np.intp)
    # The table seen a hair below z_min is still the table: negative heights (negative bits, and -0.0) -> +0.0.
    key = np.maximum(np.take(z, keep).view(np.int32), 0).astype(np.int64)
    shift = max(1, (view.depth.size - 1).bit_length())
    key <<= shift
    key |= np.take(pixel, keep)  # ties in height: the highest pixel index wins
    best = np.full(rows * cols, -1, dtype=np.int64)
    np.maximum.at(best, cell, key)
    seen = best >= 0
    height = np.where(seen, (best >> shift).astype(np.int32).view(np.float32), np.float32(-np.inf))
    winner = np.where(seen, best & ((1 << shift) - 1), 0)
    color = np.take(view.rgb.reshape(-1, 3), winner, axis=0)
    return height, color


@functools.cache
def view_pool() -> ThreadPoolExecutor:
    """The threads views are decoded and projected on, one per view: made once (a pool per frame set would cost
    its start-up)."""
    return ThreadPoolExecutor(max_workers=min(MAX_VIEW_THREADS, os.cpu_count() or 1),
                              thread_name_prefix="fuse")


def fuse(views: Sequence[RGBDView], workspace: Workspace, floor_tolerance: float = 0.005,
         flying_pixel_threshold: float = 0.0, fill_holes: int = 0) -> Heightmap:
    """Fuse views into a :class:`Heightmap` over ``workspace``; unseen cells are 0 / black and not ``seen``.

    Points up to ``floor_tolerance`` metres below ``z_min`` count as height 0,
    so depth noise and calibration error do not punch holes in the table.
    ``flying_pixel_threshold`` (m, 0: off) drops mixed pixels at depth edges
    before fusion, ``fill_holes`` (cells, 0: off) fills small enclosed holes
    after it (cliport_ros/perception/filters.py).
    """
    if not views:
        raise PerceptionError("fuse needs at least one view")
    rows, cols = workspace.shape
    height = np.full(rows * cols, -np.inf, dtype=np.float32)
    color_sum = np.zeros((rows * cols, 3), dtype=np.float32)
    n_views = np.zeros(rows * cols, dtype=np.float32)

    def project(view: RGBDView) -> tuple[np.ndarray, np.ndarray]:
        if flying_pixel_threshold > 0:
            view = RGBDView(view.camera, view.rgb, reject_flying_pixels(view.depth, flying_pixel_threshold))
        return _project_view(view, workspace, floor_tolerance)

    # One thread per view: numpy and opencv release the GIL in their loops, so the cameras share the cores.
    projected = list(view_pool().map(project, views)) if len(views) > 1 else [project(views[0])]
    for h, color in projected:
        np.maximum(height, h, out=height)
        seen = np.isfinite(h)
        color_sum += color * seen[:, None]
        n_views += seen
    height[~np.isfinite(height)] = 0.0
    color = np.round(color_sum / np.maximum(n_views, 1)[:, None]).astype(np.uint8)
    height, color, seen = height.reshape(rows, cols), color.reshape(rows, cols, 3), (n_views > 0).reshape(rows, cols)
    height, color, seen = fill_small_holes(height, color, seen, fill_holes)
    return Heightmap(color, height, workspace, seen)
