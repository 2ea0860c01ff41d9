"""The task interface (ravens ``tasks/task.py`` hooks, ManiSkill-style registry) and reference scoring."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from cliport_ros.execution.actions import PickPlace, wrap_angle
from cliport_ros.execution.planner import PlannerConfig
from cliport_ros.sim.colors import SPLITS, colors_for
from cliport_ros.sim.scene import TabletopSim

TASKS: dict[str, type[Task]] = {}


class TaskError(RuntimeError):
    """A scene the task could not build (e.g. no free space); the episode is skipped."""


def register_task(name: str) -> Callable[[type[Task]], type[Task]]:
    def decorate(cls: type[Task]) -> type[Task]:
        if name in TASKS:
            raise ValueError(f"task {name!r} is registered twice")
        cls.name = name
        TASKS[name] = cls
        return cls

    return decorate


def make_task(name: str) -> Task:
    """A new task instance by registered name; an unknown name lists the known ones."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}")
    return TASKS[name]()


def split_of_seed(seed: int) -> str:
    """The reference's seed split: train even, val odd below 10001, test odd from 10001."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if seed % 2 == 0:
        return "train"
    return "val" if seed < 10001 else "test"


def seeds_for(split: str, start: int = 0):
    """Seeds of ``split`` in order, from the ``start``-th one."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    first = {"train": 0, "val": 1, "test": 10001}[split]
    seed = first + 2 * start
    while split != "val" or seed < 10001:
        yield seed
        seed += 2


@dataclass
class Goal:
    """Objects that must each rest on a distinct target; worth ``weight`` of the episode's reward.

    A target is (xyz, yaw). An object counts when its position is within
    ``tolerance`` metres of a free target — in 3-D when ``check_z`` (stacks,
    pegs), else in the table plane (bowls) — and, if ``yaw_tolerance`` is set,
    its yaw within that many radians modulo ``yaw_symmetry``.
    """

    objects: Sequence[int]
    targets: Sequence[tuple[np.ndarray, float]]
    weight: float
    language: str
    tolerance: float = 0.01
    yaw_tolerance: float | None = None
    yaw_symmetry: float = 2 * math.pi
    check_z: bool = False

    def matches(self, sim: TabletopSim) -> list[tuple[int, int]]:
        """Greedy (object, target index) pairs currently satisfied, each target used once."""
        used: set[int] = set()
        pairs = []
        for obj in self.objects:
            pos, yaw = sim.pose(obj)
            for k, (target_xyz, target_yaw) in enumerate(self.targets):
                axes = 3 if self.check_z else 2
                if k in used or np.linalg.norm(pos[:axes] - np.asarray(target_xyz)[:axes]) > self.tolerance:
                    continue
                if self.yaw_tolerance is not None:
                    diff = abs(wrap_angle(yaw - target_yaw, self.yaw_symmetry))
                    if diff > self.yaw_tolerance:
                        continue
                used.add(k)
                pairs.append((obj, k))
                break
        return pairs

    def progress(self, sim: TabletopSim) -> float:
        """Fraction of the objects in place, [0, 1]."""
        return len(self.matches(sim)) / len(self.objects)


class Task(ABC):
    """Base of every task. Subclasses document *Task / Randomisation / Success* and implement ``build``."""

    name: str = ""
    sequential: bool = False  # goals must be met in order (the -seq tasks)
    arms: tuple[str, ...] = ("ur5", "franka")  # arms the task and its oracle are built for
    tool: str | None = None  # end effector to mount instead of the arm's own (``arm_profile``), e.g. "spatula"
    # How the arm carries out an action (``execution/planner.py``): a pick-and-place, or a push with the
    # spatula ``tool``; ``planner`` holds the task's PlannerConfig overrides (e.g. a rope is carried low).
    planner: ClassVar[dict[str, float]] = {}
    template: str = ""  # how the task words its instructions, e.g. "put the {pick} blocks in a {place} bowl"

    def __init__(self) -> None:
        self.goals: list[Goal] = []
        self.completed = 0  # sub-goals banked, for sequential tasks
        self.max_steps = 1
        self.split = "train"

    # -- hooks ------------------------------------------------------------------------------------
    @abstractmethod
    def build(self, sim: TabletopSim, rng: np.random.Generator) -> None:
        """Create the scene's objects and ``self.goals``; set ``self.max_steps``."""

    def planner_config(self, base: PlannerConfig | None = None) -> PlannerConfig:
        """``base`` (default: the planner's defaults) with this task's overrides."""
        return replace(base or PlannerConfig(), **self.planner)

    # -- shared behaviour ---------------------------------------------------------------------------
    def reset(self, sim: TabletopSim, seed: int) -> None:
        if sim.config.arm not in self.arms:
            raise ValueError(f"task {self.name!r} runs on the {' or '.join(self.arms)} only, "
                             f"not the {sim.config.arm} (see its docstring)")
        self.split = split_of_seed(seed)
        self.goals = []
        self.completed = 0
        sim.reset(noise_seed=seed, tool=self.tool)
        self.build(sim, np.random.default_rng(seed))
        if not self.goals or not math.isclose(sum(g.weight for g in self.goals), 1.0):
            raise TaskError(f"{self.name}: goal weights must sum to 1")
        sim.settle(0.3)

    def update(self, sim: TabletopSim) -> float:
        """Record sub-goals met since the last call; return the reward. Call after every step.

        Sequential tasks bank each sub-goal once it is met, in order, as the
        reference does: a later move that disturbs an earlier sub-goal (as
        towers of Hanoi must) does not take its reward back.
        """
        if self.sequential:
            while self.completed < len(self.goals) and self.goals[self.completed].progress(sim) >= 1.0:
                self.completed += 1
        return self.reward(sim)

    def reward(self, sim: TabletopSim) -> float:
        """Summed partial reward in [0, 1], as the reference scores it."""
        if not self.sequential:
            return sum(goal.weight * goal.progress(sim) for goal in self.goals)
        banked = sum(goal.weight for goal in self.goals[: self.completed])
        if self.completed < len(self.goals):
            current = self.goals[self.completed]
            banked += current.weight * current.progress(sim)
        return banked

    def current_goal(self, sim: TabletopSim) -> Goal | None:
        if self.sequential:
            return self.goals[self.completed] if self.completed < len(self.goals) else None
        for goal in self.goals:
            if goal.progress(sim) < 1.0:
                return goal
        return None

    def language(self, sim: TabletopSim) -> str:
        """The instruction for the next step (the first unmet goal's)."""
        goal = self.current_goal(sim)
        return (goal or self.goals[-1]).language

    def done(self, sim: TabletopSim) -> bool:
        return self.reward(sim) > 0.99

    def oracle(self, sim: TabletopSim) -> PickPlace | None:
        """The scripted expert: move one misplaced object of the current goal to a free target."""
        goal = self.current_goal(sim)
        if goal is None:
            return None
        matched = goal.matches(sim)
        done_objects = {o for o, _ in matched}
        free = [k for k in range(len(goal.targets)) if k not in {t for _, t in matched}]
        for obj in goal.objects:
            if obj in done_objects:
                continue
            pos, yaw = sim.pose(obj)
            top = self.pick_height(sim, obj)
            # nearest free target keeps moves short and deterministic
            k = min(free, key=lambda i: np.linalg.norm(np.asarray(goal.targets[i][0])[:2] - pos[:2]))
            target_xyz, target_yaw = goal.targets[k]
            place_yaw = yaw if goal.yaw_tolerance is None else yaw + self.turn(yaw, target_yaw, goal.yaw_symmetry)
            place = np.asarray(target_xyz, dtype=float) + np.array([0.0, 0.0, top - pos[2]])
            return PickPlace((float(pos[0]), float(pos[1]), top), tuple(place), pick_yaw=yaw, place_yaw=place_yaw)
        return None

    @staticmethod
    def turn(yaw: float, target_yaw: float, symmetry: float) -> float:
        """Smallest rotation taking ``yaw`` to ``target_yaw`` modulo ``symmetry``."""
        return wrap_angle(target_yaw - yaw, symmetry)

    @staticmethod
    def pick_height(sim: TabletopSim, body: int) -> float:
        """z of the top of a body's bounding box."""
        return float(sim.bullet.getAABB(body)[1][2])


def sample_colors(rng: np.random.Generator, split: str, n: int, unseen: bool = False) -> list[str]:
    """``n`` distinct colour names from the split's palette."""
    palette = list(colors_for(split, unseen))
    return [palette[i] for i in rng.choice(len(palette), n, replace=False)]


def sample_fixture(rng: np.random.Generator, sim: TabletopSim, radius: float,
                   taken: list) -> tuple[np.ndarray, float, Callable[[Sequence[float]], np.ndarray]]:
    """A free position and random yaw for a fixed stand; returns (centre, yaw, local xy -> world xy)."""
    centre = sample_free_xy(rng, sim, radius, taken)
    yaw = float(rng.uniform(0, 2 * math.pi))
    rot = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])

    def to_world(local: Sequence[float]) -> np.ndarray:
        return centre + rot @ np.asarray(local[:2], dtype=float)

    return centre, yaw, to_world


def sample_free_xy(rng: np.random.Generator, sim: TabletopSim, radius: float,
                   taken: list[tuple[np.ndarray, float]], margin: float = 0.02, tries: int = 200) -> np.ndarray:
    """A position for an object of footprint ``radius`` inside the workspace, clear of ``taken`` (xy, radius).

    It also stays within the arm's reach (the Franka cannot reach the far
    corners of the Ravens workspace).
    """
    ws = sim.perception.workspace
    reach, min_reach = sim.arm.profile.reach, sim.arm.profile.min_reach
    lo = np.array([ws.x_min + radius + margin, ws.y_min + radius + margin])
    hi = np.array([ws.x_max - radius - margin, ws.y_max - radius - margin])
    for _ in range(tries):
        xy = rng.uniform(lo, hi)
        if not min_reach + radius <= np.linalg.norm(xy) <= reach - radius:
            continue
        if all(np.linalg.norm(xy - other) > radius + r + margin for other, r in taken):
            taken.append((xy, radius))
            return xy
    raise TaskError(f"no free space for an object of radius {radius} m after {tries} tries")
