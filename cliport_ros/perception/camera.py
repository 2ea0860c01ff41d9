"""Pinhole RGB-D cameras: depth decoding, intrinsics, pose, back-projection.

Frames follow REP 103/105: the camera pose is that of its *optical* frame
(z forward, x right, y down) in the robot base frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.spatial.transform import Rotation


class PerceptionError(ValueError):
    """Input the perception pipeline refuses; the message says which and why."""


DEPTH_ENCODINGS = ("16UC1", "32FC1")


def decode_depth(raw: np.ndarray, encoding: str) -> np.ndarray:
    """Raw depth image -> float32 metres with NaN where invalid (REP 118).

    ``16UC1`` is millimetres, ``32FC1`` metres; 0 and NaN (and +-inf) mark no
    reading in either.
    """
    if encoding == "16UC1":
        if raw.dtype != np.uint16:
            raise PerceptionError(f"16UC1 depth must be uint16, got {raw.dtype}")
        depth = raw.astype(np.float32)
        depth *= np.float32(1e-3)
        depth[raw == 0] = np.nan  # uint16 has no other invalid value
        return _checked_2d(depth)
    if encoding != "32FC1":
        raise PerceptionError(f"unknown depth encoding {encoding!r}; expected one of {DEPTH_ENCODINGS}")
    if raw.dtype != np.float32:
        raise PerceptionError(f"32FC1 depth must be float32, got {raw.dtype}")
    depth = raw.astype(np.float32, copy=True)
    with np.errstate(invalid="ignore"):
        depth[~(depth > 0) | np.isinf(depth)] = np.nan  # 0, negative, NaN and +-inf: no reading
    return _checked_2d(depth)


def _checked_2d(depth: np.ndarray) -> np.ndarray:
    if depth.ndim != 2:
        raise PerceptionError(f"depth must be a 2-D image, got shape {depth.shape}")
    return depth


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of a width x height image (pixels), no distortion."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise PerceptionError(f"Intrinsics: image size {self.width}x{self.height} must be positive")
        if not (self.fx > 0 and self.fy > 0):
            raise PerceptionError(f"Intrinsics: focal lengths fx={self.fx}, fy={self.fy} must be > 0")

    @classmethod
    def from_k(cls, width: int, height: int, k: np.ndarray | list[float]) -> Intrinsics:
        """From a row-major 3x3 camera matrix, as in ``sensor_msgs/CameraInfo.k``."""
        k = np.asarray(k, dtype=np.float64).reshape(-1)
        if k.size != 9:
            raise PerceptionError(f"camera matrix must have 9 entries, got {k.size}")
        return cls(int(width), int(height), float(k[0]), float(k[4]), float(k[2]), float(k[5]))

    @property
    def k(self) -> np.ndarray:
        """Row-major 3x3 camera matrix."""
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], dtype=np.float64)


@dataclass(frozen=True)
class Extrinsics:
    """A rigid transform: position (m) and quaternion (x, y, z, w) of a child frame in a parent frame."""

    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        if len(self.position) != 3:
            raise PerceptionError(f"Extrinsics: position needs 3 values, got {len(self.position)}")
        if len(self.orientation) != 4:
            raise PerceptionError(f"Extrinsics: orientation needs 4 values (x, y, z, w), got {len(self.orientation)}")
        if not np.isclose(np.linalg.norm(self.orientation), 1.0, atol=1e-3):
            raise PerceptionError(f"Extrinsics: orientation {self.orientation} is not a unit quaternion")

    @property
    def rotation(self) -> np.ndarray:
        """3x3 rotation matrix, child -> parent."""
        return Rotation.from_quat(self.orientation).as_matrix()

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Points (..., 3) in the child frame -> parent frame."""
        return points @ self.rotation.T + np.asarray(self.position)


@dataclass(frozen=True)
class Camera:
    """A calibrated camera: what is needed to turn its depth into base-frame points."""

    name: str
    intrinsics: Intrinsics
    pose: Extrinsics = field(default_factory=Extrinsics)

    @cached_property
    def rays(self) -> np.ndarray:
        """Per-pixel ray directions in the base frame, (H, W, 3), scaled so z_optical = 1.

        A base-frame point is ``pose.position + depth[..., None] * rays``;
        precomputing them makes back-projection three multiply-adds per pixel.
        """
        intr = self.intrinsics
        u, v = np.meshgrid(np.arange(intr.width), np.arange(intr.height))
        optical = np.stack(
            [(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones(u.shape)], axis=-1
        )
        return (optical @ self.pose.rotation.T).astype(np.float32)

    @cached_property
    def rays_planar(self) -> np.ndarray:
        """The same rays as (3, H*W) contiguous float32 rows x, y, z: fast elementwise access."""
        return np.ascontiguousarray(self.rays.reshape(-1, 3).T)

    def rays_through(self, lo: tuple[float, float, float], hi: tuple[float, float, float]
                     ) -> tuple[np.ndarray, np.ndarray]:
        """(flat indices of the pixels whose ray passes through the box ``lo``-``hi`` in the base frame in
        front of the camera, their rays as (3, n) float32 rows x, y, z), computed once per box: no depth
        can put any other pixel's point in that box, so fusion need not look at them."""
        cache = self.__dict__.setdefault("_rays_through", {})  # frozen, so a per-instance cache as cached_property
        if (lo, hi) not in cache:
            # The slab test, per axis on the planar float32 rays; fmin / fmax skip the NaN of a ray lying in a face.
            position = np.asarray(self.pose.position, dtype=np.float32)[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):  # a ray parallel to a face: +-inf, or NaN on it
                t1 = (np.asarray(lo, np.float32)[:, None] - position) / self.rays_planar
                t2 = (np.asarray(hi, np.float32)[:, None] - position) / self.rays_planar
            t_near = np.fmax.reduce(np.fmin(t1, t2), axis=0)
            t_far = np.fmin.reduce(np.fmax(t1, t2), axis=0)
            index = np.flatnonzero((t_near <= t_far) & (t_far > 0))
            cache[(lo, hi)] = (index, np.ascontiguousarray(self.rays_planar[:, index]))
        return cache[(lo, hi)]

    def backproject(self, depth_m: np.ndarray) -> np.ndarray:
        """Depth (H, W) in metres -> points (H, W, 3) in the base frame; NaN where depth is."""
        intr = self.intrinsics
        if depth_m.shape != (intr.height, intr.width):
            raise PerceptionError(
                f"camera {self.name!r}: depth is {depth_m.shape[1]}x{depth_m.shape[0]}, "
                f"intrinsics are for {intr.width}x{intr.height}"
            )
        position = np.asarray(self.pose.position, dtype=np.float32)
        return depth_m[..., None] * self.rays + position
