"""gz_gripper_node: the executor's ``gripper/set`` (std_srvs/SetBool) for an arm in Gazebo Sim.

True grips: a Franka hand first closes its fingers (``finger_controller/commands``) for ``close_seconds``
of simulated time; then the graspable object the tool's contact sensors touched within
``contact_window`` is welded to the tool through its DetachableJoint slot; success = something is held.
False lets go and opens the fingers. Every slot is attached at start-up (Gazebo's DetachableJoint
attaches on load): they are detached on a timer until each reports ``detached``, and the service is
offered only then, so the executor (which waits for it before moving) never drags the welded scene
(cliport_ros.gazebo.gripper). Topics are bridged by ros_gz_bridge from the scene's gripper_bridge.yaml.

Threads: the service waits (fingers closing) while the MultiThreadedExecutor delivers contacts in a
separate callback group, so a grip sees the contacts its own closing made.
"""

from __future__ import annotations

import time
from functools import partial

import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.duration import Duration
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.time import Time
from std_msgs.msg import Empty, Float64MultiArray, String
from std_srvs.srv import SetBool

from cliport_ros.execution.arms import arm_profile
from cliport_ros.gazebo.config import GazeboGripperConfig
from cliport_ros.gazebo.description import commanded_finger_joints
from cliport_ros.gazebo.gripper import (
    FINGER_CONTROLLER,
    GripperState,
    attach_topic,
    contact_topic,
    detach_topic,
    state_topic,
    touched_object,
)
from cliport_ros.ros.params import read_config


class GazeboGripperNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("gz_gripper_node", **kwargs)
        # ros_gz_interfaces comes with ros_gz (a ROS install with Gazebo), never with the ROS wheels.
        from ros_gz_interfaces.msg import Contacts

        cfg = self.cfg = read_config(self, GazeboGripperConfig)
        self.profile = arm_profile(cfg.arm)
        objects = tuple(o for o in cfg.objects if o)
        self.state = GripperState(objects)
        self._contacts: list[tuple[float, str, str]] = []  # (received, collision1, collision2)
        sensors = MutuallyExclusiveCallbackGroup()
        for link in self.profile.contact_links:
            self.create_subscription(Contacts, contact_topic(link), self._on_contacts, 10, callback_group=sensors)
        self._attach = {m: self.create_publisher(Empty, attach_topic(m), 10) for m in objects}
        self._detach = {m: self.create_publisher(Empty, detach_topic(m), 10) for m in objects}
        self._states = {m: self.create_subscription(String, state_topic(m), partial(self._on_state, m), 10,
                                                    callback_group=sensors) for m in objects}
        self._commanded_fingers = commanded_finger_joints(self.profile)
        self._fingers = (self.create_publisher(Float64MultiArray, f"{FINGER_CONTROLLER}/commands", 10)
                         if self._commanded_fingers else None)
        self._service = None
        self.create_timer(cfg.detach_period, self._detach_unconfirmed, callback_group=sensors)
        self.get_logger().info(f"{self.profile.gripper} of the {cfg.arm} in Gazebo: {len(objects)} graspable "
                               f"objects; {cfg.service} once every one is detached")
        self._offer_when_ready()

    def _on_contacts(self, msg) -> None:
        now = self.get_clock().now().nanoseconds * 1e-9
        self._contacts = [c for c in self._contacts if now - c[0] <= self.cfg.contact_window]
        self._contacts += [(now, c.collision1.name, c.collision2.name) for c in msg.contacts]

    def _on_state(self, model: str, msg: String) -> None:
        self.state.on_state(model, msg.data)
        self._offer_when_ready()

    def _offer_when_ready(self) -> None:
        if self.state.ready and self._service is None:
            self._service = self.create_service(SetBool, self.cfg.service, self._on_set,
                                                callback_group=MutuallyExclusiveCallbackGroup())
            self.get_logger().info(f"every object detached: serving {self.cfg.service}")

    def _detach_unconfirmed(self) -> None:
        # Only over a bridge that carries the answer too: Gazebo says "detached" once, when it happens.
        for model in self.state.to_detach():
            if self._detach[model].get_subscription_count() and self._states[model].get_publisher_count():
                self._detach[model].publish(Empty())

    def _set_fingers(self, width: float) -> None:
        if self._fingers is not None:
            self._fingers.publish(Float64MultiArray(data=[width] * len(self._commanded_fingers)))

    def _wait_sim(self, seconds: float) -> None:
        """Sleep ``seconds`` of the node's clock (simulated time under use_sim_time)."""
        clock = self.get_clock()
        until = clock.now() + Duration(seconds=seconds)
        while clock.now() < until and rclpy.ok():
            if clock.now() == Time(clock_type=clock.clock_type):  # no /clock yet: nothing will advance
                break
            time.sleep(0.02)

    def _on_set(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        if not request.data:
            released = self.state.release()
            if released is not None:
                self._detach[released].publish(Empty())
            self._set_fingers(self.profile.finger_open)
            response.success, response.message = True, f"released {released or 'nothing'}"
            return response
        if self._fingers is not None:
            self._set_fingers(0.0)
            self._wait_sim(self.cfg.close_seconds)
        now = self.get_clock().now().nanoseconds * 1e-9
        recent = [(a, b) for t, a, b in self._contacts if now - t <= self.cfg.contact_window]
        model = self.state.grip(touched_object(recent, self.state.objects, self.cfg.robot_model))
        if model is not None:
            self._attach[model].publish(Empty())
        response.success = self.state.held is not None
        response.message = f"holding {self.state.held}" if response.success else "touching nothing graspable"
        return response


def main(args: list[str] | None = None) -> None:
    try:
        with rclpy.init(args=args):
            executor = MultiThreadedExecutor()
            executor.add_node(GazeboGripperNode())
            executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == "__main__":
    main()
