"""Options of ``cliport export-scene`` and parameters of ``gz_gripper_node``, light to import."""

from __future__ import annotations

from dataclasses import dataclass

from cliport_ros.execution.arms import ARMS
from cliport_ros.gazebo.gripper import ROBOT_MODEL
from cliport_ros.options import option

CONTROLLERS_YAML = "gazebo_controllers.yaml"  # in config/: what the robot's gz_ros2_control plugin loads
BRIDGE_YAML = "gazebo_bridge.yaml"  # in config/: /clock and the cameras (ros_gz_bridge parameter_bridge)


@dataclass(frozen=True)
class ExportSceneConfig:
    """``cliport export-scene`` options."""

    task: str = option("put-block-in-bowl-seen-colors", 'task whose scene to export ("" for the empty table)')
    seed: int = option(10001, "scene seed (10001: the first test scene)")
    arm: str = option("ur5", "arm the robot description is written for", tuple(sorted(ARMS)))
    out: str = option("out/gazebo_scene", "folder to write world.sdf, models/, robot.urdf and scene.yaml into")
    cameras: str = option("cameras_ravens.yaml", "camera layout YAML the world's rgbd_camera sensors copy")

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"ExportSceneConfig: seed={self.seed} must be >= 0")


@dataclass(frozen=True)
class GazeboGripperConfig:
    """gz_gripper_node's parameters: the arm whose gripper it plays and the scene's graspable objects."""

    arm: str = "ur5"
    objects: tuple[str, ...] = ("",)  # the scene's slots (scene.yaml "objects"); ROS needs a typed default
    robot_model: str = ROBOT_MODEL
    service: str = "gripper/set"
    contact_window: float = 0.3  # s: a contact this recent counts as touching
    close_seconds: float = 1.0  # s: how long the fingers get to close before the weld
    detach_period: float = 0.5  # s: how often unconfirmed slots are told to detach

    def __post_init__(self) -> None:
        if self.arm not in ARMS:
            raise ValueError(f"GazeboGripperConfig: unknown arm {self.arm!r}; known: {sorted(ARMS)}")
        for name in ("contact_window", "close_seconds", "detach_period"):
            if getattr(self, name) <= 0:
                raise ValueError(f"GazeboGripperConfig: {name}={getattr(self, name)} must be > 0")
