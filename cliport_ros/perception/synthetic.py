"""Exact RGB-D renderings of boxes on a table, by ray casting.

Ground truth for the perception tests and benchmark, and a scene for the
perception demo, with no simulator or GPU: every depth value is the analytic
distance along the pixel's ray, so errors in fusion cannot hide in renderer
noise. What a real camera adds is cliport_ros/perception/depth_model.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cliport_ros.perception.camera import Camera, Extrinsics, Intrinsics
from cliport_ros.perception.heightmap import RGBDView


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in the base frame: centre and full size in metres, rgb colour."""

    center: tuple[float, float, float]
    size: tuple[float, float, float]
    color: tuple[int, int, int] = (200, 40, 40)

    @property
    def top(self) -> float:
        """Height of the top face above z=0, metres."""
        return self.center[2] + self.size[2] / 2


@dataclass(frozen=True)
class Scene:
    """A table plane at ``table_z`` (infinite) and boxes standing on or above it."""

    boxes: Sequence[Box] = ()
    table_z: float = 0.0
    table_color: tuple[int, int, int] = (120, 120, 120)


def _ray_box(origin: np.ndarray, rays: np.ndarray, box: Box) -> np.ndarray:
    """Ray parameter (= optical depth, as rays have unit optical z) of the first hit, inf on a miss."""
    lo = np.asarray(box.center) - np.asarray(box.size) / 2
    hi = np.asarray(box.center) + np.asarray(box.size) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (lo - origin) / rays
        t2 = (hi - origin) / rays
    t_near = np.nanmax(np.minimum(t1, t2), axis=-1)
    t_far = np.nanmin(np.maximum(t1, t2), axis=-1)
    hit = (t_near <= t_far) & (t_far > 0)
    return np.where(hit, np.maximum(t_near, 0.0), np.inf)


def render(camera: Camera, scene: Scene) -> RGBDView:
    """Render ``scene`` from ``camera``: rgb uint8 and depth in metres (NaN where nothing is hit)."""
    origin = np.asarray(camera.pose.position, dtype=np.float64)
    rays = camera.rays.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_table = (scene.table_z - origin[2]) / rays[..., 2]
    depth = np.where(t_table > 0, t_table, np.inf)
    rgb = np.empty((*depth.shape, 3), dtype=np.uint8)
    rgb[:] = scene.table_color
    for box in scene.boxes:
        t = _ray_box(origin, rays, box)
        closer = t < depth
        depth = np.where(closer, t, depth)
        rgb[closer] = box.color
    depth = np.where(np.isfinite(depth), depth, np.nan).astype(np.float32)
    rgb[np.isnan(depth)] = 0
    return RGBDView(camera, rgb, depth)


def look_at_pose(eye: Sequence[float], target: Sequence[float], up: Sequence[float] = (0, 0, 1)) -> Extrinsics:
    """Optical-frame pose of a camera at ``eye`` looking at ``target`` (z forward, y down)."""
    from scipy.spatial.transform import Rotation

    z = np.asarray(target, float) - np.asarray(eye, float)
    z /= np.linalg.norm(z)
    x = np.cross(z, np.asarray(up, float))
    if np.linalg.norm(x) < 1e-9:  # looking straight along `up`: any perpendicular x will do
        x = np.cross(z, np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0]))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    quat = Rotation.from_matrix(np.stack([x, y, z], axis=1)).as_quat()
    return Extrinsics(tuple(float(v) for v in eye), tuple(float(v) for v in quat))


def top_down_camera(
    name: str = "top", height: float = 1.0, center: Sequence[float] = (0.5, 0.0), size: int = 480
) -> Camera:
    """A camera straight above ``center`` at ``height`` m, fx = fy = 450."""
    intr = Intrinsics(size, size, 450.0, 450.0, size / 2, size / 2)
    eye = (center[0], center[1], height)
    return Camera(name, intr, look_at_pose(eye, (center[0], center[1], 0.0), up=(1, 0, 0)))


def demo_scene() -> Scene:
    """Three blocks and a tall box on the table, inside the Ravens workspace."""
    return Scene(
        boxes=(
            Box((0.40, -0.20, 0.02), (0.04, 0.04, 0.04), (220, 40, 40)),
            Box((0.55, 0.10, 0.02), (0.04, 0.04, 0.04), (40, 160, 60)),
            Box((0.65, -0.05, 0.02), (0.04, 0.04, 0.04), (50, 80, 220)),
            Box((0.45, 0.30, 0.06), (0.12, 0.08, 0.12), (230, 200, 40)),
        )
    )


def oblique_camera(name: str = "d435", distance: float = 0.7, tilt_deg: float = 45.0,
                   target: Sequence[float] = (0.5, 0.0, 0.0), azimuth_deg: float = 180.0,
                   size: tuple[int, int] = (640, 480), focal: float = 615.0) -> Camera:
    """A camera (default: a D435's 640x480 colour stream, fx = fy = 615) ``distance`` m from ``target``,
    looking at it ``tilt_deg`` off vertical from the side ``azimuth_deg`` names (180: from -x, the robot's
    side). A smaller ``size`` and ``focal`` (its 424x240 depth mode: 307) samples the table sparser than
    the heightmap grid, as a real camera at range does."""
    tilt, azimuth = np.radians(tilt_deg), np.radians(azimuth_deg)
    offset = distance * np.array([np.sin(tilt) * np.cos(azimuth), np.sin(tilt) * np.sin(azimuth), np.cos(tilt)])
    eye = np.asarray(target, dtype=float) + offset
    width, height = size
    return Camera(name, Intrinsics(width, height, focal, focal, width / 2, height / 2), look_at_pose(eye, target))
