"""Arms and end effectors in PyBullet: URDF, home pose, inverse kinematics, suction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

ASSETS = Path(__file__).resolve().parent / "assets"

# Tool pointing straight down (tool z = -world z), before any yaw.
TOOL_DOWN = Rotation.from_euler("x", math.pi)


def tool_down_quaternion(yaw: float) -> tuple[float, ...]:
    """Orientation of a downward-pointing tool turned ``yaw`` rad about world +z, (x, y, z, w)."""
    return tuple((Rotation.from_euler("z", yaw) * TOOL_DOWN).as_quat())


@dataclass(frozen=True)
class ArmProfile:
    """What the simulator needs to know about one arm."""

    name: str
    urdf: str
    tool_link: str
    home: tuple[float, ...]
    ik_lower: tuple[float, ...]
    ik_upper: tuple[float, ...]
    max_joint_speed: float = 2.4  # rad/s while moving between waypoints


UR5_SUCTION = ArmProfile(
    name="ur5",
    urdf=str(ASSETS / "ur5_suction.urdf"),
    tool_link="suction_tip",
    home=tuple(np.array([-1, -0.5, 0.5, -0.5, -0.5, 0]) * math.pi),
    # Keep IK in the elbow-up, wrist-down family the home pose belongs to.
    ik_lower=(-1.5 * math.pi, -2.3562, -17, -17, -17, -17),
    ik_upper=(-0.5 * math.pi, 0.0, 17, 17, 17, 17),
)

ARMS = {UR5_SUCTION.name: UR5_SUCTION}


def arm_profile(name: str) -> ArmProfile:
    if name not in ARMS:
        raise ValueError(f"unknown arm {name!r}; known: {sorted(ARMS)}")
    return ARMS[name]


class Arm:
    """A loaded arm: joint control, forward/inverse kinematics, and a suction cup at ``tool_link``."""

    def __init__(self, bullet, profile: ArmProfile) -> None:
        self.bullet = bullet
        self.profile = profile
        self.body = bullet.loadURDF(profile.urdf, useFixedBase=True)
        self.joints: list[int] = []
        links = {}
        for j in range(bullet.getNumJoints(self.body)):
            info = bullet.getJointInfo(self.body, j)
            links[info[12].decode()] = j
            if info[2] == bullet.JOINT_REVOLUTE:
                self.joints.append(j)
        self.joint_names = [bullet.getJointInfo(self.body, j)[1].decode() for j in self.joints]
        self.tool = links[profile.tool_link]
        self.suction_link = bullet.getJointInfo(self.body, self.tool)[16]  # parent of the tip frame
        self.reset_joints(profile.home)
        self.grasp: int | None = None  # constraint id while holding
        self.held: int | None = None

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

    def tool_pose(self) -> tuple[np.ndarray, np.ndarray]:
        state = self.bullet.getLinkState(self.body, self.tool, computeForwardKinematics=True)
        return np.array(state[4]), np.array(state[5])

    def ik(self, xyz, quat) -> np.ndarray:
        p = self.profile
        ranges = [hi - lo for lo, hi in zip(p.ik_lower, p.ik_upper, strict=True)]
        q = self.bullet.calculateInverseKinematics(
            self.body, self.tool, targetPosition=list(xyz), targetOrientation=list(quat),
            lowerLimits=list(p.ik_lower), upperLimits=list(p.ik_upper), jointRanges=ranges,
            restPoses=list(p.home), maxNumIterations=100, residualThreshold=1e-5,
        )
        q = np.array(q[: len(self.joints)])
        return q

    # -- suction ---------------------------------------------------------------------------------
    def contacts(self) -> list[int]:
        """Bodies (other than the arm) touching the suction cup, or the held object."""
        points = self.bullet.getContactPoints(bodyA=self.body, linkIndexA=self.suction_link)
        if self.held is not None:
            points = points + self.bullet.getContactPoints(bodyA=self.held)
        return sorted({pt[2] for pt in points if pt[2] not in (self.body, self.held)})

    def suction_on(self, graspable: set[int]) -> bool:
        """Attach the graspable body the cup touches, if any; return whether something is held."""
        if self.held is not None:
            return True
        points = self.bullet.getContactPoints(bodyA=self.body, linkIndexA=self.suction_link)
        touching = [pt[2] for pt in points if pt[2] in graspable]
        if not touching:
            return False
        obj = touching[0]
        link_state = self.bullet.getLinkState(self.body, self.suction_link)
        link_pos, link_orn = link_state[0], link_state[1]  # inertial frame, as constraints use
        obj_pos, obj_orn = self.bullet.getBasePositionAndOrientation(obj)
        inv_pos, inv_orn = self.bullet.invertTransform(link_pos, link_orn)
        rel_pos, rel_orn = self.bullet.multiplyTransforms(inv_pos, inv_orn, obj_pos, obj_orn)
        self.grasp = self.bullet.createConstraint(
            self.body, self.suction_link, obj, -1, self.bullet.JOINT_FIXED, (0, 0, 0),
            parentFramePosition=rel_pos, parentFrameOrientation=rel_orn,
            childFramePosition=(0, 0, 0), childFrameOrientation=(0, 0, 0, 1),
        )
        self.bullet.changeConstraint(self.grasp, maxForce=200)
        self.held = obj
        return True

    def suction_off(self) -> None:
        if self.grasp is not None:
            self.bullet.removeConstraint(self.grasp)
        self.grasp = None
        self.held = None
