"""executor_node's configuration: its ROS parameters are these fields (and ``workspace.*``, ``planner.*``,
``clearance.*``: the fields of Workspace, PlannerConfig and ClearanceConfig), with these defaults."""

from __future__ import annotations

from dataclasses import dataclass

from cliport_ros.execution.arms import ARMS
from cliport_ros.execution.supervisor import SupervisorConfig

# How trajectories reach the controller: its joint_trajectory topic (any ros2_control set-up, and sim_node), or
# its control_msgs/FollowJointTrajectory action (needs control_msgs; the controller can refuse or abort a goal).
TRAJECTORY_INTERFACES = ("topic", "action")


@dataclass(frozen=True)
class ExecutorNodeConfig(SupervisorConfig):
    """The supervisor's bounds (inherited), the arm, and the names the robot's drivers use.

    ROS parameters need a typed default, so "use the arm's own" is written "" (or a one-element list).
    """

    arm: str = "ur5"
    tool: str = ""  # "" = the arm's own end effector; "spatula" (UR5) turns every request into a push
    urdf: str = ""  # "" = the bundled URDF of that arm and tool
    tool_frame: str = ""  # "" = the profile's tool link
    joint_names: tuple[str, ...] = ("",)  # as the controller and /joint_states name them, in URDF order
    home: tuple[float, ...] = (0.0,)  # joint positions; one value = the profile's home pose
    controller: str = ""  # "" = the arm's usual controller (ArmProfile.controller)
    trajectory_interface: str = "topic"  # one of TRAJECTORY_INTERFACES
    base_frame: str = "base_link"
    gripper_service: str = "gripper/set"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.arm not in ARMS:
            raise ValueError(f"ExecutorNodeConfig: unknown arm {self.arm!r}; known: {sorted(ARMS)}")
        if self.trajectory_interface not in TRAJECTORY_INTERFACES:
            raise ValueError(f"ExecutorNodeConfig: trajectory_interface={self.trajectory_interface!r} is not one "
                             f"of {TRAJECTORY_INTERFACES}")
