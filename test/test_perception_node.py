"""perception_node over real DDS: a camera rig node publishes RGB-D, the node publishes Heightmaps."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import rclpy
from builtin_interfaces.msg import Time
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from cliport_ros.app.client import spin_until
from cliport_ros.msg import Heightmap as HeightmapMsg
from cliport_ros.nodes.perception_node import PerceptionNode, parameter_overrides
from cliport_ros.perception.synthetic import render
from cliport_ros.ros.camera_publisher import CameraPublisher
from cliport_ros.ros.conversions import array_to_image, heightmap_from_msg
from cliport_ros.ros.qos import LATCHED

from conftest import BLOCK, TALL_BOX

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Rig:
    perception: PerceptionNode | None
    peer: Node
    cameras: CameraPublisher
    executor: SingleThreadedExecutor
    received: list[HeightmapMsg]
    views: list

    def send(self, messages) -> None:
        self.cameras.send(messages)

    def messages(self, sec: int):
        return self.cameras.messages(self.views, Time(sec=sec))

    def spin_until(self, predicate, timeout: float = 10.0) -> bool:
        return spin_until(self.executor, predicate, timeout)

    def send_infos(self, messages, only: tuple[str, ...] | None = None) -> None:
        """Send camera_info alone and wait until perception_node has it, so later drops are for the stated cause."""
        names = only if only is not None else tuple(messages)
        self.cameras.send_infos({name: messages[name][0] for name in names})
        assert self.spin_until(lambda: set(names) <= set(self.perception.camera_infos))


def _make_peer(context, ravens, two_box_scene, perception: PerceptionNode | None) -> Rig:
    peer = rclpy.create_node("camera_rig", context=context)
    cameras = CameraPublisher(peer, ravens.cameras)
    received: list[HeightmapMsg] = []
    peer.create_subscription(HeightmapMsg, "heightmap", received.append, LATCHED)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(peer)
    if perception is not None:
        executor.add_node(perception)
    views = [render(c.to_camera(), two_box_scene) for c in ravens.cameras]
    return Rig(perception, peer, cameras, executor, received, views)


@pytest.fixture
def rig(ros_context, ravens, two_box_scene):
    perception = PerceptionNode(context=ros_context, parameter_overrides=parameter_overrides(ravens))
    rig = _make_peer(ros_context, ravens, two_box_scene, perception)
    # Discovery first: best-effort camera topics drop what is sent before it.
    assert rig.spin_until(lambda: rig.cameras.matched() and rig.peer.count_publishers("heightmap") > 0)
    yield rig
    rig.executor.shutdown()
    perception.destroy_node()
    rig.peer.destroy_node()


def assert_heightmap_shows_the_boxes(msg: HeightmapMsg) -> None:
    heightmap = heightmap_from_msg(msg)
    assert msg.header.frame_id == "base_link"
    assert list(msg.cameras) == ["front", "left", "right"]
    for box in (BLOCK, TALL_BOX):
        row, col = heightmap.workspace.xyz_to_pix(np.asarray(box.center))
        assert heightmap.height[row, col] == pytest.approx(box.top, abs=0.002)
        assert tuple(heightmap.color[row, col]) == box.color


def test_synchronised_set_becomes_a_heightmap(rig):
    messages = rig.messages(sec=100)
    rig.send_infos(messages)
    rig.send(messages)
    assert rig.spin_until(lambda: rig.received)
    assert rig.received[0].header.stamp.sec == 100
    assert_heightmap_shows_the_boxes(rig.received[0])


def _replace(messages, camera: str, index: int, msg):
    info_color_depth = list(messages[camera])
    info_color_depth[index] = msg
    return {**messages, camera: tuple(info_color_depth)}


BAD_INPUTS = {
    "depth size differs from colour": (
        lambda m: _replace(m, "left", 2, array_to_image(np.zeros((240, 320), np.uint16), "16UC1", m["left"][2].header)),
        "sizes",
    ),
    "unknown depth encoding": (
        lambda m: _replace(m, "front", 2, _with_encoding(m["front"][2], "8UC2")),
        "encoding",
    ),
    "unknown colour encoding": (
        lambda m: _replace(m, "right", 1, _with_encoding(m["right"][1], "yuv422")),
        "encoding",
    ),
    "uncalibrated camera_info": (
        lambda m: _replace(m, "left", 0, _with_zero_k(m["left"][0])),
        "uncalibrated",
    ),
    "every camera's depth NaN": (
        lambda m: {cam: (info, color, array_to_image(np.full((depth.height, depth.width), np.nan, np.float32),
                                                     "32FC1", depth.header))
                   for cam, (info, color, depth) in m.items()},
        "no camera saw any point",
    ),
}


def _with_encoding(image, encoding):
    image.encoding = encoding
    return image


def _with_zero_k(info):
    info.k = [0.0] * 9
    return info


@pytest.mark.fault("invalid camera frames (all-NaN depth, bad encodings, ...)",
                   expect="the set is dropped and named; the next good one is used")
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_frame_drops_the_whole_set(rig, case):
    tamper, why = BAD_INPUTS[case]
    bad = tamper(rig.messages(sec=10))
    rig.send_infos(bad)
    rig.send(bad)
    assert rig.spin_until(lambda: rig.perception.dropped_sets >= 1)
    assert why in rig.perception.last_drop_reason
    assert rig.received == []
    # The node recovers on the next good set, and only that one was published.
    good = rig.messages(sec=11)
    rig.send_infos(good)
    rig.send(good)
    assert rig.spin_until(lambda: rig.received)
    assert [m.header.stamp.sec for m in rig.received] == [11]
    assert rig.perception.published_sets == 1


@pytest.mark.fault("camera_info missing", expect="the set is dropped, naming the camera")
def test_missing_camera_info_drops_the_set(rig):
    messages = rig.messages(sec=20)
    rig.send_infos(messages, only=("front", "left"))
    rig.cameras.send(messages, with_info=False)  # the right camera never sends camera_info
    assert rig.spin_until(lambda: rig.perception.dropped_sets >= 1)
    assert "camera_info" in rig.perception.last_drop_reason and "right" in rig.perception.last_drop_reason
    assert rig.received == []


@pytest.mark.fault("a camera goes silent", expect="no heightmap from a partial set")
def test_partial_set_is_never_published(rig):
    messages = rig.messages(sec=30)
    rig.send_infos(messages)
    rig.send({k: v for k, v in messages.items() if k != "right"})  # a camera is silent
    later = rig.messages(sec=31)
    rig.send(later)
    assert rig.spin_until(lambda: rig.received)
    assert [m.header.stamp.sec for m in rig.received] == [31]
    assert rig.perception.published_sets == 1


def test_perception_node_process_publishes_heightmap_over_dds(ros_context, ravens, two_box_scene):
    """The installed node in its own process, a peer node here: a cliport_ros message over DDS."""
    rig = _make_peer(ros_context, ravens, two_box_scene, perception=None)
    params = REPO / "config" / "cameras_ravens.yaml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cliport_ros.nodes.perception_node", "--ros-args", "--params-file", str(params)],
        cwd=REPO, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert rig.spin_until(lambda: rig.cameras.matched() or proc.poll() is not None, timeout=60), "no discovery"
        assert proc.poll() is None, proc.stdout.read()
        sec = 1000
        # camera_info may land after the first images of a set; a driver keeps publishing, so do we.
        while not rig.received and sec < 1040:
            rig.cameras.publish(rig.views, Time(sec=sec))
            rig.spin_until(lambda: rig.received, timeout=0.5)
            sec += 1
        assert rig.received, "perception_node published no heightmap"
        assert_heightmap_shows_the_boxes(rig.received[0])
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        rig.executor.shutdown()
        rig.peer.destroy_node()


@pytest.mark.skipif(importlib.util.find_spec("tf2_ros") is not None, reason="tf2_ros is installed here")
def test_tf_pose_source_without_tf2_is_a_clear_startup_error(ros_context, ravens):
    from dataclasses import replace

    from rclpy.parameter import Parameter

    params = [p for p in parameter_overrides(replace(ravens)) if p.name != "pose_source"]
    params.append(Parameter("pose_source", value="tf"))
    with pytest.raises(RuntimeError, match="tf2_ros"):
        PerceptionNode(context=ros_context, parameter_overrides=params)
