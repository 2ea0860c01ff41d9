"""On-disk demonstrations: one compressed ``.npz`` per episode.

Layout of ``<dir>/<seed:06d>.npz`` (T = steps in the episode):

| key | shape, dtype | meaning |
|---|---|---|
| color | (T, rows, cols, 3) uint8 | fused colormap before each step |
| height | (T, rows, cols) float16 | fused heightmap before each step, metres above z_min |
| pick_xyz, place_xyz | (T, 3) float32 | the oracle's action, metres, robot base frame |
| pick_yaw, place_yaw | (T,) float32 | tool yaw at pick / place, radians |
| pick_pix, place_pix | (T, 2) int32 | the action's heightmap pixels (row, col) |
| rotation | (T,) float32 | place_yaw - pick_yaw wrapped to (-pi, pi] |
| reward | (T,) float32 | reward gained by each step |
| language | (T,) str | the instruction at each step |
| seed, task, bounds | scalars | episode seed, task name, workspace (x/y/z min/max, pixel size) |

Only episodes the oracle completed are written, so a directory is always a
clean training set. ``failed_seeds.txt`` lists seeds tried and rejected, so
an interrupted collection resumes where it stopped.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cliport_ros.perception.workspace import Workspace


@dataclass
class Episode:
    task: str
    seed: int
    workspace: Workspace
    color: np.ndarray
    height: np.ndarray
    pick_xyz: np.ndarray
    place_xyz: np.ndarray
    pick_yaw: np.ndarray
    place_yaw: np.ndarray
    pick_pix: np.ndarray
    place_pix: np.ndarray
    rotation: np.ndarray
    reward: np.ndarray
    language: list[str]

    def __len__(self) -> int:
        return len(self.language)


def episode_path(directory: Path, seed: int) -> Path:
    return Path(directory) / f"{seed:06d}.npz"


def save_episode(directory: Path, episode: Episode) -> Path:
    """Write atomically (temp file + rename): a killed collection never leaves half an episode."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ws = episode.workspace
    arrays = {
        "color": episode.color.astype(np.uint8),
        "height": episode.height.astype(np.float16),
        "pick_xyz": episode.pick_xyz.astype(np.float32),
        "place_xyz": episode.place_xyz.astype(np.float32),
        "pick_yaw": episode.pick_yaw.astype(np.float32),
        "place_yaw": episode.place_yaw.astype(np.float32),
        "pick_pix": episode.pick_pix.astype(np.int32),
        "place_pix": episode.place_pix.astype(np.int32),
        "rotation": episode.rotation.astype(np.float32),
        "reward": episode.reward.astype(np.float32),
        "language": np.array(episode.language),
        "seed": np.int64(episode.seed),
        "task": np.array(episode.task),
        "bounds": np.array([ws.x_min, ws.x_max, ws.y_min, ws.y_max, ws.z_min, ws.z_max, ws.pixel_size]),
    }
    final = episode_path(directory, episode.seed)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".npz.part")
    with os.fdopen(fd, "wb") as f:
        np.savez_compressed(f, **arrays)
    os.replace(tmp, final)
    return final


def load_episode(path: Path) -> Episode:
    with np.load(path, allow_pickle=False) as data:
        bounds = data["bounds"]
        return Episode(
            task=str(data["task"]),
            seed=int(data["seed"]),
            workspace=Workspace(*[float(v) for v in bounds]),
            color=data["color"],
            height=data["height"].astype(np.float32),
            pick_xyz=data["pick_xyz"],
            place_xyz=data["place_xyz"],
            pick_yaw=data["pick_yaw"],
            place_yaw=data["place_yaw"],
            pick_pix=data["pick_pix"],
            place_pix=data["place_pix"],
            rotation=data["rotation"],
            reward=data["reward"],
            language=[str(s) for s in data["language"]],
        )


def list_episodes(directory: Path) -> list[Path]:
    return sorted(Path(directory).glob("[0-9]*.npz"))
