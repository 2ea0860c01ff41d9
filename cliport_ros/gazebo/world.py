"""The Gazebo world: physics, the systems a ROS stack needs, a light, and the camera layout as
``rgbd_camera`` sensors, generated from the camera YAML perception_node reads (one source).

Camera frames: the YAML gives each camera's *optical* frame (z forward, x right, y down) in the base
frame; a Gazebo camera looks along its sensor frame's +x with +z up, so the sensor frame's axes are
(z, -x, -y) of the optical frame. Intrinsics: Gazebo derives fx = fy = width / (2 tan(hfov / 2)) and the
centred principal point, so a camera whose fx, fy, cx, cy say otherwise is refused rather than rendered
differently from what perception assumes. Depth comes as 32FC1 metres, +inf beyond the far clip, which
perception already treats as invalid.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cliport_ros.gazebo.markup import sdf_pose, sub, to_text
from cliport_ros.perception.config import CameraConfig, PerceptionConfig

SDF_VERSION = "1.9"  # Gazebo Harmonic reads 1.9 to 1.11
WORLD_NAME = "cliport"
CAMERA_RATE = 10.0  # Hz: a heightmap needs all three views; faster only slows the simulation
NEAR, FAR = 0.01, 10.0  # metres, as the PyBullet cameras (cliport_ros/sim/scene.py)
PHYSICS_STEP = 0.001  # s: gz_ros2_control's controller manager runs at most once per physics step
# Systems the world loads (filename, class): physics, spawning (UserCommands serves /world/<w>/create),
# state for the GUI and the bridge, rendering for the cameras, contacts for the gripper.
SYSTEMS = (
    ("gz-sim-physics-system", "gz::sim::systems::Physics"),
    ("gz-sim-user-commands-system", "gz::sim::systems::UserCommands"),
    ("gz-sim-scene-broadcaster-system", "gz::sim::systems::SceneBroadcaster"),
    ("gz-sim-sensors-system", "gz::sim::systems::Sensors"),
    ("gz-sim-contact-system", "gz::sim::systems::Contact"),
)


def camera_topic(camera: str) -> str:
    """The rgbd_camera's base topic; Gazebo appends /image, /depth_image and /camera_info."""
    return f"/cameras/{camera}"


def horizontal_fov(camera: CameraConfig) -> float:
    """rad: the field of view that gives the camera's fx at its width."""
    return 2.0 * math.atan(camera.width / (2.0 * camera.fx))


def check_gazebo_camera(camera: CameraConfig) -> None:
    """Refuse intrinsics a Gazebo camera cannot have (square pixels, centred principal point)."""
    if abs(camera.fx - camera.fy) > 1e-6 * camera.fx:
        raise ValueError(f"camera {camera.name!r}: fx {camera.fx} != fy {camera.fy}; Gazebo renders square pixels")
    if abs(camera.cx - camera.width / 2) > 0.5 or abs(camera.cy - camera.height / 2) > 0.5:
        raise ValueError(f"camera {camera.name!r}: principal point ({camera.cx}, {camera.cy}) is not the image "
                         f"centre; Gazebo renders only centred ones")


def sensor_rotation(camera: CameraConfig) -> np.ndarray:
    """3 x 3 rotation of the Gazebo sensor frame (x forward, z up) in the base frame."""
    optical = camera.pose.rotation
    return np.stack([optical[:, 2], -optical[:, 0], -optical[:, 1]], axis=1)


def _camera_model(world: ET.Element, camera: CameraConfig) -> None:
    check_gazebo_camera(camera)
    model = sub(world, "model", name=f"camera_{camera.name}")
    sub(model, "static", "true")
    sub(model, "pose", sdf_pose(camera.position, sensor_rotation(camera)))
    link = sub(model, "link", name="link")
    sensor = sub(link, "sensor", name=camera.name, type="rgbd_camera")
    sub(sensor, "always_on", "true")
    sub(sensor, "update_rate", f"{CAMERA_RATE:g}")
    sub(sensor, "topic", camera_topic(camera.name))
    sub(sensor, "gz_frame_id", camera.frame_id or camera.name)
    cam = sub(sensor, "camera", name=camera.name)
    sub(cam, "horizontal_fov", f"{horizontal_fov(camera):.9g}")
    image = sub(cam, "image")
    sub(image, "width", str(camera.width))
    sub(image, "height", str(camera.height))
    sub(image, "format", "R8G8B8")
    clip = sub(cam, "clip")
    sub(clip, "near", f"{NEAR:g}")
    sub(clip, "far", f"{FAR:g}")
    intrinsics = sub(sub(cam, "lens"), "intrinsics")
    for key in ("fx", "fy", "cx", "cy"):
        sub(intrinsics, key, f"{getattr(camera, key):.9g}")
    sub(intrinsics, "s", "0")


@dataclass(frozen=True)
class Include:
    """A model of the scene: its name in the world and its URI (``model://<name>``), at a pose."""

    name: str
    uri: str
    pose: str = "0 0 0 0 0 0"


def world_sdf(perception: PerceptionConfig, includes: Sequence[Include] = (), name: str = WORLD_NAME) -> str:
    """The world SDF (a string): systems, light, the cameras of ``perception``, and ``includes``."""
    sdf = ET.Element("sdf", version=SDF_VERSION)
    world = sub(sdf, "world", name=name)
    physics = sub(world, "physics", name="cliport", type="ignored")
    sub(physics, "max_step_size", f"{PHYSICS_STEP:g}")
    sub(physics, "real_time_factor", "1.0")
    for filename, cls in SYSTEMS:
        plugin = sub(world, "plugin", filename=filename, name=cls)
        if cls.endswith("Sensors"):
            sub(plugin, "render_engine", "ogre2")
    sub(world, "gravity", "0 0 -9.81")
    light = sub(world, "light", name="sun", type="directional")
    sub(light, "cast_shadows", "true")
    sub(light, "pose", "0 0 10 0 0 0")
    sub(light, "diffuse", "0.9 0.9 0.9 1")
    sub(light, "specular", "0.2 0.2 0.2 1")
    sub(light, "direction", "-0.3 0.2 -1")
    scene = sub(world, "scene")
    sub(scene, "ambient", "0.5 0.5 0.5 1")
    sub(scene, "background", "0.7 0.7 0.7 1")
    for camera in perception.cameras:
        _camera_model(world, camera)
    for model in includes:
        include = sub(world, "include")
        sub(include, "uri", model.uri)
        sub(include, "name", model.name)
        sub(include, "pose", model.pose)
    return to_text(sdf)
