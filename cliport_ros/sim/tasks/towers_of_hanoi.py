"""towers-of-hanoi-seq: move three rings from one side of a stand to the other, one named move at a time."""

from __future__ import annotations

import math

import numpy as np

from cliport_ros.execution.actions import PickPlace
from cliport_ros.sim.colors import COLORS, STAND_BROWNS
from cliport_ros.sim.scene import TabletopSim
from cliport_ros.sim.tasks.base import Goal, Task, register_task, sample_colors, sample_fixture

STAND_TOP = 0.01
PEG_RADIUS = 0.006
PEG_HEIGHT = 0.06
RING_THICKNESS = 0.015
RING_INNER = 0.016
RING_OUTER = (0.045, 0.038, 0.031)  # large, medium, small
PEGS = (-0.12, 0.0, 0.12)  # stand-frame y of the lighter side, middle, darker side
PEG_NAMES = ("lighter brown side", "middle of the stand", "darker brown side")


def hanoi_moves(n: int, source: int = 0, target: int = 2, spare: int = 1) -> list[tuple[int, int, int]]:
    """The optimal (ring, from peg, to peg) sequence; ring 0 is the largest."""
    if n == 0:
        return []
    return (hanoi_moves(n - 1, source, spare, target) + [(3 - n, source, target)]
            + hanoi_moves(n - 1, spare, target, source))


@register_task("towers-of-hanoi-seq")
class TowersOfHanoiSeq(Task):
    """Solve three-ring towers of Hanoi on a stand, one instruction per move.

    Task: "move the {colour} ring to the {lighter brown side | middle of the stand | darker brown side}".

    Randomisation: stand (12 x 36 cm, three pegs) at a random free position and yaw; three rings
    of three colours of the split, largest at the bottom, on the lighter-side peg.

    Success: the 7 moves of the optimal solution to the darker side, in order, 1/7 each (ring
    within 1 cm, in 3-D, of its place on the peg); step limit 14.
    """

    # The stand (19 cm radius with its rings) finds no free place within the Franka's reach on the table.
    arms = ("ur5",)
    template = "move the {ring} ring to the {peg}"
    sequential = True

    def build(self, sim: TabletopSim, rng: np.random.Generator) -> None:
        names = sample_colors(rng, self.split, 3)
        taken: list = []
        _, yaw, to_world = sample_fixture(rng, sim, 0.19, taken)
        peg_xy = [to_world((0.0, y)) for y in PEGS]
        for xy, brown in zip(peg_xy, STAND_BROWNS, strict=True):
            sim.add_box((0.12, 0.12, STAND_TOP), (*xy, STAND_TOP / 2), yaw, brown, mass=0, graspable=False)
            self._add_peg(sim, xy)
        self.rings = []
        for k, name in enumerate(names):
            z = STAND_TOP + RING_THICKNESS * (k + 0.5)
            self.rings.append(self._add_ring(sim, (*peg_xy[0], z), yaw, RING_OUTER[k], COLORS[name]))
        heights = [3, 0, 0]
        for ring, source, target in hanoi_moves(3):
            heights[source] -= 1
            z = STAND_TOP + RING_THICKNESS * (heights[target] + 0.5)
            heights[target] += 1
            goal_xyz = np.array([*peg_xy[target], z])
            self.goals.append(Goal([self.rings[ring]], [(goal_xyz, yaw)], weight=1 / 7, tolerance=0.01, check_z=True,
                                   language=self.template.format(ring=names[ring], peg=PEG_NAMES[target])))
        self.max_steps = 14

    @staticmethod
    def _add_peg(sim: TabletopSim, xy) -> int:
        b = sim.bullet
        shape = b.createCollisionShape(b.GEOM_CYLINDER, radius=PEG_RADIUS, height=PEG_HEIGHT)
        visual = b.createVisualShape(b.GEOM_CYLINDER, radius=PEG_RADIUS, length=PEG_HEIGHT,
                                     rgbaColor=[0.5, 0.4, 0.3, 1])
        body = b.createMultiBody(0, shape, visual, basePosition=[*xy, STAND_TOP + PEG_HEIGHT / 2])
        return sim._register(body, graspable=False)

    @staticmethod
    def _add_ring(sim: TabletopSim, xyz, yaw: float, outer: float, rgb, segments: int = 12) -> int:
        """A flat ring of ``segments`` boxes; its hole fits over a peg."""
        b = sim.bullet
        mid = (outer + RING_INNER) / 2
        width = 2 * math.pi * mid / segments * 1.15
        types, extents, positions, orientations = [], [], [], []
        for k in range(segments):
            angle = 2 * math.pi * k / segments
            types.append(b.GEOM_BOX)
            extents.append([(outer - RING_INNER) / 2, width / 2, RING_THICKNESS / 2])
            positions.append([mid * math.cos(angle), mid * math.sin(angle), 0])
            orientations.append(b.getQuaternionFromEuler([0, 0, angle]))
        shape = b.createCollisionShapeArray(types, halfExtents=extents, collisionFramePositions=positions,
                                            collisionFrameOrientations=orientations)
        visual = b.createVisualShapeArray(types, halfExtents=extents, visualFramePositions=positions,
                                          visualFrameOrientations=orientations)
        body = b.createMultiBody(0.05, shape, visual, basePosition=list(xyz),
                                 baseOrientation=b.getQuaternionFromEuler([0, 0, yaw]))
        b.changeVisualShape(body, -1, rgbaColor=[*rgb, 1])
        b.changeDynamics(body, -1, lateralFriction=0.5)
        return sim._register(body, graspable=True)

    def oracle(self, sim: TabletopSim) -> PickPlace | None:
        """Pick a ring near its outer edge (its centre is a hole around the peg) and put that point
        over the target; near the edge the tool keeps clear of the peg top."""
        goal = self.current_goal(sim)
        if goal is None:
            return None
        ring = goal.objects[0]
        pos, yaw = sim.pose(ring)
        outer = RING_OUTER[self.rings.index(ring)]
        rim = outer - 0.007
        offset = np.array([rim * math.cos(yaw), rim * math.sin(yaw), RING_THICKNESS / 2])
        target_xyz, _ = goal.targets[0]
        pick = pos + offset
        place = np.asarray(target_xyz) + offset
        return PickPlace(tuple(pick), tuple(place), pick_yaw=yaw, place_yaw=yaw)
