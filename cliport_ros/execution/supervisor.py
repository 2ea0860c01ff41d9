"""Carrying out a plan on an arm: send each segment, confirm it finished, grip, time out, recover.

ROS-free: the arm is reached through :class:`ArmIO` (executor_node binds it to
a trajectory topic, ``/joint_states`` and the gripper service; a test can bind
it to anything that follows trajectories). A segment counts as finished when
the measured joints are within ``goal_tolerance`` of its last point and at
rest; one that does not finish within ``timeout_factor`` x its planned time
plus ``timeout_margin`` is a :class:`MotionError`. A grip that holds nothing
releases, lifts back the way the tool came down and goes home before the
error is raised, so the arm is never left down in the scene.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from cliport_ros.execution.planner import Segment
from cliport_ros.execution.trajectory import JointTrajectory


class MotionError(RuntimeError):
    """The arm did not finish a segment, or the gripper failed; the message says which."""


@dataclass(frozen=True)
class SupervisorConfig:
    """When a segment counts as finished, and how long the arm and gripper get."""

    goal_tolerance: float = 0.02  # rad, every joint, to call a segment finished
    rest_velocity: float = 0.05  # rad/s, every joint, to call the arm at rest
    timeout_factor: float = 3.0  # a segment may take this x its planned duration ...
    timeout_margin: float = 5.0  # ... plus this many seconds
    gripper_timeout: float = 5.0  # s for the gripper service to appear and to answer
    joint_state_timeout: float = 2.0  # s: older joint states mean the arm's driver is gone

    def __post_init__(self) -> None:
        for name in ("goal_tolerance", "rest_velocity", "gripper_timeout", "joint_state_timeout"):
            if not 0.0 < getattr(self, name) < float("inf"):
                raise ValueError(f"SupervisorConfig: {name}={getattr(self, name)} must be a finite number > 0")
        if not 1.0 <= self.timeout_factor < float("inf"):
            raise ValueError(f"SupervisorConfig: timeout_factor={self.timeout_factor} must be >= 1: a segment "
                             "needs at least its planned time")
        if not 0.0 <= self.timeout_margin < float("inf"):
            raise ValueError(f"SupervisorConfig: timeout_margin={self.timeout_margin} must be a finite number >= 0")


class ArmIO(Protocol):
    """How the supervisor reaches an arm and its gripper."""

    def send(self, trajectory: JointTrajectory) -> None:
        """Hand one trajectory to the arm's controller (returns at once)."""

    def state(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Joint positions and velocities (None if not measured); MotionError when none is recent."""

    def grip(self, close: bool) -> bool:
        """Grip (True: something is held) or release (True: done); MotionError when the gripper fails."""


class SegmentSupervisor:
    """Runs a plan's segments on one arm, one at a time, and never leaves a failed grip down in the scene."""

    def __init__(self, arm: ArmIO, cfg: SupervisorConfig, home_from: Callable[[np.ndarray], Segment],
                 poll: float = 0.01) -> None:
        self.arm = arm
        self.cfg = cfg
        self.home_from = home_from  # a segment from joints q back to the home pose
        self.poll = poll
        self.first_sent: float | None = None  # time.monotonic() the first segment went out

    def run(self, plan: list[Segment]) -> None:
        """Every segment in order, gripping where a segment says so; MotionError on the first failure."""
        for segment in plan:
            self.run_segment(segment)
            if segment.gripper == "grip" and not self.arm.grip(True):
                self.recover(plan)
                raise MotionError(f"nothing held after gripping at {segment.name}")
            if segment.gripper == "release":
                self.arm.grip(False)

    def run_segment(self, segment: Segment) -> None:
        """Send one segment and wait until the arm is at its last point and at rest."""
        trajectory = segment.trajectory
        self.arm.send(trajectory)
        sent = time.monotonic()
        if self.first_sent is None:
            self.first_sent = sent
        goal = np.asarray(trajectory.positions)[-1]
        allowed = trajectory.duration * self.cfg.timeout_factor + self.cfg.timeout_margin
        while time.monotonic() - sent < allowed:
            q, dq = self.arm.state()
            at_rest = dq is None or np.abs(dq).max() < self.cfg.rest_velocity
            if np.abs(q - goal).max() < self.cfg.goal_tolerance and at_rest:
                return
            time.sleep(self.poll)
        q, _ = self.arm.state()
        raise MotionError(f"the arm did not finish '{segment.name}' within {allowed:.0f} s "
                          f"(largest joint error {np.abs(q - goal).max():.3f} rad)")

    def recover(self, plan: list[Segment]) -> None:
        """After a failed grip: release, go back up the way the tool came down, then home."""
        self.arm.grip(False)
        lift = next((s for s in plan if s.name == "lift"), None)
        if lift is not None:
            self.run_segment(lift)
        q, _ = self.arm.state()
        self.run_segment(self.home_from(q))
