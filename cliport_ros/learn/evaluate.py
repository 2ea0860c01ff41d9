"""Policy rollouts in the simulator, scored as the reference scores them (summed reward x 100)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from cliport_ros.execution.actions import action_from_pixels
from cliport_ros.model.policy import CLIPortPolicy
from cliport_ros.sim.env import Environment
from cliport_ros.sim.tasks.base import seeds_for


@dataclass(frozen=True)
class EvalResult:
    task: str
    split: str
    scores: list[float]  # per episode, 0..100

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores)) if self.scores else 0.0


def rollout(policy: CLIPortPolicy, env: Environment, seed: int) -> float:
    """One episode; returns its summed reward in [0, 1]."""
    obs = env.reset(seed)
    done = False
    while not done:
        decision = policy.act(obs.heightmap, obs.language)
        action = action_from_pixels(obs.heightmap, decision.pick_pixel, decision.place_pixel, decision.rotation)
        result = env.step(action)
        obs, done = result.observation, result.done
    return env.total_reward


def evaluate(policy: CLIPortPolicy, task: str, episodes: int, split: str = "test",
             env: Environment | None = None, progress: bool = True) -> EvalResult:
    own = env is None
    env = env or Environment(task)
    scores = []
    try:
        seeds = [s for s, _ in zip(seeds_for(split), range(episodes), strict=False)]
        for seed in tqdm(seeds, desc=f"eval {task} {split}", disable=not progress):
            scores.append(100.0 * rollout(policy, env, seed))
    finally:
        if own:
            env.close()
    return EvalResult(task, split, scores)
