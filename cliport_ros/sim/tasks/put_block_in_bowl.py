"""put-block-in-bowl: the CLIPort task, with seen- and unseen-colour splits."""

from __future__ import annotations

import math

import numpy as np

from cliport_ros.sim.colors import COLORS, colors_for
from cliport_ros.sim.scene import TabletopSim
from cliport_ros.sim.tasks.base import Goal, Task, register_task, sample_free_xy

BLOCK = 0.04
BOWL = 0.12
BOWL_FLOOR = 0.005  # top of the bowl's floor (TabletopSim.add_bowl)


class PutBlockInBowl(Task):
    """Put every block of one colour into a bowl of another colour.

    Task: "put the {pick} blocks in a {place} bowl" — one sentence for the episode.

    Randomisation: two colours drawn from the split's list; 1-3 bowls of the
    place colour and 1..#bowls blocks of the pick colour, at random free
    positions and yaws; 6 distractors, each a block or a bowl (equal odds) in
    the remaining colours.

    Success: every pick-colour block within 5 cm (in xy) of a different
    place-colour bowl; 1/#blocks reward per block; step limit #blocks + 1.
    """

    template = "put the {pick} blocks in a {place} bowl"
    unseen_colors = False
    n_distractors = 6

    def build(self, sim: TabletopSim, rng: np.random.Generator) -> None:
        palette = list(colors_for(self.split, self.unseen_colors))
        pick_color, place_color = (palette[i] for i in rng.choice(len(palette), 2, replace=False))
        n_bowls = int(rng.integers(1, 4))
        n_blocks = int(rng.integers(1, n_bowls + 1))
        taken: list = []
        targets = []
        for _ in range(n_bowls):
            xy = sample_free_xy(rng, sim, BOWL / 2, taken)
            sim.add_bowl((*xy, 0.0), COLORS[place_color], diameter=BOWL)
            # z: where a block's centre rests in the bowl, so the oracle's place height is the real one
            targets.append((np.array([*xy, BOWL_FLOOR + BLOCK / 2]), 0.0))
        blocks = []
        for _ in range(n_blocks):
            xy = sample_free_xy(rng, sim, BLOCK * math.sqrt(2) / 2, taken)
            yaw = float(rng.uniform(0, math.pi / 2))
            blocks.append(sim.add_box((BLOCK,) * 3, (*xy, BLOCK / 2), yaw, COLORS[pick_color]))
        others = [c for c in palette if c not in (pick_color, place_color)]
        for _ in range(self.n_distractors):
            color = COLORS[others[int(rng.integers(len(others)))]]
            if rng.random() < 0.5:
                xy = sample_free_xy(rng, sim, BOWL / 2, taken)
                sim.add_bowl((*xy, 0.0), color, diameter=BOWL)
            else:
                xy = sample_free_xy(rng, sim, BLOCK * math.sqrt(2) / 2, taken)
                sim.add_box((BLOCK,) * 3, (*xy, BLOCK / 2), float(rng.uniform(0, math.pi / 2)), color)
        language = self.template.format(pick=pick_color, place=place_color)
        self.goals = [Goal(blocks, targets, weight=1.0, language=language, tolerance=0.05)]
        self.max_steps = n_blocks + 1


@register_task("put-block-in-bowl-seen-colors")
class PutBlockInBowlSeenColors(PutBlockInBowl):
    __doc__ = PutBlockInBowl.__doc__
    unseen_colors = False


@register_task("put-block-in-bowl-unseen-colors")
class PutBlockInBowlUnseenColors(PutBlockInBowl):
    __doc__ = PutBlockInBowl.__doc__
    unseen_colors = True
