"""`cliport collect`'s core: successful episodes only, compact, resumable."""

from __future__ import annotations

import numpy as np
import pytest

from cliport_ros.demonstrations import list_episodes, load_episode
from cliport_ros.sim.collect import collect
from cliport_ros.sim.config import CollectConfig

TASK = "put-block-in-bowl-seen-colors"


def test_collects_resumes_and_stores_consistent_labels(tmp_path):
    cfg = CollectConfig(task=TASK, n=2, split="val", out=str(tmp_path))
    assert collect(cfg)["episodes"] == 2
    files = list_episodes(cfg.directory)
    assert [int(f.stem) % 2 for f in files] == [1, 1]  # val seeds are odd
    # Resuming to 3 keeps the first two and adds one.
    stamps = {f: f.stat().st_mtime_ns for f in files}
    assert collect(CollectConfig(task=TASK, n=3, split="val", out=str(tmp_path)))["episodes"] == 3
    assert all(f.stat().st_mtime_ns == t for f, t in stamps.items())
    episode = load_episode(list_episodes(cfg.directory)[0])
    rows, cols = episode.workspace.shape
    assert episode.color.shape[1:] == (rows, cols, 3) and episode.height.shape[1:] == (rows, cols)
    assert episode.reward.sum() == pytest.approx(1.0, abs=0.01)
    assert episode.language[0].startswith("put the ")
    # Labels agree with the stored positions, and the pick pixel is on a raised object.
    assert np.array_equal(episode.pick_pix, episode.workspace.xyz_to_pix(episode.pick_xyz))
    r, c = episode.pick_pix[0]
    assert episode.height[0, r, c] > 0.03
    assert all(f.stat().st_size < 1_000_000 for f in list_episodes(cfg.directory))


def test_bad_collect_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown task"):
        CollectConfig(task="nope", n=1, out=str(tmp_path))
    with pytest.raises(ValueError, match="split"):
        CollectConfig(task=TASK, n=1, split="dev", out=str(tmp_path))
    with pytest.raises(ValueError, match="n=0"):
        CollectConfig(task=TASK, n=0, out=str(tmp_path))


def test_collect_with_realistic_depth_stores_maps_a_real_camera_would_give(tmp_path):
    cfg = CollectConfig(task=TASK, n=1, split="val", out=str(tmp_path), depth_model="realsense")
    assert collect(cfg)["episodes"] == 1
    episode = load_episode(list_episodes(cfg.directory)[0])
    r, c = episode.pick_pix[0]
    assert episode.height[0, r, c] > 0.03  # the oracle's labels still sit on the object
    table = episode.height[0][episode.height[0] < 0.01]
    assert 0.0005 < table.mean() < 0.005  # D435-like noise at ~1 m (the half below the table reads 0)
