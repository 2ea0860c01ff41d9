"""stack-block-pyramid-seq: build a 3-2-1 pyramid on a stand, one named block at a time."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from cliport_ros.execution.actions import PickPlace, wrap_angle
from cliport_ros.sim.colors import COLORS, STAND_BROWNS
from cliport_ros.sim.scene import TabletopSim
from cliport_ros.sim.tasks.base import Goal, Task, register_task, sample_colors, sample_fixture, sample_free_xy

BLOCK = 0.04
STAND_TOP = 0.01
FINGER_REACH = 0.067  # open Franka fingers: outer faces this far from the tool centre, m
FINGER_HALF_WIDTH = 0.011  # and this far to either side of the closing axis
FINGER_MARGIN = 0.005  # a grasp whose fingers come down this clear of other objects is safe


@register_task("stack-block-pyramid-seq")
class StackBlockPyramidSeq(Task):
    """Stack six blocks into a pyramid on a three-zone stand, following one instruction per block.

    Task: "put the {colour} block on the {lightest brown block | middle brown block | darkest brown
    block | {c0} and {c1} blocks | {c1} and {c2} blocks | {c3} and {c4} blocks}".

    Randomisation: stand (5 x 15 cm, three brown zones) at a random free position and yaw; six
    blocks of six different colours of the split at random free positions and yaws.

    Success: six ordered sub-goals of 1/6 each: bottom row at stand offsets y = -5, 0, +5 cm,
    middle row at -2.5, +2.5 cm one block up, top at 0 two blocks up; 1 cm (3-D) and 15 degrees
    (modulo the cube's 90 degree symmetry); step limit 12.
    """

    template = "put the {block} block on {place}"
    sequential = True
    offsets = ((0, -0.05, 0), (0, 0.0, 0), (0, 0.05, 0), (0, -0.025, 1), (0, 0.025, 1), (0, 0.0, 2))
    places = ("the lightest brown block", "the middle brown block", "the darkest brown block",
              "the {0} and {1} blocks", "the {1} and {2} blocks", "the {3} and {4} blocks")

    def build(self, sim: TabletopSim, rng: np.random.Generator) -> None:
        names = sample_colors(rng, self.split, 6)
        taken: list = []
        _, yaw, to_world = sample_fixture(rng, sim, 0.08, taken)
        for k, brown in enumerate(STAND_BROWNS):
            xy = to_world(self.offsets[k])
            sim.add_box((BLOCK + 0.01, 0.05, STAND_TOP), (*xy, STAND_TOP / 2), yaw, brown, mass=0, graspable=False)
        blocks = []
        for name in names:
            xy = sample_free_xy(rng, sim, BLOCK * math.sqrt(2) / 2, taken)
            blocks.append(sim.add_box((BLOCK,) * 3, (*xy, BLOCK / 2), float(rng.uniform(0, math.pi / 2)),
                                      COLORS[name]))
        for k, (block, (dx, dy, level)) in enumerate(zip(blocks, self.offsets, strict=True)):
            xy = to_world((dx, dy))
            target = (np.array([*xy, STAND_TOP + BLOCK / 2 + level * BLOCK]), yaw)
            place = self.places[k].format(*names)
            language = self.template.format(block=names[k], place=place)
            self.goals.append(Goal([block], [target], weight=1 / 6, language=language,
                                   tolerance=0.01, yaw_tolerance=math.radians(15), yaw_symmetry=math.pi / 2,
                                   check_z=True))
        self.max_steps = 12

    def oracle(self, sim: TabletopSim) -> PickPlace | None:
        """The generic oracle; with fingers, grasp and place yaws chosen for the fingers and the wrist.

        A cube may be gripped by either pair of faces and turned by any quarter
        on the way, so the two yaws are free modulo 90 degrees. The place closes
        the fingers across the stand's depth, where there is only free space
        beside the pyramid (along its row they would come down on the
        neighbouring blocks, or on the two blocks a block goes on). The pick
        grips the pair of faces whose fingers come down clear of other objects
        and, of two clear ones, the one that turns the block less on the way:
        a block carried through most of a half turn can turn in the fingers
        and miss its place. Both yaws stay within a quarter turn of the
        wrist's middle, the half circle the wrist reaches.
        """
        action = super().oracle(sim)
        if action is None or not sim.arm.fingers:
            return action
        goal = self.current_goal(sim)
        block, (_, stand_yaw) = goal.objects[0], goal.targets[0]
        # the fingers close along the tool's y axis: across the stand's depth at tool yaw = stand yaw + 90 deg
        place_yaw = wrist_yaw(stand_yaw + math.pi / 2, action.place_xyz)

        def preference(pick_yaw: float) -> tuple[bool, float]:
            clearance = finger_clearance(sim, block, action.pick_xyz, pick_yaw)
            clear = clearance > FINGER_MARGIN
            return clear, -abs(wrap_angle(place_yaw - pick_yaw)) if clear else clearance

        options = [wrist_yaw(action.pick_yaw + quarter, action.pick_xyz) for quarter in (0.0, math.pi / 2)]
        return replace(action, pick_yaw=max(options, key=preference), place_yaw=place_yaw)


def wrist_middle(xyz) -> float:
    """Tool yaw at which the Franka's last joint is mid-range, reaching down at ``xyz``: 45 degrees
    past the direction from the base (at the home pose, joint 7 at 45 degrees holds the tool at yaw 0)."""
    return math.atan2(xyz[1], xyz[0]) + math.pi / 4


def wrist_yaw(yaw: float, xyz) -> float:
    """``yaw`` turned by half turns (the two fingers look alike) to within a quarter turn of the
    wrist's middle at ``xyz``, the half circle the wrist reaches."""
    middle = wrist_middle(xyz)
    return middle + wrap_angle(yaw - middle, math.pi)


def finger_clearance(sim: TabletopSim, body: int, xyz, yaw: float) -> float:
    """Smallest horizontal gap (m) between the open fingers of a grasp at ``xyz`` turned ``yaw`` and
    the objects around ``body`` (each taken as a disc around its bounding box); negative on overlap."""
    closing = np.array([-math.sin(yaw), math.cos(yaw)])  # the tool's y axis, along which the fingers close
    side = np.array([closing[1], -closing[0]])
    gaps = [math.inf]
    for other in sim.objects:
        if other == body:
            continue
        lo, hi = (np.asarray(corner) for corner in sim.bullet.getAABB(other))
        offset = (lo[:2] + hi[:2]) / 2 - np.asarray(xyz[:2])
        radius = float(np.max(hi[:2] - lo[:2])) / 2
        along, across = abs(offset @ closing), abs(offset @ side)
        gaps.append(max(across - FINGER_HALF_WIDTH, along - FINGER_REACH) - radius)
    return min(gaps)
