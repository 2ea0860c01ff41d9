"""policy_node: the ``/instruct`` service — language + latest heightmap -> one pick-and-place.

Keeps the newest ``heightmap`` (transient-local), decides with the configured
policy — a CLIPort checkpoint (a path, or ``shipped``: the one packaged), or ``oracle``: the simulator's scripted expert
asked over ``sim/oracle`` (it reads true object poses, so it exists only in
simulation and every answer says so) — publishes what it decided
(``policy/affordance`` image, ``policy/markers``), and unless ``dry_run`` hands
the pick-and-place to ``executor/execute`` and answers when the motion ended.

Every refusal moves nothing and says why (Instruct.srv codes). After a
motion the scene has changed: a decision waits (up to ``heightmap_wait``) for
a heightmap taken after the motion ended rather than act on the old one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import rclpy
from geometry_msgs.msg import Point
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from cliport_ros.execution.actions import action_from_pixels
from cliport_ros.instruction import InstructionError, check_instruction
from cliport_ros.msg import Heightmap as HeightmapMsg
from cliport_ros.msg import PickPlace as PickPlaceMsg
from cliport_ros.nodes.conversions import (
    array_to_image,
    heightmap_from_msg,
    pick_place_to_msg,
    stamp_to_seconds,
)
from cliport_ros.nodes.perception_node import LATCHED
from cliport_ros.perception.camera import PerceptionError
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.visualize import affordance_figure
from cliport_ros.srv import ExecutePickPlace, Instruct, OracleAction

ORACLE = "oracle"
ORACLE_LABEL = "oracle (simulator ground truth, not a learned policy)"
Code = Instruct.Response


class RefusedError(Exception):
    """A request the node will not carry out: an Instruct code and one sentence why."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Decision:
    """What the policy chose, as a message, with the maps behind it (None for the oracle)."""

    action: PickPlaceMsg
    pick_map: np.ndarray | None = None
    place_map: np.ndarray | None = None


class PolicyNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("policy_node", **kwargs)
        self.policy_source = self.declare_parameter("policy", ORACLE).value
        clip_weights = self.declare_parameter("clip_weights", "").value
        self.max_age = self.declare_parameter("max_heightmap_age", 5.0).value
        self.heightmap_wait = self.declare_parameter("heightmap_wait", 3.0).value
        self.max_length = self.declare_parameter("max_instruction_length", 200).value
        self.min_confidence = self.declare_parameter("min_confidence", 1e-3).value
        self.execute_timeout = self.declare_parameter("execute_timeout", 300.0).value

        self.policy: Any = None
        self.label = ORACLE_LABEL
        if self.policy_source != ORACLE:
            # torch only when a model is used
            from cliport_ros.model.checkpoint import describe, policy_from_payload, read_checkpoint, resolve_policy
            from cliport_ros.model.clip_backbone import FrozenCLIP

            path = resolve_policy(self.policy_source)
            payload = read_checkpoint(path)
            self.policy = policy_from_payload(payload, path, FrozenCLIP(clip_weights) if clip_weights else None)
            self.label = describe(payload, path)

        self._busy = threading.Lock()
        self._heightmap_cond = threading.Condition()
        self._heightmap: HeightmapMsg | None = None
        self._motion_ended = -np.inf  # ROS time (s) the last motion ended; older heightmaps show the past

        clients = MutuallyExclusiveCallbackGroup()
        self.create_subscription(HeightmapMsg, self.declare_parameter("heightmap_topic", "heightmap").value,
                                 self._on_heightmap, LATCHED, callback_group=MutuallyExclusiveCallbackGroup())
        self.executor_client = self.create_client(
            ExecutePickPlace, self.declare_parameter("executor_service", "executor/execute").value,
            callback_group=clients)
        self.oracle_client = self.create_client(
            OracleAction, self.declare_parameter("oracle_service", "sim/oracle").value, callback_group=clients)
        self.affordance_pub = self.create_publisher(Image, "policy/affordance", LATCHED)
        self.marker_pub = self.create_publisher(MarkerArray, "policy/markers", LATCHED)
        self.decision_pub = self.create_publisher(PickPlaceMsg, "policy/decision", LATCHED)
        self.create_service(Instruct, "instruct", self._on_instruct, callback_group=ReentrantCallbackGroup())
        self.get_logger().info(f"serving /instruct with the {self.label}")

    # -- inputs ---------------------------------------------------------------------------------------
    def _on_heightmap(self, msg: HeightmapMsg) -> None:
        with self._heightmap_cond:
            self._heightmap = msg
            self._heightmap_cond.notify_all()

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def fresh_heightmap(self) -> tuple[HeightmapMsg, Heightmap]:
        """The newest heightmap if it is young enough and newer than the last motion, waiting a little for one."""
        deadline = time.monotonic() + self.heightmap_wait

        def fresh() -> bool:
            msg = self._heightmap
            if msg is None:
                return False
            stamp = stamp_to_seconds(msg.header.stamp)
            return stamp > self._motion_ended and self._now() - stamp <= self.max_age

        with self._heightmap_cond:
            while not fresh() and time.monotonic() < deadline:
                self._heightmap_cond.wait(timeout=max(0.0, min(0.1, deadline - time.monotonic())))
            msg = self._heightmap
        if msg is None:
            raise RefusedError(Code.NO_HEIGHTMAP, "no heightmap received yet: is perception_node running?")
        stamp = stamp_to_seconds(msg.header.stamp)
        if stamp <= self._motion_ended:
            raise RefusedError(Code.STALE_HEIGHTMAP, "no heightmap taken since the last motion ended; the scene has "
                          "changed since the newest one")
        if self._now() - stamp > self.max_age:
            raise RefusedError(Code.STALE_HEIGHTMAP, f"the newest heightmap is {self._now() - stamp:.1f} s old "
                          f"(max_heightmap_age {self.max_age:g} s)")
        try:
            return msg, heightmap_from_msg(msg)
        except PerceptionError as err:
            raise RefusedError(Code.STALE_HEIGHTMAP, f"the newest heightmap is unusable: {err}") from err

    # -- deciding -------------------------------------------------------------------------------------
    def decide(self, heightmap: Heightmap, instruction: str, header: Header) -> Decision:
        if self.policy is None:
            return Decision(self._ask_oracle(instruction))
        expected = tuple(self.policy.cfg.in_shape)
        if heightmap.workspace.shape != expected:
            rows, cols = heightmap.workspace.shape
            raise RefusedError(Code.INTERNAL_ERROR, f"the heightmap is {rows}x{cols} cells; the checkpoint was "
                               f"trained on {expected[0]}x{expected[1]}: match perception's workspace to it")
        decision = self.policy.act(heightmap, instruction)
        action = action_from_pixels(heightmap, decision.pick_pixel, decision.place_pixel, decision.rotation)
        msg = pick_place_to_msg(action, header, decision.pick_pixel, decision.place_pixel,
                                decision.pick_confidence, decision.place_confidence, instruction)
        return Decision(msg, decision.pick_logits, decision.place_logits[decision.rotation_bin])

    def _ask_oracle(self, instruction: str) -> PickPlaceMsg:
        response = self._call(self.oracle_client, OracleAction.Request(instruction=instruction), 10.0,
                              "the oracle policy needs sim_node")
        if not response.success:
            raise RefusedError(Code.INVALID_INSTRUCTION, f"oracle: {response.message}")
        return response.action

    def _call(self, client, request, timeout: float, what: str):
        """Call a service from inside a callback: wait on an event, never spin."""
        if not client.wait_for_service(timeout_sec=min(timeout, 2.0)):
            raise RefusedError(Code.INTERNAL_ERROR, f"{client.srv_name} is not available ({what})")
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout):
            client.remove_pending_request(future)
            raise RefusedError(Code.INTERNAL_ERROR, f"{client.srv_name} did not answer within {timeout:g} s")
        return future.result()

    # -- the service ----------------------------------------------------------------------------------
    def _on_instruct(self, request: Instruct.Request, response: Instruct.Response) -> Instruct.Response:
        response.policy = self.label
        try:
            instruction = check_instruction(request.instruction, self.max_length)
        except InstructionError as err:
            response.code, response.message = Code.INVALID_INSTRUCTION, str(err)
            return response
        if not self._busy.acquire(blocking=False):
            response.code, response.message = Code.BUSY, "busy: another instruction is still executing"
            return response
        try:
            self._instruct(instruction, request.dry_run, response)
        except RefusedError as refusal:
            response.code, response.message = refusal.code, str(refusal)
        except Exception as err:  # a bug must not leave the service dead or the lock held
            self.get_logger().error(f"instruct failed: {err!r}")
            response.code, response.message = Code.INTERNAL_ERROR, f"internal error: {err}"
        finally:
            self._busy.release()
        self.get_logger().info(f"'{instruction}': {response.message}")
        return response

    def _instruct(self, instruction: str, dry_run: bool, response: Instruct.Response) -> None:
        msg, heightmap = self.fresh_heightmap()
        header = Header(frame_id=msg.header.frame_id, stamp=msg.header.stamp)
        started = time.monotonic()
        decision = self.decide(heightmap, instruction, header)
        response.predict_seconds = time.monotonic() - started
        self._report(decision.action, response)
        self._publish(heightmap, decision, header)
        action = decision.action
        confidence = min(action.pick_confidence, action.place_confidence)
        if confidence < self.min_confidence:
            raise RefusedError(Code.LOW_CONFIDENCE, f"confidence {confidence:.2g} is below min_confidence "
                          f"{self.min_confidence:g}; not moving")
        request = ExecutePickPlace.Request(action=action, check_only=dry_run)
        result = self._call(self.executor_client, request, self.execute_timeout, "executor_node must be running")
        response.executed = result.executed
        response.execute_seconds = result.execute_seconds
        if result.executed:
            self._motion_ended = self._now()
        if not result.success:
            raise RefusedError(result.code, result.message)
        response.success, response.code = True, Code.OK
        response.message = result.message
        if dry_run:
            pick, place = [int(v) for v in response.pick_pixel], [int(v) for v in response.place_pixel]
            response.message = f"dry run: would pick at pixel {pick} and place at {place} ({result.message})"

    def _report(self, action: PickPlaceMsg, response: Instruct.Response) -> None:
        response.pick_pose.header = response.place_pose.header = action.header
        response.pick_pose.pose, response.place_pose.pose = action.pick, action.place
        response.pick_pixel = [action.pick_row, action.pick_col]
        response.place_pixel = [action.place_row, action.place_col]
        response.place_rotation = action.place_rotation
        response.pick_confidence, response.place_confidence = action.pick_confidence, action.place_confidence

    def _publish(self, heightmap: Heightmap, decision: Decision, header: Header) -> None:
        action = decision.action
        figure = affordance_figure(heightmap, (action.pick_row, action.pick_col), (action.place_row, action.place_col),
                                   action.place_rotation, decision.pick_map, decision.place_map)
        self.affordance_pub.publish(array_to_image(figure, "rgb8", header))
        self.decision_pub.publish(action)
        markers = MarkerArray()
        for k, (pose, rgb) in enumerate(((action.pick, (0.1, 0.9, 0.1)), (action.place, (0.1, 0.4, 1.0)))):
            # An arrow pointing down at the point, 10 cm long.
            marker = Marker(header=header, ns="cliport", id=k, type=Marker.ARROW, action=Marker.ADD)
            tip = pose.position
            marker.points = [Point(x=tip.x, y=tip.y, z=tip.z + 0.1), Point(x=tip.x, y=tip.y, z=tip.z)]
            marker.scale.x, marker.scale.y, marker.scale.z = 0.01, 0.02, 0.03
            marker.color.r, marker.color.g, marker.color.b, marker.color.a = (*rgb, 1.0)
            markers.markers.append(marker)
        self.marker_pub.publish(markers)


def main(args: list[str] | None = None) -> None:
    try:
        with rclpy.init(args=args):
            executor = MultiThreadedExecutor(num_threads=4)
            executor.add_node(PolicyNode())
            executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == "__main__":
    main()
