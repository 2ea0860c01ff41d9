"""Policy rollouts in the simulator, scored as the reference scores them (summed reward x 100)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cliport_ros.decision.policy import Decision, OraclePolicy, Policy, Reason, RefusedError, oracle_decision
from cliport_ros.instruction import load_templates, rephrase, template_fields
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


def paper_score(task: str, demos: int | None) -> str:
    """The paper's score at ``demos`` demonstrations, or at the counts on either side of it ('-' if none)."""
    scores = PAPER_SCORES.get(task, {})
    if demos in scores:
        return f"{scores[demos]:.1f} ({demos})"
    if demos is None or not scores:
        return "-"
    near = [n for n in (max((n for n in scores if n < demos), default=None),
                        min((n for n in scores if n > demos), default=None)) if n is not None]
    return " / ".join(f"{scores[n]:.1f} ({n})" for n in near)


def save_result(result: EvalResult, checkpoint: str | Path, demos: int | None) -> Path:
    """Store a score beside its checkpoint, for ``cliport eval --table`` (one file per task, split and wording)."""
    wording = f"-{Path(result.wording).stem}" if result.wording else ""
    path = Path(f"{checkpoint}.eval-{result.task}-{result.split}{wording}.json")
    path.write_text(json.dumps({"task": result.task, "split": result.split, "episodes": len(result.scores),
                                "score": result.mean, "demos": demos, "checkpoint": Path(checkpoint).name,
                                "wording": Path(result.wording).name if result.wording else None}, indent=1))
    return path


def results_table(*roots: str | Path) -> str:
    """Markdown: every stored score under ``roots`` beside the paper's at the same number of demos.

    The paper's numbers are for the task's own wording; a row with other wording (``--instructions``) says which.
    """
    rows = ["| task | split | demos | episodes | wording | score | paper (demos) | checkpoint |",
            "|---|---|---|---|---|---|---|---|"]
    paths = sorted({p.resolve() for root in roots if Path(root).exists() for p in Path(root).rglob("*.eval-*.json")})
    for path in paths:
        r = json.loads(path.read_text())
        paper = paper_score(r["task"], r["demos"])
        wording = r.get("wording") or "the task's own"
        rows.append(f"| {r['task']} | {r['split']} | {r['demos'] if r['demos'] is not None else '?'} | "
                    f"{r['episodes']} | {wording} | {r['score']:.1f} | "
                    f"{paper} | {path.parent / r['checkpoint']} |")
    return "\n".join(rows)


@dataclass(frozen=True)
class EvalResult:
    task: str
    split: str
    scores: list[float]  # per episode, 0..100
    wording: str | None = None  # the instruction-template file, if the task's own sentences were replaced

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores)) if self.scores else 0.0


def env_oracle(env: Environment) -> OraclePolicy:
    """The task's scripted expert on ``env`` as a Policy (it ignores the heightmap and reads true poses)."""
    def ask(instruction: str) -> Decision:
        action = env.oracle()
        if action is None:
            raise RefusedError(Reason.INVALID_INSTRUCTION, f"oracle: nothing left to do for '{instruction}'")
        return oracle_decision(action, env.sim.perception.workspace)

    return OraclePolicy(ask)


def rollout(policy: Policy, env: Environment, seed: int, template: str | None = None) -> float:
    """One episode; returns its summed reward in [0, 1]. With ``template``, every instruction of the
    episode is reworded by it (the same goal fields) before the policy reads it. A refused decision ends
    the episode (nothing moves, as on the robot)."""
    obs = env.reset(seed)
    done = False
    while not done:
        language = rephrase(obs.language, env.task.template, template) if template else obs.language
        try:
            decision = policy.decide(obs.heightmap, language)
        except RefusedError:
            break
        result = env.step(decision.action)
        obs, done = result.observation, result.done
    return env.total_reward


def evaluate(policy: Policy | None, task: str, episodes: int, split: str = "test",
             env: Environment | None = None, progress: bool = True, instructions: str | None = None) -> EvalResult:
    """Score ``episodes`` episodes of ``split`` (``policy`` None: the task's oracle); ``instructions``: a file of
    templates, one drawn per episode (seeded by the episode's seed) to reword its instructions, so robustness
    to wording is measured."""
    own = env is None
    env = env or Environment(task)
    policy = policy or env_oracle(env)
    scores = []
    try:
        templates = None
        if instructions:
            if not env.task.template:
                raise ValueError(f"task {task} declares no instruction template, so it cannot be reworded")
            templates = load_templates(instructions, template_fields(env.task.template))
        seeds = [s for s, _ in zip(seeds_for(split), range(episodes), strict=False)]
        with tqdm(seeds, desc=f"eval {task} {split}", disable=not progress) as bar:
            for seed in bar:
                template = templates[np.random.default_rng(seed).integers(len(templates))] if templates else None
                scores.append(100.0 * rollout(policy, env, seed, template))
                bar.set_postfix(score=f"{np.mean(scores):.1f}")
    finally:
        if own:
            env.close()
    return EvalResult(task, split, scores, instructions)
