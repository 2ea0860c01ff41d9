"""``cliport calibrate-table``: a table-viewing camera's pose from one RGB-D frame, written into a camera YAML.

The frame is one camera's colour + depth from a bag (read and decoded by
``cliport replay``'s reader, as perception_node would) or from image files.
The table plane gives the camera's height and tilt; the base offset comes
from flags or an ArUco marker (cliport_ros/perception/calibration.py).
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from cliport_ros.app.config import CalibrateConfig
from cliport_ros.perception import calibration as cal
from cliport_ros.perception.bag import BagError, CameraBag, view_sets
from cliport_ros.perception.camera import Extrinsics, PerceptionError, decode_depth
from cliport_ros.perception.config import (
    CameraConfig,
    PerceptionConfig,
    load_perception_config,
    write_camera_calibration,
)
from cliport_ros.perception.heightmap import RGBDView


def frame_from_bag(path: str, config: PerceptionConfig, camera: CameraConfig, frame: int) -> RGBDView:
    """The ``frame``-th usable colour + depth of ``camera`` in the bag at ``path``, decoded as perception does."""
    drops: list[str] = []
    usable = 0
    with CameraBag(path, (camera,)) as bag:
        for replayed in view_sets(bag, replace(config, cameras=(camera,))):
            if replayed.views is None:
                drops.append(replayed.error)
            elif usable == frame:
                return replayed.views[0]
            else:
                usable += 1
    why = f"; {len(drops)} dropped, e.g. {drops[0]}" if drops else ""
    raise cal.CalibrationError(f"bag {path} has {usable} usable frame(s) of camera {camera.name!r}, no frame "
                               f"{frame}{why}")


def read_depth(path: str) -> np.ndarray:
    """A depth image file -> float32 metres, NaN invalid: 16-bit PNG (mm) or .npy (uint16 mm / float m)."""
    if not Path(path).is_file():
        raise cal.CalibrationError(f"no depth image at {path}")
    if path.endswith(".npy"):
        raw = np.load(path)
        if raw.dtype == np.uint16:
            return decode_depth(raw, "16UC1")
        if raw.dtype.kind == "f":
            return decode_depth(raw.astype(np.float32), "32FC1")
        raise cal.CalibrationError(f"{path}: depth .npy must be uint16 millimetres or float metres, got {raw.dtype}")
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if raw is None or raw.dtype != np.uint16 or raw.ndim != 2:
        kind = "unreadable" if raw is None else f"{raw.dtype} with shape {raw.shape}"
        raise cal.CalibrationError(f"{path}: depth images must be single-channel 16-bit (millimetres); this is {kind}")
    return decode_depth(raw, "16UC1")


def frame_from_files(depth_path: str, color_path: str, camera: CameraConfig) -> RGBDView:
    """A view from image files, with the intrinsics ``camera``'s config entry gives (no camera_info here)."""
    depth = read_depth(depth_path)
    if color_path:
        bgr = cv2.imread(color_path, cv2.IMREAD_COLOR)
        if bgr is None:
            raise cal.CalibrationError(f"cannot read the colour image {color_path}")
        rgb = np.ascontiguousarray(bgr[..., ::-1])
    else:
        rgb = np.zeros((*depth.shape, 3), np.uint8)
    return RGBDView(camera.to_camera(), rgb, depth)


def calibrate(cfg: CalibrateConfig) -> tuple[cal.TableFit, cal.MarkerFit | None, RGBDView, Extrinsics]:
    """Fit the table in the frame ``cfg`` names and place the camera: (table fit, marker fit or None, the
    view, the camera's optical-frame pose in the base frame)."""
    config = load_perception_config(cfg.config)
    names = [c.name for c in config.cameras]
    name = cfg.camera or names[0]
    if name not in names:
        raise cal.CalibrationError(f"{cfg.config} has no camera {name!r}; its cameras: {names}")
    camera = config.cameras[names.index(name)]
    view = (frame_from_bag(cfg.bag, config, camera, cfg.frame) if cfg.bag
            else frame_from_files(cfg.depth, cfg.color, camera))
    fit = cal.fit_table_plane(cal.view_points(view), np.random.default_rng(cfg.seed), cfg.threshold,
                              cfg.min_support, cfg.max_tilt)
    marker = None
    if cfg.marker_id >= 0:
        corners = cal.detect_marker(view.rgb, cfg.marker_id, cfg.marker_dict)
        marker = cal.locate_marker(corners, view.camera.intrinsics, fit.table, cfg.marker_size)
        offset = cal.offset_from_marker(marker, cfg.marker_x, cfg.marker_y, math.radians(cfg.marker_yaw))
    else:
        offset = (cfg.camera_x, cfg.camera_y, math.radians(cfg.camera_yaw))
    return fit, marker, view, cal.pose_from_offset(fit.table, *offset, table_z=cfg.table_z)


def report(cfg: CalibrateConfig, fit: cal.TableFit, marker: cal.MarkerFit | None) -> str:
    """The residuals and what was found, for people (printed, and on top of the YAML written)."""
    source = f"bag {cfg.bag}, frame {cfg.frame}" if cfg.bag else f"depth {cfg.depth}" + (
        f", colour {cfg.color}" if cfg.color else "")
    lines = [f"cliport calibrate-table from {source}",
             f"table plane: {fit.table.distance:.4f} m from the camera, its axis {cal.tilt_deg(fit.table):.2f} deg "
             "off straight down",
             f"  residuals over the {fit.inliers} pixels within {1e3 * fit.band:.1f} mm of it "
             f"({100 * fit.table.support:.1f} % of the valid depth within --threshold): RMS {1e3 * fit.rms:.2f} mm, "
             f"median |r| {1e3 * fit.median_abs:.2f} mm, max {1e3 * fit.max_abs:.2f} mm",
             "  horizontal planes seen (nearest first): " + ", ".join(
                 f"{p.distance:.3f} m ({100 * p.support:.1f} %)" for p in fit.planes)]
    if marker is None:
        lines.append(f"base offset from flags: camera over ({cfg.camera_x:g}, {cfg.camera_y:g}) m facing "
                     f"{cfg.camera_yaw:g} deg, table at z = {cfg.table_z:g} m")
    else:
        lines.append(f"base offset from ArUco marker {cfg.marker_id} ({cfg.marker_dict}) at ({cfg.marker_x:g}, "
                     f"{cfg.marker_y:g}) m, yaw {cfg.marker_yaw:g} deg: its corners on the plane lie RMS "
                     f"{1e3 * marker.rms:.2f} mm off a {1e3 * cfg.marker_size:g} mm square (side measured "
                     f"{1e3 * marker.measured_size:.1f} mm)")
    return "\n".join(lines)


def run(cfg: CalibrateConfig) -> int:
    try:
        fit, marker, view, pose = calibrate(cfg)
    except (PerceptionError, BagError, FileNotFoundError) as err:  # CalibrationError is a PerceptionError
        print(f"cliport calibrate-table: {err}", file=sys.stderr)
        return 2
    text = report(cfg, fit, marker)
    rpy = Rotation.from_quat(pose.orientation).as_euler("xyz", degrees=True)
    pose_line = (f"camera {view.camera.name!r} optical frame in the base frame: position "
                 f"[{', '.join(f'{v:.4f}' for v in pose.position)}] m, orientation (x, y, z, w) "
                 f"[{', '.join(f'{v:.6f}' for v in pose.orientation)}] (roll, pitch, yaw "
                 f"{', '.join(f'{v:.2f}' for v in rpy)} deg)")
    out = write_camera_calibration(cfg.config, cfg.out, view.camera.name, pose, view.camera.intrinsics,
                                   f"{text}\n{pose_line}")
    print(f"{text}\n{pose_line}\nwrote {out}")
    return 0
