"""The segment supervisor without ROS: segments in order, grips where the plan says, a stuck arm times out,
a failed grip goes back up and home before the error."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from cliport_ros.execution.planner import Segment
from cliport_ros.execution.supervisor import MotionError, SegmentSupervisor, SupervisorConfig
from cliport_ros.execution.trajectory import JointTrajectory

JOINTS = ("a", "b")
FAST = SupervisorConfig(timeout_factor=1.0, timeout_margin=0.3)


def move(name: str, goal: tuple[float, float], gripper: str | None = None, duration: float = 0.05) -> Segment:
    return Segment(name, JointTrajectory(JOINTS, np.array([duration]), np.array([goal])), gripper)


class FollowingArm:
    """An arm that follows each trajectory it is sent in wall time (a stuck one never moves); a gripper that
    holds something or not."""

    def __init__(self, holds: bool = True, stuck: bool = False) -> None:
        self.holds, self.stuck = holds, stuck
        self.q = np.zeros(len(JOINTS))
        self.sent: list[tuple[float, JointTrajectory, np.ndarray]] = []
        self.events: list[str] = []

    def send(self, trajectory: JointTrajectory) -> None:
        self.sent.append((time.monotonic(), trajectory, self.state()[0]))
        self.events.append(f"send {tuple(float(v) for v in trajectory.positions[-1])}")

    def state(self) -> tuple[np.ndarray, np.ndarray | None]:
        if self.sent and not self.stuck:
            started, trajectory, start = self.sent[-1]
            self.q = trajectory.sample(time.monotonic() - started, start)
        return self.q.copy(), None

    def grip(self, close: bool) -> bool:
        self.events.append("grip" if close else "release")
        return self.holds if close else True


def home_from(q: np.ndarray) -> Segment:
    return move("home", (0.0, 0.0))


PLAN = [move("approach", (0.3, 0.0)), move("descend to pick", (0.3, 0.2), "grip"), move("lift", (0.3, 0.0)),
        move("descend to place", (0.5, 0.2), "release"), move("retreat", (0.5, 0.0))]


def test_supervisor_runs_every_segment_in_order_and_grips_where_the_plan_says():
    arm = FollowingArm()
    supervisor = SegmentSupervisor(arm, FAST, home_from, poll=0.002)
    supervisor.run(PLAN)
    assert arm.events == ["send (0.3, 0.0)", "send (0.3, 0.2)", "grip", "send (0.3, 0.0)", "send (0.5, 0.2)",
                          "release", "send (0.5, 0.0)"]
    assert np.allclose(arm.state()[0], (0.5, 0.0), atol=FAST.goal_tolerance)
    assert supervisor.first_sent is not None and 0 <= supervisor.first_sent - arm.sent[0][0] < 0.01


def test_supervisor_waits_for_each_segment_to_finish_before_the_next():
    arm = FollowingArm()
    SegmentSupervisor(arm, FAST, home_from, poll=0.002).run(PLAN[:2])
    _, (_, _, start_of_second) = arm.sent[:2]
    assert np.allclose(start_of_second, (0.3, 0.0), atol=FAST.goal_tolerance)


def test_an_arm_that_does_not_move_fails_its_segment_after_the_allowed_time():
    arm = FollowingArm(stuck=True)
    started = time.monotonic()
    with pytest.raises(MotionError, match="did not finish 'approach'"):
        SegmentSupervisor(arm, FAST, home_from, poll=0.002).run(PLAN)
    allowed = PLAN[0].trajectory.duration * FAST.timeout_factor + FAST.timeout_margin
    assert allowed <= time.monotonic() - started < allowed + 1.0
    assert arm.events == ["send (0.3, 0.0)"]  # nothing after the failed segment


def test_a_grip_that_holds_nothing_releases_lifts_and_goes_home_before_failing():
    arm = FollowingArm(holds=False)
    with pytest.raises(MotionError, match="nothing held after gripping at descend to pick"):
        SegmentSupervisor(arm, FAST, home_from, poll=0.002).run(PLAN)
    assert arm.events == ["send (0.3, 0.0)", "send (0.3, 0.2)", "grip", "release", "send (0.3, 0.0)",
                          "send (0.0, 0.0)"]
    assert np.allclose(arm.state()[0], (0.0, 0.0), atol=FAST.goal_tolerance)


def test_lost_joint_states_stop_the_plan():
    class Silent(FollowingArm):
        def state(self):
            if self.sent:
                raise MotionError("no /joint_states in the last 2 s")
            return super().state()

    arm = Silent()
    with pytest.raises(MotionError, match="joint_states"):
        SegmentSupervisor(arm, FAST, home_from, poll=0.002).run(PLAN)
    assert len(arm.sent) == 1


@pytest.mark.parametrize("field, value", [("timeout_factor", 0.5), ("timeout_factor", math.nan),
                                          ("goal_tolerance", 0.0), ("gripper_timeout", math.inf),
                                          ("timeout_margin", -1.0), ("joint_state_timeout", math.nan)])
def test_supervisor_config_names_a_bad_value(field, value):
    with pytest.raises(ValueError, match=field):
        SupervisorConfig(**{field: value})
