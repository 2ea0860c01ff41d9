"""sim_node over DDS: it follows a joint trajectory, and a task reset changes what the cameras see."""

from __future__ import annotations

import numpy as np
import pytest
import rclpy
from builtin_interfaces.msg import Duration
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image, JointState
from std_srvs.srv import SetBool
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from cliport_ros.app.client import spin_until
from cliport_ros.execution.arms import arm_profile
from cliport_ros.nodes.sim_node import SimNode
from cliport_ros.ros.conversions import rgb_from_image
from cliport_ros.srv import ResetTask, TaskStatus


@pytest.fixture
def rig(ros_context):
    sim = SimNode(context=ros_context, parameter_overrides=[Parameter("real_time_factor", value=4.0),
                                                           Parameter("camera_rate", value=0.2)])
    peer = rclpy.create_node("sim_client", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(sim)
    executor.add_node(peer)
    yield sim, peer, executor
    executor.shutdown()
    peer.destroy_node()
    sim.destroy_node()


def call(executor, client, request, timeout=30.0):
    assert spin_until(executor, client.service_is_ready, timeout), f"{client.srv_name} not available"
    future = client.call_async(request)
    assert spin_until(executor, future.done, timeout)
    return future.result()


def test_joint_states_follow_a_trajectory(rig):
    _, peer, executor = rig
    states: list[JointState] = []
    peer.create_subscription(JointState, "joint_states", states.append, 10)
    pub = peer.create_publisher(JointTrajectory, f"{arm_profile('ur5').controller}/joint_trajectory", 10)
    assert spin_until(executor, lambda: states and pub.get_subscription_count() > 0)
    names = list(states[-1].name)
    start = np.array(states[-1].position)
    goal = start + np.array([0.3, -0.2, 0.2, 0.1, -0.1, 0.4])
    # Joints in a different order than the sim's: the controller matches them by name.
    order = [5, 0, 4, 1, 3, 2]
    msg = JointTrajectory(joint_names=[names[i] for i in order])
    msg.points = [JointTrajectoryPoint(positions=[float(goal[i]) for i in order], time_from_start=Duration(sec=1))]
    pub.publish(msg)

    def reached() -> bool:
        return np.abs(np.array(states[-1].position) - goal).max() < 0.02

    assert spin_until(executor, reached, timeout=20)


def test_reset_changes_the_scene_the_cameras_show(rig):
    _, peer, executor = rig
    images: list[Image] = []
    peer.create_subscription(Image, "/front/color/image_raw", images.append, qos_profile_sensor_data)
    reset = peer.create_client(ResetTask, "sim/reset")
    status = peer.create_client(TaskStatus, "sim/status")

    first = call(executor, reset, ResetTask.Request(task="put-block-in-bowl-seen-colors", seed=10001))
    assert first.success and first.instruction.startswith("put the ")
    assert spin_until(executor, lambda: images)
    before = rgb_from_image(images[-1])
    count = len(images)
    second = call(executor, reset, ResetTask.Request(task="put-block-in-bowl-seen-colors", seed=10003))
    assert second.success
    assert spin_until(executor, lambda: len(images) > count)
    after = rgb_from_image(images[-1])
    assert np.abs(after.astype(int) - before.astype(int)).sum() > 1000

    state = call(executor, status, TaskStatus.Request())
    assert state.task == "put-block-in-bowl-seen-colors" and state.seed == 10003
    assert state.instruction == second.instruction and state.reward == 0.0 and not state.done


def test_bad_reset_is_refused_and_keeps_the_scene(rig):
    sim, peer, executor = rig
    reset = peer.create_client(ResetTask, "sim/reset")
    assert call(executor, reset, ResetTask.Request(task="put-block-in-bowl-seen-colors", seed=10001)).success
    objects = list(sim.sim.objects)
    unknown = call(executor, reset, ResetTask.Request(task="juggle", seed=1))
    assert not unknown.success and "known tasks" in unknown.message
    negative = call(executor, reset, ResetTask.Request(task="put-block-in-bowl-seen-colors", seed=-3))
    assert not negative.success and "seed" in negative.message
    assert sim.sim.objects == objects


def test_suction_reports_whether_it_holds_something(rig):
    _, peer, executor = rig
    gripper = peer.create_client(SetBool, "gripper/set")
    result = call(executor, gripper, SetBool.Request(data=True))
    assert not result.success  # the cup touches nothing at home
    assert call(executor, gripper, SetBool.Request(data=False)).success
