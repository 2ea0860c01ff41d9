"""The CLIPort networks on tiny inputs: shapes, correlation, rotation bins, checkpoints, eval mode."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import open_clip
import pytest
import torch

from cliport_ros.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from cliport_ros.model.clip_backbone import FrozenCLIP, fold_batchnorm
from cliport_ros.model.config import preset
from cliport_ros.model.correlation import correlate_conv, correlate_fft
from cliport_ros.model.policy import CLIPortPolicy
from cliport_ros.model.transport import rotated_crops, turn_width
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.workspace import Workspace

from conftest import SMALL_WS, TINY_WIDTHS, random_heightmap

TINY = dict(in_shape=SMALL_WS.shape, crop_size=64, n_rotations=8, clip_weights="random:0", **TINY_WIDTHS)


@pytest.fixture(scope="module")
def clip() -> FrozenCLIP:
    return FrozenCLIP("random:0")


@pytest.fixture(scope="module")
def heightmap() -> Heightmap:
    return random_heightmap(SMALL_WS)


def tiny_policy(clip, **overrides) -> CLIPortPolicy:
    torch.manual_seed(0)
    return CLIPortPolicy(preset("small", **{**TINY, **overrides}), clip=clip)


@pytest.mark.parametrize("streams", ["two_stream", "transporter_only", "clip_only"])
def test_output_shapes(clip, streams):
    policy = tiny_policy(clip, streams=streams)
    rgbd = torch.rand(2, 4, 64, 32)
    text = policy.encode_text(["put the red block in a green bowl"] * 2)
    pick, place = policy.logits(rgbd, torch.tensor([[10, 5], [40, 20]]), text)
    assert pick.shape == (2, 64 * 32)
    assert place.shape == (2, 8, 64, 32)


def test_fft_correlation_matches_conv2d():
    torch.manual_seed(0)
    key, kernels = torch.randn(1, 3, 70, 50), torch.randn(8, 3, 16, 16)
    conv = correlate_conv(key, kernels, padding=8)
    fft = correlate_fft(key, kernels, padding=8)
    assert fft.shape == conv.shape
    assert torch.allclose(fft, conv, atol=1e-3 * conv.abs().max().item())
    assert fft.flatten().argmax() == conv.flatten().argmax()


def test_rotation_bins_turn_the_sampling_grid_counter_clockwise():
    image = torch.rand(1, 1, 40, 40)
    row, col, h = 20, 18, 4
    crops = rotated_crops(image, torch.tensor([[float(row), float(col)]]), size=2 * h, n_rotations=4)
    assert torch.allclose(crops[0, 0], image[0, 0, row - h : row + h, col - h : col + h], atol=1e-5)
    # bin 1 (90 degrees): offset (dx, dy) reads the image at (-dy, dx), i.e. pixel (row + dx, col - dy)
    for i in range(2 * h):
        for j in range(2 * h):
            dx, dy = j - h, i - h
            assert crops[1, 0, i, j] == pytest.approx(float(image[0, 0, row + dx, col - dy]), abs=1e-5)


def test_checkpoint_round_trip_gives_identical_decisions(clip, heightmap, tmp_path):
    policy = tiny_policy(clip)
    path = save_checkpoint(tmp_path / "tiny.pt", policy, meta={"task": "unit"})
    loaded = load_checkpoint(path, clip=clip)
    a = policy.act(heightmap, "put the red block in a green bowl")
    b = loaded.act(heightmap, "put the red block in a green bowl")
    assert np.array_equal(a.pick_logits, b.pick_logits) and np.array_equal(a.place_logits, b.place_logits)
    assert (a.pick_pixel, a.place_pixel, a.rotation_bin) == (b.pick_pixel, b.place_pixel, b.rotation_bin)
    # only trainable weights are stored: far smaller than the frozen CLIP
    assert path.stat().st_size < 20_000_000


def test_checkpoint_refuses_other_frozen_weights(clip, tmp_path):
    path = save_checkpoint(tmp_path / "tiny.pt", tiny_policy(clip))
    with pytest.raises(CheckpointError, match=clip.fingerprint):
        load_checkpoint(path, clip=FrozenCLIP("random:1"))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "missing"])
def test_corrupt_checkpoint_is_a_clear_error(clip, tmp_path, damage):
    path = save_checkpoint(tmp_path / "tiny.pt", tiny_policy(clip))
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    else:
        path.unlink()
    with pytest.raises(CheckpointError):
        load_checkpoint(path, clip=clip)


def test_act_runs_in_eval_mode_and_is_repeatable(clip, heightmap):
    policy = tiny_policy(clip)
    policy.train()
    first = policy.act(heightmap, "pack the cube")
    assert not policy.training
    second = policy.act(heightmap, "pack the cube")
    assert np.array_equal(first.place_logits, second.place_logits)
    assert 0 < first.pick_confidence <= 1 and 0 < first.place_confidence <= 1


def test_training_step_reduces_the_loss(clip):
    policy = tiny_policy(clip)
    batch = {
        "rgbd": torch.rand(2, 4, 64, 32), "pick_pixel": torch.tensor([[10, 5], [40, 20]]),
        "place_pixel": torch.tensor([[30, 10], [12, 25]]), "rotation_bin": torch.tensor([0, 3]),
        "language": ["put the red block in a green bowl", "put the blue block in a red bowl"],
    }
    optimiser = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=1e-3)
    policy.train()
    losses = []
    for _ in range(8):
        loss, metrics = policy(batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert set(metrics) == {"pick_loss", "place_loss"}
    assert losses[-1] < losses[0]
    assert all(p.grad is None for p in policy.clip.parameters())  # CLIP stays frozen


def test_one_clip_trunk_pass_serves_pick_and_place_key(clip, heightmap):
    """A decision runs CLIP's image trunk twice: the padded scene (pick + key) and the rotated crops."""
    policy = tiny_policy(clip)
    batches = []
    handle = clip.visual.conv1.register_forward_hook(lambda _m, args, _out: batches.append(args[0].shape[0]))
    try:
        policy.act(heightmap, "put the red block in a green bowl")
    finally:
        handle.remove()
    assert batches == [1, policy.cfg.n_rotations]


def test_pick_clip_features_are_the_padded_scenes_cells_over_the_heightmap(clip):
    rgb = torch.rand(1, 3, 64, 32)
    padded = clip.encode_image(torch.nn.functional.pad(rgb, (32, 32, 32, 32)))
    centre = FrozenCLIP.centre(padded, 32)
    assert [f.shape[-2:] for f in centre] == [(64 // s, 32 // s) for s in FrozenCLIP.strides]
    assert torch.equal(centre[0], padded[0][..., 8:-8, 8:-8])
    with pytest.raises(ValueError, match="multiple"):
        FrozenCLIP.centre(padded, 16)


def test_folding_clip_batchnorm_keeps_its_outputs():
    torch.manual_seed(0)
    visual = open_clip.create_model("RN50", pretrained=None).visual.eval()
    folded = copy.deepcopy(visual)
    fold_batchnorm(folded)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    x = torch.rand(1, 3, 224, 224)  # the attention pool's size
    with torch.no_grad():
        reference, out = visual(x), folded(x)
    assert torch.allclose(out, reference, rtol=1e-4, atol=1e-4 * reference.abs().max().item())


def test_bad_config_names_the_field():
    with pytest.raises(ValueError, match="streams"):
        replace(preset("small"), streams="three_stream")
    with pytest.raises(ValueError, match="crop_size"):
        preset("small", crop_size=40)
    assert preset("small", crop_size=32).crop_size == 32  # the pick then takes its own CLIP pass
    with pytest.raises(ValueError, match="unknown preset"):
        preset("huge")


def test_minilm_sentences_plug_into_the_same_fusion(clip, heightmap, tmp_path):
    """all-MiniLM-L6-v2 (offline, pretrained) replaces CLIP's sentence feature; it is frozen and fingerprinted."""
    policy = tiny_policy(clip, text_encoder="minilm")
    red, red_again, blue = policy.encode_text(["put the red block in the bowl", "put the red block in the bowl",
                                               "put the blue block in the bowl"])
    assert red.shape == (384,) and torch.equal(red, red_again)
    assert 0.5 < float(red @ blue) < 0.999  # pretrained: similar sentences, not identical features
    assert not any(k.startswith("text.") for k in policy.trainable_state_dict())
    assert all(not p.requires_grad for p in policy.text.parameters())
    path = save_checkpoint(tmp_path / "minilm.pt", policy)
    assert load_checkpoint(path, clip=clip).act(heightmap, "put the red block in the bowl").pick_pixel == \
        policy.act(heightmap, "put the red block in the bowl").pick_pixel


def test_batched_fft_correlation_matches_conv2d_item_by_item():
    torch.manual_seed(0)
    key, kernels = torch.randn(3, 3, 40, 30), torch.randn(3, 5, 3, 8, 8)
    batched = correlate_fft(key, kernels, padding=4)
    for i in range(3):
        conv = correlate_conv(key[i : i + 1], kernels[i], padding=4)
        assert torch.allclose(batched[i : i + 1], conv, atol=1e-4 * conv.abs().max().item())


def test_turned_query_features_are_the_rotated_crops_of_an_identity_network():
    """Turning the wide crop's features samples the same image points as cropping on turned grids."""
    torch.manual_seed(0)
    image = torch.nn.functional.interpolate(torch.rand(1, 3, 20, 12), size=(160, 96), mode="bilinear")
    centre = torch.tensor([[70.0, 40.0]])
    direct = rotated_crops(image, centre, 32, 36)
    k = turn_width(32)
    wide = rotated_crops(image, centre, k, 1)
    turned = rotated_crops(wide, torch.full((1, 2), float(k // 2)), 32, 36)
    assert torch.allclose(direct, turned, atol=1e-5)


def test_half_resolution_turned_query_policy_decides_in_heightmap_pixels(clip):
    policy = tiny_policy(clip, in_shape=(64, 64), downsample=2, query="turned")  # CLIP needs >= 32 px a side
    assert policy.cfg.net_shape == (32, 32) and policy.cfg.net_crop == 32
    rgbd = torch.rand(2, 4, 64, 64)
    text = policy.encode_text(["put the red block in a green bowl"] * 2)
    pick, place = policy.logits(rgbd, torch.tensor([[10, 5], [40, 50]]), text)
    assert pick.shape == (2, 64 * 64) and place.shape == (2, 8, 64, 64)
    ws = Workspace(0.25, 0.45, -0.1, 0.1, 0.0, 0.28, 0.003125)  # 64 x 64
    rng = np.random.default_rng(0)
    scene = Heightmap(rng.integers(0, 255, (*ws.shape, 3), dtype=np.uint8),
                      (rng.random(ws.shape) * 0.05).astype(np.float32), ws)
    decision = policy.act(scene, "put the red block in a green bowl")
    assert 0 <= min(decision.pick_pixel) and max(decision.pick_pixel) < 64
    assert decision.place_logits.shape == (8, 64, 64)


@pytest.mark.parametrize("overrides, field", [({"downsample": 3}, "downsample"), ({"query": "once"}, "query"),
                                              ({"in_shape": (70, 32)}, "multiples of 16")])
def test_model_config_names_the_bad_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        preset("cpu", **overrides)
