"""`cliport calibrate-table`: a synthetic camera's known pose recovered from one frame of a table above a floor."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from cliport_ros.perception import calibration as cal
from cliport_ros.perception.camera import Extrinsics
from cliport_ros.perception.config import load_perception_config
from cliport_ros.perception.depth_model import like_a_real_camera
from cliport_ros.perception.heightmap import RGBDView
from cliport_ros.perception.synthetic import Box, Scene, oblique_camera, render

from conftest import write_camera_bag

REPO = Path(__file__).resolve().parents[1]
D435_YAML = REPO / "config" / "cameras_realsense_d435.yaml"
# A 50 x 60 cm table top at z = 0 with two blocks on it, 72 cm above a floor that fills more of the view.
FLOOR_Z = -0.72
TABLE = Box((0.55, 0.05, -0.02), (0.5, 0.6, 0.04), (150, 120, 90))
SCENE = Scene(boxes=(TABLE, Box((0.5, 0.2, 0.03), (0.06, 0.06, 0.06), (200, 40, 40)),
                     Box((0.65, -0.1, 0.02), (0.04, 0.04, 0.04), (40, 160, 60))),
              table_z=FLOOR_Z, table_color=(90, 90, 90))
MARKER = dict(marker_id=7, center=(0.45, -0.05), yaw=math.radians(30), size=0.1)
POSITION_TOLERANCE = 0.005  # m: the acceptance
ANGLE_TOLERANCE = 0.5  # degrees


def facing(pose: Extrinsics) -> float:
    """The way a camera faces: where its image's top edge points on the table, rad from base +x."""
    up = -pose.rotation[:, 1]
    return math.atan2(up[1], up[0])


def angle_between(a: Extrinsics, b: Extrinsics) -> float:
    return math.degrees((Rotation.from_quat(a.orientation).inv() * Rotation.from_quat(b.orientation)).magnitude())


def paint_marker(view: RGBDView, marker_id: int, center, yaw: float, size: float, pixels: int = 400) -> RGBDView:
    """``view`` with an ArUco marker (DICT_4X4_50) printed on white paper lying on the table top at ``center``,
    its x axis turned ``yaw``: each pixel seeing the table near it takes the marker's shade there, bilinearly
    sampled, as a camera's pixel averages what it sees."""
    marker = cv2.aruco.generateImageMarker(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), marker_id,
                                           pixels).astype(np.float32)
    points = view.camera.backproject(view.depth)
    offset = points[..., :2] - np.asarray(center)
    c, s = math.cos(-yaw), math.sin(-yaw)
    mx, my = c * offset[..., 0] - s * offset[..., 1], s * offset[..., 0] + c * offset[..., 1]
    u = np.nan_to_num((mx / size + 0.5) * pixels - 0.5, nan=-1e4).astype(np.float32)
    v = np.nan_to_num((0.5 - my / size) * pixels - 0.5, nan=-1e4).astype(np.float32)  # marker rows run along -y
    shade = cv2.remap(marker, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    paper = (np.abs(points[..., 2]) < 0.002) & (np.maximum(np.abs(mx), np.abs(my)) < 0.75 * size)
    rgb = view.rgb.copy()
    rgb[paper] = np.round(shade[paper])[:, None].astype(np.uint8)
    return RGBDView(view.camera, rgb, view.depth)


def real_view(tilt_deg: float = 50.0, azimuth_deg: float = 200.0, distance: float = 1.0, seed: int = 0,
              marker: bool = False) -> RGBDView:
    """A D435-like frame (noise growing with range, flying pixels, dropout) of the scene, optionally with the
    marker on the table."""
    camera = oblique_camera(distance=distance, tilt_deg=tilt_deg, target=(0.5, 0.1, 0.0), azimuth_deg=azimuth_deg)
    view = render(camera, SCENE)
    if marker:
        view = paint_marker(view, MARKER["marker_id"], MARKER["center"], MARKER["yaw"], MARKER["size"])
    return like_a_real_camera(view, np.random.default_rng(seed))


@pytest.mark.parametrize(("tilt", "azimuth", "distance"), [(35, 180, 0.8), (50, 200, 1.0), (64, 150, 0.9)])
def test_the_table_not_the_larger_floor_is_found_and_the_pose_recovered(tilt, azimuth, distance):
    view = real_view(tilt, azimuth, distance)
    truth = view.camera.pose
    base_z = truth.apply(cal.view_points(view))[:, 2]
    seen = np.isfinite(base_z)
    on_table, on_floor = np.abs(base_z[seen]) < 0.01, np.abs(base_z[seen] - FLOOR_Z) < 0.02
    assert on_floor.mean() > on_table.mean() > 0.1, "the floor must outnumber the table for this test to mean much"
    fit = cal.fit_table_plane(cal.view_points(view), np.random.default_rng(0))
    assert max(fit.planes, key=lambda p: p.support).distance > fit.table.distance + 0.5  # the largest: the floor
    assert fit.table.distance == pytest.approx(truth.position[2], abs=POSITION_TOLERANCE)
    assert fit.rms < 0.004  # D435-like noise at this range, not a plane through two surfaces
    pose = cal.pose_from_offset(fit.table, truth.position[0], truth.position[1], facing(truth))
    assert np.allclose(pose.position, truth.position, atol=POSITION_TOLERANCE)
    assert angle_between(pose, truth) < ANGLE_TOLERANCE


def test_an_aruco_marker_on_the_table_gives_the_base_offset():
    view = real_view(marker=True)
    truth = view.camera.pose
    fit = cal.fit_table_plane(cal.view_points(view), np.random.default_rng(0))
    marker = cal.locate_marker(cal.detect_marker(view.rgb, MARKER["marker_id"]), view.camera.intrinsics, fit.table,
                               MARKER["size"])
    assert marker.rms < 0.002 and marker.measured_size == pytest.approx(MARKER["size"], abs=0.002)
    pose = cal.pose_from_offset(fit.table, *cal.offset_from_marker(marker, *MARKER["center"], MARKER["yaw"]))
    assert np.allclose(pose.position, truth.position, atol=POSITION_TOLERANCE)
    assert angle_between(pose, truth) < ANGLE_TOLERANCE


def test_a_missing_marker_is_named_with_the_ones_seen():
    view = real_view(marker=True)
    with pytest.raises(cal.CalibrationError, match=r"no ArUco marker 3 .*found \[7\]"):
        cal.detect_marker(view.rgb, 3)


def test_a_frame_without_a_table_is_refused_saying_what_it_found():
    # A camera looking down 45 degrees at a wall just ahead that fills its view: the wall is as far off its axis
    # as a table would be, but faces the bottom of the image, so it is not taken for one.
    wall = Scene(boxes=(Box((0.3, 0.0, 0.0), (0.05, 20.0, 20.0), (200, 200, 200)),), table_z=-5.0)
    view = render(oblique_camera(distance=1.0, tilt_deg=45.0, target=(0.5, 0.0, 0.0), azimuth_deg=180), wall)
    assert np.isfinite(view.depth).all()
    with pytest.raises(cal.CalibrationError, match="no roughly horizontal plane"):
        cal.fit_table_plane(cal.view_points(view), np.random.default_rng(0))


def cliport(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cliport_ros.cli", "calibrate-table", *args], cwd=REPO,
                          env=os.environ.copy(), capture_output=True, text=True, timeout=300)


def assert_written_pose(path: Path, truth: Extrinsics) -> None:
    config = load_perception_config(path)  # loads: the same format as the shipped YAMLs
    (camera,) = config.cameras
    shipped = load_perception_config(D435_YAML).cameras[0]
    assert (camera.color_topic, camera.depth_topic, camera.info_topic) == (
        shipped.color_topic, shipped.depth_topic, shipped.info_topic)
    assert np.allclose(camera.position, truth.position, atol=POSITION_TOLERANCE)
    assert angle_between(camera.pose, truth) < ANGLE_TOLERANCE


def test_calibrate_table_from_a_bag_with_a_marker_writes_the_camera_yaml(tmp_path):
    view = real_view(marker=True)
    cameras = load_perception_config(D435_YAML).cameras  # its pose (overhead) is not the truth: calibration finds it
    view = RGBDView(cameras[0].to_camera(view.camera.intrinsics, view.camera.pose), view.rgb, view.depth)
    bag = write_camera_bag(tmp_path / "bag", cameras, [[view]], "mcap")
    out = tmp_path / "calibrated.yaml"
    result = cliport("--bag", str(bag), "--config", str(D435_YAML), "--out", str(out),
                     "--marker-id", "7", "--marker-x", "0.45", "--marker-y", "-0.05", "--marker-yaw", "30")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "residuals over" in result.stdout and "RMS" in result.stdout and "ArUco marker 7" in result.stdout
    assert_written_pose(out, view.camera.pose)
    assert out.read_text().startswith("# cliport calibrate-table from bag")  # the residuals go with the file


def test_calibrate_table_from_image_files_with_the_offset_as_flags(tmp_path):
    view = real_view(tilt_deg=40, azimuth_deg=170, distance=0.9)
    truth = view.camera.pose
    depth_png = tmp_path / "depth.png"
    cv2.imwrite(str(depth_png), np.nan_to_num(np.round(view.depth * 1000), nan=0).astype(np.uint16))
    out = tmp_path / "calibrated.yaml"
    result = cliport("--depth", str(depth_png), "--config", str(D435_YAML), "--out", str(out),
                     "--camera-x", str(truth.position[0]), "--camera-y", str(truth.position[1]),
                     "--camera-yaw", str(math.degrees(facing(truth))))
    assert result.returncode == 0, result.stderr[-2000:]
    assert_written_pose(out, truth)


def test_calibrate_table_without_a_base_offset_says_what_to_give(tmp_path):
    result = cliport("--depth", str(tmp_path / "depth.png"))
    assert result.returncode == 2
    assert "--camera-x" in result.stderr and "--marker-id" in result.stderr
