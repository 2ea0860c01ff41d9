"""Training data: augmentation keeps labels on their objects; rotation labels bin correctly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cliport_ros.learn.augment import perturb
from cliport_ros.learn.data import rotation_bin
from cliport_ros.learn.dataset import Episode
from cliport_ros.perception.workspace import Workspace

WS = Workspace(0.25, 0.35, -0.1, 0.1, 0.0, 0.28, 0.003125)  # 64 rows x 32 cols


def synthetic_episode(seed: int) -> Episode:
    """A red block (pick) and a green ring (place) at random spots; rotation label bin 2 of 8."""
    rng = np.random.default_rng(seed)
    rows, cols = WS.shape
    color = np.full((rows, cols, 3), 60, np.uint8)
    height = np.zeros((rows, cols), np.float32)
    pick = np.array([rng.integers(8, rows - 8), rng.integers(6, cols - 6)])
    while True:
        place = np.array([rng.integers(8, rows - 8), rng.integers(6, cols - 6)])
        if np.abs(place - pick).max() > 10:
            break
    color[pick[0] - 3 : pick[0] + 4, pick[1] - 3 : pick[1] + 4] = (220, 40, 40)
    height[pick[0] - 3 : pick[0] + 4, pick[1] - 3 : pick[1] + 4] = 0.04
    color[place[0] - 5 : place[0] + 6, place[1] - 5 : place[1] + 6] = (40, 200, 40)
    height[place[0] - 5 : place[0] + 6, place[1] - 5 : place[1] + 6] = 0.01
    xyz = WS.pix_to_xyz(np.stack([pick, place]))
    return Episode("synthetic", seed, WS, color[None], height[None], xyz[:1], xyz[1:], np.zeros(1),
                   np.array([math.pi / 2]), pick[None], place[None], np.array([math.pi / 2]), np.ones(1),
                   ["put the red block in the green bowl"])


def test_augmentation_moves_labels_with_the_image():
    episode = synthetic_episode(0)
    rng = np.random.default_rng(1)
    for _ in range(10):
        color, height, pixels, _ = perturb(episode.color[0], episode.height[0],
                                           np.stack([episode.pick_pix[0], episode.place_pix[0]]), rng)
        (pr, pc), (qr, qc) = pixels
        assert height[pr, pc] == pytest.approx(0.04) and tuple(color[pr, pc]) == (220, 40, 40)
        assert height[qr, qc] == pytest.approx(0.01) and tuple(color[qr, qc]) == (40, 200, 40)


def test_rotation_bins_round_to_the_nearest():
    assert rotation_bin(0.0, 36) == 0
    assert rotation_bin(math.radians(11), 36) == 1
    assert rotation_bin(-math.radians(10), 36) == 35
    assert rotation_bin(math.pi, 8) == 4
