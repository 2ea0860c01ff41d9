"""One decision -> the joint trajectories that carry it out, segment by segment.

The one motion planner: executor_node runs its plans on a real or simulated arm
over ROS, and the simulator's ``Environment`` (collection, evaluation, the
oracle) runs the same plans in PyBullet (``sim/motion.py``), both through
``execution/supervisor.py``. Each :class:`Segment` is sent, watched until it
has finished, then its gripper command is issued. For a pick-and-place the
tool goes straight up and down over the pick and place points (solved by IK
every few centimetres so the lines stay straight) and moves between them at
the approach height (holding the object, at the carry height); a spatula's
push (``push_stroke``) comes down behind the start, moves along the table
slowly and goes up. Both end at home, out of the cameras' view.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import numpy as np
import ruckig
import toppra
import toppra.algorithm
import toppra.constraint
import toppra.interpolator
from scipy.interpolate import PchipInterpolator

from cliport_ros.execution.actions import PUSH_SPEED, PickPlace, push_stroke
from cliport_ros.execution.arms import ArmProfile
from cliport_ros.execution.kinematics import ArmKinematics, IKError
from cliport_ros.execution.trajectory import Trajectory
from cliport_ros.perception.workspace import Workspace

PICK_FLOOR = 0.005  # metres above the table: the fingertips go no lower, nor a suction cup's press
# TOPP-RA's grid along a path: at least this many intervals, and this many per path point.
TOPPRA_GRID = 40
TOPPRA_GRID_PER_POINT = 4
LIMIT_CHECK_PERIOD = 0.005  # seconds between the samples at which the timed path's limits are checked
logging.getLogger("toppra").setLevel(logging.WARNING)  # it reports every path it times at INFO


class PlanError(ValueError):
    """The action cannot be carried out; ``reason`` is "outside_workspace", "unreachable" or "collision"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Segment:
    """One trajectory (times from 0 at its start, the start point itself left out) and the gripper
    command to issue once it has finished: "grip", "release" or None.

    ``until_contact``: the segment ends early, where the arm stands, once the
    tool (or what it holds) is felt touching something, on an arm that can
    feel it (the simulator; a real arm with a contact or force sensor); on
    one that cannot, it runs to its end, which lies ``suction_press`` below
    the measured top. ``path`` (the joint polyline the trajectory follows,
    start included) and its limits ``vmax``/``amax``/``jmax`` let such a stop be rejoined (``rejoined``).

    ``touches``: the tool and what it holds are meant to touch the scene here
    (a descent, a lift, a push, a rope dragged low), so the collision check
    leaves them out; ``holding``: the tool holds the object.
    """

    name: str
    trajectory: Trajectory
    gripper: str | None = None
    until_contact: bool = False
    touches: bool = False
    holding: bool = False
    path: np.ndarray | None = None
    vmax: np.ndarray | None = None
    amax: np.ndarray | None = None
    config: PlannerConfig | None = None
    jmax: np.ndarray | None = None

    def rejoined(self, q: np.ndarray) -> Segment:
        """The rest of this segment from joints ``q``, on or next to its path (where a stop on contact left
        the arm), retimed from rest: the arm does not first go back to where the path begins."""
        if self.path is None or self.vmax is None or self.amax is None or self.config is None or len(self.path) < 2:
            return self
        q = np.asarray(q, dtype=float)
        a, b = self.path[:-1], self.path[1:]
        ab = b - a
        t = np.clip(((q - a) * ab).sum(axis=1) / np.maximum((ab * ab).sum(axis=1), 1e-12), 0.0, 1.0)
        k = int(np.abs(q - (a + t[:, None] * ab)).max(axis=1).argmin())  # the polyline step q lies on
        path = np.vstack([q[None], self.path[k + 1:]])
        return replace(self, trajectory=time_parameterise(self.trajectory.joint_names, path, self.vmax, self.amax,
                                                          self.config, self.jmax), path=path)


@dataclass(frozen=True)
class PlannerConfig:
    """How the tool moves. Distances in metres, angles in radians, times in seconds."""

    approach_height: float = 0.15  # the empty tool moves above pick and place this high
    # Holding the object, it is lifted this high above the pick and carried as high above the place, at
    # carry_speed x the usual speed: a rope is dragged low and slowly (the reference's align-rope).
    carry_height: float = 0.15
    carry_speed: float = 1.0
    # Release this far above the computed place height: room for a millimetre or two of height error, but
    # a short drop, so an object set down beside a neighbour (a pyramid's row) does not tip against it.
    place_clearance: float = 0.005
    # A suction cup is pressed this far below the measured top, as its bellows allow: a heightmap's top can
    # read a millimetre or two high, and a cup that stops short of the surface seals on nothing.
    suction_press: float = 0.005
    velocity_scale: float = 0.5  # fraction of each joint's velocity limit (the URDF's and the real arm's)
    # Fraction of each joint's acceleration limit (the arm profile's): 3.75 rad/s^2 on the UR arms, 7.5 on
    # the FR3, a quarter below its hard limit.
    acceleration_scale: float = 0.75
    cartesian_step: float = 0.02  # straight lines are IK-solved at points this far apart...
    yaw_step: float = 0.2  # ...and at most this much turn apart
    max_joint_jump: float = 0.5  # a larger joint change between those points means the arm would flip
    min_segment_time: float = 0.2
    sample_period: float = 0.05  # trajectory points this far apart, so linear interpolation is faithful

    def __post_init__(self) -> None:
        for name in ("approach_height", "carry_height", "cartesian_step", "yaw_step", "max_joint_jump",
                     "min_segment_time", "sample_period"):
            if not getattr(self, name) > 0:
                raise ValueError(f"PlannerConfig: {name}={getattr(self, name)} must be > 0")
        if self.place_clearance < 0:
            raise ValueError(f"PlannerConfig: place_clearance={self.place_clearance} must be >= 0")
        if not 0 <= self.suction_press <= 0.02:
            raise ValueError(f"PlannerConfig: suction_press={self.suction_press} must lie in [0, 0.02] m")
        for name in ("velocity_scale", "acceleration_scale", "carry_speed"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"PlannerConfig: {name}={getattr(self, name)} must be in (0, 1]")


def plan(action: PickPlace, kin: ArmKinematics, profile: ArmProfile, start: np.ndarray, workspace: Workspace,
         config: PlannerConfig, home: np.ndarray | None = None) -> list[Segment]:
    """The segments that carry out ``action`` with the profile's end effector: a push for a spatula
    (``plan_push``), else a pick-and-place (``plan_pick_place``)."""
    planner = plan_push if profile.gripper == "spatula" else plan_pick_place
    return planner(action, kin, profile, start, workspace, config, home)


def plan_pick_place(action: PickPlace, kin: ArmKinematics, profile: ArmProfile, start: np.ndarray,
                    workspace: Workspace, config: PlannerConfig, home: np.ndarray | None = None) -> list[Segment]:
    """Segments from joints ``start`` (J,) through the pick and place back to ``home`` (default: the profile's).

    Raises PlanError("outside_workspace") for a pick or place point outside
    ``workspace``, PlanError("unreachable") when a waypoint has no IK solution
    or a straight line would make the arm flip.
    """
    pick = np.asarray(action.pick_xyz, dtype=float)
    place = np.asarray(action.place_xyz, dtype=float)
    for label, point in (("pick", pick), ("place", place)):
        _check_workspace(label, point, workspace)
        _check_reach(label, point, profile)
    start = np.asarray(start, dtype=float)
    home = np.asarray(profile.home if home is None else home, dtype=float)
    up = np.array([0.0, 0.0, config.approach_height])
    # Suction touches the object's top; fingers reach grasp_depth down its sides.
    depth = np.array([0.0, 0.0, profile.grasp_depth if profile.gripper == "fingers" else 0.0])
    press = np.array([0.0, 0.0, config.suction_press if profile.gripper == "suction" else 0.0])
    tool_pick = pick - depth - press
    if profile.gripper == "fingers":
        tool_pick[2] = max(tool_pick[2], workspace.z_min + PICK_FLOOR)
    else:  # the press stops at the floor, and the cup never goes below the table
        tool_pick[2] = max(tool_pick[2], min(pick[2], workspace.z_min + PICK_FLOOR), workspace.z_min)
    tool_place = place + np.array([0.0, 0.0, config.place_clearance]) - depth

    # Two fingers grip the same at yaw and yaw + pi: prefer whichever turns the wrist less. The
    # object may turn either way round on the carry; the long way keeps a limited wrist in range.
    offsets = (0.0, math.pi) if profile.gripper == "fingers" else (0.0,)
    candidates = []
    approach_failure: PlanError | None = None
    for offset in offsets:
        try:
            q = kin.ik(tool_pick + up, action.pick_yaw + offset, start)
        except IKError as error:
            approach_failure = approach_failure or _unreachable("approach above pick", tool_pick + up, error)
            continue
        for turn in _turns(action.rotation):
            candidates.append((abs(q[-1] - start[-1]), abs(turn), action.pick_yaw + offset, turn, q))
    carry = np.array([0.0, 0.0, config.carry_height])
    line_failure: PlanError | None = None
    for *_, pick_yaw, turn, q_above_pick in sorted(candidates, key=lambda c: c[:2]):
        place_yaw = pick_yaw + turn
        try:
            descend_pick = _line(kin, "pick", tool_pick + up, tool_pick, pick_yaw, pick_yaw, q_above_pick, config)
            same = config.carry_height == config.approach_height  # then lift and retreat retrace the descents
            lift = descend_pick[::-1] if same else _line(kin, "lift", tool_pick, tool_pick + carry, pick_yaw,
                                                         pick_yaw, descend_pick[-1], config)
            carry_path = _line(kin, "carry above place", tool_pick + carry, tool_place + carry, pick_yaw,
                               place_yaw, lift[-1], config)
            descend_place = _line(kin, "place", tool_place + carry, tool_place, place_yaw, place_yaw,
                                  carry_path[-1], config)
            retreat = descend_place[::-1] if same else _line(kin, "retreat", tool_place, tool_place + up,
                                                             place_yaw, place_yaw, descend_place[-1], config)
            break
        except PlanError as error:
            line_failure = line_failure or error
    else:
        raise line_failure or approach_failure
    vmax, amax = config.velocity_scale * kin.velocity_limits, config.acceleration_scale * kin.acceleration_limits
    held = config.carry_speed * vmax
    dragged = config.carry_height < config.approach_height  # a carry kept low on purpose may brush the scene
    paths = [  # name, joint path, speed limit, gripper command at its end, until contact, touches, holding
        ("approach pick", np.stack([start, q_above_pick]), vmax, None, False, False, False),
        ("descend to pick", descend_pick, vmax, "grip", True, True, False),
        ("lift", lift, held, None, False, True, True),
        ("carry", carry_path, held, None, False, dragged, True),
        ("descend to place", descend_place, vmax, "release", True, True, True),
        ("retreat", retreat, vmax, None, False, True, False),
        ("home", np.stack([retreat[-1], home]), vmax, None, False, False, False),
    ]
    jmax = kin.jerk_limits
    return [Segment(name, time_parameterise(kin.joint_names, path, limit, amax, config, jmax), gripper, contact,
                    touches, holding, path, limit, amax, config, jmax)
            for name, path, limit, gripper, contact, touches, holding in paths]


def plan_push(action: PickPlace, kin: ArmKinematics, profile: ArmProfile, start: np.ndarray,
              workspace: Workspace, config: PlannerConfig, home: np.ndarray | None = None) -> list[Segment]:
    """Segments from joints ``start`` (J,) through a spatula push from ``action.pick_xyz`` towards
    ``action.place_xyz`` (``push_stroke``; heights come from the table, ``workspace.z_min``) back to ``home``.

    No gripper commands. Raises PlanError as ``plan_pick_place`` does, and
    PlanError("unreachable") for a push with no direction.
    """
    for label, point in (("push start", action.pick_xyz), ("push end", action.place_xyz)):
        point = np.asarray(point, dtype=float)
        _check_workspace(label, point, workspace)
        _check_reach(label, point, profile)
    start = np.asarray(start, dtype=float)
    home = np.asarray(profile.home if home is None else home, dtype=float)
    _, rotation = kin.fk(start)
    try:
        stroke = push_stroke(action, math.atan2(rotation[1, 0], rotation[0, 0]), workspace.z_min)
    except ValueError as error:
        raise PlanError("unreachable", str(error)) from error
    up = np.array([0.0, 0.0, config.approach_height])
    try:
        q_above = kin.ik(stroke.first + up, stroke.yaw, start)
    except IKError as error:
        raise _unreachable("approach above the push", stroke.first + up, error) from error
    descend = _line(kin, "push start", stroke.first + up, stroke.first, stroke.yaw, stroke.yaw, q_above, config)
    push = _line(kin, "push end", stroke.first, stroke.last, stroke.yaw, stroke.yaw, descend[-1], config)
    lift = _line(kin, "lift after the push", stroke.last, stroke.last + up, stroke.yaw, stroke.yaw, push[-1],
                 config)
    vmax, amax = config.velocity_scale * kin.velocity_limits, config.acceleration_scale * kin.acceleration_limits
    paths = [  # name, joint path, speed limit, the blade meant to touch the scene
        ("approach push", np.stack([start, q_above]), vmax, False),
        ("descend to push", descend, vmax, True),
        ("push", push, PUSH_SPEED * vmax, True),
        ("lift", lift, vmax, True),
        ("home", np.stack([lift[-1], home]), vmax, False),
    ]
    return [Segment(name, time_parameterise(kin.joint_names, path, limit, amax, config, kin.jerk_limits),
                    touches=touches, path=path, vmax=limit, amax=amax, config=config, jmax=kin.jerk_limits)
            for name, path, limit, touches in paths]


def joint_move(kin: ArmKinematics, start: np.ndarray, goal: np.ndarray, config: PlannerConfig) -> Trajectory:
    """A joint-space move from ``start`` to ``goal`` (J,), rest to rest, within the scaled velocity and
    acceleration limits (and the arm's jerk limits, where it has them)."""
    path = np.stack([np.asarray(start, dtype=float), np.asarray(goal, dtype=float)])
    return time_parameterise(kin.joint_names, path, config.velocity_scale * kin.velocity_limits,
                             config.acceleration_scale * kin.acceleration_limits, config, kin.jerk_limits)


def time_parameterise(joint_names: tuple[str, ...], path: np.ndarray, vmax: np.ndarray, amax: np.ndarray,
                      config: PlannerConfig, jmax: np.ndarray | None = None) -> Trajectory:
    """Follow the joint path through the points ``path`` (K+1, J) from rest to rest, as fast as every joint's
    speed ``vmax`` and acceleration ``amax`` (J,) allow.

    A straight move between two points, on an arm with jerk limits ``jmax``,
    is timed by Ruckig (``jerk_limited_move``) under all three. Any other
    path is a monotone cubic through the points (:class:`_MonotonePath`:
    velocities do not jump where the IK steps meet, and no joint leaves the
    range of its neighbouring points, so none passes a limit the IK kept
    to); TOPP-RA (``toppra``) finds its time-optimal
    timing under velocity and acceleration limits (it has no jerk
    constraint: its acceleration is piecewise constant). It enforces them at grid points only, so the
    sampled result is checked and, if a joint would still exceed a limit,
    slowed down until none does. Points every ``sample_period`` s carry
    positions and velocities; a segment lasts at least ``min_segment_time``.
    """
    path = np.asarray(path, dtype=float)
    vmax, amax = np.asarray(vmax, dtype=float), np.asarray(amax, dtype=float)
    moving = np.concatenate([[True], np.abs(np.diff(path, axis=0)).max(axis=1) > 1e-9])
    points = path[moving]
    if len(points) < 2:  # already there: hold still for the minimum time
        samples = math.ceil(config.min_segment_time / config.sample_period - 1e-9)
        positions = np.repeat(path[-1:], samples, axis=0)
        times = np.arange(1, samples + 1) / samples * config.min_segment_time
        return Trajectory(joint_names, times, positions, np.zeros_like(positions))
    if jmax is not None and len(points) == 2:
        return jerk_limited_move(joint_names, points[0], points[1], vmax, amax, np.asarray(jmax, dtype=float),
                                 config)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    spline = _MonotonePath(arc, points)
    grid = np.linspace(0.0, arc[-1], max(TOPPRA_GRID, TOPPRA_GRID_PER_POINT * len(points)) + 1)
    constraints = [toppra.constraint.JointVelocityConstraint(vmax),
                   toppra.constraint.JointAccelerationConstraint(amax)]
    timed = toppra.algorithm.TOPPRA(constraints, spline, gridpoints=grid,
                                    parametrizer="ParametrizeConstAccel").compute_trajectory(0.0, 0.0)
    if timed is None:  # TOPP-RA found the instance uncontrollable on its grid: a smooth, slower timing instead
        timed = _QuinticTiming(spline, arc[-1])
    fine = np.linspace(0.0, timed.duration, max(200, math.ceil(timed.duration / LIMIT_CHECK_PERIOD)) + 1)
    velocity = timed(fine, 1)
    acceleration = np.diff(velocity, axis=0) / np.diff(fine)[:, None]
    stretch = max(1.0, float(np.max(np.abs(velocity) / vmax)), math.sqrt(float(np.max(np.abs(acceleration) / amax))),
                  config.min_segment_time / timed.duration)
    for _ in range(2):  # the second pass only if a sample landed on a peak the check grid straddled
        duration = stretch * timed.duration
        samples = math.ceil(duration / config.sample_period - 1e-9)
        times = np.arange(1, samples + 1) / samples * duration
        velocities = timed(times / stretch, 1) / stretch
        over = float(np.max(np.abs(velocities) / vmax))
        if over <= 1.0:
            break
        stretch *= over * (1 + 1e-9)
    positions = timed(times / stretch)
    positions[-1], velocities[-1] = path[-1], 0.0  # exactly, not up to rounding
    return Trajectory(joint_names, times, positions, velocities)


def jerk_limited_move(joint_names: tuple[str, ...], start: np.ndarray, goal: np.ndarray, vmax: np.ndarray,
                      amax: np.ndarray, jmax: np.ndarray, config: PlannerConfig) -> Trajectory:
    """The time-optimal rest-to-rest move from ``start`` to ``goal`` under every joint's velocity, acceleration
    and jerk limits, from Ruckig; phase-synchronised, so the joints stay on the straight line between the two
    (the path the collision check looked at). Sampled every ``sample_period`` s, lasting at least
    ``min_segment_time``."""
    dofs = len(joint_names)
    request = ruckig.InputParameter(dofs)
    request.current_position, request.target_position = list(start), list(goal)
    request.current_velocity = request.current_acceleration = [0.0] * dofs
    request.target_velocity = request.target_acceleration = [0.0] * dofs
    request.max_velocity, request.max_acceleration, request.max_jerk = list(vmax), list(amax), list(jmax)
    request.synchronization = ruckig.Synchronization.Phase
    request.minimum_duration = config.min_segment_time
    timed = ruckig.Trajectory(dofs)
    result = ruckig.Ruckig(dofs).calculate(request, timed)
    if result not in (ruckig.Result.Working, ruckig.Result.Finished):
        raise PlanError("unreachable", f"no jerk-limited timing for a joint move ({result})")
    samples = math.ceil(timed.duration / config.sample_period - 1e-9)
    times = np.arange(1, samples + 1) / samples * timed.duration
    states = [timed.at_time(t) for t in times]
    positions = np.array([state[0] for state in states])
    velocities = np.array([state[1] for state in states])
    positions[-1], velocities[-1] = goal, 0.0  # exactly, not up to rounding
    return Trajectory(joint_names, times, positions, velocities)


class _QuinticTiming:
    """The path run from rest to rest along a quintic in time (zero speed and acceleration at both ends), over
    a nominal 10 ms that ``time_parameterise`` then stretches until every joint keeps within its limits: the
    fallback where TOPP-RA finds no solution on its grid. Called as toppra's trajectories are."""

    def __init__(self, path: _MonotonePath, length: float) -> None:
        self.path, self.length, self.duration = path, length, 0.01

    def __call__(self, t: float | np.ndarray, order: int = 0) -> np.ndarray:
        tau = np.clip(np.asarray(t, dtype=float) / self.duration, 0.0, 1.0)
        s = self.length * (10 * tau**3 - 15 * tau**4 + 6 * tau**5)
        if order == 0:
            return self.path(s)
        s_dot = self.length / self.duration * 30 * tau**2 * (1 - tau) ** 2
        return self.path(s, 1) * (s_dot[..., None] if np.ndim(s_dot) else s_dot)


class _MonotonePath(toppra.interpolator.AbstractGeometricPath):
    """Joint positions along a path as scipy's PCHIP through the points, for toppra. toppra's own
    ``SplineInterpolator`` is a plain cubic spline, which overshoots between points: a wrist the IK put at
    its limit would pass it."""

    def __init__(self, arc: np.ndarray, points: np.ndarray) -> None:
        self._arc = arc
        self._curves = [PchipInterpolator(arc, points, axis=0)]
        self._curves += [self._curves[0].derivative(1), self._curves[0].derivative(2)]
        self._points = points

    def __call__(self, path_positions: float | np.ndarray, order: int = 0) -> np.ndarray:
        return self._curves[order](path_positions)

    @property
    def dof(self) -> int:
        return self._points.shape[1]

    @property
    def path_interval(self) -> np.ndarray:
        return np.array([self._arc[0], self._arc[-1]])


def _line(kin: ArmKinematics, label: str, start: np.ndarray, end: np.ndarray, start_yaw: float,
          end_yaw: float, seed: np.ndarray, config: PlannerConfig) -> np.ndarray:
    """Joints (K+1, J) at evenly spaced tool poses from ``start`` to ``end``, each IK seeded by the last.

    The first row is ``seed``, which must already put the tool at ``start``.
    ``label`` names the end point in errors.
    """
    try:  # the end on its own first, so that an unreachable target is named as such
        kin.ik(end, end_yaw, seed)
    except IKError as error:
        raise _unreachable(label, end, error) from error
    count = max(1, math.ceil(max(np.linalg.norm(end - start) / config.cartesian_step,
                                 abs(end_yaw - start_yaw) / config.yaw_step)))
    path = [np.asarray(seed, dtype=float)]
    for s in np.arange(1, count + 1) / count:
        xyz = start + s * (end - start)
        try:
            q = kin.ik(xyz, start_yaw + s * (end_yaw - start_yaw), path[-1])
        except IKError as error:
            raise PlanError("unreachable", f"{label} at {_fmt(end)} is out of reach along a straight line: "
                                           f"{error}") from error
        jump = np.abs(q - path[-1])
        if jump.max() > config.max_joint_jump:
            joint = kin.joint_names[int(jump.argmax())]
            raise PlanError("unreachable", f"{label} at {_fmt(end)} is out of reach along a straight line: the "
                                           f"arm would flip at {_fmt(xyz)} ({joint} jumps {jump.max():.2f} rad > "
                                           f"max_joint_jump {config.max_joint_jump} rad)")
        path.append(q)
    return np.stack(path)


def _turns(rotation: float) -> tuple[float, ...]:
    """The object's turn from pick to place, the short way (``rotation`` in (-pi, pi]) then the long way."""
    if abs(rotation) < 1e-9:
        return (0.0,)
    return rotation, rotation - math.copysign(2 * math.pi, rotation)


def _check_workspace(label: str, point: np.ndarray, ws: Workspace) -> None:
    bounds = (("x", ws.x_min, ws.x_max), ("y", ws.y_min, ws.y_max), ("z", ws.z_min - 0.01, ws.z_max))
    for axis, (name, lo, hi) in enumerate(bounds):
        if not lo <= point[axis] <= hi:
            raise PlanError("outside_workspace", f"{label} at {_fmt(point)} is outside the workspace: "
                                                 f"{name}={point[axis]:.3f} not in [{lo:.3f}, {hi:.3f}]")


def _check_reach(label: str, point: np.ndarray, profile: ArmProfile) -> None:
    """Refuse distances at which IK may succeed but the arm cannot grasp top-down (e.g. it hits itself)."""
    distance = math.hypot(point[0], point[1])
    if not profile.min_reach <= distance <= profile.reach:
        raise PlanError("unreachable", f"{label} at {_fmt(point)} is out of reach: {distance:.3f} m from the base, "
                                       f"the {profile.name} reaches {profile.min_reach:.2f}..{profile.reach:.2f} m")


def _unreachable(label: str, xyz: np.ndarray, error: IKError | None) -> PlanError:
    return PlanError("unreachable", f"{label} at {_fmt(xyz)} is out of reach: {error}")


def _fmt(xyz: np.ndarray) -> str:
    return "({:.3f}, {:.3f}, {:.3f})".format(*xyz)
