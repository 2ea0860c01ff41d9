"""Training data: augmentation keeps labels on their objects; rotation labels bin correctly."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from cliport_ros.demonstrations import Episode
from cliport_ros.learn.augment import perturb
from cliport_ros.learn.data import rotation_bin

from conftest import SMALL_WS, TINY_TRANSPORTER

WS = SMALL_WS


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


# -- eval mode matches what training learned ------------------------------------------------------------


def five_demos():
    """Five random scenes with random pick, place and rotation labels: memorisable, not learnable."""
    import torch

    rng = np.random.default_rng(0)
    color = rng.integers(0, 255, (5, 64, 32, 3), dtype=np.uint8)
    height = (rng.random((5, 64, 32)) * 0.05).astype(np.float32)
    rgbd = torch.cat([torch.from_numpy(color).permute(0, 3, 1, 2).float() / 255, torch.from_numpy(height)[:, None]], 1)
    batch = {"rgbd": rgbd, "pick_pixel": torch.from_numpy(rng.integers([0, 0], [64, 32], (5, 2))),
             "place_pixel": torch.from_numpy(rng.integers([0, 0], [64, 32], (5, 2))),
             "rotation_bin": torch.from_numpy(rng.integers(0, 8, 5)), "language": ["put it there"] * 5}
    return color, height, batch


def fit(steps: int, lr: float):
    import torch

    from cliport_ros.model.config import preset
    from cliport_ros.model.policy import CLIPortPolicy

    torch.manual_seed(0)
    policy = CLIPortPolicy(preset("small", **TINY_TRANSPORTER))
    color, height, batch = five_demos()
    optimiser = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr)
    policy.train()
    for _ in range(steps):
        loss, _ = policy(batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return policy, color, height, batch


def test_precise_batchnorm_makes_eval_mode_reproduce_training_mode():
    """The eval-mode network must compute what the training-mode one did on its training batch.

    PyTorch's running variance is the unbiased estimate; at the deepest
    stages a batch has few values per channel and the difference, compounded
    through the decoder, moved logits by several units.
    """
    import torch

    from cliport_ros.learn.train import precise_batchnorm

    policy, _, _, batch = fit(steps=20, lr=1e-3)
    with torch.no_grad():
        policy.train()
        train_pick, train_place = policy.logits(batch["rgbd"], batch["pick_pixel"], None)
    precise_batchnorm(policy, [batch])
    with torch.no_grad():
        policy.eval()
        eval_pick, eval_place = policy.logits(batch["rgbd"], batch["pick_pixel"], None)
    assert torch.allclose(eval_pick, train_pick, atol=1e-2 * train_pick.abs().max())
    assert torch.allclose(eval_place, train_place, atol=1e-2 * train_place.abs().max())


@pytest.mark.slow
def test_tiny_model_overfits_five_demos_to_exact_pixels():
    """About 3 minutes on 2 CPU cores: run with `tools/test.sh -m slow test/test_train.py`."""
    from cliport_ros.learn.train import precise_batchnorm
    from cliport_ros.perception.heightmap import Heightmap

    policy, color, height, batch = fit(steps=300, lr=1e-3)
    precise_batchnorm(policy, [batch])
    for k in range(5):
        decision = policy.act(Heightmap(color[k], height[k], SMALL_WS), "put it there")
        assert decision.pick_pixel == tuple(batch["pick_pixel"][k].tolist())
        assert decision.place_pixel == tuple(batch["place_pixel"][k].tolist())
        assert decision.rotation_bin == int(batch["rotation_bin"][k])


def test_two_process_ddp_training_keeps_the_ranks_in_step(tmp_path):
    """torchrun with 2 CPU processes (gloo): different samples per rank, identical weights after every step;
    a wall-clock budget stops both ranks at the same step, and the run still ends with a checkpoint."""
    import os
    import re
    import subprocess
    import sys

    from cliport_ros.learn.train import weights_fingerprint
    from cliport_ros.model.checkpoint import load_checkpoint, read_checkpoint
    from cliport_ros.sim.collect import collect
    from cliport_ros.sim.config import CollectConfig

    task = "put-block-in-bowl-seen-colors"
    collect(CollectConfig(task=task, n=2, split="train", out=str(tmp_path / "data")))
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    run = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "cliport_ros.cli", "train", "--task", task,
         "--data", str(tmp_path / "data"), "--demos", "2", "--steps", "1000", "--max-minutes", "0.01",
         "--batch-size", "1", "--preset", "tiny", "--streams", "transporter_only", "--eval-episodes", "0",
         "--out", str(tmp_path / "runs")],
        env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = dict(re.findall(r"rank (\d) of 2: trained weights (\w+)", run.stderr))
    assert set(ranks) == {"0", "1"} and ranks["0"] == ranks["1"], ranks
    best = tmp_path / "runs" / f"{task}-tiny-n2" / "best.pt"
    assert weights_fingerprint(load_checkpoint(best)) == ranks["0"]
    assert 1 <= read_checkpoint(best)["meta"]["step"] < 1000
    assert "budget is spent" in run.stderr


# -- what a training step costs, and the checkpoint that ships -----------------------------------------
def test_bench_train_splits_each_step_into_its_parts_for_the_plain_and_optimised_rows(capsys):
    from cliport_ros.bench.config import TrainBenchConfig
    from cliport_ros.bench.train import PARTS, print_table, run

    result = run(TrainBenchConfig(preset="tiny", baseline="tiny", batch_size=1, steps=1))
    rows = result["rows"]
    assert [r["channels_last"] for r in rows] == [False, True, False, True]
    assert rows[0]["what"].startswith("plain") and rows[1]["what"].startswith("exact")
    # tiny has strided 1x1 convolutions of 8 channels, whose channels_last backward corrupts memory on CPU
    assert "strided 1x1" in rows[1]["refused"] and "refused" in rows[3]
    for r in (rows[0], rows[2]):
        assert r["forward"] > 0 and r["backward"] > 0 and r["frozen"] > 0 and r["gflop"] > 0
        assert r["seconds"] == pytest.approx(sum(r[k] for k in PARTS))
        assert r["rate"] == pytest.approx(1 / r["seconds"])
    print_table(result)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| tiny")]
    assert len(lines) == 4 and "refused" in lines[1]
    ratios = [float(line.rstrip(" |").rsplit("|", 1)[1].strip().rstrip("x")) for line in (lines[0], lines[2])]
    assert ratios[0] == 1.0 and ratios[1] > 0


def test_exported_checkpoint_stores_fp16_and_loads_into_the_fp32_network(tmp_path):
    import torch

    from cliport_ros.model.checkpoint import (
        describe,
        export_checkpoint,
        load_checkpoint,
        read_checkpoint,
        save_checkpoint,
        trained_tasks,
    )
    from cliport_ros.model.config import preset
    from cliport_ros.model.policy import CLIPortPolicy

    torch.manual_seed(0)
    policy = CLIPortPolicy(preset("tiny", streams="transporter_only"))
    source = save_checkpoint(tmp_path / "best.pt", policy, {
        "config": {"task": "put-block-in-bowl-seen-colors", "demos": 5}, "optimiser": {"state": {}}})
    shipped = export_checkpoint(source, tmp_path / "ship.pt")
    payload = read_checkpoint(shipped)
    weight_bytes = sum(v.nbytes for v in payload["state_dict"].values())
    assert weight_bytes < 0.51 * sum(v.nbytes for v in read_checkpoint(source)["state_dict"].values())
    assert all(v.dtype == torch.float16 for v in payload["state_dict"].values() if v.is_floating_point())
    assert "optimiser" not in payload["meta"] and payload["meta"]["storage"] == "fp16"
    loaded = load_checkpoint(shipped)
    for (name, original), (_, restored) in zip(policy.trainable_state_dict().items(),
                                               loaded.trainable_state_dict().items(), strict=True):
        if original.is_floating_point():
            assert restored.dtype == torch.float32, name
            assert torch.allclose(restored, original, rtol=1e-3, atol=1e-4), name
    assert trained_tasks(payload) == ["put-block-in-bowl-seen-colors"]
    label = describe(payload, shipped)
    assert label.startswith(f"checkpoint {shipped} (learned") and "tiny preset" in label and "5 demos" in label


def test_learning_curve_picture_marks_each_validation(tmp_path):
    import json

    from cliport_ros.learn.curve import draw_curve, save_curve

    points = [{"step": s, "samples": 8 * s, "minutes": s / 10, "score": score}
              for s, score in ((250, 20.0), (500, 60.0), (750, 90.0))]
    (tmp_path / "curve.jsonl").write_text("".join(json.dumps(p) + "\n" for p in points))
    picture = cv2.imread(str(save_curve(tmp_path, "unit")))[..., ::-1]
    assert picture.shape == draw_curve(points, "unit").shape
    blue = np.all(picture == (30, 90, 200), axis=-1)
    rows = np.nonzero(blue.any(axis=1))[0]
    assert rows.min() < picture.shape[0] // 3  # the 90 dot sits high, the 20 dot low
    assert rows.max() > picture.shape[0] // 2


def test_batches_drawn_in_the_background_are_the_samplers_own_sequence():
    import torch

    from cliport_ros.learn.data import Batches, DemoSampler

    episodes = [synthetic_episode(s) for s in range(3)]
    cpu = torch.device("cpu")
    inline = Batches(DemoSampler(episodes, 8, seed=5), 2, cpu, background=False)
    ahead = Batches(DemoSampler(episodes, 8, seed=5), 2, cpu, background=True)
    try:
        for _ in range(4):
            a, b = inline.next(), ahead.next()
            assert torch.equal(a["rgbd"], b["rgbd"]) and torch.equal(a["pick_pixel"], b["pick_pixel"])
            assert a["language"] == b["language"]
    finally:
        ahead.close()
    assert not ahead._thread.is_alive()
