"""The segment supervisor without ROS: segments in order, grips where the plan says, a stuck arm times out,
a failed grip goes back up and home before the error, and every failure ends with the arm held at rest."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from cliport_ros.execution.planner import PlannerConfig, Segment, time_parameterise
from cliport_ros.execution.supervisor import (
    JUMP_STAMP_JITTER,
    MotionError,
    SegmentSupervisor,
    SupervisorConfig,
    joint_jump,
)
from cliport_ros.execution.trajectory import Trajectory

JOINTS = ("a", "b")
FAST = SupervisorConfig(timeout_factor=1.0, timeout_margin=0.3)


def move(name: str, goal: tuple[float, float], gripper: str | None = None, duration: float = 0.05) -> Segment:
    """Two points (a hold has one), reaching ``goal`` after ``duration`` s."""
    return Segment(name, Trajectory(JOINTS, np.array([duration / 2, duration]), np.array([goal, goal])), gripper)


class FollowingArm:
    """An arm that follows each trajectory it is sent in wall time (a stuck one never moves); a gripper that
    holds something or not."""

    def __init__(self, holds: bool = True, stuck: bool = False) -> None:
        self.holds, self.stuck = holds, stuck
        self.q = np.zeros(len(JOINTS))
        self.sent: list[tuple[float, Trajectory, np.ndarray]] = []
        self.events: list[str] = []

    def send(self, trajectory: Trajectory) -> None:
        self.sent.append((time.monotonic(), trajectory, self.position()))
        kind = "hold" if len(trajectory.times) == 1 else "send"
        self.events.append(f"{kind} {tuple(round(float(v), 3) for v in trajectory.positions[-1])}")

    def position(self) -> np.ndarray:
        if self.sent and not self.stuck:
            started, trajectory, start = self.sent[-1]
            self.q = trajectory.sample(time.monotonic() - started, start)
        return self.q.copy()

    def state(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self.position(), None

    def grip(self, close: bool) -> bool:
        self.events.append("grip" if close else "release")
        return self.holds if close else True

    def touching(self) -> bool:
        return False


def home_from(q: np.ndarray) -> Segment:
    return move("home", (0.0, 0.0))


PLAN = [move("approach", (0.3, 0.0)), move("descend to pick", (0.3, 0.2), "grip"), move("lift", (0.3, 0.0)),
        move("descend to place", (0.5, 0.2), "release"), move("retreat", (0.5, 0.0))]


def test_supervisor_runs_every_segment_in_order_and_grips_where_the_plan_says():
    arm = FollowingArm()
    supervisor = SegmentSupervisor(arm, FAST, home_from, poll=0.002)
    supervisor.run(PLAN, arm.q)
    assert arm.events == ["send (0.3, 0.0)", "send (0.3, 0.2)", "grip", "send (0.3, 0.0)", "send (0.5, 0.2)",
                          "release", "send (0.5, 0.0)"]
    assert np.allclose(arm.state()[0], (0.5, 0.0), atol=FAST.goal_tolerance)
    assert supervisor.first_sent is not None and 0 <= supervisor.first_sent - arm.sent[0][0] < 0.01


def test_supervisor_waits_for_each_segment_to_finish_before_the_next():
    arm = FollowingArm()
    SegmentSupervisor(arm, FAST, home_from, poll=0.002).run(PLAN[:2], arm.q)
    _, (_, _, start_of_second) = arm.sent[:2]
    assert np.allclose(start_of_second, (0.3, 0.0), atol=FAST.goal_tolerance)


def test_an_arm_that_does_not_move_fails_its_segment_after_the_allowed_time():
    arm = FollowingArm(stuck=True)
    started = time.monotonic()
    with pytest.raises(MotionError, match="did not finish 'approach'"):
        SegmentSupervisor(arm, FAST, home_from, poll=0.002).run(PLAN, arm.q)
    allowed = PLAN[0].trajectory.duration * FAST.timeout_factor + FAST.timeout_margin
    assert allowed <= time.monotonic() - started < allowed + 1.0
    assert arm.events == ["send (0.3, 0.0)", "hold (0.0, 0.0)"]  # held where it is; nothing else after


def test_a_grip_that_holds_nothing_releases_lifts_and_goes_home_before_failing():
    arm = FollowingArm(holds=False)
    with pytest.raises(MotionError, match="nothing held after gripping at descend to pick"):
        SegmentSupervisor(arm, FAST, home_from, poll=0.002).run(PLAN, arm.q)
    assert arm.events[:6] == ["send (0.3, 0.0)", "send (0.3, 0.2)", "grip", "release", "send (0.3, 0.0)",
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
        SegmentSupervisor(arm, FAST, home_from, poll=0.002).run(PLAN, arm.q)
    # The segment, and nothing after it: no state to hold at, and a hold at an old one would move the arm.
    assert arm.events == ["send (0.3, 0.0)"]


def test_an_arm_not_where_the_plan_starts_is_refused_before_anything_moves():
    arm = FollowingArm()
    arm.q = np.array([0.2, 0.0])  # someone moved it since the plan was made
    with pytest.raises(MotionError, match="not at rest where 'approach' starts"):
        SegmentSupervisor(arm, FAST, home_from, poll=0.002).run(PLAN, np.zeros(2))
    assert arm.events == ["hold (0.2, 0.0)"]


def test_an_arm_pushed_off_its_path_is_stopped_mid_segment():
    class Pushed(FollowingArm):
        def state(self):
            q, dq = super().state()
            if self.sent and time.monotonic() - self.sent[0][0] > 0.05:
                q = q + np.array([0.0, 0.5])  # something in the way shoves joint b
            return q, dq

    arm = Pushed()
    slow = move("approach", (0.3, 0.0), duration=0.5)
    with pytest.raises(MotionError, match="left the planned path during 'approach'"):
        SegmentSupervisor(arm, FAST, home_from, poll=0.002).run([slow], arm.q)
    assert arm.events[0] == "send (0.3, 0.0)" and arm.events[-1].startswith("hold")


def test_a_controller_running_ahead_of_the_plan_is_no_deviation():
    class Fast(FollowingArm):
        def state(self):
            if self.sent:  # finishes in a tenth of the planned time, as a simulator sped up 10x would
                started, trajectory, start = self.sent[-1]
                self.q = trajectory.sample(10 * (time.monotonic() - started), start)
            return self.q.copy(), None

    arm = Fast()
    SegmentSupervisor(arm, FAST, home_from, poll=0.002).run([move("approach", (0.3, 0.0), duration=1.0)], arm.q)
    assert arm.events == ["send (0.3, 0.0)"]


def test_an_interrupt_mid_segment_holds_the_arm_and_is_passed_on():
    class Interrupted(FollowingArm):
        def state(self):
            if self.sent and time.monotonic() - self.sent[0][0] > 0.02 and len(self.sent) == 1:
                self.interrupts = getattr(self, "interrupts", 0) + 1
                if self.interrupts == 1:
                    raise KeyboardInterrupt
            return super().state()

    arm = Interrupted()
    with pytest.raises(KeyboardInterrupt):
        SegmentSupervisor(arm, FAST, home_from, poll=0.002).run([move("approach", (0.3, 0.0), duration=0.5)], arm.q)
    assert arm.events[0] == "send (0.3, 0.0)" and arm.events[1].startswith("hold")


def test_after_a_failure_the_supervisor_returns_only_once_the_arm_is_at_rest():
    class Coasting(FollowingArm):
        """Still moving for a few readings after the hold, as a real arm decelerates."""

        def __init__(self) -> None:
            super().__init__(stuck=True)
            self.readings_after_hold = 0

        def state(self):
            q, _ = super().state()
            if len(self.sent) > 1:
                self.readings_after_hold += 1
                return q, np.full(2, 0.5 if self.readings_after_hold < 5 else 0.0)
            return q, None

    arm = Coasting()
    with pytest.raises(MotionError):
        SegmentSupervisor(arm, FAST, home_from, poll=0.002).run(PLAN, arm.q)
    assert arm.readings_after_hold >= 5


@pytest.mark.parametrize("field, value", [("timeout_factor", 0.5), ("timeout_factor", math.nan),
                                          ("goal_tolerance", 0.0), ("gripper_timeout", math.inf),
                                          ("timeout_margin", -1.0), ("joint_state_timeout", math.nan),
                                          ("jump_factor", 1.0)])
def test_supervisor_config_names_a_bad_value(field, value):
    with pytest.raises(ValueError, match=field):
        SupervisorConfig(**{field: value})


def straight(name: str, start: tuple[float, float], goal: tuple[float, float], gripper: str | None = None,
             until_contact: bool = False) -> Segment:
    """A planned straight joint path (several points, retimable), as the planner makes them."""
    path = np.linspace(start, goal, 6)
    vmax, amax, config = np.full(2, 2.0), np.full(2, 10.0), PlannerConfig(min_segment_time=0.05)
    return Segment(name, time_parameterise(JOINTS, path, vmax, amax, config), gripper, until_contact, path=path,
                   vmax=vmax, amax=amax, config=config)


def test_a_descent_until_contact_stops_at_the_touch_and_the_lift_starts_there():
    class Surface(FollowingArm):
        """Something to touch once joint b passes 0.1 (the descent plans down to 0.2)."""

        def touching(self) -> bool:
            return self.position()[1] >= 0.1

    arm = Surface()
    plan = [straight("descend to pick", (0.0, 0.0), (0.0, 0.2), "grip", until_contact=True),
            straight("lift", (0.0, 0.2), (0.0, 0.0))]
    supervisor = SegmentSupervisor(arm, FAST, home_from, poll=0.002)
    supervisor.run(plan, arm.q)
    assert supervisor.touched == ["descend to pick"]
    assert arm.events[:3] == ["send (0.0, 0.2)", f"hold {arm.events[1][5:]}", "grip"]
    _, lift, lift_start = arm.sent[2]
    assert 0.1 <= lift_start[1] < 0.15  # held near the touch, not driven on to the planned bottom
    # The lift goes straight up from there: no point of it lies below where the arm stopped.
    assert np.asarray(lift.positions)[:, 1].max() <= lift_start[1] + 1e-9
    assert np.allclose(arm.state()[0], (0.0, 0.0), atol=FAST.goal_tolerance)


def test_an_arm_that_cannot_feel_runs_a_descent_until_contact_to_its_end():
    arm = FollowingArm()
    plan = [straight("descend to pick", (0.0, 0.0), (0.0, 0.2), "grip", until_contact=True)]
    supervisor = SegmentSupervisor(arm, FAST, home_from, poll=0.002)
    supervisor.run(plan, arm.q)
    assert supervisor.touched == [] and arm.events == ["send (0.0, 0.2)", "grip"]


def test_a_rejoined_segment_starts_where_the_arm_is_and_keeps_the_rest_of_its_path():
    lift = straight("lift", (0.0, 0.2), (0.0, 0.0))
    rest = lift.rejoined(np.array([0.0, 0.13]))
    assert np.allclose(rest.path[0], (0.0, 0.13)) and np.allclose(rest.path[-1], (0.0, 0.0))
    assert np.all(np.diff(rest.path[:, 1]) < 0)  # straight on up: the planned points below 0.13 are gone
    assert rest.trajectory.duration < lift.trajectory.duration


def test_a_cancel_from_another_thread_holds_the_arm_and_raises_cancelled():
    import threading

    from cliport_ros.execution.supervisor import CancelledError

    arm = FollowingArm(stuck=True)
    supervisor = SegmentSupervisor(arm, FAST, home_from, poll=0.002)
    threading.Timer(0.05, supervisor.cancel, args=("the user pressed Ctrl-C",)).start()
    started = time.monotonic()
    with pytest.raises(CancelledError, match="Ctrl-C"):
        supervisor.run(PLAN, arm.q)
    assert time.monotonic() - started < 0.3  # at the next check, not at the segment's timeout
    assert arm.events == ["send (0.3, 0.0)", "hold (0.0, 0.0)"]


def test_the_allowed_time_of_a_plan_covers_every_timeout_in_it():
    from cliport_ros.execution.supervisor import allowed_seconds

    cfg = SupervisorConfig(timeout_factor=2.0, timeout_margin=1.0, gripper_timeout=3.0, stop_timeout=0.5)
    per_segment = 0.05 * 2.0 + 1.0
    # five segments, a failed grip's lift again, two gripper commands and the release on the way back, the stop
    assert allowed_seconds(PLAN, cfg) == pytest.approx(5 * per_segment + per_segment + 3 * 3.0 + 0.5)


def test_a_release_that_fails_stops_the_plan_and_says_the_object_may_be_held():
    class Stuck(FollowingArm):
        def grip(self, close: bool) -> bool:
            super().grip(close)
            return close  # grips fine; the release reports failure

    arm = Stuck()
    with pytest.raises(MotionError, match="did not release at descend to place"):
        SegmentSupervisor(arm, FAST, home_from, poll=0.002).run(PLAN, arm.q)
    assert arm.events[-2] == "release" and arm.events[-1].startswith("hold")  # held there; no retreat on a guess
    _, hold, _ = arm.sent[-1]
    assert np.allclose(hold.positions[0], (0.5, 0.2), atol=FAST.goal_tolerance)


def test_a_joint_faster_than_its_limit_between_two_stamps_is_a_jump_and_named():
    names, limits = ("a", "b"), np.array([2.0, 3.0])
    jump = joint_jump((1.0, np.zeros(2)), (1.01, np.array([0.0, 0.4])), limits, 1.5, names)
    assert jump is not None and jump.startswith("b jumped 0.400 rad in 10 ms")
    # at the limit itself it is motion, stamp error included; the first state has nothing to follow
    assert joint_jump((1.0, np.zeros(2)), (1.01, np.array([0.02, 0.03])), limits, 1.5, names) is None
    assert joint_jump((1.0, np.zeros(2)), (1.01, np.array([0.04, 0.06])), limits, 1.5, names) is None
    assert joint_jump(None, (1.0, np.array([5.0, 5.0])), limits, 1.5, names) is None


def test_a_jump_between_states_that_arrive_far_apart_is_still_seen_and_motion_at_the_limit_is_not():
    """A late tick or a dropped message stretches the interval; the margin over the limit stays the factor, so a
    0.4 rad jump shows over 50 ms (at 3.15 rad/s, the UR5's) and 0.2 s at the limit is motion."""
    names, limits = ("a",), np.array([3.15])
    assert joint_jump((1.0, np.zeros(1)), (1.05, np.array([0.4])), limits, 1.5, names) is not None
    assert joint_jump((1.0, np.zeros(1)), (1.2, np.array([0.63])), limits, 1.5, names) is None


def test_states_published_in_a_burst_are_no_jump():
    """A simulator catching up publishes a few steps of motion microseconds apart: with the stamps' error
    JUMP_STAMP_JITTER, that is the arm's own speed."""
    names, limits = ("a", "b"), np.array([2.0, 3.0])
    burst = (1.0 + 1e-5, np.array([0.004, 0.0]))  # 2 ms of motion at 2 rad/s, stamped 10 us later
    assert joint_jump((1.0, np.zeros(2)), burst, limits, 1.5, names) is None
    assert joint_jump((1.0, np.zeros(2)), (1.0, np.array([0.004, 0.0])), limits, 1.5, names) is None  # same stamp
    assert joint_jump((1.0, np.zeros(2)), (1.0 + JUMP_STAMP_JITTER / 2, np.array([0.4, 0.0])), limits, 1.5,
                      names) is not None
