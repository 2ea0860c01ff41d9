"""separating-piles: push a pile of small blocks into one of two coloured squares, with a spatula."""

from __future__ import annotations

import math

import numpy as np

from cliport_ros.execution.actions import PickPlace
from cliport_ros.sim.colors import COLORS
from cliport_ros.sim.scene import TabletopSim
from cliport_ros.sim.tasks.base import Task, register_task, sample_colors, sample_free_xy
from cliport_ros.sim.tasks.packing_shapes import ZoneGoal

BLOCK = 0.01  # the reference's small block, metres
BLOCK_MASS = 0.01  # kg; the reference's 1 g blocks with unit inertia hardly turn, these are 10 g solid cubes
ZONE = 0.15  # side of a square zone, metres
ZONE_HEIGHT = 0.001  # a zone is a flat coloured square with no collision shape, as the reference's
MIN_ZONE_DISTANCE = 0.2  # the reference's least distance between the two zones' centres, metres
PILE_OFFSET = (0.15, 0.4)  # the pile's region starts this far from the workspace's (x_min, y_min), metres
PILE_SIZE = 0.2  # and spans this much in x and y, metres


class SeparatingPiles(Task):
    """Push a pile of small blocks into the named one of two coloured squares.

    Task: "push the pile of {block colour} blocks into the {square colour} square" — one sentence for the
    episode. The action is a push (``execution/planner.plan_push``): the UR5 carries the reference's spatula, and the
    pick and place points are where the push starts and where it heads.

    Randomisation: three distinct colours of the split (two squares, one pile); two 15 x 15 cm squares at
    random free positions (wholly in the workspace, centres at least 20 cm apart) and yaws, either one the
    target; 50 blocks of 1 cm at random yaws in the 20 x 20 cm region in the middle of the workspace
    (x 0.40-0.60 m, y -0.1-0.1 m), dropped from 1 cm up so overlaps push apart, as the reference. The
    squares may lie under the pile.

    Success: reward = the fraction of the blocks whose centre is inside the target square (the reference's
    zone metric samples each block at one point: its 2 cm grid over a 1 cm block is a single corner, at
    most 7 mm from the centre used here); done above 0.99, i.e. all 50; step limit 20, as the reference.

    UR5 only: the spatula is mounted on the UR5 (the reference has no other pushing arm).
    """

    template = "push the pile of {block} blocks into the {zone} square"
    arms = ("ur5",)
    tool = "spatula"
    unseen_colors = False
    n_blocks = 50

    def build(self, sim: TabletopSim, rng: np.random.Generator) -> None:
        zone_colors = sample_colors(rng, self.split, 3, self.unseen_colors)
        block_color = zone_colors.pop()
        radius = ZONE * math.sqrt(2) / 2
        # disjoint circumcircles keep the centres 2 * radius = 21 cm > MIN_ZONE_DISTANCE apart
        taken: list = []
        zones = []
        for name in zone_colors:
            xy = sample_free_xy(rng, sim, radius, taken, margin=0.0)
            yaw = float(rng.uniform(0, 2 * math.pi))
            self._add_zone(sim, xy, yaw, COLORS[name])
            zones.append((np.array([*xy, BLOCK / 2]), yaw))
        target = int(rng.integers(2))
        ws = sim.perception.workspace
        lo = np.array([ws.x_min, ws.y_min]) + PILE_OFFSET
        blocks = self._add_blocks(sim, lo + rng.random((self.n_blocks, 2)) * PILE_SIZE,
                                  rng.uniform(0, 2 * math.pi, self.n_blocks), COLORS[block_color])
        language = self.template.format(block=block_color, zone=zone_colors[target])
        self.goals = [ZoneGoal(blocks, [zones[target]], weight=1.0, language=language, size=(ZONE, ZONE))]
        self.max_steps = 20

    @staticmethod
    def _add_blocks(sim: TabletopSim, xy: np.ndarray, yaw: np.ndarray, rgb) -> list[int]:
        """The pile's blocks, dropped from 1 cm up (centre at one block height), as the reference.

        Unlike ``TabletopSim.add_box`` they have no rolling or spinning friction (a cube does not roll)
        and use maximal coordinates: both cut the cost of a physics step with 50 touching blocks by
        about nine tenths.
        """
        b = sim.bullet
        half = [BLOCK / 2] * 3
        shape = b.createCollisionShape(b.GEOM_BOX, halfExtents=half)
        visual = b.createVisualShape(b.GEOM_BOX, halfExtents=half, rgbaColor=[*rgb, 1])
        blocks = []
        for (x, y), angle in zip(xy, yaw, strict=True):
            body = b.createMultiBody(BLOCK_MASS, shape, visual, basePosition=[x, y, BLOCK],
                                     baseOrientation=b.getQuaternionFromEuler([0, 0, angle]),
                                     useMaximalCoordinates=True)
            b.changeDynamics(body, -1, lateralFriction=0.5)
            blocks.append(sim._register(body, graspable=False))
        return blocks

    @staticmethod
    def _add_zone(sim: TabletopSim, xy: np.ndarray, yaw: float, rgb) -> int:
        b = sim.bullet
        visual = b.createVisualShape(b.GEOM_BOX, halfExtents=[ZONE / 2, ZONE / 2, ZONE_HEIGHT / 2],
                                     rgbaColor=[*rgb, 1])
        body = b.createMultiBody(0, -1, visual, basePosition=[*xy, ZONE_HEIGHT / 2],
                                 baseOrientation=b.getQuaternionFromEuler([0, 0, yaw]))
        return sim._register(body, graspable=False)

    def oracle(self, sim: TabletopSim) -> PickPlace | None:
        """Push the block farthest from the target square's centre towards that centre, as the reference:
        the push starts behind the block (``plan_push`` backs off) and gathers what lies in its path."""
        goal = self.current_goal(sim)
        if goal is None:
            return None
        centre = np.asarray(goal.targets[0][0], dtype=float)
        positions = [sim.pose(block)[0] for block in goal.objects]
        far = max(range(len(positions)), key=lambda k: float(np.linalg.norm(positions[k][:2] - centre[:2])))
        start = positions[far]
        return PickPlace(tuple(float(v) for v in start), (float(centre[0]), float(centre[1]), float(start[2])))


@register_task("separating-piles-seen-colors")
class SeparatingPilesSeenColors(SeparatingPiles):
    __doc__ = SeparatingPiles.__doc__
    unseen_colors = False


@register_task("separating-piles-unseen-colors")
class SeparatingPilesUnseenColors(SeparatingPiles):
    __doc__ = SeparatingPiles.__doc__
    unseen_colors = True
