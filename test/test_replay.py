"""`cliport replay`: a bag the test records (sqlite3 and mcap) replayed through perception_node's pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from cliport_ros.app.replay import dry_run
from cliport_ros.decision.config import PolicyNodeConfig
from cliport_ros.decision.policy import Decision, oracle_decision
from cliport_ros.execution.actions import PickPlace
from cliport_ros.perception.bag import BagError, CameraBag, replay
from cliport_ros.perception.camera import decode_depth
from cliport_ros.perception.config import fuse_views
from cliport_ros.perception.depth_model import like_a_real_camera
from cliport_ros.perception.heightmap import RGBDView
from cliport_ros.perception.synthetic import Box, Scene, render
from cliport_ros.ros.camera_publisher import encode_depth

from conftest import BLOCK, TALL_BOX, write_camera_bag

REPO = Path(__file__).resolve().parents[1]
RAVENS_YAML = REPO / "config" / "cameras_ravens.yaml"
MOVED_BLOCK = Box(center=(0.55, -0.05, 0.02), size=BLOCK.size, color=BLOCK.color)


@pytest.fixture(scope="module")
def frame_sets():
    """Two sets of the three Ravens cameras as a real camera sees them (noise, flying pixels, dropout); the
    block moves between them."""
    from cliport_ros.perception.config import load_perception_config

    cameras = load_perception_config(RAVENS_YAML).cameras
    rng = np.random.default_rng(0)
    return [[like_a_real_camera(render(c.to_camera(), Scene(boxes=(block, TALL_BOX))), rng) for c in cameras]
            for block in (BLOCK, MOVED_BLOCK)]


def as_received(views, encoding: str):
    """The views perception decodes from messages in ``encoding``: 16UC1 rounds depth to millimetres."""
    return [RGBDView(v.camera, v.rgb, decode_depth(encode_depth(v.depth, encoding), encoding)) for v in views]


def cliport(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cliport_ros.cli", *args], cwd=REPO, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(("storage", "encoding", "open_as"), [("sqlite3", "16UC1", "folder"),
                                                               ("mcap", "32FC1", "file")])
def test_replayed_heightmaps_equal_perception_of_the_same_frames(tmp_path, ravens, frame_sets, storage, encoding,
                                                                  open_as):
    # The real-camera filters on, so that replay running the config's whole path is what is compared.
    config = replace(ravens, flying_pixel_threshold=0.01, fill_holes=1)
    storage_file = write_camera_bag(tmp_path / "bag", config.cameras, frame_sets, storage, encoding)
    with CameraBag(tmp_path / "bag" if open_as == "folder" else storage_file, config.cameras) as bag:
        assert bag.set_count == 2
        replayed = list(replay(bag, config))
    assert [r.error for r in replayed] == ["", ""]
    assert [r.stamp for r in replayed] == pytest.approx([100.0, 100.1])
    for got, views in zip(replayed, frame_sets, strict=True):
        direct = fuse_views(as_received(views, encoding), config)
        assert np.array_equal(got.heightmap.height, direct.height)
        assert np.array_equal(got.heightmap.color, direct.color)
        assert np.array_equal(got.heightmap.seen, direct.seen)
        unfiltered = fuse_views(as_received(views, encoding), ravens)
        assert not np.array_equal(got.heightmap.height, unfiltered.height)  # the filters did act
    # The block moved between the sets, and each map shows it where it stood.
    for got, block in zip(replayed, (BLOCK, MOVED_BLOCK), strict=True):
        row, col = got.heightmap.workspace.xyz_to_pix(np.asarray(block.center))
        assert got.heightmap.height[row, col] == pytest.approx(block.top, abs=0.004)


def test_a_camera_without_camera_info_drops_its_sets_naming_it(tmp_path, ravens, frame_sets):
    path = write_camera_bag(tmp_path / "bag", ravens.cameras, frame_sets, info_from=("front", "left"))
    with CameraBag(path, ravens.cameras) as bag:
        replayed = list(replay(bag, ravens))
    assert len(replayed) == 2 and all(r.heightmap is None for r in replayed)
    assert all("'right'" in r.error and "camera_info" in r.error for r in replayed)
    result = cliport("replay", str(path), "--config", str(RAVENS_YAML), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "2 matched sets: 0 fused, 2 dropped" in result.stdout
    assert "no camera_info received on /right/color/camera_info" in result.stdout
    assert not list((tmp_path / "out").glob("*.png"))


def test_a_bag_without_the_configured_topics_is_refused_listing_what_it_has(tmp_path, ravens, frame_sets):
    path = write_camera_bag(tmp_path / "bag", ravens.cameras, frame_sets[:1], "mcap")
    d435 = REPO / "config" / "cameras_realsense_d435.yaml"
    result = cliport("replay", str(path), "--config", str(d435), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "lacks the configured camera topic(s) /camera/camera/color/image_raw (d435 color)" in result.stderr
    assert "/front/color/image_raw [sensor_msgs/msg/Image]" in result.stderr


@pytest.mark.parametrize("damage", ["garbage .db3", "garbage .mcap", "truncated .mcap", "not a bag",
                                    "a folder without metadata.yaml"])
def test_an_unreadable_bag_is_a_clear_error(tmp_path, ravens, frame_sets, damage):
    if damage.startswith("garbage"):
        path = tmp_path / f"bag{damage.split()[-1]}"
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif damage == "truncated .mcap":
        path = write_camera_bag(tmp_path / "bag", ravens.cameras, frame_sets, "mcap")
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "not a bag":
        path = tmp_path / "frames.png"
        path.write_bytes(b"\x89PNG")
    else:
        path = tmp_path / "recording"
        path.mkdir()
    with pytest.raises(BagError, match=str(path.name)):
        with CameraBag(path, ravens.cameras) as bag:
            list(replay(bag, ravens))


def test_replay_saves_a_picture_of_each_fused_heightmap(tmp_path, ravens, frame_sets):
    path = write_camera_bag(tmp_path / "bag", ravens.cameras, frame_sets)
    out = tmp_path / "out"
    result = cliport("replay", str(path), "--config", str(RAVENS_YAML), "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2 matched sets: 2 fused, 0 dropped" in result.stdout
    assert "2/2" in result.stderr  # the progress bar over the bag's sets
    for index, views in enumerate(frame_sets):
        picture = cv2.imread(str(out / f"heightmap_{index:04d}.png"))[..., ::-1]
        expected = fuse_views(as_received(views, "16UC1"), ravens).color
        colour_panel = picture[-expected.shape[0] * 2:, : expected.shape[1] * 2]  # bottom left, drawn at 2x
        assert np.array_equal(colour_panel, np.repeat(np.repeat(expected, 2, 0), 2, 1))


def test_replay_with_an_instruction_saves_the_affordance_of_a_dry_run(tmp_path, ravens, frame_sets):
    import torch

    from cliport_ros.model.checkpoint import save_checkpoint
    from cliport_ros.model.config import preset
    from cliport_ros.model.policy import CLIPortPolicy

    torch.manual_seed(0)
    checkpoint = save_checkpoint(tmp_path / "tiny.pt", CLIPortPolicy(preset("tiny", streams="transporter_only")))
    path = write_camera_bag(tmp_path / "bag", ravens.cameras, frame_sets, "mcap")
    out = tmp_path / "out"
    result = cliport("replay", str(path), "--config", str(RAVENS_YAML), "--out", str(out),
                     "--instruct", "put the red block in the green bowl", "--policy", str(checkpoint))
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in out.glob("*.png")) == ["affordance_0001.png", "heightmap_0000.png",
                                                         "heightmap_0001.png"]  # decided on the last set only
    decided = next(line for line in result.stdout.splitlines() if line.startswith("set 1 "))
    assert "put the red block in the green bowl" in decided and "policy_node would" in decided
    affordance = cv2.imread(str(out / "affordance_0001.png"))
    assert affordance.shape == (640, 2 * 320 + 8, 3)  # pick | place, each 320 x 160 cells at 2x


class FixedPolicy:
    """Always the same pick-and-place, certain of it."""

    label = "fixed"

    def __init__(self, decision: Decision) -> None:
        self.decision = decision

    def decide(self, heightmap, instruction):
        return self.decision


def test_dry_run_applies_policy_nodes_checks(ravens, frame_sets):
    heightmap = fuse_views(frame_sets[0], ravens)
    ws = heightmap.workspace
    seen = np.argwhere(heightmap.observed)[0]
    unseen = np.argwhere(~heightmap.observed)
    assert len(unseen), "the scene must leave some cells unseen"
    on_table = tuple(float(v) for v in ws.pix_to_xyz(seen))
    in_shadow = tuple(float(v) for v in ws.pix_to_xyz(unseen[0]))
    acting = oracle_decision(PickPlace(on_table, on_table), ws)
    decision, refusal = dry_run(FixedPolicy(acting), heightmap, "anything", PolicyNodeConfig())
    assert decision is acting and refusal == ""
    decision, refusal = dry_run(FixedPolicy(oracle_decision(PickPlace(on_table, in_shadow), ws)), heightmap,
                                "anything", PolicyNodeConfig())
    assert decision is not None and refusal.startswith("unobserved")
    blank = replace(heightmap, seen=np.zeros_like(heightmap.observed))
    decision, refusal = dry_run(FixedPolicy(acting), blank, "anything", PolicyNodeConfig())
    assert decision is None and "min_observed" in refusal


def test_replay_flags_are_its_config_fields():
    from cliport_ros.app.config import ReplayConfig
    from cliport_ros.cli import build_parser
    from cliport_ros.options import from_options

    args = build_parser().parse_args(["replay", "rec.mcap", "--every", "5", "--decide-on", "saved"])
    assert from_options(ReplayConfig, args) == ReplayConfig(bag="rec.mcap", every=5, decide_on="saved")
