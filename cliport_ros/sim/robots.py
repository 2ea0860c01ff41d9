"""Arms and end effectors in PyBullet: URDF, home pose, inverse kinematics, suction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybullet_data
from scipy.spatial.transform import Rotation

ASSETS = Path(__file__).resolve().parent / "assets"

# PyBullet also reports near misses (positive distance within its contact margin): only these count.
TOUCH_DISTANCE = 0.001  # metres

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
    gripper: str  # "suction" or "fingers"
    contact_links: tuple[str, ...]  # links whose contacts count as the tool touching something
    finger_joints: tuple[str, ...] = ()
    finger_open: float = 0.04  # metres per finger
    grasp_depth: float = 0.0  # how far below the pick point (object top) the tool centre goes
    reach: float = 1.0  # largest horizontal distance from the base at which it can pick, metres
    min_reach: float = 0.0  # smallest such distance (top-down grasps right next to the base fail)
    max_joint_speed: float = 2.4  # rad/s while moving between waypoints
    ik_lower: tuple[float, ...] | None = None  # null-space limits; default: the URDF's
    ik_upper: tuple[float, ...] | None = None


UR5_SUCTION = ArmProfile(
    name="ur5",
    urdf=str(ASSETS / "ur5_suction.urdf"),
    tool_link="suction_tip",
    home=tuple(np.array([-1, -0.5, 0.5, -0.5, -0.5, 0]) * math.pi),
    gripper="suction",
    contact_links=("suction_link",),
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
)

ARMS = {profile.name: profile for profile in (UR5_SUCTION, FRANKA_GRIPPER)}


def arm_profile(name: str) -> ArmProfile:
    if name not in ARMS:
        raise ValueError(f"unknown arm {name!r}; known: {sorted(ARMS)}")
    return ARMS[name]


class Arm:
    """A loaded arm: joint control, inverse kinematics, and its suction cup or two-finger gripper.

    A held object is welded to the tool with a fixed constraint: for the
    suction cup that is what suction does; for the fingers it stands in for
    friction, which in PyBullet lets closed fingers slip (the fingers still
    have to close on the object from both sides for the weld to be made).
    """

    def __init__(self, bullet, profile: ArmProfile) -> None:
        self.bullet = bullet
        self.profile = profile
        self.body = bullet.loadURDF(profile.urdf, useFixedBase=True)
        links, movable, names = {}, [], {}
        for j in range(bullet.getNumJoints(self.body)):
            info = bullet.getJointInfo(self.body, j)
            links[info[12].decode()] = j
            names[info[1].decode()] = j
            if info[2] != bullet.JOINT_FIXED:
                movable.append(j)
        self.fingers = [names[n] for n in profile.finger_joints]
        self.joints = [j for j in movable if j not in self.fingers]
        self.movable = movable  # IK solves for every movable joint, fingers included
        self.joint_names = [bullet.getJointInfo(self.body, j)[1].decode() for j in self.joints]
        self.tool = links[profile.tool_link]
        self.contact_links = {links[n] for n in profile.contact_links}
        limits = [bullet.getJointInfo(self.body, j)[8:10] for j in movable]
        self._ik_lower = list(profile.ik_lower or [lo for lo, _ in limits])
        self._ik_upper = list(profile.ik_upper or [hi for _, hi in limits])
        self._rest = list(profile.home) + [profile.finger_open] * len(self.fingers)
        self.grasp: int | None = None  # constraint id while holding
        self.held: int | None = None
        self.reset_joints(profile.home)
        for f in self.fingers:
            bullet.resetJointState(self.body, f, profile.finger_open)
        self.open_fingers()

    def reset_joints(self, q) -> None:
        for j, value in zip(self.joints, q, strict=True):
            self.bullet.resetJointState(self.body, j, value)
        self.command(q)

    def joint_positions(self) -> np.ndarray:
        return np.array([s[0] for s in self.bullet.getJointStates(self.body, self.joints)])

    def command(self, q) -> None:
        self.bullet.setJointMotorControlArray(
            self.body, self.joints, self.bullet.POSITION_CONTROL,
            targetPositions=list(q), positionGains=[1.0] * len(self.joints), forces=[500.0] * len(self.joints),
        )

    def ik(self, xyz, quat) -> np.ndarray:
        ranges = [hi - lo for lo, hi in zip(self._ik_lower, self._ik_upper, strict=True)]
        q = self.bullet.calculateInverseKinematics(
            self.body, self.tool, targetPosition=list(xyz), targetOrientation=list(quat),
            lowerLimits=self._ik_lower, upperLimits=self._ik_upper, jointRanges=ranges,
            restPoses=self._rest, maxNumIterations=100, residualThreshold=1e-5,
        )
        index = {j: k for k, j in enumerate(self.movable)}
        return np.array([q[index[j]] for j in self.joints])

    # -- end effector ------------------------------------------------------------------------------
    def _touching(self) -> list[tuple[int, int]]:
        """(body, our link) pairs for every contact of the tool's contact links."""
        points = self.bullet.getContactPoints(bodyA=self.body)
        return [(pt[2], pt[3]) for pt in points
                if pt[3] in self.contact_links and pt[2] != self.body and pt[8] <= TOUCH_DISTANCE]

    def contacts(self) -> list[int]:
        """Bodies (other than the arm) touching the tool, or touching the held object."""
        bodies = {body for body, _ in self._touching()}
        if self.held is not None:
            bodies |= {pt[2] for pt in self.bullet.getContactPoints(bodyA=self.held) if pt[8] <= TOUCH_DISTANCE}
        return sorted(bodies - {self.body, self.held})

    def open_fingers(self) -> None:
        if self.fingers:
            self.bullet.setJointMotorControlArray(
                self.body, self.fingers, self.bullet.POSITION_CONTROL,
                targetPositions=[self.profile.finger_open] * len(self.fingers), forces=[40.0] * len(self.fingers))

    def close_fingers(self) -> None:
        if self.fingers:
            self.bullet.setJointMotorControlArray(
                self.body, self.fingers, self.bullet.POSITION_CONTROL,
                targetPositions=[0.0] * len(self.fingers), forces=[40.0] * len(self.fingers))

    def attach(self, graspable: set[int]) -> bool:
        """Weld the graspable body the tool holds, if any; return whether something is held.

        Suction needs the cup to touch the body; fingers need both fingers to touch it.
        """
        if self.held is not None:
            return True
        touching: dict[int, set[int]] = {}
        for body, link in self._touching():
            if body in graspable:
                touching.setdefault(body, set()).add(link)
        if self.fingers:  # a finger link has the index of the finger joint that moves it
            candidates = [b for b, links in touching.items() if set(self.fingers) <= links]
        else:
            candidates = list(touching)
        if not candidates:
            return False
        obj = candidates[0]
        tool_state = self.bullet.getLinkState(self.body, self.tool)
        link_pos, link_orn = tool_state[0], tool_state[1]  # inertial frame, as constraints use
        obj_pos, obj_orn = self.bullet.getBasePositionAndOrientation(obj)
        inv_pos, inv_orn = self.bullet.invertTransform(link_pos, link_orn)
        rel_pos, rel_orn = self.bullet.multiplyTransforms(inv_pos, inv_orn, obj_pos, obj_orn)
        self.grasp = self.bullet.createConstraint(
            self.body, self.tool, obj, -1, self.bullet.JOINT_FIXED, (0, 0, 0),
            parentFramePosition=rel_pos, parentFrameOrientation=rel_orn,
            childFramePosition=(0, 0, 0), childFrameOrientation=(0, 0, 0, 1),
        )
        self.bullet.changeConstraint(self.grasp, maxForce=200)
        self.held = obj
        return True

    def detach(self) -> None:
        if self.grasp is not None:
            self.bullet.removeConstraint(self.grasp)
        self.grasp = None
        self.held = None
        self.open_fingers()
