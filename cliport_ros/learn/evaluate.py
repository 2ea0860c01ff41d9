"""Policy rollouts in the simulator, scored as the reference scores them (summed reward x 100)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cliport_ros.execution.actions import action_from_pixels
from cliport_ros.model.policy import CLIPortPolicy
from cliport_ros.sim.env import Environment
from cliport_ros.sim.tasks.base import seeds_for

# CLIPort's single-task success (%) by number of training demos (paper, Table 1; DESIGN.md section 4).
PAPER_SCORES: dict[str, dict[int, float]] = {
    "put-block-in-bowl-seen-colors": {1: 23.5, 10: 68.3, 100: 92.5, 1000: 100.0},
    "put-block-in-bowl-unseen-colors": {1: 18.0, 10: 35.3, 100: 37.3, 1000: 25.0},
    "stack-block-pyramid-seq": {1: 28.3, 10: 64.7, 100: 93.3, 1000: 98.8},
    "towers-of-hanoi-seq": {1: 59.4, 10: 92.9, 100: 97.4, 1000: 100.0},
    "packing-boxes-pairs-seen-colors": {1: 51.6, 10: 82.9, 100: 92.7, 1000: 98.2},
    "assembling-kits-seq-seen-colors": {1: 12.2, 10: 17.8, 100: 47.0, 1000: 66.6},
    "separating-piles-seen-colors": {1: 54.5, 10: 59.5, 100: 93.1, 1000: 98.0},
    "align-rope": {1: 20.1, 10: 77.4, 100: 85.6, 1000: 95.4},
    "packing-shapes": {1: 21.0, 10: 26.0, 100: 40.0, 1000: 37.0},
}


def save_result(result: EvalResult, checkpoint: str | Path, demos: int | None) -> Path:
    """Store a score beside its checkpoint, for ``cliport eval --table``."""
    path = Path(f"{checkpoint}.eval-{result.task}-{result.split}.json")
    path.write_text(json.dumps({"task": result.task, "split": result.split, "episodes": len(result.scores),
                                "score": result.mean, "demos": demos, "checkpoint": str(checkpoint)}, indent=1))
    return path


def results_table(root: str | Path) -> str:
    """Markdown: every stored score under ``root`` beside the paper's at the same number of demos."""
    rows = ["| task | split | demos | episodes | score | paper (same demos) | checkpoint |",
            "|---|---|---|---|---|---|---|"]
    for path in sorted(Path(root).rglob("*.eval-*.json")):
        r = json.loads(path.read_text())
        paper = PAPER_SCORES.get(r["task"], {}).get(r["demos"])
        rows.append(f"| {r['task']} | {r['split']} | {r['demos'] if r['demos'] is not None else '?'} | "
                    f"{r['episodes']} | {r['score']:.1f} | {f'{paper:.1f}' if paper is not None else '-'} | "
                    f"{r['checkpoint']} |")
    return "\n".join(rows)


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
        with tqdm(seeds, desc=f"eval {task} {split}", disable=not progress) as bar:
            for seed in bar:
                scores.append(100.0 * rollout(policy, env, seed))
                bar.set_postfix(score=f"{np.mean(scores):.1f}")
    finally:
        if own:
            env.close()
    return EvalResult(task, split, scores)
