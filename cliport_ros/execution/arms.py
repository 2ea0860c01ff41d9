"""The arms the product drives, as data: URDF, tool frame, home pose, end effector, reach.

Shared by the executor (kinematics on the real or simulated arm) and the
simulator, so both speak of one UR5 and one Franka.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybullet_data
from scipy.spatial.transform import Rotation

ASSETS = Path(__file__).resolve().parent.parent / "assets"

# Tool pointing straight down (tool z = -world z), before any yaw.
TOOL_DOWN = Rotation.from_euler("x", math.pi)


def tool_down_quaternion(yaw: float) -> tuple[float, ...]:
    """Orientation of a downward-pointing tool turned ``yaw`` rad about world +z, (x, y, z, w)."""
    return tuple((Rotation.from_euler("z", yaw) * TOOL_DOWN).as_quat())


@dataclass(frozen=True)
class ArmProfile:
    """What the simulator needs to know about one arm and its end effector."""

    name: str
    urdf: str
    tool_link: str  # tool centre point: suction cup tip, or between the fingertips
    home: tuple[float, ...]
    gripper: str  # "suction", "fingers" or "spatula" (pushes; holds nothing)
    contact_links: tuple[str, ...]  # links whose contacts count as the tool touching something
    finger_joints: tuple[str, ...] = ()
    finger_open: float = 0.04  # metres per finger
    grasp_depth: float = 0.0  # how far below the pick point (object top) the tool centre goes
    reach: float = 1.0  # largest horizontal distance from the base at which it can pick, metres
    min_reach: float = 0.0  # smallest such distance (top-down grasps right next to the base fail)
    max_joint_speed: float = 2.4  # rad/s while moving between waypoints
    controller: str = "joint_trajectory_controller"  # the ros2_control controller its driver runs
    ik_lower: tuple[float, ...] | None = None  # null-space limits; default: the URDF's
    ik_upper: tuple[float, ...] | None = None
    # The real arm's published joint limits (rad, rad/s), where they are narrower than its URDF's (the
    # simulator's model): every plan keeps within both.
    lower: tuple[float, ...] | None = None
    upper: tuple[float, ...] | None = None
    max_velocity: tuple[float, ...] | None = None
    max_acceleration: tuple[float, ...] | None = None  # rad/s^2; None: kinematics.DEFAULT_ACCELERATION
    max_jerk: tuple[float, ...] | None = None  # rad/s^3, where the maker publishes it; None: not limited


UR5_SUCTION = ArmProfile(
    name="ur5",
    urdf=str(ASSETS / "ur5_suction.urdf"),
    tool_link="suction_tip",
    home=tuple(np.array([-1, -0.5, 0.5, -0.5, -0.5, 0]) * math.pi),
    gripper="suction",
    contact_links=("suction_link",),
    controller="scaled_joint_trajectory_controller",  # ur_robot_driver's
    # Keep IK in the elbow-up, wrist-down family the home pose belongs to.
    ik_lower=(-1.5 * math.pi, -2.3562, -17, -17, -17, -17),
    ik_upper=(-0.5 * math.pi, 0.0, 17, 17, 17, 17),
)

FRANKA_GRIPPER = ArmProfile(
    name="franka",
    urdf=str(Path(pybullet_data.getDataPath()) / "franka_panda" / "panda.urdf"),
    tool_link="panda_grasptarget",
    home=(0.0, -0.6, 0.0, -2.4, 0.0, 1.8, math.pi / 4),
    gripper="fingers",
    contact_links=("panda_leftfinger", "panda_rightfinger", "panda_hand"),
    finger_joints=("panda_finger_joint1", "panda_finger_joint2"),
    grasp_depth=0.02,
    reach=0.75,
    min_reach=0.38,
    max_joint_speed=2.0,
    controller="fr3_arm_controller",  # franka_ros2's
    # Franka Research 3 (Franka's "Robot and interface specifications", limits for FR3); the simulator's
    # model is the Panda's URDF, whose joint 6 reaches 0.63 rad lower than an FR3's.
    lower=(-2.7437, -1.7837, -2.9007, -3.0421, -2.8065, 0.5445, -3.0159),
    upper=(2.7437, 1.7837, 2.9007, -0.1518, 2.8065, 4.5169, 3.0159),
    max_velocity=(2.62, 2.62, 2.62, 2.62, 5.26, 4.18, 5.26),
    # The FR3's 10 rad/s^2 on every joint, and the Panda's 7.5 on joint 2 (the simulator's model).
    max_acceleration=(10.0, 7.5, 10.0, 10.0, 10.0, 10.0, 10.0),
    max_jerk=(5000.0,) * 7,  # the FR3's, every joint
)

# A UR5e (the e-Series): the same suction cup, home pose and IK family on the UR5e's published kinematics.
UR5E_SUCTION = ArmProfile(
    name="ur5e",
    urdf=str(ASSETS / "ur5e_suction.urdf"),
    tool_link=UR5_SUCTION.tool_link,
    home=UR5_SUCTION.home,
    gripper="suction",
    contact_links=UR5_SUCTION.contact_links,
    controller=UR5_SUCTION.controller,
    ik_lower=UR5_SUCTION.ik_lower,
    ik_upper=UR5_SUCTION.ik_upper,
)

# The Ravens spatula in place of the suction cup, for the push tasks; same tool length, same IK family.
UR5_SPATULA = ArmProfile(
    name="ur5",
    urdf=str(ASSETS / "ur5_spatula.urdf"),
    tool_link="spatula_tip",
    home=UR5_SUCTION.home,
    gripper="spatula",
    contact_links=("spatula_link",),
    controller=UR5_SUCTION.controller,
    ik_lower=UR5_SUCTION.ik_lower,
    ik_upper=UR5_SUCTION.ik_upper,
)

ARMS = {profile.name: profile for profile in (UR5_SUCTION, UR5E_SUCTION, FRANKA_GRIPPER)}
# Tools other than an arm's own end effector, by (arm, tool): what a task may ask the simulator to mount.
TOOLS = {("ur5", "spatula"): UR5_SPATULA}


def arm_profile(name: str, tool: str | None = None) -> ArmProfile:
    """The arm called ``name`` with its own end effector, or with ``tool`` mounted instead."""
    if name not in ARMS:
        raise ValueError(f"unknown arm {name!r}; known: {sorted(ARMS)}")
    if tool is None or tool == ARMS[name].gripper:
        return ARMS[name]
    if (name, tool) not in TOOLS:
        known = sorted(f"{arm} + {t}" for arm, t in TOOLS)
        raise ValueError(f"the {name} arm has no {tool!r} tool; available: {', '.join(known)}")
    return TOOLS[(name, tool)]
