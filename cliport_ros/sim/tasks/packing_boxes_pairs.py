"""packing-boxes-pairs: pack every block of two named colours into a brown box."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cliport_ros.execution.actions import PickPlace
from cliport_ros.sim.colors import COLORS, colors_for
from cliport_ros.sim.scene import TabletopSim
from cliport_ros.sim.tasks.base import Goal, Task, TaskError, register_task, sample_free_xy

BOX_BROWN = (0.61, 0.46, 0.37)  # the reference's container colour
WALL = 0.004  # container wall and floor thickness (TabletopSim.add_container)
HEIGHT = 0.05  # container walls and blocks alike, as in the reference


def split_cells(lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator, min_side: float,
                gap: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Tile the rectangle ``lo``..``hi`` (xy, m) with cells, as the reference's k-d split does.

    A rectangle longer than ``2 * min_side`` along some axis is cut across one
    such axis (chosen uniformly) at a uniform point at least ``min_side`` from
    either end, leaving ``gap`` between the two halves; the halves are split in
    turn. Returns (lo, hi) corner pairs; every side is at most ``2 * min_side``
    and at least ``min_side - gap / 2`` (or the rectangle's own side, if shorter).
    """
    size = hi - lo
    splittable = np.flatnonzero(size > 2 * min_side)
    if splittable.size == 0:
        return [(lo, hi)]
    axis = int(rng.choice(splittable))
    cut = lo[axis] + min_side + rng.random() * (size[axis] - 2 * min_side)
    first_hi, second_lo = hi.copy(), lo.copy()
    first_hi[axis] = cut - gap / 2
    second_lo[axis] = cut + gap / 2
    return split_cells(lo, first_hi, rng, min_side, gap) + split_cells(second_lo, hi, rng, min_side, gap)


@dataclass
class ContainerGoal(Goal):
    """Blocks that must each lie wholly within a container's footprint, none stacked on another.

    ``sizes`` are the blocks' full (x, y, z) sizes, in the order of ``objects``;
    ``targets`` are their cells in the container (what the oracle aims for, not
    what is scored). A block counts when its four footprint corners are inside
    the container's outer footprint and its centre is below the wall top: the
    reference's zone test of the block's sample points, whose z bound rules out
    stacking.
    """

    sizes: tuple[tuple[float, float, float], ...] = ()
    container_xy: tuple[float, float] = (0.0, 0.0)
    container_yaw: float = 0.0
    container_size: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def inside(self, sim: TabletopSim, k: int) -> bool:
        pos, yaw = sim.pose(self.objects[k])
        if pos[2] > self.container_size[2]:
            return False
        half = np.asarray(self.sizes[k][:2]) / 2
        corners = np.array([[sx * half[0], sy * half[1]] for sx in (-1, 1) for sy in (-1, 1)])
        c, s = math.cos(yaw), math.sin(yaw)
        world = pos[:2] + corners @ np.array([[c, s], [-s, c]])
        c, s = math.cos(self.container_yaw), math.sin(self.container_yaw)
        local = (world - np.asarray(self.container_xy)) @ np.array([[c, -s], [s, c]])
        return bool(np.all(np.abs(local) < np.asarray(self.container_size[:2]) / 2))

    def matches(self, sim: TabletopSim) -> list[tuple[int, int]]:
        return [(obj, k) for k, obj in enumerate(self.objects) if self.inside(sim, k)]


class PackingBoxesPairs(Task):
    """Pack all the blocks of two colours into a brown box that they tile exactly.

    Task: "pack all the {c0} and {c1} blocks into the brown box" ("the {c0} blocks" when the box
    holds a single block) — one sentence for the episode.

    Randomisation: a fixed brown box (outer 5-30 cm by 5-30 cm, 5 cm deep) at a random free position
    and yaw; its inside, less 1 cm at the walls, split recursively into cells (sides 4.5-10 cm,
    1 cm apart; a box under 7 cm across gives smaller ones); one 5 cm tall block per cell in one
    of two colours of the split, moved to a random free position and yaw; 4 distractor blocks,
    each the size of a random cell, in the remaining colours.

    Success: every block of the two colours wholly inside the box's footprint and not stacked;
    1/#blocks reward per block; step limit 20, as the reference's.

    UR5 (suction) only: the Franka's fingers, 2 cm thick, do not fit the 1 cm gaps between the
    cells, and its 8 cm opening does not span a block up to 10 cm on each side.
    """

    template = "pack all the {colours} blocks into the brown box"
    arms = ("ur5",)
    unseen_colors = False
    n_distractors = 4
    min_side = 0.05  # cells are split until no side exceeds twice this
    gap = 0.01  # between cells, and between the outer cells and the box's outer edge

    def build(self, sim: TabletopSim, rng: np.random.Generator) -> None:
        palette = list(colors_for(self.split, self.unseen_colors))
        size = np.array([*rng.uniform(0.05, 0.3, 2), HEIGHT])
        yaw = float(rng.uniform(0, 2 * math.pi))
        inner = size[:2] / 2 - self.gap
        cells = split_cells(-inner, inner, rng, self.min_side, self.gap)
        picked = [palette[i] for i in rng.choice(len(palette), min(2, len(cells)), replace=False)]
        others = [c for c in palette if c not in picked]
        sizes = [(*(hi - lo), HEIGHT) for lo, hi in cells]
        colors = [COLORS[picked[int(rng.integers(len(picked)))]] for _ in cells]
        for _ in range(self.n_distractors):
            sizes.append(sizes[int(rng.integers(len(cells)))])
            colors.append(COLORS[others[int(rng.integers(len(others)))]])
        centre, *positions = self._layout(sim, rng, [size, *sizes])
        sim.add_container(size, (*centre, 0.0), yaw, BOX_BROWN, thickness=WALL)
        bodies = [sim.add_box(block, (*xy, HEIGHT / 2), float(rng.uniform(0, math.pi)), color)
                  for block, xy, color in zip(sizes, positions, colors, strict=True)]
        blocks = bodies[: len(cells)]  # the rest are the distractors
        rot = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])
        targets = [(np.array([*(centre + rot @ ((lo + hi) / 2)), WALL + HEIGHT / 2]), yaw) for lo, hi in cells]
        language = self.template.format(colours=' and '.join(picked))
        self.goals = [ContainerGoal(blocks, targets, weight=1.0, language=language, sizes=tuple(sizes[: len(cells)]),
                                    container_xy=tuple(centre), container_yaw=yaw, container_size=tuple(size))]
        self.max_steps = 20

    @staticmethod
    def _layout(sim: TabletopSim, rng: np.random.Generator, sizes: list, attempts: int = 5) -> list[np.ndarray]:
        """Free positions for footprints of ``sizes`` (m), drawn largest first.

        Up to twenty boxes do not always fit one random draw of the workspace,
        so the whole layout is drawn again before the scene is given up.
        """
        order = sorted(range(len(sizes)), key=lambda k: -float(np.linalg.norm(sizes[k][:2])))

        def draw() -> list[np.ndarray]:
            taken: list = []
            placed = {k: sample_free_xy(rng, sim, float(np.linalg.norm(sizes[k][:2])) / 2, taken, margin=0.01)
                      for k in order}
            return [placed[k] for k in range(len(sizes))]

        for _ in range(attempts - 1):
            try:
                return draw()
            except TaskError:
                pass
        return draw()

    def oracle(self, sim: TabletopSim) -> PickPlace | None:
        """Move the first block not yet in the box to its own cell, turned to the cell's yaw."""
        goal = self.current_goal(sim)
        if goal is None:
            return None
        k = next(k for k in range(len(goal.objects)) if not goal.inside(sim, k))
        pos, yaw = sim.pose(goal.objects[k])
        target_xyz, target_yaw = goal.targets[k]
        top = self.pick_height(sim, goal.objects[k])
        place = np.asarray(target_xyz, dtype=float) + np.array([0.0, 0.0, top - pos[2]])
        place_yaw = yaw + self.turn(yaw, target_yaw, math.pi)  # a box looks the same turned half a turn
        return PickPlace((float(pos[0]), float(pos[1]), top), tuple(place), pick_yaw=yaw, place_yaw=place_yaw)


@register_task("packing-boxes-pairs-seen-colors")
class PackingBoxesPairsSeenColors(PackingBoxesPairs):
    __doc__ = PackingBoxesPairs.__doc__
    unseen_colors = False
