"""Plans checked before they move, without ROS: the arm's URDF shapes (coal, via Pinocchio) against the table
and the heightmap; what no camera saw counts as unknown, not empty."""

from __future__ import annotations

import numpy as np
import pytest

from cliport_ros.execution.actions import PickPlace
from cliport_ros.execution.arms import arm_profile
from cliport_ros.execution.collision import ClearanceConfig, SceneChecker, held_height, known_heights
from cliport_ros.execution.kinematics import ArmKinematics
from cliport_ros.execution.planner import PlanError, PlannerConfig, Segment, joint_move, plan
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.workspace import Workspace

WS = Workspace()
ACTION = PickPlace((0.45, 0.25, 0.04), (0.45, -0.25, 0.045))  # a 4 cm block carried across the table


@pytest.fixture(scope="module", params=["ur5", "ur5e", "franka"])
def arm(request):
    profile = arm_profile(request.param)
    kin = ArmKinematics.from_profile(profile)
    return profile, kin, SceneChecker(profile, kin.joint_names, ClearanceConfig())


def scene(*boxes: tuple[tuple[float, float], tuple[float, float], float], unseen=()) -> Heightmap:
    """A table with boxes ((x0, x1), (y0, y1), height); ``unseen``: (x range, y range) no camera saw."""
    height = np.zeros(WS.shape, np.float32)
    seen = np.ones(WS.shape, bool)
    for (x0, x1), (y0, y1), top in boxes:
        (r0, c0), (r1, c1) = WS.xyz_to_pix([x0, y0]), WS.xyz_to_pix([x1, y1])
        height[r0:r1, c0:c1] = top
    for (x0, x1), (y0, y1) in unseen:
        (r0, c0), (r1, c1) = WS.xyz_to_pix([x0, y0]), WS.xyz_to_pix([x1, y1])
        height[r0:r1, c0:c1], seen[r0:r1, c0:c1] = 0.0, False
    return Heightmap(np.zeros((*WS.shape, 3), np.uint8), height, WS, seen)


BLOCK = ((0.43, 0.47), (0.23, 0.27), 0.04)  # the block being picked
BOWL = ((0.40, 0.50), (-0.30, -0.20), 0.03)  # where it goes


def check(arm, heightmap: Heightmap) -> None:
    profile, kin, checker = arm
    start = np.array(profile.home)
    checker.set_scene(heightmap)
    checker.check(plan(ACTION, kin, profile, start, WS, PlannerConfig()), start,
                  held_height(ACTION.pick_xyz[2], profile, WS.z_min))


def test_a_pick_and_place_over_a_clear_table_passes_though_the_tool_touches_what_it_picks(arm):
    check(arm, scene(BLOCK, BOWL))


def test_a_tall_object_under_the_carry_is_refused_naming_the_segment(arm):
    tower = ((0.40, 0.50), (-0.05, 0.05), 0.16)  # 16 cm tall, between pick and place
    with pytest.raises(PlanError, match="within 1 cm of what the heightmap shows") as caught:
        check(arm, scene(BLOCK, BOWL, tower))
    assert caught.value.reason == "collision" and caught.value.args[0].split(" would")[0] in (
        "carry", "descend to place", "descend to pick", "lift", "approach pick", "retreat", "home")


def test_what_no_camera_saw_counts_as_tall_as_what_stands_beside_it():
    # A 10 cm box at x 0.40-0.45 and its occlusion shadow, unseen, from x 0.45 to 0.55.
    shadowed = scene(((0.40, 0.45), (-0.05, 0.05), 0.10), unseen=[((0.45, 0.55), (-0.05, 0.05))])
    heights = known_heights(shadowed, unseen_reach=0.03)
    row = WS.xyz_to_pix([0.0, 0.0])[0]
    at = {x: heights[row, WS.xyz_to_pix([x, 0.0])[1]] for x in (0.46, 0.475, 0.50, 0.54)}
    assert at[0.46] == at[0.475] == pytest.approx(0.10)  # within 3 cm of the box: unknown, so as tall
    assert at[0.50] == at[0.54] == 0.0  # farther: nothing known stands near, the table
    seen_as_table = scene(((0.40, 0.45), (-0.05, 0.05), 0.10))
    assert known_heights(seen_as_table, 0.03)[row, WS.xyz_to_pix([0.46, 0.0])[1]] == 0.0


def test_a_rope_dragged_low_over_beads_on_purpose_is_not_refused(arm):
    profile, kin, checker = arm
    start = np.array(profile.home)
    beads = ((0.43, 0.47), (-0.25, 0.25), 0.01)  # a line of 1 cm beads under the whole drag
    drag = PickPlace((0.45, 0.2, 0.01), (0.45, -0.2, 0.01))
    checker.set_scene(scene(beads))
    checker.check(plan(drag, kin, profile, start, WS, PlannerConfig(carry_height=0.02, carry_speed=0.1)), start,
                  held_height(drag.pick_xyz[2], profile, WS.z_min))


def test_a_joint_move_through_the_table_is_refused(arm):
    profile, kin, checker = arm
    start = np.array(profile.home)
    down = kin.ik((0.5, 0.0, -0.05), 0.0, start)  # the tool 5 cm into the table
    segment = Segment("home", joint_move(kin, start, down, PlannerConfig()))
    checker.set_table(0.0)
    with pytest.raises(PlanError, match="within 1 cm of the table"):
        checker.check([segment], start, 0.0)


def test_held_height_is_the_part_of_the_object_below_the_grip():
    assert held_height(0.04, arm_profile("ur5"), 0.0) == pytest.approx(0.04)
    assert held_height(0.04, arm_profile("franka"), 0.0) == pytest.approx(0.04 - arm_profile("franka").grasp_depth)


@pytest.mark.parametrize("field, value", [("margin", -0.01), ("joint_step", 0.0), ("held_radius", 2.0)])
def test_clearance_config_names_a_bad_value(field, value):
    with pytest.raises(ValueError, match=field):
        ClearanceConfig(**{field: value})
