"""``cliport collect``: oracle demonstrations for one task and split, resumable."""

from __future__ import annotations

import logging

import numpy as np
from tqdm import tqdm

from cliport_ros.demonstrations import Episode, episode_path, list_episodes, save_episode
from cliport_ros.sim.config import CollectConfig, SimConfig
from cliport_ros.sim.env import Environment
from cliport_ros.sim.tasks.base import TaskError, seeds_for

log = logging.getLogger(__name__)


def record_episode(env: Environment, seed: int) -> Episode | None:
    """Play the oracle from ``seed`` while recording; None unless it completes the task."""
    obs = env.reset(seed)
    ws = obs.heightmap.workspace
    steps: list[dict] = []
    done = False
    while not done:
        action = env.oracle()
        if action is None:
            break
        result = env.step(action)
        steps.append({
            "color": obs.heightmap.color, "height": obs.heightmap.height, "language": obs.language,
            "action": action, "reward": result.reward,
        })
        obs, done = result.observation, result.done
    if not steps or env.total_reward <= 0.99:
        return None
    actions = [s["action"] for s in steps]
    pick = np.array([a.pick_xyz for a in actions])
    place = np.array([a.place_xyz for a in actions])
    return Episode(
        task=env.task.name, seed=seed, workspace=ws,
        color=np.stack([s["color"] for s in steps]), height=np.stack([s["height"] for s in steps]),
        pick_xyz=pick, place_xyz=place,
        pick_yaw=np.array([a.pick_yaw for a in actions]), place_yaw=np.array([a.place_yaw for a in actions]),
        pick_pix=ws.xyz_to_pix(pick), place_pix=ws.xyz_to_pix(place),
        rotation=np.array([a.rotation for a in actions]),
        reward=np.array([s["reward"] for s in steps]), language=[s["language"] for s in steps],
    )


def collect(cfg: CollectConfig) -> dict[str, int]:
    """Collect until ``cfg.n`` successful episodes exist in ``cfg.directory``; resumes a partial run."""
    directory = cfg.directory
    directory.mkdir(parents=True, exist_ok=True)
    failed_file = directory / "failed_seeds.txt"
    failed = {int(s) for s in failed_file.read_text().split()} if failed_file.exists() else set()
    have = len(list_episodes(directory))
    env = Environment(cfg.task, config=SimConfig(arm=cfg.arm, depth_model=cfg.depth_model))
    rejected = 0
    try:
        with tqdm(total=cfg.n, initial=min(have, cfg.n), desc=f"{cfg.task} {cfg.split}", unit="ep") as bar:
            for seed in seeds_for(cfg.split):
                if have >= cfg.n:
                    break
                if seed in failed or episode_path(directory, seed).exists():
                    continue
                try:
                    episode = record_episode(env, seed)
                except TaskError as err:
                    log.debug("seed %d: %s", seed, err)
                    episode = None
                if episode is None:
                    rejected += 1
                    with failed_file.open("a") as f:
                        f.write(f"{seed}\n")
                    continue
                save_episode(directory, episode)
                have += 1
                bar.update(1)
                bar.set_postfix(rejected=rejected)
    finally:
        env.close()
    return {"episodes": have, "rejected": rejected}
