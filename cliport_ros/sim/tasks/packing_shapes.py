"""packing-shapes: pack the named shape into a brown box (the paper's packing-unseen-shapes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cliport_ros.execution.actions import PickPlace
from cliport_ros.sim.colors import COLORS
from cliport_ros.sim.scene import TabletopSim
from cliport_ros.sim.shapes import HEIGHT, SHAPES, add_shape, move_shape, rotation, shapes_for, tool_yaw
from cliport_ros.sim.tasks.base import Goal, Task, register_task, sample_colors, sample_free_xy

BOX_HEIGHT = 0.05
WALL = 0.004  # wall and floor thickness (TabletopSim.add_container)
BOX_BROWN = (0.61, 0.46, 0.37)  # the reference's container colour


@dataclass
class ZoneGoal(Goal):
    """Objects whose centres must lie inside a rectangle: the target is its centre and yaw, ``size`` its
    full x and y extent (m) in its own frame; every object may use the one zone.

    This is what the reference's "zone" metric measures for kit shapes: its grid of test points (2 cm
    apart) spans the mesh's scale factors (3 x 3 x 1 mm), not the shape, so it is one point at the centre.
    """

    size: Sequence[float] = (0.0, 0.0)

    def matches(self, sim: TabletopSim) -> list[tuple[int, int]]:
        centre, yaw = self.targets[0]
        half = np.asarray(self.size[:2]) / 2
        pairs = []
        for obj in self.objects:
            pos, _ = sim.pose(obj)
            local = rotation(-yaw) @ (pos[:2] - np.asarray(centre)[:2])
            if np.all(np.abs(local) <= half):
                pairs.append((obj, 0))
        return pairs


@register_task("packing-shapes")
class PackingShapes(Task):
    """Put one named shape, out of five, into an open brown box.

    Task: "pack the {shape} in the brown box".

    Randomisation: box (10-15 x 10-15 cm footprint, 5 cm walls) at a random free position and yaw; five
    different shapes of the split (training shapes for train, the held-out shapes for val/test: the paper's
    packing-unseen-shapes) in five different colours (training colours for train, evaluation colours for
    val/test, as the reference) at random free positions and yaws; the first is the one named.

    Success: the named shape's centre inside the box's footprint; reward 1; step limit 1.
    """

    # Suction only: two fingers rarely close across these flat, irregular 2 cm shapes (the Franka's oracle
    # solved at most 1 of 10 kit scenes and 9 of 10 packing scenes).
    arms = ("ur5",)
    template = "pack the {shape} in the brown box"
    n_shapes = 5

    def build(self, sim: TabletopSim, rng: np.random.Generator) -> None:
        size = (float(rng.uniform(0.10, 0.15)), float(rng.uniform(0.10, 0.15)))
        taken: list = []
        centre = sample_free_xy(rng, sim, math.hypot(*size) / 2, taken)
        yaw = float(rng.uniform(0, 2 * math.pi))
        sim.add_container((*size, BOX_HEIGHT), (*centre, 0.0), yaw, BOX_BROWN, thickness=WALL)
        pool = shapes_for(self.split)
        shape_ids = [pool[i] for i in rng.choice(len(pool), self.n_shapes, replace=False)]
        names = sample_colors(rng, self.split, self.n_shapes, unseen=True)
        self.shapes: dict[int, int] = {}  # body -> index into SHAPES
        bodies = []
        for shape_id, name in zip(shape_ids, names, strict=True):
            xy = sample_free_xy(rng, sim, SHAPES[shape_id].radius, taken)
            bodies.append(add_shape(sim, SHAPES[shape_id], xy, float(rng.uniform(0, 2 * math.pi)), COLORS[name]))
            self.shapes[bodies[-1]] = shape_id
        target = (np.array([*centre, WALL + HEIGHT / 2]), yaw)
        self.goals = [ZoneGoal([bodies[0]], [target], weight=1.0, size=size,
                               language=self.template.format(shape=SHAPES[shape_ids[0]].name))]
        self.max_steps = 1

    def oracle(self, sim: TabletopSim) -> PickPlace | None:
        """Set the named shape down in the middle of the box, keeping its yaw (every shape fits any way)."""
        goal = self.current_goal(sim)
        if goal is None:
            return None
        body = goal.objects[0]
        pos, yaw = sim.pose(body)
        return move_shape(SHAPES[self.shapes[body]], pos, yaw, self.pick_height(sim, body), goal.targets[0][0], yaw,
                          tool_yaw(sim))
