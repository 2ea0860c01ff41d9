"""Training samples from demonstration episodes: (heightmap, language, pick, place, rotation bin)."""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from cliport_ros.demonstrations import Episode, list_episodes, load_episode
from cliport_ros.learn.augment import perturb


def rotation_bin(rotation: float, n_rotations: int) -> int:
    """Nearest of ``n_rotations`` bins for a rotation in radians (bin r is r * 2 pi / n)."""
    return round((rotation % (2 * math.pi)) / (2 * math.pi / n_rotations)) % n_rotations


def load_episodes(directory: str | Path, limit: int | None = None) -> list[Episode]:
    paths = list_episodes(Path(directory))
    if not paths:
        raise FileNotFoundError(f"no episodes in {directory}; run `cliport collect` first")
    return [load_episode(p) for p in paths[:limit]]


def to_device(batch: dict, device: torch.device) -> dict:
    """A collated batch with its tensors on ``device`` (the language strings stay)."""
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


class DemoSampler:
    """Draws random (episode, step) samples, SE(2)-augmented, collated into a training batch."""

    def __init__(self, episodes: Sequence[Episode], n_rotations: int, augment: bool = True, seed: int = 0) -> None:
        self.steps = [(e, t) for e in episodes for t in range(len(e))]
        if not self.steps:
            raise ValueError("no demonstration steps to train on")
        self.n_rotations = n_rotations
        self.augment = augment
        self.rng = np.random.default_rng(seed)

    def sample(self) -> dict:
        episode, t = self.steps[int(self.rng.integers(len(self.steps)))]
        color, height = episode.color[t], episode.height[t]
        pixels = np.stack([episode.pick_pix[t], episode.place_pix[t]])
        if self.augment:
            color, height, pixels, _ = perturb(color, height, pixels, self.rng)
        rgbd = np.concatenate([color.astype(np.float32) / 255.0, height[..., None].astype(np.float32)], axis=-1)
        return {
            "rgbd": torch.from_numpy(np.ascontiguousarray(rgbd.transpose(2, 0, 1))),
            "pick_pixel": torch.from_numpy(pixels[0].astype(np.int64)),
            "place_pixel": torch.from_numpy(pixels[1].astype(np.int64)),
            "rotation_bin": torch.tensor(rotation_bin(float(episode.rotation[t]), self.n_rotations)),
            "language": episode.language[t],
        }

    def batch(self, size: int) -> dict:
        samples = [self.sample() for _ in range(size)]
        out = {k: torch.stack([s[k] for s in samples]) for k in ("rgbd", "pick_pixel", "place_pixel", "rotation_bin")}
        out["language"] = [s["language"] for s in samples]
        return out


class Batches:
    """Training batches on ``device``, drawn from a sampler in order.

    With ``background`` (for GPUs) a thread draws and augments the next ``depth`` batches and pins them,
    so a step never waits on the CPU; without it each batch is drawn when asked for (on a CPU the
    thread would only take cycles from the step). Either way the sequence is the sampler's own.
    """

    def __init__(self, sampler: DemoSampler, batch_size: int, device: torch.device, background: bool,
                 depth: int = 2) -> None:
        self.sampler, self.batch_size, self.device = sampler, batch_size, device
        self._queue: queue.Queue | None = None
        self._stop = threading.Event()
        if background:
            self._queue = queue.Queue(maxsize=depth)
            self._thread = threading.Thread(target=self._fill, name="batches", daemon=True)
            self._thread.start()

    def _draw(self) -> dict:
        batch = self.sampler.batch(self.batch_size)
        if self.device.type == "cuda":
            batch = {k: v.pin_memory() if torch.is_tensor(v) else v for k, v in batch.items()}
        return batch

    def _fill(self) -> None:
        while not self._stop.is_set():
            batch = self._draw()
            while not self._stop.is_set():
                try:
                    self._queue.put(batch, timeout=0.1)
                    break
                except queue.Full:
                    continue

    def next(self) -> dict:
        batch = self._queue.get() if self._queue is not None else self._draw()
        return to_device(batch, self.device)

    def close(self) -> None:
        self._stop.set()
        if self._queue is not None:
            self._thread.join(timeout=5)
