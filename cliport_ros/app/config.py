"""``cliport demo``'s options, light to import: ``cliport``'s flags are generated from them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cliport_ros.execution.arms import ARMS
from cliport_ros.options import option


@dataclass(frozen=True)
class DemoConfig:
    """``cliport demo`` options."""

    task: str = option("put-block-in-bowl-seen-colors", "task whose scene to set up")
    seed: int = option(10001, "scene seed (10001: the first test scene)")
    policy: str = option("shipped", "shipped (the packaged learned checkpoint), a checkpoint path, or oracle (the "
                         "simulator's scripted expert, reads true poses)")
    arm: str = option("ur5", "simulated arm", tuple(sorted(ARMS)))
    real_time_factor: float = option(2.0, "simulated seconds per wall second")
    out: str = option("out/demo.png", "picture to save")
    log_dir: str = option("out/logs", "where each node's output goes")
    startup_timeout: float = option(90.0, "seconds for the nodes to come up")


@dataclass(frozen=True)
class PerceptionDemoConfig:
    """``cliport demo --perception-only`` options."""

    config: str = option("cameras_ravens.yaml", "camera layout YAML")
    out: str = option("out/demo_heightmap.png", "picture to save")
    timeout: float = option(30.0, "seconds for the heightmap to arrive")


DECIDE_ON = ("last", "saved")


@dataclass(frozen=True)
class ReplayConfig:
    """``cliport replay`` options: perception (and a dry-run decision) over a recorded bag; nothing moves."""

    bag: str = option(help="ROS 2 bag: the folder `ros2 bag record` wrote, or one .db3 (sqlite3) or .mcap file "
                      "of it")
    config: str = option("cameras_realsense_d435.yaml", "camera layout YAML (a file, or a name in config/): "
                         "topics, camera poses, workspace, filters")
    out: str = option("out/replay", "folder for the pictures")
    every: int = option(1, "save the heightmap picture of every Nth fused set (and always the last)")
    max_sets: int = option(0, "stop after this many matched sets (0: the whole bag)")
    instruct: str = option("", "an instruction: also decide (a dry run: nothing moves) and save the affordance "
                           "picture")
    policy: str = option("shipped", "what decides --instruct: shipped (the packaged checkpoint) or a checkpoint "
                         "path")
    decide_on: str = option("last", "the sets --instruct decides on: the last fused one (what policy_node would "
                            "have at the end of the recording) or every saved one", DECIDE_ON)

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"ReplayConfig: every={self.every} must be >= 1")
        if self.max_sets < 0:
            raise ValueError(f"ReplayConfig: max_sets={self.max_sets} must be >= 0 (0: all)")
        if self.decide_on not in DECIDE_ON:
            raise ValueError(f"ReplayConfig: decide_on={self.decide_on!r} must be one of {DECIDE_ON}")


@dataclass(frozen=True)
class CalibrateConfig:
    """``cliport calibrate-table`` options: a camera's pose from one RGB-D frame of the table it looks at.

    The frame comes from a bag (``bag``) or from image files (``depth``, and ``color`` for a marker). Where
    over the table the camera stands comes from ``camera_x``/``camera_y``/``camera_yaw`` or, with
    ``marker_id``, from an ArUco marker lying on the table at ``marker_x``/``marker_y``/``marker_yaw``.
    """

    bag: str = option("", "ROS 2 bag (folder, .db3 or .mcap) to take the frame from, on the camera's topics")
    frame: int = option(0, "which of the bag's frames (colour + depth matched as perception does; 0: the first)")
    depth: str = option("", "instead of a bag: a depth image, 16-bit PNG in millimetres (as RealSense tools save "
                        "it) or .npy (uint16 mm or float metres), aligned to colour; intrinsics from --config")
    color: str = option("", "with --depth: the colour image (PNG/JPEG), needed for --marker-id")
    config: str = option("cameras_realsense_d435.yaml", "camera YAML to start from (a file, or a name in "
                         "config/): topics, intrinsics for image files, and the entries kept as they are")
    camera: str = option("", "the camera to calibrate (default: the config's first)")
    out: str = option("out/calibrated_cameras.yaml", "camera YAML to write: --config with this camera's pose "
                      "(and intrinsics) replaced")
    camera_x: float = option(float("nan"), "the camera's optical centre over the table: base-frame x (m)")
    camera_y: float = option(float("nan"), "the camera's optical centre over the table: base-frame y (m)")
    camera_yaw: float = option(float("nan"), "the way the camera faces (where the image's top edge points on "
                               "the table), degrees counter-clockwise from base +x")
    table_z: float = option(0.0, "height of the table surface in the base frame (m); the base's z axis is taken "
                            "to be perpendicular to the table")
    marker_id: int = option(-1, "ArUco marker on the table that gives the base offset instead of --camera-x/-y/"
                            "-yaw (-1: none)")
    marker_dict: str = option("DICT_4X4_50", "the marker's ArUco dictionary")
    marker_size: float = option(0.1, "the marker's printed side (m), outer edge of its black border")
    marker_x: float = option(0.0, "the marker's centre: base-frame x (m)")
    marker_y: float = option(0.0, "the marker's centre: base-frame y (m)")
    marker_yaw: float = option(0.0, "the direction of the marker's x axis (from its top-left to its top-right "
                               "corner as printed), degrees counter-clockwise from base +x")
    threshold: float = option(0.01, "RANSAC inlier distance from the plane (m): above the depth noise at the "
                              "table's range")
    min_support: float = option(0.1, "least fraction of the valid depth pixels a plane needs to be the table "
                                "(the nearest such roughly horizontal plane is)")
    max_tilt: float = option(75.0, "most degrees the camera's axis may be off straight down at the table")
    seed: int = option(0, "RANSAC random seed")

    def __post_init__(self) -> None:
        if bool(self.bag) == bool(self.depth):
            raise ValueError("CalibrateConfig: give the frame as --bag or as --depth (with --color), not both")
        offset = (self.camera_x, self.camera_y, self.camera_yaw)
        if self.marker_id < 0 and not all(math.isfinite(v) for v in offset):
            raise ValueError("CalibrateConfig: give the base offset as --camera-x, --camera-y and --camera-yaw, "
                             "or --marker-id of an ArUco marker at --marker-x/-y/-yaw")
        if self.marker_id >= 0 and self.depth and not self.color:
            raise ValueError("CalibrateConfig: --marker-id needs the colour image (--color) beside --depth")
        if self.frame < 0:
            raise ValueError(f"CalibrateConfig: frame={self.frame} must be >= 0")
        for name in ("threshold", "marker_size"):
            if not getattr(self, name) > 0:
                raise ValueError(f"CalibrateConfig: {name}={getattr(self, name)} must be > 0")
        if not 0 < self.min_support <= 1:
            raise ValueError(f"CalibrateConfig: min_support={self.min_support} must lie in (0, 1]")
        if not 0 < self.max_tilt < 90:
            raise ValueError(f"CalibrateConfig: max_tilt={self.max_tilt} must lie in (0, 90) degrees")
