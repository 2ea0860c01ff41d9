"""Training: augmentation keeps labels on their objects; a tiny model overfits five demonstrations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cliport_ros.learn.augment import perturb
from cliport_ros.learn.data import DemoSampler, rotation_bin
from cliport_ros.learn.dataset import Episode
from cliport_ros.model.clip_backbone import FrozenCLIP
from cliport_ros.model.config import preset
from cliport_ros.model.policy import CLIPortPolicy
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.workspace import Workspace

WS = Workspace(0.25, 0.35, -0.1, 0.1, 0.0, 0.28, 0.003125)  # 64 rows x 32 cols
TINY = dict(in_shape=WS.shape, crop_size=32, n_rotations=8, clip_weights="random:0",
            spatial_widths=(8, 8, 8, 16, 16, 16), decoder_widths=(16, 16, 8, 8, 8, 8), semantic_bottleneck=16)


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


@pytest.mark.parametrize("streams", [
    "transporter_only",
    pytest.param("two_stream", marks=pytest.mark.slow),  # the frozen CLIP trunk makes each step ~10x dearer
])
def test_tiny_model_overfits_five_demos_to_exact_pixels(streams):
    episodes = [synthetic_episode(s) for s in range(5)]
    torch.manual_seed(0)
    policy = CLIPortPolicy(preset("small", **{**TINY, "streams": streams}), clip=FrozenCLIP("random:0"))
    sampler = DemoSampler(episodes, n_rotations=8, augment=False)
    optimiser = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=3e-3)
    policy.train()
    batch = {k: v for k, v in sampler.batch(1).items()}  # shapes only
    steps = [sampler.steps[i] for i in range(5)]
    full = {
        "rgbd": torch.stack([torch.from_numpy(np.concatenate(
            [e.color[t] / 255.0, e.height[t][..., None]], axis=-1).transpose(2, 0, 1).astype(np.float32))
            for e, t in steps]),
        "pick_pixel": torch.tensor(np.stack([e.pick_pix[t] for e, t in steps])),
        "place_pixel": torch.tensor(np.stack([e.place_pix[t] for e, t in steps])),
        "rotation_bin": torch.tensor([rotation_bin(float(e.rotation[t]), 8) for e, t in steps]),
        "language": [e.language[t] for e, t in steps],
    }
    assert set(batch) == set(full)
    for _ in range(150):
        loss, _ = policy(full)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    for episode in episodes:
        heightmap = Heightmap(episode.color[0], episode.height[0], WS)
        decision = policy.act(heightmap, episode.language[0])
        assert decision.pick_pixel == tuple(episode.pick_pix[0])
        assert decision.place_pixel == tuple(episode.place_pix[0])
        assert decision.rotation_bin == 2
