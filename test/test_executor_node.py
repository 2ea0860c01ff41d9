"""executor_node's refusals over DDS: outside the workspace, out of reach, no joint states, an arm that never arrives;
the spatula's pushes.

The node runs in this process on a MultiThreadedExecutor thread; the test
is the rest of the robot: it publishes /joint_states (an arm that stays
where it is) and listens on the controller's trajectory topic.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Header
from trajectory_msgs.msg import JointTrajectory

from cliport_ros.execution.actions import PickPlace
from cliport_ros.execution.arms import arm_profile
from cliport_ros.nodes.executor_node import ExecutorNode
from cliport_ros.ros.conversions import pick_place_to_msg
from cliport_ros.srv import ExecutePickPlace

from conftest import Spinning, serve_gripper

Code = ExecutePickPlace.Response


class Rig:
    def __init__(self, context, arm: str = "ur5", publish_states: bool = True, **params) -> None:
        overrides = [Parameter("arm", value=arm)] + [Parameter(k, value=v) for k, v in params.items()]
        self.node = ExecutorNode(context=context, parameter_overrides=overrides)
        self.peer = rclpy.create_node("executor_test_peer", context=context)
        self.trajectories: list[JointTrajectory] = []
        self.peer.create_subscription(JointTrajectory, f"{arm_profile(arm).controller}/joint_trajectory",
                                      self.trajectories.append, 10)
        self.client = self.peer.create_client(ExecutePickPlace, "executor/execute")
        profile = arm_profile(arm)
        self.state = JointState(name=list(self.node.joint_names), position=list(profile.home),
                                velocity=[0.0] * len(profile.home))
        states = self.peer.create_publisher(JointState, "joint_states", 10)
        self.gripper = serve_gripper(self.peer)
        if publish_states:
            self.peer.create_timer(0.02, lambda: states.publish(self.state))
        # Threads for the node's own callbacks, as its main() has, beside the peer's: a cancel must not wait for
        # a free thread behind the test's own subscriptions.
        self.spinning = Spinning(context, self.node, self.peer, threads=6)
        if publish_states:  # wait until the node has heard the arm, so a test starts from a known state
            deadline = time.monotonic() + 10.0
            while self.node._state is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert self.node._state is not None, "executor_node never received /joint_states"

    def execute(self, action: PickPlace, check_only: bool = False, timeout: float = 30.0) -> Code:
        assert self.client.wait_for_service(timeout_sec=10)
        header = Header(frame_id="base_link")
        request = ExecutePickPlace.Request(action=pick_place_to_msg(action, header, (0, 0), (0, 0), 1.0, 1.0, "test"),
                                           check_only=check_only)
        done = threading.Event()
        future = self.client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        assert done.wait(timeout), "executor_node did not answer"
        return future.result()

    def wait_until(self, predicate, timeout: float = 5.0) -> bool:
        """Wait for a message the spinning executor delivers (the peer is spun there, not here)."""
        deadline = time.monotonic() + timeout
        while not predicate() and time.monotonic() < deadline:
            time.sleep(0.01)
        return predicate()

    def close(self) -> None:
        self.spinning.close()


@pytest.fixture
def rig_factory(ros_context, closing):
    return lambda **kwargs: closing(Rig(ros_context, **kwargs))


REACHABLE = PickPlace((0.5, 0.1, 0.04), (0.55, -0.2, 0.045))


def test_feasible_pick_place_is_checked_without_moving(rig_factory):
    rig = rig_factory()
    result = rig.execute(REACHABLE, check_only=True)
    assert result.success and result.code == Code.OK and not result.executed, result.message
    assert "feasible" in result.message
    assert not rig.trajectories


@pytest.mark.parametrize("action, which", [
    (PickPlace((0.9, 0.1, 0.04), (0.5, -0.2, 0.045)), "pick"),
    (PickPlace((0.5, 0.1, 0.04), (0.5, -0.7, 0.045)), "place"),
    (PickPlace((0.5, 0.1, 0.04), (0.5, 0.2, 0.6)), "place"),
])
def test_outside_the_workspace_is_refused_and_named(rig_factory, action, which):
    rig = rig_factory()
    result = rig.execute(action)
    assert result.code == Code.OUTSIDE_WORKSPACE and not result.executed, result.message
    assert which in result.message
    assert not rig.trajectories


def test_out_of_reach_is_refused_and_named(rig_factory):
    # A workspace reaching 1.6 m: the bounds allow x = 1.5, the UR5 (0.85 m) cannot get there.
    rig = rig_factory(**{"workspace.x_max": 1.6})
    result = rig.execute(PickPlace((1.5, 0.0, 0.04), (0.5, -0.2, 0.045)))
    assert result.code == Code.UNREACHABLE and not result.executed, result.message
    assert "pick" in result.message
    assert not rig.trajectories


def test_franka_cannot_reach_the_far_corner(rig_factory):
    rig = rig_factory(arm="franka")
    result = rig.execute(PickPlace((0.5, 0.0, 0.04), (0.74, 0.48, 0.045)))
    assert result.code == Code.UNREACHABLE and "place" in result.message, result.message
    assert rig.execute(PickPlace((0.5, 0.0, 0.04), (0.5, 0.2, 0.045)), check_only=True).success


def test_with_the_spatula_every_request_is_a_push(rig_factory):
    rig = rig_factory(tool="spatula")
    result = rig.execute(PickPlace((0.5, -0.1, 0.01), (0.5, 0.15, 0.01)), check_only=True)
    assert result.success and "feasible: 5 segments" in result.message, result.message
    result = rig.execute(PickPlace((0.5, 0.1, 0.01), (0.5, 0.1, 0.01)))
    assert result.code == Code.UNREACHABLE and "no direction" in result.message and not result.executed
    assert not rig.trajectories


@pytest.mark.fault("no joint_states (driver absent)", expect="nothing moves; EXECUTION_FAILED")
def test_without_joint_states_nothing_moves(rig_factory):
    rig = rig_factory(publish_states=False)
    result = rig.execute(REACHABLE)
    assert result.code == Code.EXECUTION_FAILED and "joint_states" in result.message
    assert not result.executed and not rig.trajectories


@pytest.mark.fault("controller frozen: the arm never arrives",
                   expect="a hold at the measured position; EXECUTION_FAILED at the timeout")
def test_an_arm_that_never_arrives_times_out(rig_factory):
    rig = rig_factory(timeout_factor=1.0, timeout_margin=0.5)
    result = rig.execute(REACHABLE)
    assert result.code == Code.EXECUTION_FAILED and result.executed, result.message
    assert "approach" in result.message
    # It published the first segment, by the controller's joint names, then a hold where the arm is measured.
    assert rig.wait_until(lambda: len(rig.trajectories) >= 2)
    assert len(rig.trajectories) == 2
    assert list(rig.trajectories[0].joint_names) == list(rig.node.joint_names)
    final = np.array(rig.trajectories[0].points[-1].positions)
    assert np.abs(final - np.array(rig.state.position)).max() > 0.05
    hold = rig.trajectories[1]
    assert len(hold.points) == 1 and list(hold.joint_names) == list(rig.node.joint_names)
    assert np.allclose(hold.points[0].positions, rig.state.position)


@pytest.mark.fault("joint_states of the wrong shape", expect="ignored and named; the node lives on")
def test_malformed_joint_states_are_named_and_do_not_kill_the_node(rig_factory):
    rig = rig_factory(joint_state_timeout=0.5)
    good = rig.state
    rig.state = JointState(name=list(good.name), position=list(good.position)[:3])  # fewer positions than names
    assert rig.wait_until(lambda: "positions" in rig.node._ignored)  # the bad messages arrive...
    assert rig.wait_until(lambda: time.monotonic() - rig.node._state[0] > 0.5)  # ...and the last good one ages
    result = rig.execute(REACHABLE)
    assert result.code == Code.EXECUTION_FAILED and not result.executed
    assert "6 names and 3 positions" in result.message
    rig.state = good  # the node is still there, and works again once the driver does
    assert rig.wait_until(lambda: rig.execute(REACHABLE, check_only=True).success, 5.0)


@pytest.mark.fault("a decision in other bounds", expect="OUTSIDE_WORKSPACE; nothing moves")
def test_a_decision_from_a_heightmap_over_other_bounds_is_refused(rig_factory):
    from cliport_ros.msg import Heightmap as HeightmapMsg
    from cliport_ros.ros.conversions import heightmap_to_msg
    from cliport_ros.ros.qos import LATCHED

    from conftest import random_heightmap

    rig = rig_factory()
    assert rig.execute(REACHABLE, check_only=True).success
    publisher = rig.peer.create_publisher(HeightmapMsg, "heightmap", LATCHED)
    publisher.publish(heightmap_to_msg(random_heightmap(), Header(frame_id="base_link"), ["test"]))  # 64 x 32 cells
    assert rig.wait_until(lambda: rig.node._heightmap_terms is not None)
    result = rig.execute(REACHABLE, check_only=True)
    assert result.code == Code.OUTSIDE_WORKSPACE and "one workspace" in result.message and not result.executed


@pytest.mark.fault("executor SIGINT / SIGTERM mid-motion", expect="a hold within 1 s, then the process exits")
@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_a_signal_mid_motion_holds_the_arm_before_the_executor_exits(ros_context, stop):
    """executor_node as its own process, signalled once its first trajectory is out: a hold at the measured
    position follows at once, then the process exits."""
    import signal
    import subprocess
    import sys

    executor = subprocess.Popen([sys.executable, "-m", "cliport_ros.nodes.executor_node"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peer = rclpy.create_node("executor_signal_test", context=ros_context)
    spinning = Spinning(ros_context, peer)
    try:
        ur5 = arm_profile("ur5")
        home = JointState(name=["shoulder_pan_joint", "shoulder_lift_joint", "elbow_joint", "wrist_1_joint",
                                "wrist_2_joint", "wrist_3_joint"], position=list(ur5.home), velocity=[0.0] * 6)
        states = peer.create_publisher(JointState, "joint_states", 10)
        peer.create_timer(0.02, lambda: states.publish(home))  # an arm that holds still: the motion never ends
        serve_gripper(peer)
        received: list[tuple[float, JointTrajectory]] = []
        peer.create_subscription(JointTrajectory, f"{ur5.controller}/joint_trajectory",
                                 lambda m: received.append((time.monotonic(), m)), 10)
        client = peer.create_client(ExecutePickPlace, "executor/execute")
        assert client.wait_for_service(timeout_sec=60)
        header = Header(frame_id="base_link")
        client.call_async(ExecutePickPlace.Request(
            action=pick_place_to_msg(REACHABLE, header, (0, 0), (0, 0), 1.0, 1.0, "test")))
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert received, "the executor never sent a trajectory"
        signalled = time.monotonic()
        executor.send_signal(getattr(signal, stop))
        assert executor.wait(timeout=20) is not None
        holds = [(t, m) for t, m in received[1:] if len(m.points) == 1]
        assert holds, f"no hold after {stop}: got {[len(m.points) for _, m in received]}"
        t, hold = holds[0]
        assert np.allclose(hold.points[0].positions, ur5.home, atol=1e-3)
        assert t - signalled < 1.0  # measured from the test's side, DDS delivery included
    finally:
        spinning.close()
        executor.kill()
        executor.wait()


@pytest.mark.fault("cancel mid-motion", expect="a hold within 100 ms; CANCELLED; the next request runs")
def test_cancel_mid_motion_holds_the_arm_at_once_and_the_next_request_runs(rig_factory):
    from std_srvs.srv import Trigger

    from cliport_ros import topics
    from cliport_ros.msg import ExecutionProgress

    rig = rig_factory()  # an arm that holds still: the first segment never finishes on its own
    progress: list[ExecutionProgress] = []
    rig.peer.create_subscription(ExecutionProgress, topics.EXECUTOR_PROGRESS, progress.append, 10)
    sent_at: list[float] = []
    rig.peer.create_subscription(JointTrajectory, f"{arm_profile('ur5').controller}/joint_trajectory",
                                 lambda _: sent_at.append(time.monotonic()), 10)
    cancel = rig.peer.create_client(Trigger, topics.EXECUTOR_CANCEL)
    assert cancel.wait_for_service(timeout_sec=10)
    assert not _call(cancel, Trigger.Request()).success  # nothing to cancel yet
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(rig.execute(REACHABLE)))
    worker.start()
    assert rig.wait_until(lambda: sent_at and progress, 10.0)
    first = progress[0]
    assert (first.segment, first.index, first.count) == ("approach pick", 1, 7)
    assert first.remaining_seconds == pytest.approx(first.planned_seconds)
    assert first.deadline_seconds > first.planned_seconds  # the supervisor's own bound on the plan
    cancelled = time.monotonic()
    assert _call(cancel, Trigger.Request()).success
    worker.join(timeout=10)
    result = outcome[0]
    assert result.code == Code.CANCELLED and result.executed and "cancelled" in result.message
    holds = [t for t, m in zip(sent_at, rig.trajectories, strict=False) if len(m.points) == 1]
    assert holds and holds[0] - cancelled < 0.1  # the first hold, DDS delivery included
    assert len(rig.trajectories) == 1 + len(holds)  # nothing after the first segment but holds
    assert rig.execute(REACHABLE, check_only=True).success  # cancelled is not halted: the next request runs


def _call(client, request, timeout: float = 10.0):
    done = threading.Event()
    future = client.call_async(request)
    future.add_done_callback(lambda _: done.set())
    assert done.wait(timeout)
    return future.result()


@pytest.mark.fault("an obstacle in the plan's path", expect="COLLISION; nothing moves")
def test_a_plan_that_would_hit_what_the_heightmap_shows_is_refused_before_anything_moves(rig_factory):
    from cliport_ros.msg import Heightmap as HeightmapMsg
    from cliport_ros.perception.heightmap import Heightmap
    from cliport_ros.perception.workspace import Workspace
    from cliport_ros.ros.conversions import heightmap_to_msg
    from cliport_ros.ros.qos import LATCHED

    rig = rig_factory()
    ws = Workspace()
    height = np.zeros(ws.shape, np.float32)
    (r0, c0), (r1, c1) = ws.xyz_to_pix([0.45, -0.08]), ws.xyz_to_pix([0.60, 0.0])
    height[r0:r1, c0:c1] = 0.16  # a 16 cm tower between REACHABLE's pick and place
    publisher = rig.peer.create_publisher(HeightmapMsg, "heightmap", LATCHED)
    scene = Heightmap(np.zeros((*ws.shape, 3), np.uint8), height, ws, np.ones(ws.shape, bool))
    publisher.publish(heightmap_to_msg(scene, Header(frame_id="base_link"), ["test"]))
    assert rig.wait_until(lambda: rig.node._heightmap is not None)
    result = rig.execute(REACHABLE)
    assert result.code == Code.COLLISION and not result.executed, result.message
    assert "heightmap" in result.message and not rig.trajectories
    height[:] = 0.0  # the tower gone: the same request plans
    publisher.publish(heightmap_to_msg(scene, Header(frame_id="base_link"), ["test"]))
    assert rig.wait_until(lambda: rig.execute(REACHABLE, check_only=True).success)


@pytest.mark.fault("gripper service absent", expect="nothing moves; EXECUTION_FAILED")
def test_without_a_gripper_nothing_moves(ros_context, closing):
    rig = closing(Rig(ros_context))
    rig.peer.destroy_service(rig.gripper)
    result = rig.execute(REACHABLE, timeout=60)
    assert result.code == Code.EXECUTION_FAILED and not result.executed and not rig.trajectories
    assert "gripper service" in result.message and "nothing moved" in result.message
