"""Arm kinematics (Pinocchio) against PyBullet, and the pick-and-place and push plans."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pybullet
import pytest
from pybullet_utils.bullet_client import BulletClient
from scipy.spatial.transform import Rotation

from cliport_ros.execution.actions import PUSH_BEHIND, PUSH_HEIGHT, PUSH_SHORT, PUSH_SPEED, PickPlace
from cliport_ros.execution.arms import arm_profile, tool_down_quaternion
from cliport_ros.execution.kinematics import DEFAULT_ACCELERATION, ArmKinematics, IKError
from cliport_ros.execution.planner import (
    PlanError,
    PlannerConfig,
    joint_move,
    plan_pick_place,
    plan_push,
    time_parameterise,
)
from cliport_ros.perception.workspace import Workspace
from cliport_ros.sim.robots import Arm

ARMS = ("ur5", "ur5e", "franka")
SEGMENTS = ["approach pick", "descend to pick", "lift", "carry", "descend to place", "retreat", "home"]
GRIPPER = [None, "grip", None, None, "release", None, None]


@pytest.fixture(scope="module", params=ARMS)
def arm(request):
    """(profile, kinematics) of one arm."""
    profile = arm_profile(request.param)
    return profile, ArmKinematics.from_profile(profile)


def reachable_targets(name: str) -> list[tuple[float, float, float]]:
    """A grid over the Ravens workspace; the Franka's only where it can grasp top-down."""
    grid = itertools.product(np.linspace(0.3, 0.7, 5), np.linspace(-0.4, 0.4, 5), (0.02, 0.1, 0.2))
    return [p for p in grid if name == "ur5" or 0.4 <= math.hypot(p[0], p[1]) <= 0.72]


def angle_between(a: Rotation, b: Rotation) -> float:
    return float((a.inv() * b).magnitude())


def test_joint_names_follow_the_simulator(arm):
    profile, kin = arm
    bullet = BulletClient(connection_mode=pybullet.DIRECT)
    try:
        assert list(kin.joint_names) == Arm(bullet, profile).joint_names
    finally:
        bullet.disconnect()
    assert len(kin.lower) == len(kin.upper) == len(kin.velocity_limits) == len(profile.home)


def test_kinematics_from_a_urdf_alone_takes_every_movable_joint():
    profile = arm_profile("ur5")
    kin = ArmKinematics(profile.urdf, profile.tool_link)
    assert kin.joint_names == ArmKinematics.from_profile(profile).joint_names
    with pytest.raises(ValueError, match="no joints"):
        ArmKinematics(profile.urdf, profile.tool_link, ["elbow"])


def test_ik_round_trips_and_agrees_with_pybullet(arm):
    profile, kin = arm
    bullet = BulletClient(connection_mode=pybullet.DIRECT)
    body = bullet.loadURDF(profile.urdf, useFixedBase=True)
    infos = [bullet.getJointInfo(body, j) for j in range(bullet.getNumJoints(body))]
    joint = {info[1].decode(): j for j, info in enumerate(infos)}
    tool = {info[12].decode(): j for j, info in enumerate(infos)}[profile.tool_link]
    try:
        for xyz, yaw in itertools.product(reachable_targets(profile.name), (-1.0, 0.0, 1.5, 3.0)):
            q = kin.ik(xyz, yaw, np.array(profile.home))
            assert np.all(q >= kin.lower) and np.all(q <= kin.upper)
            target = Rotation.from_quat(tool_down_quaternion(yaw))
            position, rotation = kin.fk(q)
            assert np.linalg.norm(position - xyz) <= 1e-3
            assert angle_between(Rotation.from_matrix(rotation), target) <= math.radians(1)
            for name, value in zip(kin.joint_names, q, strict=True):
                bullet.resetJointState(body, joint[name], value)
            bullet_xyz, bullet_quat = bullet.getLinkState(body, tool, computeForwardKinematics=True)[4:6]
            assert np.linalg.norm(np.array(bullet_xyz) - xyz) <= 1e-3, (xyz, yaw)
            assert angle_between(Rotation.from_quat(bullet_quat), target) <= math.radians(1), (xyz, yaw)
    finally:
        bullet.disconnect()


def test_ik_stays_at_a_seed_that_already_solves_it(arm):
    profile, kin = arm
    seed = kin.ik((0.5, 0.1, 0.1), 0.4, np.array(profile.home))
    np.testing.assert_allclose(kin.ik((0.5, 0.1, 0.1), 0.4, seed), seed, atol=1e-6)


def test_ik_error_names_an_unreachable_target(arm):
    profile, kin = arm
    with pytest.raises(IKError, match=r"\(1\.500, 0\.000, 0\.100\).*mm"):
        kin.ik((1.5, 0.0, 0.1), 0.0, np.array(profile.home))


@pytest.fixture(scope="module", params=[(arm, yaws) for arm in ARMS for yaws in ((0.0, 0.0), (0.3, -2.8))],
                ids=lambda p: f"{p[0]}-yaw{p[1][0]}-{p[1][1]}")
def plan(request):
    """An arm, its action and the plan for it from home; -2.8 rad needs the half-turn finger choice."""
    name, (pick_yaw, place_yaw) = request.param
    profile = arm_profile(name)
    kin = ArmKinematics.from_profile(profile)
    action = PickPlace((0.5, 0.1, 0.04), (0.55, -0.2, 0.06), pick_yaw, place_yaw)
    start = np.array(profile.home) + 0.05
    return profile, kin, action, start, plan_pick_place(action, kin, profile, start, Workspace(), PlannerConfig())


def test_plan_segments_and_gripper_commands(plan):
    profile, kin, action, _, segments = plan
    assert [s.name for s in segments] == SEGMENTS
    assert [s.gripper for s in segments] == GRIPPER
    depth = np.array([0, 0, profile.grasp_depth])
    press = np.array([0, 0, PlannerConfig().suction_press if profile.gripper == "suction" else 0.0])
    grip_xyz, grip_rotation = kin.fk(segments[1].trajectory.positions[-1])
    np.testing.assert_allclose(grip_xyz, np.array(action.pick_xyz) - depth - press, atol=1e-3)
    release_xyz, release_rotation = kin.fk(segments[4].trajectory.positions[-1])
    clearance = np.array([0, 0, PlannerConfig().place_clearance])
    np.testing.assert_allclose(release_xyz, np.array(action.place_xyz) + clearance - depth, atol=1e-3)
    # The object turns by the action's rotation, whichever of the two finger yaws was taken.
    turned = Rotation.from_matrix(grip_rotation).inv() * Rotation.from_matrix(release_rotation)
    assert turned.magnitude() == pytest.approx(abs(action.rotation), abs=math.radians(1))


def test_plan_is_continuous_within_limits_and_rests_at_both_ends(plan):
    profile, kin, _, start, segments = plan
    config = PlannerConfig()
    vmax = config.velocity_scale * kin.velocity_limits * (1 + 1e-9)
    amax = config.acceleration_scale * kin.acceleration_limits
    previous = start
    for segment in segments:
        trajectory = segment.trajectory
        positions, velocities = trajectory.positions, trajectory.velocities
        dt = np.diff(np.concatenate([[0], trajectory.times]))[:, None]
        accelerations = np.diff(np.vstack([np.zeros(len(start)), velocities]), axis=0) / dt
        assert np.all(np.abs(accelerations) <= amax * 1.02), segment.name  # (a 50 ms difference of a smooth curve)
        assert trajectory.times[0] > 0 and trajectory.duration >= 0.2
        assert np.isfinite(positions).all() and np.isfinite(velocities).all()
        assert np.all(positions >= kin.lower) and np.all(positions <= kin.upper), segment.name
        assert np.all(np.abs(velocities) <= vmax), segment.name
        steps = np.diff(np.vstack([previous, positions]), axis=0)
        assert np.all(np.abs(steps) <= vmax * np.diff(np.concatenate([[0], trajectory.times]))[:, None]), segment.name
        np.testing.assert_array_equal(velocities[-1], 0)
        assert np.abs(velocities[0]).max() <= 0.6 * max(np.abs(velocities).max(), 1e-12), segment.name
        previous = positions[-1]
    np.testing.assert_allclose(previous, profile.home, atol=1e-12)


@pytest.mark.parametrize("index", [1, 2, 4, 5])
def test_vertical_segments_keep_the_tool_on_the_vertical(plan, index):
    _, kin, _, _, segments = plan
    before = segments[index - 1].trajectory.positions[-1]
    trajectory = segments[index].trajectory
    times = np.linspace(0, trajectory.duration, 4 * len(trajectory.times))
    tool = np.array([kin.fk(trajectory.sample(t, before))[0] for t in times])
    assert np.linalg.norm(tool[:, :2] - tool[0, :2], axis=1).max() <= 2e-3
    assert abs(tool[-1, 2] - tool[0, 2]) == pytest.approx(0.15, abs=1e-3)


# Universal Robots' published DH parameters (d, a; alpha is (pi/2, 0, 0, pi/2, -pi/2, 0) for both).
UR_DH = {"ur5": ((0.089159, 0, 0, 0.10915, 0.09465, 0.0823), (0, -0.425, -0.39225, 0, 0, 0)),
         "ur5e": ((0.1625, 0, 0, 0.1333, 0.0997, 0.0996), (0, -0.425, -0.3922, 0, 0, 0))}


@pytest.mark.parametrize("name", sorted(UR_DH))
def test_the_ur_urdfs_have_their_arms_published_kinematics(name):
    import pinocchio as pin

    d, a = UR_DH[name]
    alpha = (math.pi / 2, 0, 0, math.pi / 2, -math.pi / 2, 0)
    model = pin.buildModelFromUrdf(arm_profile(name).urdf)
    data, flange = model.createData(), model.getFrameId("tool0")
    for q in np.random.default_rng(0).uniform(-3, 3, (20, 6)):
        dh = np.eye(4)
        for qi, di, ai, al in zip(q, d, a, alpha, strict=True):
            ct, st, ca, sa = math.cos(qi), math.sin(qi), math.cos(al), math.sin(al)
            dh = dh @ np.array([[ct, -st * ca, st * sa, ai * ct], [st, ct * ca, -ct * sa, ai * st], [0, sa, ca, di],
                                [0, 0, 0, 1]])
        pin.forwardKinematics(model, data, q)
        np.testing.assert_allclose(pin.updateFramePlacement(model, data, flange).translation, dh[:3, 3], atol=1e-6)


def test_the_franka_plans_within_the_fr3s_published_limits_and_its_urdfs():
    profile = arm_profile("franka")
    kin = ArmKinematics.from_profile(profile)
    urdf = ArmKinematics(profile.urdf, profile.tool_link, kin.joint_names)  # the Panda URDF's own limits
    assert np.all(kin.lower >= np.maximum(urdf.lower, profile.lower))
    assert np.all(kin.upper <= np.minimum(urdf.upper, profile.upper))
    assert kin.lower[5] == pytest.approx(0.5445)  # the FR3's joint 6, 0.63 rad above the Panda's
    assert np.all(kin.velocity_limits <= profile.max_velocity)
    home = np.array(profile.home)
    segments = plan_pick_place(PickPlace((0.5, 0.1, 0.04), (0.45, -0.2, 0.04), 0.3, -0.4), kin, profile, home,
                               Workspace(), PlannerConfig())
    for segment in segments:
        assert np.all(segment.trajectory.positions >= kin.lower - 1e-9), segment.name
        assert np.all(segment.trajectory.positions <= kin.upper + 1e-9), segment.name


def test_a_suction_cup_is_pressed_no_lower_than_the_floor_and_never_into_the_table():
    profile = arm_profile("ur5")
    kin = ArmKinematics.from_profile(profile)
    home = np.array(profile.home)

    def grip_z(pick_z: float) -> float:
        segments = plan_pick_place(PickPlace((0.5, 0.1, pick_z), (0.5, -0.2, 0.04)), kin, profile, home,
                                   Workspace(), PlannerConfig())
        return float(kin.fk(segments[1].trajectory.positions[-1])[0][2])

    assert grip_z(0.04) == pytest.approx(0.04 - PlannerConfig().suction_press, abs=1e-3)  # pressed 5 mm
    assert grip_z(0.007) == pytest.approx(0.005, abs=1e-3)  # a thin object: the press stops at the floor
    assert grip_z(0.003) == pytest.approx(0.003, abs=1e-3)  # thinner still: the cup goes to its top, no lower
    assert grip_z(-0.008) == pytest.approx(0.0, abs=1e-3)  # a pick point read below the table: the table


def test_a_lower_slower_carry_lifts_the_object_only_that_high_and_moves_it_slowly():
    profile = arm_profile("ur5")
    kin = ArmKinematics.from_profile(profile)
    action = PickPlace((0.5, 0.1, 0.01), (0.55, -0.2, 0.01))
    config = PlannerConfig(carry_height=0.02, carry_speed=0.1)
    segments = {s.name: s for s in plan_pick_place(action, kin, profile, np.array(profile.home), Workspace(),
                                                   config)}
    tool_z = {name: np.array([kin.fk(q)[0][2] for q in s.trajectory.positions]) for name, s in segments.items()}
    low = action.pick_xyz[2] - config.suction_press
    assert tool_z["lift"][-1] == pytest.approx(low + 0.02, abs=1e-3)
    released = action.place_xyz[2] + config.place_clearance
    assert np.all(tool_z["carry"] <= max(low, released) + 0.02 + 1e-3)  # carried 2 cm above pick and place
    assert tool_z["approach pick"][-1] == pytest.approx(low + config.approach_height, abs=1e-3)  # empty: high
    assert tool_z["retreat"][-1] == pytest.approx(released + config.approach_height, abs=1e-3)
    vmax = config.velocity_scale * kin.velocity_limits
    for name in ("lift", "carry"):
        assert np.all(np.abs(segments[name].trajectory.velocities) <= 0.1 * vmax * (1 + 1e-9)), name
    assert np.abs(segments["retreat"].trajectory.velocities).max() > 0.1 * vmax.max()
    assert [s.until_contact for s in segments.values()] == [False, True, False, False, True, False, False]
    assert segments["carry"].touches and segments["carry"].holding  # dragged low on purpose: it may brush beads
    default = plan_pick_place(action, kin, profile, np.array(profile.home), Workspace(), PlannerConfig())
    assert [s.touches for s in default] == [False, True, True, False, True, True, False]


def test_plan_refuses_points_outside_the_workspace():
    profile = arm_profile("ur5")
    kin = ArmKinematics.from_profile(profile)
    home = np.array(profile.home)
    with pytest.raises(PlanError, match=r"pick .* x=0\.900") as caught:
        plan_pick_place(PickPlace((0.9, 0.0, 0.02), (0.5, 0.0, 0.02)), kin, profile, home, Workspace(), PlannerConfig())
    assert caught.value.reason == "outside_workspace"
    with pytest.raises(PlanError, match=r"place .* z=0\.400") as caught:
        plan_pick_place(PickPlace((0.5, 0.0, 0.02), (0.5, 0.0, 0.4)), kin, profile, home, Workspace(), PlannerConfig())
    assert caught.value.reason == "outside_workspace"


def test_plan_refuses_unreachable_points():
    franka = arm_profile("franka")
    kin = ArmKinematics.from_profile(franka)
    with pytest.raises(PlanError, match=r"pick at \(0\.300.*out of reach") as caught:
        plan_pick_place(PickPlace((0.3, 0.0, 0.02), (0.5, 0.0, 0.02)), kin, franka, np.array(franka.home),
                        Workspace(), PlannerConfig())
    assert caught.value.reason == "unreachable"
    # Past the reach check, the IK itself refuses.
    ur5 = dataclasses.replace(arm_profile("ur5"), reach=5.0)
    kin = ArmKinematics.from_profile(ur5)
    wide = Workspace(x_max=2.0)
    with pytest.raises(PlanError, match=r"place at \(1\.500.*out of reach: no IK solution") as caught:
        plan_pick_place(PickPlace((0.5, 0.0, 0.02), (1.5, 0.0, 0.02)), kin, ur5, np.array(ur5.home),
                        wide, PlannerConfig())
    assert caught.value.reason == "unreachable"
    # A straight line whose IK points lie far apart in joint space is refused, not flipped through.
    with pytest.raises(PlanError, match=r"pick at .* the arm would flip") as caught:
        plan_pick_place(PickPlace((0.5, 0.0, 0.02), (0.5, 0.2, 0.02)), kin, ur5, np.array(ur5.home),
                        wide, PlannerConfig(max_joint_jump=1e-3))
    assert caught.value.reason == "unreachable"


@pytest.fixture(scope="module")
def spatula():
    profile = arm_profile("ur5", tool="spatula")
    return profile, ArmKinematics.from_profile(profile)


def test_push_plan_keeps_the_blade_on_the_table_square_to_the_push(spatula):
    profile, kin = spatula
    workspace = Workspace(z_min=0.01)  # a table 1 cm higher: the blade follows it
    action = PickPlace((0.45, -0.1, 0.03), (0.55, 0.1, 0.03))
    segments = plan_push(action, kin, profile, np.array(profile.home), workspace, PlannerConfig())
    assert [s.name for s in segments] == ["approach push", "descend to push", "push", "lift", "home"]
    assert all(s.gripper is None for s in segments)
    direction = np.array([0.1, 0.2, 0.0]) / math.hypot(0.1, 0.2)
    first = np.array([0.45, -0.1, 0.01 + PUSH_HEIGHT]) - PUSH_BEHIND * direction
    last = np.array([0.55, 0.1, 0.01 + PUSH_HEIGHT]) - PUSH_SHORT * direction
    push = segments[2].trajectory
    before = segments[1].trajectory.positions[-1]
    tool = [kin.fk(push.sample(t, before)) for t in np.linspace(0, push.duration, 60)]
    xyz = np.array([p for p, _ in tool])
    np.testing.assert_allclose(xyz[0], first, atol=1e-3)
    np.testing.assert_allclose(xyz[-1], last, atol=1e-3)
    off_line = xyz - first - np.outer((xyz - first) @ direction, direction)
    assert np.abs(off_line).max() <= 2e-3
    # The blade's normal (tool x) lies along the push, either face forward.
    assert min(abs(rotation[:, 0] @ direction) for _, rotation in tool) >= 0.999
    vmax = 0.5 * kin.velocity_limits
    assert np.all(np.abs(push.velocities) <= PUSH_SPEED * vmax * (1 + 1e-9))
    assert np.abs(segments[0].trajectory.velocities).max() > PUSH_SPEED * vmax.max()  # only the push is slow
    np.testing.assert_allclose(segments[-1].trajectory.positions[-1], profile.home, atol=1e-12)


def test_push_plan_refuses_a_push_with_no_direction_or_outside_the_workspace(spatula):
    profile, kin = spatula
    home = np.array(profile.home)
    with pytest.raises(PlanError, match="no direction") as caught:
        plan_push(PickPlace((0.5, 0.0, 0.02), (0.5, 0.0, 0.02)), kin, profile, home, Workspace(), PlannerConfig())
    assert caught.value.reason == "unreachable"
    with pytest.raises(PlanError, match=r"push end .* y=0\.700") as caught:
        plan_push(PickPlace((0.5, 0.0, 0.02), (0.5, 0.7, 0.02)), kin, profile, home, Workspace(), PlannerConfig())
    assert caught.value.reason == "outside_workspace"


def test_trajectory_velocities_follow_reordering_and_shape_the_interpolation(plan):
    _, kin, _, start, segments = plan
    trajectory = segments[0].trajectory
    names = list(reversed(kin.joint_names))
    reordered = trajectory.reordered(names)
    np.testing.assert_array_equal(reordered.velocities, trajectory.velocities[:, ::-1])
    # Hermite interpolation passes through the points and, from rest, starts slower than a straight line.
    t1 = trajectory.times[1]
    np.testing.assert_allclose(trajectory.sample(t1, start), trajectory.positions[1], atol=1e-12)
    linear = dataclasses.replace(trajectory, velocities=None)
    early = trajectory.times[0] / 2
    assert np.abs(trajectory.sample(early, start) - start).max() < np.abs(linear.sample(early, start) - start).max()


def test_acceleration_limits_come_from_the_arm_profile():
    franka = ArmKinematics.from_profile(arm_profile("franka"))
    np.testing.assert_array_equal(franka.acceleration_limits, arm_profile("franka").max_acceleration)
    assert franka.acceleration_limits.max() <= 10.0  # the FR3's limit on every joint
    ur5 = ArmKinematics.from_profile(arm_profile("ur5"))
    np.testing.assert_array_equal(ur5.acceleration_limits, np.full(6, DEFAULT_ACCELERATION))


def test_a_long_joint_move_is_time_optimal_within_the_speed_and_acceleration_limits():
    """Rest to rest over 2 rad at 1 rad/s and 2 rad/s^2 takes d/v + v/a = 2.5 s (accelerate, cruise, brake)."""
    names = ("a", "b")
    trajectory = time_parameterise(names, np.array([[0.0, 0.0], [2.0, 0.5]]), np.array([1.0, 1.0]),
                                   np.array([2.0, 2.0]), PlannerConfig())
    assert trajectory.duration == pytest.approx(2.5, rel=0.02)
    assert np.abs(trajectory.velocities[:, 0]).max() == pytest.approx(1.0, rel=1e-3)
    np.testing.assert_allclose(trajectory.positions[:, 1], trajectory.positions[:, 0] / 4, atol=1e-6)  # a line


def test_a_joint_move_with_jerk_limits_keeps_every_derivative_within_them_on_the_straight_line():
    """Ruckig's timing: velocity, acceleration and jerk within the limits, at rest at both ends, every joint on
    the line between start and goal; jerk-limited, so a little longer than the acceleration-limited 2.5 s."""
    names, start, goal = ("a", "b"), np.zeros(2), np.array([2.0, 0.5])
    vmax, amax, jmax = np.array([1.0, 1.0]), np.array([2.0, 2.0]), np.array([10.0, 10.0])
    trajectory = time_parameterise(names, np.stack([start, goal]), vmax, amax, PlannerConfig(), jmax)
    assert 2.5 * 1.02 < trajectory.duration < 2.5 + amax[0] / jmax[0] + 0.05  # plus a / j: one jerk phase
    np.testing.assert_allclose(trajectory.positions[-1], goal)
    np.testing.assert_array_equal(trajectory.velocities[-1], 0)
    np.testing.assert_allclose(trajectory.positions[:, 1], trajectory.positions[:, 0] / 4, atol=1e-9)
    fine = np.linspace(0.0, trajectory.duration, 2001)
    dt = fine[1] - fine[0]
    q = np.array([trajectory.sample(t, start) for t in fine])  # the controller's cubic between the points
    v, a = np.diff(q, axis=0) / dt, np.diff(q, 2, axis=0) / dt**2
    assert np.all(np.abs(v) <= vmax * 1.01)
    assert np.all(np.abs(a) <= amax * 1.25)  # the sampled cubic, not Ruckig's exact profile
    velocities = np.vstack([np.zeros(2), trajectory.velocities])
    assert np.abs(velocities[1] - velocities[0]).max() / trajectory.times[0] < amax[0] / 2  # a soft start


def test_the_franka_is_jerk_limited_as_the_fr3_and_the_ur_arms_are_not():
    franka = ArmKinematics.from_profile(arm_profile("franka"))
    np.testing.assert_array_equal(franka.jerk_limits, np.full(7, 5000.0))
    assert ArmKinematics.from_profile(arm_profile("ur5")).jerk_limits is None  # Universal Robots publish none


def test_a_path_toppra_cannot_time_is_timed_within_the_limits_all_the_same(monkeypatch):
    """TOPP-RA may call an instance uncontrollable on its grid (it did on one Franka pyramid plan in 50): the
    fallback quintic timing still rests at both ends, passes through the points and keeps to the limits."""
    import toppra.algorithm

    monkeypatch.setattr(toppra.algorithm.TOPPRA, "compute_trajectory", lambda *_: None)
    path = np.array([[0.0, 0.0], [0.3, 0.2], [0.6, 0.2], [1.0, -0.1]])
    vmax, amax = np.array([1.0, 1.0]), np.array([2.0, 2.0])
    trajectory = time_parameterise(("a", "b"), path, vmax, amax, PlannerConfig())
    np.testing.assert_allclose(trajectory.positions[-1], path[-1])
    np.testing.assert_array_equal(trajectory.velocities[-1], 0)
    assert np.all(np.abs(trajectory.velocities) <= vmax * (1 + 1e-9))
    dt = np.diff(np.concatenate([[0], trajectory.times]))[:, None]
    assert np.all(np.abs(np.diff(np.vstack([np.zeros(2), trajectory.velocities]), axis=0) / dt) <= amax * 1.05)
    assert 1.0 < trajectory.duration < 5.0  # not stretched needlessly either


def test_timing_never_takes_a_joint_beyond_the_points_it_passes_through():
    """A wrist the IK left at its limit stays there: the curve through the points does not overshoot them."""
    path = np.array([[0.0, 0.0], [0.3, 1.0], [0.6, 1.0], [0.9, 1.0], [1.2, 0.4]])
    trajectory = time_parameterise(("a", "b"), path, np.array([2.0, 2.0]), np.array([5.0, 5.0]), PlannerConfig())
    assert trajectory.positions[:, 1].max() <= 1.0 + 1e-12
    start = path[0]
    fine = np.array([trajectory.sample(t, start) for t in np.linspace(0, trajectory.duration, 400)])
    assert fine[:, 1].max() <= 1.0 + 1e-5 and fine[:, 0].min() >= -1e-5  # a controller's cubic between points


def test_joint_move_rests_at_the_goal_within_the_limits(arm):
    profile, kin = arm
    start = np.array(profile.home)
    trajectory = joint_move(kin, start, start + 0.3, PlannerConfig())
    np.testing.assert_allclose(trajectory.positions[-1], start + 0.3)
    np.testing.assert_array_equal(trajectory.velocities[-1], 0)
    assert np.all(np.abs(trajectory.velocities) <= 0.5 * kin.velocity_limits * (1 + 1e-9))
