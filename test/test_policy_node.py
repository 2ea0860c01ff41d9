"""policy_node over DDS: its refusals (no heightmap, a stale one, low confidence, a corrupt checkpoint) and an
executor that dies mid-motion.

The node runs in this process on its own MultiThreadedExecutor thread (as in
its main()); the test talks to it through a client node over DDS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from rclpy.parameter import Parameter
from rclpy.time import Time
from std_msgs.msg import Header

from cliport_ros.app.client import StackClient
from cliport_ros.model.checkpoint import CheckpointError, save_checkpoint
from cliport_ros.msg import Heightmap as HeightmapMsg
from cliport_ros.msg import PickPlace as PickPlaceMsg
from cliport_ros.nodes.policy_node import PolicyNode
from cliport_ros.perception.workspace import Workspace
from cliport_ros.ros.conversions import heightmap_to_msg
from cliport_ros.ros.qos import LATCHED
from cliport_ros.srv import Instruct

from conftest import Spinning, random_heightmap, tiny_transporter

Code = Instruct.Response


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> str:
    return str(save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", tiny_transporter()))


class Rig:
    def __init__(self, context, **params) -> None:
        overrides = [Parameter(k, value=v) for k, v in {"heightmap_wait": 0.3, **params}.items()]
        self.node = PolicyNode(context=context, parameter_overrides=overrides)
        self.spinning = Spinning(context, self.node)
        self.client = StackClient(context=context, name="policy_test_client")
        self.publisher = self.client.node.create_publisher(HeightmapMsg, "heightmap", LATCHED)
        self.decisions: list[PickPlaceMsg] = []
        self.client.node.create_subscription(PickPlaceMsg, "policy/decision", self.decisions.append, LATCHED)

    def publish_heightmap(self, age: float = 0.0) -> None:
        heightmap = random_heightmap()
        stamp = Time(nanoseconds=self.client.node.get_clock().now().nanoseconds - int(age * 1e9))
        header = Header(frame_id="base_link", stamp=stamp.to_msg())
        self.publisher.publish(heightmap_to_msg(heightmap, header, ["test"]))
        assert self.client.spin_until(lambda: self.node.gate.has_heightmap, 10), "heightmap never arrived"

    def close(self) -> None:
        self.client.close()
        self.spinning.close()


@pytest.fixture
def rig_factory(ros_context, closing) -> Callable[..., Rig]:
    return lambda **params: closing(Rig(ros_context, **params))


@pytest.mark.fault("no heightmap (perception absent)", expect="NO_HEIGHTMAP; nothing moves")
def test_no_heightmap_yet_is_refused(rig_factory):
    rig = rig_factory()
    result = rig.client.instruct("put the red blocks in a green bowl", timeout=30)
    assert result.code == Code.NO_HEIGHTMAP and not result.success and not result.executed
    assert "perception_node" in result.message
    assert result.policy.startswith("oracle")


@pytest.mark.fault("stale heightmap (cameras stopped)", expect="STALE_HEIGHTMAP; nothing moves")
def test_stale_heightmap_is_refused(rig_factory):
    rig = rig_factory(max_heightmap_age=2.0)
    rig.publish_heightmap(age=30.0)
    result = rig.client.instruct("put the red blocks in a green bowl", timeout=30)
    assert result.code == Code.STALE_HEIGHTMAP and not result.executed
    assert "old" in result.message


@pytest.mark.fault("use_sim_time without /clock", expect="STALE_HEIGHTMAP naming /clock; nothing moves")
def test_use_sim_time_without_a_clock_is_refused_naming_the_clock(rig_factory):
    rig = rig_factory(use_sim_time=True)
    rig.publish_heightmap()  # stamped by a wall clock, as a camera host would
    result = rig.client.instruct("put the red blocks in a green bowl", timeout=30)
    assert result.code == Code.STALE_HEIGHTMAP and "/clock" in result.message and not result.executed


def test_oracle_without_a_simulator_is_a_clear_error(rig_factory):
    rig = rig_factory()
    rig.publish_heightmap()
    result = rig.client.instruct("put the red blocks in a green bowl", timeout=30)
    assert result.code == Code.INTERNAL_ERROR and "sim/oracle" in result.message and not result.executed


@pytest.mark.fault("a low-confidence decision", expect="LOW_CONFIDENCE; nothing moves")
def test_low_confidence_prediction_does_not_move(rig_factory, tiny_checkpoint):
    rig = rig_factory(policy=tiny_checkpoint, min_confidence=0.01)
    rig.publish_heightmap()
    result = rig.client.instruct("put the red blocks in a green bowl", timeout=60)
    assert result.code == Code.LOW_CONFIDENCE and not result.executed, result.message
    # An untrained model spreads its probability: far below 1 %, and the response says what it would have done.
    assert 0 < result.pick_confidence < 0.01
    assert result.policy.startswith(f"checkpoint {tiny_checkpoint} (learned")
    assert 0 <= result.pick_pixel[0] < 64 and 0 <= result.pick_pixel[1] < 32
    assert rig.client.spin_until(lambda: bool(rig.decisions), 5)
    assert (rig.decisions[-1].pick_row, rig.decisions[-1].pick_col) == tuple(result.pick_pixel)
    assert rig.client.spin_until(lambda: bool(rig.client.affordances), 5)


def test_heightmap_of_another_size_than_the_model_is_refused(rig_factory, tiny_checkpoint):
    rig = rig_factory(policy=tiny_checkpoint, min_confidence=0.0)
    ws = Workspace()  # 320 x 160, not the tiny model's 64 x 32
    heightmap = random_heightmap(ws)
    header = Header(frame_id="base_link", stamp=rig.client.node.get_clock().now().to_msg())
    rig.publisher.publish(heightmap_to_msg(heightmap, header, ["test"]))
    assert rig.client.spin_until(lambda: rig.node.gate.has_heightmap, 10)
    result = rig.client.instruct("put the red blocks in a green bowl", timeout=60)
    assert result.code == Code.INTERNAL_ERROR and "64x32" in result.message and not result.executed


@pytest.mark.fault("corrupt or NaN-weight checkpoint", expect="policy_node refuses to start, naming the file")
@pytest.mark.parametrize("damage", ["truncate", "garbage", "nan"])
def test_corrupt_checkpoint_stops_the_node_at_start(ros_context, tiny_checkpoint, tmp_path, damage):
    path = tmp_path / "bad.pt"
    if damage == "nan":  # a diverged run: readable, but its weights are NaN
        network = tiny_transporter()
        with torch.no_grad():
            next(p for p in network.place.parameters() if p.requires_grad).fill_(float("nan"))
        save_checkpoint(path, network)
    else:
        data = Path(tiny_checkpoint).read_bytes()
        path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match=r"bad\.pt.*non-finite" if damage == "nan" else r"bad\.pt"):
        PolicyNode(context=ros_context, parameter_overrides=[Parameter("policy", value=str(path))])


@pytest.mark.fault("executor SIGKILLed mid-motion", expect="EXECUTION_FAILED within 10 s, not at a fixed timeout")
def test_an_executor_killed_mid_motion_is_reported_at_once(rig_factory, tiny_checkpoint, ros_context):
    """executor_node as its own process, SIGKILLed once its first trajectory is out: the instruction fails
    with EXECUTION_FAILED within seconds, not after execute_timeout."""
    import signal
    import subprocess
    import sys

    from sensor_msgs.msg import JointState
    from trajectory_msgs.msg import JointTrajectory

    from cliport_ros.execution.arms import arm_profile

    from conftest import SMALL_WS, serve_gripper

    ur5 = arm_profile("ur5")
    bounds = [f"workspace.{k}:={getattr(SMALL_WS, k)}" for k in ("x_min", "x_max", "y_min", "y_max", "z_min",
                                                                  "z_max", "pixel_size")]
    executor = subprocess.Popen([sys.executable, "-m", "cliport_ros.nodes.executor_node", "--ros-args",
                                 *[a for b in bounds for a in ("-p", b)], "-p", "timeout_factor:=20.0"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rig = rig_factory(policy=tiny_checkpoint, min_confidence=0.0, execute_timeout=120.0)
        arm = rig.client.node  # the rest of the robot: an arm that holds still at home
        states = arm.create_publisher(JointState, "joint_states", 10)
        serve_gripper(arm)
        arm.create_timer(0.02, lambda: states.publish(JointState(
            name=["shoulder_pan_joint", "shoulder_lift_joint", "elbow_joint", "wrist_1_joint", "wrist_2_joint",
                  "wrist_3_joint"], position=list(ur5.home), velocity=[0.0] * 6)))
        sent: list = []
        arm.create_subscription(JointTrajectory, f"{ur5.controller}/joint_trajectory", sent.append, 10)
        assert rig.client.spin_until(lambda: rig.node.executor_client.service_is_ready(), 60), "no executor"
        rig.publish_heightmap()
        future = rig.client._clients["instruct"].call_async(Instruct.Request(instruction="put the red block in a bowl"))
        assert rig.client.spin_until(lambda: bool(sent) or future.done(), 60), "the executor never moved"
        assert not future.done(), future.result().message if future.done() else ""
        executor.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        assert rig.client.spin_until(future.done, 30)
        result = future.result()
        assert result.code == Code.EXECUTION_FAILED and "went silent" in result.message
        assert time.monotonic() - killed < 10.0
    finally:
        executor.kill()
        executor.wait()
