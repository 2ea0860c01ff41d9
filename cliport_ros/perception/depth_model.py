"""What a RealSense D435-class depth camera does to a scene's exact depth, at 0.5-1 m.

One model for the tests (which check that the perception filters undo it) and
the simulator's realistic-depth mode (``SimConfig.depth_model``: training data
that looks like a real camera's). An active stereo camera measures disparity,
so its depth error grows with the square of range; it loses pixels where the
stereo match fails (more at range and on surfaces seen at grazing angles);
its depth stream, aligned to the colour image, has fewer pixels than the
colour image (regular stripes of pixels with no depth), so at range, where
each pixel covers more of the table, its samples land sparser than the
heightmap's grid; and at a depth edge its matching window straddles both surfaces, so edge pixels read depths
in between ("flying" pixels). All of it is a handful of vectorised numpy /
opencv passes over the image, drawn from the caller's generator, so a seed
gives the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cliport_ros.perception.camera import Intrinsics
from cliport_ros.perception.heightmap import RGBDView


@dataclass(frozen=True)
class RealSenseDepth:
    """A D435-class camera's depth artefacts; every range is the optical depth in metres."""

    noise_at_1m: float = 0.002  # std (m) of the depth error at 1 m; it grows with the square of range
    dropout_at_1m: float = 0.04  # invalid fraction at 1 m on a surface facing the camera; grows with range^2
    grazing_deg: tuple[float, float] = (60.0, 85.0)  # incidence angles from which matches start to fail, and all do
    # Depth pixels per colour pixel along each axis once aligned to a 640x480 colour image (a D435's 848x480
    # depth: ~1; 640x360: ~0.8; 424x240: ~0.5); below 1, regular stripes of pixels get no depth.
    depth_resolution: float = 1.0
    mixed_fraction: float = 0.6  # of the pixels at a depth edge, those that read a mix of both surfaces
    edge_jump: float = 0.02  # m of depth across a 3x3 neighbourhood that makes its centre an edge pixel

    def __post_init__(self) -> None:
        for name in ("noise_at_1m", "dropout_at_1m", "mixed_fraction"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"RealSenseDepth: {name}={getattr(self, name)} must be in [0, 1]")
        start, end = self.grazing_deg
        if not 0 < start < end <= 90:
            raise ValueError(f"RealSenseDepth: grazing_deg={self.grazing_deg} must be 0 < start < end <= 90")
        if not 0 < self.depth_resolution <= 1:
            raise ValueError(f"RealSenseDepth: depth_resolution={self.depth_resolution} must be in (0, 1]")
        if self.edge_jump <= 0:
            raise ValueError(f"RealSenseDepth: edge_jump={self.edge_jump} must be > 0")

    def apply(self, view: RGBDView, rng: np.random.Generator) -> RGBDView:
        """``view`` as this camera would see it: same colour, depth with the artefacts (NaN where invalid)."""
        depth = view.depth.astype(np.float64)
        valid = np.isfinite(depth)
        filled = np.where(valid, depth, 0.0)
        # Failed matches: more at range, on surfaces seen edge-on, and where the depth stream has no sample.
        start, end = np.radians(self.grazing_deg)
        grazing = np.clip((incidence(filled, view.camera.intrinsics) - start) / (end - start), 0.0, 1.0)
        p_range = np.minimum(self.dropout_at_1m * filled**2, 1.0)
        kept = valid & (rng.random(depth.shape) >= 1.0 - (1.0 - p_range) * (1.0 - grazing))
        kept &= sampled(depth.shape, self.depth_resolution)
        # Flying pixels: at an edge among the pixels it does measure, a pixel reads a random mix of the nearest
        # and the farthest of them around it.
        kernel = np.ones((3, 3), np.uint8)
        lo = cv2.erode(np.where(kept, depth, np.inf), kernel, borderType=cv2.BORDER_REPLICATE)
        hi = cv2.dilate(np.where(kept, depth, -np.inf), kernel, borderType=cv2.BORDER_REPLICATE)
        edge = kept & (hi - lo > self.edge_jump)  # both finite where the pixel itself is kept
        mixed = edge & (rng.random(depth.shape) < self.mixed_fraction)
        mix = rng.uniform(0.1, 0.9, depth.shape)
        with np.errstate(invalid="ignore"):  # next to lost pixels lo / hi are infinite (and not mixed)
            out = np.where(mixed, mix * lo + (1 - mix) * hi, filled)
        out += rng.normal(0.0, 1.0, depth.shape) * self.noise_at_1m * out**2
        out[~kept] = np.nan
        return RGBDView(view.camera, view.rgb, out.astype(np.float32))


def incidence(depth: np.ndarray, intr: Intrinsics) -> np.ndarray:
    """Angle (rad) between each pixel's ray and the surface normal there (0: facing the camera), from the
    depth's gradient. Each gradient is the smaller one-sided difference, so a pixel at a depth edge takes its
    own surface's slope, not the jump to the other surface."""
    def slope(axis: int) -> np.ndarray:
        forward = np.diff(depth, axis=axis, append=np.take(depth, [-1], axis=axis))
        backward = np.diff(depth, axis=axis, prepend=np.take(depth, [0], axis=axis))
        return np.where(np.abs(forward) < np.abs(backward), forward, backward)

    v, u = np.mgrid[0:intr.height, 0:intr.width]
    x, y = (u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy  # the ray (x, y, 1)
    dz_du, dz_dv = slope(1), slope(0)
    # Tangents of the surface point depth * (x, y, 1) along u and v, and their cross product, the normal.
    tu = np.stack([x * dz_du + depth / intr.fx, y * dz_du, dz_du])
    tv = np.stack([x * dz_dv, y * dz_dv + depth / intr.fy, dz_dv])
    normal = np.cross(tu, tv, axis=0)
    ray = np.stack([x, y, np.ones_like(x)])
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.abs((normal * ray).sum(0)) / (np.linalg.norm(normal, axis=0) * np.linalg.norm(ray, axis=0))
    return np.arccos(np.clip(np.nan_to_num(cos, nan=1.0), 0.0, 1.0))


def sampled(shape: tuple[int, int], resolution: float) -> np.ndarray:
    """Pixels of a (rows, cols) colour image that a depth stream with ``resolution`` depth pixels per colour
    pixel along each axis fills once aligned to it: a regular fraction of the rows and of the columns."""
    def lines(n: int) -> np.ndarray:
        k = np.arange(n)
        return np.floor((k + 1) * resolution) > np.floor(k * resolution)

    return lines(shape[0])[:, None] & lines(shape[1])[None, :]


def like_a_real_camera(view: RGBDView, rng: np.random.Generator, **model: float) -> RGBDView:
    """``view`` as a RealSense-class camera sees it (:class:`RealSenseDepth`, its fields overridable)."""
    return RealSenseDepth(**model).apply(view, rng)
