"""Arms and end effectors in PyBullet: joint control, contacts, suction and fingers."""

from __future__ import annotations

import numpy as np

from cliport_ros.execution.arms import ArmProfile, arm_profile, tool_down_quaternion

__all__ = ["TOUCH_DISTANCE", "Arm", "ArmProfile", "arm_profile", "tool_down_quaternion"]

# PyBullet also reports near misses (positive distance within its contact margin): only these count.
TOUCH_DISTANCE = 0.001  # metres


class Arm:
    """A loaded arm: joint control, contacts, and its suction cup or two-finger gripper.

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
        self.joint_names = [bullet.getJointInfo(self.body, j)[1].decode() for j in self.joints]
        self.tool = links[profile.tool_link]
        self.contact_links = {links[n] for n in profile.contact_links}
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

        Suction needs the cup to touch the body; fingers need both fingers to touch it; a spatula
        holds nothing.
        """
        if self.held is not None:
            return True
        if self.profile.gripper == "spatula":
            return False
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
        tool_state = self.bullet.getLinkState(self.body, self.tool)
        # the body nearest the tool centre: a cup touching two small beads holds the one it is on.
        # The link state as the last physics step left it, not a fresh forward-kinematics pass:
        # that pass would move the frame the weld below is taken in.
        tip = np.array(tool_state[4])
        obj = min(candidates, key=lambda body: float(
            np.linalg.norm(np.array(self.bullet.getBasePositionAndOrientation(body)[0]) - tip)))
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
