"""Carrying out a plan on an arm: check, send each segment, watch it, confirm it finished, grip, stop.

ROS-free: the arm is reached through :class:`ArmIO` (executor_node binds it to
a trajectory topic, ``/joint_states`` and the gripper service; a test can bind
it to anything that follows trajectories).

- Before a segment is sent the arm must be at rest where the segment starts
  (within ``start_tolerance``: MoveIt's ``allowed_start_tolerance``).
- While it runs, the measured joints must stay within ``path_tolerance`` of
  the planned path (distance to the path, not to a time-indexed sample, so a
  controller running ahead or behind the plan's clock is not a deviation).
- It has finished when the joints are within ``goal_tolerance`` of its last
  point and at rest; one that does not finish within ``timeout_factor`` x its
  planned time plus ``timeout_margin`` has failed.
- On any failure (those above, lost joint states, a gripper error, an
  interrupt) the arm is sent a hold at its measured position, the supervisor
  waits (up to ``stop_timeout``) until it is at rest, and only then raises:
  the caller stays busy until the arm has stopped.
- A segment marked ``until_contact`` also finishes once the arm reports a
  touch (``ArmIO.touching``): the arm is held where it is and the next
  segment is rejoined from there (``Segment.rejoined``).
- Time is the arm's :class:`Clock`: wall time on a real arm, simulated time
  in the simulator, so both are supervised by the same rules.
- A grip that holds nothing releases, lifts back the way the tool came down
  and goes home before the error is raised, so the arm is never left down in
  the scene.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from cliport_ros.execution.planner import Segment
from cliport_ros.execution.trajectory import Trajectory

JUMP_STAMP_JITTER = 0.01  # s: how far a joint state's stamp may be from when its positions were read (joint_jump)


class MotionError(RuntimeError):
    """The arm did not finish a segment, or the gripper failed; the message says which."""


class CancelledError(MotionError):
    """The plan was cancelled (``SegmentSupervisor.cancel``); the arm was stopped."""


@dataclass(frozen=True)
class SupervisorConfig:
    """When a segment counts as finished, and how long the arm and gripper get."""

    goal_tolerance: float = 0.02  # rad, every joint, to call a segment finished
    start_tolerance: float = 0.05  # rad, every joint, between the measured state and where a segment starts
    path_tolerance: float = 0.25  # rad, every joint, between the measured state and the planned path
    rest_velocity: float = 0.05  # rad/s, every joint, to call the arm at rest
    stop_timeout: float = 2.0  # s for the arm to come to rest after a hold
    timeout_factor: float = 3.0  # a segment may take this x its planned duration ...
    timeout_margin: float = 5.0  # ... plus this many seconds
    gripper_timeout: float = 5.0  # s for the gripper service to appear and to answer
    joint_state_timeout: float = 2.0  # s: older joint states mean the arm's driver is gone
    # Two joint states whose change between their stamps means a joint faster than this x its velocity limit
    # (over their interval plus JUMP_STAMP_JITTER) cannot both be true: the encoder or the driver jumped.
    jump_factor: float = 1.5

    def __post_init__(self) -> None:
        for name in ("goal_tolerance", "start_tolerance", "path_tolerance", "rest_velocity", "stop_timeout",
                     "gripper_timeout", "joint_state_timeout"):
            if not 0.0 < getattr(self, name) < float("inf"):
                raise ValueError(f"SupervisorConfig: {name}={getattr(self, name)} must be a finite number > 0")
        if not 1.0 < self.jump_factor < float("inf"):
            raise ValueError(f"SupervisorConfig: jump_factor={self.jump_factor} must be > 1: a joint may move at "
                             "its velocity limit")
        if not 1.0 <= self.timeout_factor < float("inf"):
            raise ValueError(f"SupervisorConfig: timeout_factor={self.timeout_factor} must be >= 1: a segment "
                             "needs at least its planned time")
        if not 0.0 <= self.timeout_margin < float("inf"):
            raise ValueError(f"SupervisorConfig: timeout_margin={self.timeout_margin} must be a finite number >= 0")


class ArmIO(Protocol):
    """How the supervisor reaches an arm and its gripper."""

    def send(self, trajectory: Trajectory) -> None:
        """Hand one trajectory to the arm's controller (returns at once)."""

    def state(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Joint positions and velocities (None if not measured); MotionError when none is recent."""

    def grip(self, close: bool) -> bool:
        """Grip (True: something is held) or release (True: released); MotionError when the gripper fails."""

    def touching(self) -> bool:
        """Whether the tool, or what it holds, is felt touching something; False on an arm that cannot feel."""


class Clock(Protocol):
    """The time segments are timed in."""

    def now(self) -> float:
        """Seconds, monotonic."""

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass (on a simulated arm: simulate them)."""


class WallClock:
    """A real arm's time."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def joint_jump(previous: tuple[float, np.ndarray] | None, current: tuple[float, np.ndarray],
               velocity_limits: np.ndarray, factor: float, names: tuple[str, ...] | list[str]) -> str | None:
    """Why the joint state ``current`` (stamp s, positions) cannot follow ``previous``, or None.

    A joint that changed faster than ``factor`` x its velocity limit between the two stamps did not move
    there: its encoder or the driver jumped. The path check cannot see a jump that lands on the planned
    path (ahead of the plan's clock is allowed); this sees it at the first message after it. The interval
    is the stamps' (a repeated or older stamp: none) plus ``JUMP_STAMP_JITTER``, the error a stamp may
    carry: states published in a burst, such as a simulator catching up, are no jump, and the margin
    stays ``factor`` over a long interval, so states that arrive far apart (a late driver, a dropped
    message) still show a jump larger than ``factor`` x the limit x the interval.
    """
    if previous is None:
        return None
    dt = max(current[0] - previous[0], 0.0)
    over = np.abs(np.asarray(current[1], dtype=float) - previous[1]) / jump_threshold(dt, velocity_limits, factor)
    k = int(np.argmax(over))
    if over[k] <= 1.0:
        return None
    speed = over * factor * np.asarray(velocity_limits, dtype=float)
    return (f"{names[k]} jumped {abs(current[1][k] - previous[1][k]):.3f} rad in {dt * 1e3:.0f} ms "
            f"({speed[k]:.1f} rad/s, over {factor:g} x its {velocity_limits[k]:.2f} rad/s limit): a sensor or "
            "driver fault, not motion")


def jump_threshold(interval: float, velocity_limits: np.ndarray, factor: float) -> np.ndarray:
    """The largest change (rad, per joint) two joint states ``interval`` s apart (by their stamps) may show
    and still be motion (``joint_jump``): ``factor`` x the velocity limit over the interval plus the stamps'
    error."""
    return factor * np.asarray(velocity_limits, dtype=float) * (interval + JUMP_STAMP_JITTER)


def path_deviation(q: np.ndarray, start: np.ndarray, positions: np.ndarray) -> float:
    """Largest joint distance (rad) from ``q`` to the nearest point of the polyline ``start``, ``positions``..."""
    points = np.vstack([np.asarray(start, dtype=float)[None], np.asarray(positions, dtype=float)])
    a, b = points[:-1], points[1:]
    ab = b - a
    length2 = np.maximum((ab * ab).sum(axis=1), 1e-12)
    t = np.clip(((q - a) * ab).sum(axis=1) / length2, 0.0, 1.0)
    nearest = a + t[:, None] * ab
    return float(np.abs(q - nearest).max(axis=1).min()) if len(a) else float(np.abs(q - points[0]).max())


class SegmentSupervisor:
    """Runs a plan's segments on one arm, one at a time; stops the arm on any failure before raising."""

    def __init__(self, arm: ArmIO, cfg: SupervisorConfig, home_from: Callable[[np.ndarray], Segment],
                 poll: float = 0.01, hold_time: float = 0.1, clock: Clock | None = None,
                 on_segment: Callable[[int, list[Segment]], None] | None = None) -> None:
        self.arm = arm
        self.cfg = cfg
        self.home_from = home_from  # a segment from joints q back to the home pose
        self.poll = poll
        self.hold_time = hold_time  # s from now of the hold's one point: the controller stops within it
        self.clock = clock or WallClock()
        self.on_segment = on_segment  # called with (index, plan) as each planned segment is about to be sent
        self.cancelled = ""  # why the plan was cancelled, from any thread (``cancel``)
        self.first_sent: float | None = None  # clock time the first segment went out
        self.stopped_at: float | None = None  # clock time a hold went out after a failure
        self.touched: list[str] = []  # segments that ended on contact
        self._expected: np.ndarray | None = None  # where the next segment starts: the last one's end
        self._rejoin = False  # the last segment stopped short (on contact): the next one starts where it stopped
        self._names: tuple[str, ...] = ()

    def run(self, plan: list[Segment], start: np.ndarray) -> None:
        """Every segment in order from joints ``start`` (where the plan begins), gripping where a segment says
        so; on any failure the arm is stopped, then MotionError (or the interrupt) is raised."""
        self._expected = np.asarray(start, dtype=float)
        try:
            for index, segment in enumerate(plan):
                if self.on_segment is not None:
                    self.on_segment(index, plan)
                self.run_segment(segment)
                if segment.gripper == "grip" and not self.arm.grip(True):
                    self.recover(plan)
                    raise MotionError(f"nothing held after gripping at {segment.name}")
                if segment.gripper == "release" and not self.arm.grip(False):
                    raise MotionError(f"the gripper did not release at {segment.name}: the object may still be "
                                      "held")
        except BaseException:
            self.stop()
            raise

    def run_segment(self, segment: Segment) -> None:
        """Check the arm is at rest where the segment starts, send it, watch it, wait until it has finished."""
        self._check_cancelled()
        q, dq = self.arm.state()
        if self._rejoin:
            segment, self._rejoin = segment.rejoined(q), False
        trajectory = segment.trajectory
        self._names = tuple(trajectory.joint_names)
        start = q if self._expected is None else self._expected
        if np.abs(q - start).max() > self.cfg.start_tolerance or not _at_rest(dq, self.cfg.rest_velocity):
            raise MotionError(f"the arm is not at rest where '{segment.name}' starts (largest joint error "
                              f"{np.abs(q - start).max():.3f} rad, start_tolerance {self.cfg.start_tolerance:g})")
        self.arm.send(trajectory)
        sent = self.clock.now()
        if self.first_sent is None:
            self.first_sent = sent
        positions = np.asarray(trajectory.positions)
        goal = positions[-1]
        allowed = segment_timeout(trajectory.duration, self.cfg)
        while self.clock.now() - sent < allowed:
            self._check_cancelled()
            q, dq = self.arm.state()
            deviation = path_deviation(q, start, positions)
            if deviation > self.cfg.path_tolerance:
                raise MotionError(f"the arm left the planned path during '{segment.name}' ({deviation:.3f} rad "
                                  f"off, path_tolerance {self.cfg.path_tolerance:g})")
            if segment.until_contact and self.arm.touching():
                self._hold(q)
                self.touched.append(segment.name)
                self._expected, self._rejoin = self.arm.state()[0], True
                return
            if np.abs(q - goal).max() < self.cfg.goal_tolerance and _at_rest(dq, self.cfg.rest_velocity):
                self._expected = goal
                return
            self.clock.sleep(self.poll)
        q, _ = self.arm.state()
        raise MotionError(f"the arm did not finish '{segment.name}' within {allowed:.0f} s "
                          f"(largest joint error {np.abs(q - goal).max():.3f} rad)")

    def cancel(self, why: str) -> None:
        """Stop the plan, from any thread: the running segment fails at its next check (within ``poll``), the
        arm is held and ``run`` raises :class:`CancelledError` once it is at rest."""
        self.cancelled = why or "cancelled"

    def _check_cancelled(self) -> None:
        if self.cancelled:
            raise CancelledError(f"cancelled: {self.cancelled}")

    def stop(self) -> None:
        """Hold the arm where it is measured and wait (up to ``stop_timeout``) until it is at rest.

        Without a fresh joint state nothing is sent: a hold at an old position would move the arm back to it
        (and a ros2_control controller rejects an empty trajectory); the driver is gone anyway.
        """
        if not self._names:
            return  # nothing was ever sent: nothing moves
        try:
            q, _ = self.arm.state()
        except MotionError:
            return
        self.stopped_at = self.clock.now()
        self._hold(q)

    def _hold(self, q: np.ndarray) -> None:
        """Send a hold at ``q`` and wait (up to ``stop_timeout``) until the arm is at rest."""
        self.arm.send(Trajectory(self._names, np.array([self.hold_time]), np.asarray(q, dtype=float)[None]))
        deadline = self.clock.now() + self.cfg.stop_timeout
        while self.clock.now() < deadline:
            try:
                _, dq = self.arm.state()
            except MotionError:
                return
            if _at_rest(dq, self.cfg.rest_velocity):
                return
            self.clock.sleep(self.poll)

    def recover(self, plan: list[Segment]) -> None:
        """After a failed grip: release, go back up the way the tool came down, then home."""
        self.arm.grip(False)
        lift = next((s for s in plan if s.name == "lift"), None)
        if lift is not None:
            self.run_segment(lift)
        q, _ = self.arm.state()
        self._expected, self._rejoin = q, False
        self.run_segment(self.home_from(q))


def _at_rest(dq: np.ndarray | None, limit: float) -> bool:
    return dq is None or bool(np.abs(dq).max() < limit)


def segment_timeout(duration: float, cfg: SupervisorConfig) -> float:
    """Seconds a segment planned to take ``duration`` may run before it has failed."""
    return duration * cfg.timeout_factor + cfg.timeout_margin


def allowed_seconds(plan: list[Segment], cfg: SupervisorConfig) -> float:
    """The longest the supervisor can take over ``plan``: each segment's timeout, a gripper timeout per gripper
    command, a failed grip's way back (the lift and home again) and the stop at the end. A caller waiting on a
    plan waits this long, not a fixed time."""
    def bound(segment: Segment) -> float:
        return segment_timeout(segment.trajectory.duration, cfg)

    recovery = sum(bound(s) for s in plan if s.name in ("lift", "home"))
    grips = sum(s.gripper is not None for s in plan) + 1  # the release on the way back
    return sum(bound(s) for s in plan) + recovery + cfg.gripper_timeout * grips + cfg.stop_timeout
