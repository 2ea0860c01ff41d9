"""Simulator speed: three-camera render rate and seconds per oracle episode per task."""

from __future__ import annotations

import time

import numpy as np

from cliport_ros.bench.config import SimBenchConfig
from cliport_ros.sim.config import SimConfig
from cliport_ros.sim.env import Environment
from cliport_ros.sim.tasks import TASKS
from cliport_ros.sim.tasks.base import seeds_for


def run(cfg: SimBenchConfig) -> list[dict]:
    rows = []
    for name in sorted(n for n, task in TASKS.items() if cfg.arm in task.arms):
        env = Environment(name, config=SimConfig(arm=cfg.arm))
        try:
            seeds = seeds_for("test")
            env.reset(next(seeds))
            start = time.perf_counter()
            for _ in range(cfg.renders):
                env.sim.observe()
            render_s = (time.perf_counter() - start) / cfg.renders
            episode_s, scores = [], []
            for _, seed in zip(range(cfg.episodes), seeds, strict=False):
                start = time.perf_counter()
                env.reset(seed)
                scores.append(env.run_oracle())
                episode_s.append(time.perf_counter() - start)
        finally:
            env.close()
        rows.append({
            "task": name, "render_hz": 1.0 / render_s, "episode_s": float(np.mean(episode_s)),
            "oracle_score": 100.0 * float(np.mean(scores)), "episodes": cfg.episodes,
        })
    return rows


def print_table(rows: list[dict]) -> None:
    print("| task | 3-camera renders / s | s per oracle episode (no rendering) | oracle score | episodes |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['task']} | {r['render_hz']:.2f} | {r['episode_s']:.2f} | {r['oracle_score']:.1f} "
              f"| {r['episodes']} |")
