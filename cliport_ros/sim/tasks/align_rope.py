"""align-rope: lay a rope of beads straight along one side of a square outline."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from cliport_ros.execution.actions import PickPlace
from cliport_ros.sim.scene import TabletopSim
from cliport_ros.sim.tasks.base import Goal, Task, TaskError, register_task, sample_free_xy

N_BEADS = 20
RADIUS = 0.005  # half the side of a bead's box collision shape, metres (its visual is a sphere 1.5x this)
LENGTH = 2 * RADIUS * N_BEADS * math.sqrt(2)  # side of the square and length of the rope, as the reference
LINE_WIDTH = 0.01  # the outline's lines, metres
LINE_HEIGHT = 0.001
LINE_RGB = (0.0, 1.0, 0.0)  # the reference's outline colour
BEAD_RGB = (1.0, 1.0, 1.0)  # the two end beads (PyBullet's default colour in the reference)
INNER_BEAD_RGB = (255 / 255, 87 / 255, 89 / 255)  # the others: the reference's red
BEAD_MASS = 0.1  # kg
LINK_FORCE = 100.0  # N, the most a bead-to-bead constraint pulls with
DROP_CLEARANCE = 0.1 * math.sqrt(2) / 2  # the rope drops at least this far from the lines and the edges, metres
CARRY_HEIGHT = 0.02  # the reference lifts a bead only this high (PickPlace(height=0.02)) ...
CARRY_SPEED = 0.1  # ... and drags it at a tenth of the usual speed (speed=0.001 against 0.01)
# A bead covers another when its top is this much higher and its centre this close: the 1 cm suction cup's
# radius plus half a bead's diagonal.
COVER_HEIGHT = 0.003
COVER_DISTANCE = 0.01 + RADIUS * math.sqrt(2)

# Sides of the square in its own frame, as the reference names them: (start corner, end corner), words.
CORNERS = ((LENGTH / 2, LENGTH / 2), (-LENGTH / 2, LENGTH / 2), (LENGTH / 2, -LENGTH / 2), (-LENGTH / 2, -LENGTH / 2))
SIDES = (
    ((0, 1), "front left tip to front right tip"),
    ((0, 2), "front right tip to back right corner"),
    ((1, 3), "front left tip to back left corner"),
    ((3, 2), "back right corner to back left corner"),
)


@dataclass
class RopeGoal(Goal):
    """Beads that must each lie within ``tolerance`` (table plane) of their place on a line, in either
    direction: bead k counts at target k or at target n-1-k, each bead on its own, as the reference's
    match matrix (identity plus its mirror) scores it."""

    def allowed(self, k: int) -> list[int]:
        n = len(self.objects)
        return sorted({k, n - 1 - k})

    def near(self, sim: TabletopSim, k: int, j: int) -> bool:
        pos, _ = sim.pose(self.objects[k])
        return bool(np.linalg.norm(pos[:2] - np.asarray(self.targets[j][0])[:2]) < self.tolerance)

    def matches(self, sim: TabletopSim) -> list[tuple[int, int]]:
        pairs = []
        for k, obj in enumerate(self.objects):
            j = next((j for j in self.allowed(k) if self.near(sim, k, j)), None)
            if j is not None:
                pairs.append((obj, j))
        return pairs


@register_task("align-rope")
class AlignRope(Task):
    """Straighten a rope along one side of a three-sided square, from one named corner to another.

    Task: "align the rope from {front left tip to front right tip | front right tip to back right corner |
    front left tip to back left corner | back right corner to back left corner}" (the reference's words; the
    first is the square's open side) — one sentence for the episode.

    Randomisation: the square outline (28 cm sides, 1 cm lines, flat and without collision, as the
    reference's) wholly in the workspace at a random position and yaw; one of its four sides; a rope of 20
    beads (1 cm boxes, 1.4 cm apart, joined by point-to-point constraints of at most 100 N) built as a
    vertical column at a random point at least 7 cm from the lines and the workspace edges, left to fall
    into a heap for a second, as the reference.

    Success: reward = the fraction of beads within 2 cm (in the table plane) of their place on the side,
    bead k at the k-th of 20 evenly spaced points from either end, as the reference scores it; done above
    0.99, i.e. all 20; step limit 20, as the reference. Suction picks a bead, lifts it 2 cm and drags it
    slowly (the reference's primitive for this task).

    UR5 (suction) only: the Franka's 2 cm finger pads have not been fitted to 1 cm beads 1.4 cm apart.
    """

    template = "align the rope from {ends}"
    arms = ("ur5",)
    planner: ClassVar[dict[str, float]] = {"carry_height": CARRY_HEIGHT, "carry_speed": CARRY_SPEED}

    def build(self, sim: TabletopSim, rng: np.random.Generator) -> None:
        taken: list = []
        centre = sample_free_xy(rng, sim, LENGTH * math.sqrt(2) / 2, taken, margin=0.0)
        yaw = float(rng.uniform(0, 2 * math.pi))
        rot = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])
        lines = self._add_outline(sim, centre, yaw, rot)
        (a, b), words = SIDES[int(rng.integers(len(SIDES)))]
        corner_a, corner_b = (centre + rot @ np.asarray(CORNERS[i]) for i in (a, b))
        increment = (corner_b - corner_a) / N_BEADS
        drop = self._drop_point(sim, rng, lines)
        beads = self._add_rope(sim, drop, float(np.linalg.norm(increment)))
        targets = [(np.array([*(corner_a + (k + 0.5) * increment), RADIUS]), 0.0) for k in range(N_BEADS)]
        self.goals = [RopeGoal(beads, targets, weight=1.0, tolerance=0.02,
                               language=self.template.format(ends=words))]
        self.max_steps = 20
        sim.settle(1.0)

    @staticmethod
    def _add_outline(sim: TabletopSim, centre: np.ndarray, yaw: float,
                     rot: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """The three lines (the reference's square template: no line on the side at +y); returns their
        end points in the world."""
        b = sim.bullet
        half = LENGTH / 2 - LINE_WIDTH / 2
        local = [((0.0, -half), (LENGTH, LINE_WIDTH)), ((half, 0.0), (LINE_WIDTH, LENGTH)),
                 ((-half, 0.0), (LINE_WIDTH, LENGTH))]
        visual = b.createVisualShapeArray(
            [b.GEOM_BOX] * 3, halfExtents=[[sx / 2, sy / 2, LINE_HEIGHT / 2] for _, (sx, sy) in local],
            visualFramePositions=[[x, y, 0.0] for (x, y), _ in local])
        body = b.createMultiBody(0, -1, visual, basePosition=[*centre, LINE_HEIGHT / 2],
                                 baseOrientation=b.getQuaternionFromEuler([0, 0, yaw]))
        b.changeVisualShape(body, -1, rgbaColor=[*LINE_RGB, 1])
        sim._register(body, graspable=False)
        ends = []
        for (x, y), (sx, sy) in local:
            along = np.array([sx - LINE_WIDTH, sy - LINE_WIDTH]) / 2
            ends.append((centre + rot @ (np.array([x, y]) - along), centre + rot @ (np.array([x, y]) + along)))
        return ends

    @staticmethod
    def _drop_point(sim: TabletopSim, rng: np.random.Generator, lines: list[tuple[np.ndarray, np.ndarray]],
                    tries: int = 200) -> np.ndarray:
        """Where the rope is dropped: clear of the workspace edges and of the outline's lines."""
        ws = sim.perception.workspace
        lo = np.array([ws.x_min, ws.y_min]) + DROP_CLEARANCE
        hi = np.array([ws.x_max, ws.y_max]) - DROP_CLEARANCE
        for _ in range(tries):
            xy = rng.uniform(lo, hi)
            if all(_segment_distance(xy, p, q) > DROP_CLEARANCE + LINE_WIDTH / 2 for p, q in lines):
                return xy
        raise TaskError(f"no place to drop the rope after {tries} tries")

    @staticmethod
    def _add_rope(sim: TabletopSim, xy: np.ndarray, spacing: float) -> list[int]:
        """A column of beads above ``xy``, each hung ``spacing`` above the previous one's centre (in the
        previous bead's frame) by a point-to-point constraint, as the reference builds its cable."""
        b = sim.bullet
        shape = b.createCollisionShape(b.GEOM_BOX, halfExtents=[RADIUS] * 3)
        ends = b.createVisualShape(b.GEOM_SPHERE, radius=RADIUS * 1.5, rgbaColor=[*BEAD_RGB, 1])
        inner = b.createVisualShape(b.GEOM_SPHERE, radius=RADIUS * 1.5, rgbaColor=[*INNER_BEAD_RGB, 1])
        beads: list[int] = []
        z = 0.05  # the reference's drop pose is half its 10 cm probe box above the table
        for k in range(N_BEADS):
            z += spacing
            visual = inner if 0 < k < N_BEADS - 1 else ends
            bead = b.createMultiBody(BEAD_MASS, shape, visual, basePosition=[xy[0], xy[1], z])
            if beads:
                link = b.createConstraint(beads[-1], -1, bead, -1, b.JOINT_POINT2POINT, [0, 0, 0],
                                          parentFramePosition=[0, 0, spacing], childFramePosition=[0, 0, 0])
                b.changeConstraint(link, maxForce=LINK_FORCE)
            beads.append(sim._register(bead, graspable=True))
        return beads

    def oracle(self, sim: TabletopSim) -> PickPlace | None:
        """Move the bead farthest from its place onto it, as the reference, with every bead's place taken
        from one end of the line.

        The reference lets each bead pick the nearer of its two places (k or n-1-k) on its own; when
        neighbours pick opposite ends, dragging one pulls the placed beads off the line, and 2 of the
        first 50 test scenes ran out of steps that way. Here the end is the one that more beads already
        lie at (ties: the smaller summed distance), so every move agrees with the beads in place. A bead
        lying under another is passed over (the cup would come down on, and drag, the one on top); the
        topmost bead of a heap is never covered, so there is always one to move.
        """
        goal = self.current_goal(sim)
        if not isinstance(goal, RopeGoal):
            return None
        n = len(goal.objects)
        xy = np.array([sim.pose(bead)[0][:2] for bead in goal.objects])
        targets = np.array([np.asarray(t[0])[:2] for t in goal.targets])
        forward = np.linalg.norm(xy - targets, axis=1)
        backward = np.linalg.norm(xy - targets[::-1], axis=1)
        score = [(int(np.sum(d < goal.tolerance)), -float(np.sum(d))) for d in (forward, backward)]
        dist, order = (forward, range(n)) if score[0] >= score[1] else (backward, range(n - 1, -1, -1))
        if dist.max() < goal.tolerance:
            return None
        tops = np.array([self.pick_height(sim, bead) for bead in goal.objects])
        # A bead under another is not what the cup would hold: take the farthest one with nothing on top.
        k = next(k for k in np.argsort(-dist, kind="stable") if not _covered(k, xy, tops))
        j = list(order)[k]
        pos, _ = sim.pose(goal.objects[k])
        top = float(tops[k])
        place = np.asarray(goal.targets[j][0], dtype=float) + np.array([0.0, 0.0, top - pos[2]])
        return PickPlace((float(pos[0]), float(pos[1]), top), tuple(float(v) for v in place))


def _covered(k: int, xy: np.ndarray, tops: np.ndarray) -> bool:
    """Whether another bead's top lies above bead ``k``'s within reach of the cup coming down on ``k``."""
    near = np.linalg.norm(xy - xy[k], axis=1) < COVER_DISTANCE
    near[k] = False
    return bool(np.any(near & (tops > tops[k] + COVER_HEIGHT)))


def _segment_distance(xy: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
    """Distance (m) from the point ``xy`` to the segment ``p``-``q``."""
    d = q - p
    t = float(np.clip(np.dot(xy - p, d) / max(float(np.dot(d, d)), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(xy - (p + t * d)))
