"""stack-block-pyramid-seq: build a 3-2-1 pyramid on a stand, one named block at a time."""

from __future__ import annotations

import math

import numpy as np

from cliport_ros.sim.colors import COLORS, STAND_BROWNS
from cliport_ros.sim.scene import TabletopSim
from cliport_ros.sim.tasks.base import Goal, Task, register_task, sample_colors, sample_fixture, sample_free_xy

BLOCK = 0.04
STAND_TOP = 0.01


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
            self.goals.append(Goal([block], [target], weight=1 / 6, language=f"put the {names[k]} block on {place}",
                                   tolerance=0.01, yaw_tolerance=math.radians(15), yaw_symmetry=math.pi / 2,
                                   check_z=True))
        self.max_steps = 12
