"""A task running in the simulator: reset by seed, observe, step with a pick-and-place, score."""

from __future__ import annotations

from dataclasses import dataclass

from cliport_ros.execution.actions import PickPlace
from cliport_ros.perception.heightmap import Heightmap, RGBDView
from cliport_ros.sim.config import SimConfig
from cliport_ros.sim.motion import SimMotion
from cliport_ros.sim.scene import TabletopSim
from cliport_ros.sim.tasks import Task, make_task


@dataclass(frozen=True)
class Observation:
    """What a policy sees: the three camera views, their fused heightmap and the instruction."""

    views: list[RGBDView]
    heightmap: Heightmap
    language: str


@dataclass(frozen=True)
class StepResult:
    observation: Observation
    reward: float  # reward gained by this step
    total_reward: float
    done: bool
    executed: bool  # the arm carried the object to the place point (a push: the whole stroke ran)


class Environment:
    """One task in one simulator; ``reset(seed)`` then ``step(action)`` until ``done``."""

    def __init__(self, task: str | Task, sim: TabletopSim | None = None, config: SimConfig | None = None) -> None:
        self.task = make_task(task) if isinstance(task, str) else task
        self.sim = sim or TabletopSim(config)
        self.motion = SimMotion(self.sim)
        self._observation: Observation | None = None  # the last one rendered: what a step's plan is checked against
        self.seed: int | None = None
        self.steps = 0
        self.total_reward = 0.0

    def close(self) -> None:
        self.sim.close()

    def reset(self, seed: int) -> Observation:
        self._observation = None
        self.task.reset(self.sim, seed)
        self.seed = seed
        self.steps = 0
        self.total_reward = self.task.update(self.sim)
        return self.observe()

    def observe(self) -> Observation:
        views = self.sim.observe()
        self._observation = Observation(views, self.sim.heightmap(views), self.task.language(self.sim))
        return self._observation

    def oracle(self) -> PickPlace | None:
        return self.task.oracle(self.sim)

    def step(self, action: PickPlace) -> StepResult:
        if self.seed is None:
            raise RuntimeError("call reset(seed) before step()")
        executed = self.execute(action, self._observation.heightmap if self._observation else None)
        self.steps += 1
        total = self.task.update(self.sim)
        gained, self.total_reward = total - self.total_reward, total
        done = self.task.done(self.sim) or self.steps >= self.task.max_steps
        return StepResult(self.observe(), gained, total, done, executed)

    def execute(self, action: PickPlace, heightmap: Heightmap | None = None) -> bool:
        """Carry out ``action`` as the product's executor would (the task's planner settings, checked against
        ``heightmap`` when there is one), without scoring."""
        return self.motion.execute(action, self.task.planner_config(), heightmap)

    def run_oracle(self) -> float:
        """Play the oracle to the end of the episode (no observations rendered); return the score in [0, 1]."""
        while self.steps < self.task.max_steps and not self.task.done(self.sim):
            action = self.oracle()
            if action is None:
                break
            self.execute(action)
            self.steps += 1
            self.task.update(self.sim)
        self.total_reward = self.task.reward(self.sim)
        return self.total_reward
