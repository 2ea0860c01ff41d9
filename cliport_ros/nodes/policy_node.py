"""policy_node: ``/instruct`` — language + latest heightmap -> one pick-and-place.

Served twice with the same goal, codes and result: as the ``Instruct`` action
(feedback at each phase and segment of the motion; a cancel stops the arm
through ``executor/cancel``) and as the ``Instruct`` service, for
``ros2 service call``.

Keeps the newest ``heightmap`` (transient-local), decides with the configured
policy — a CLIPort checkpoint (a path, or ``shipped``: the one packaged), or ``oracle``: the simulator's scripted expert
asked over ``sim/oracle`` (it reads true object poses, so it exists only in
simulation and every answer says so) — publishes what it decided
(``policy/affordance`` image, ``policy/markers``), and unless ``dry_run`` hands
the pick-and-place to ``executor/execute`` and answers when the motion ended.

Every refusal moves nothing and says why (Instruct.srv codes). What
decides and what a decision must pass live in ``decision/`` (the Policy
interface, the heightmap gate, :func:`accept`); this node is their ROS
plumbing. Parameters: the fields of ``PolicyNodeConfig``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import rclpy
from geometry_msgs.msg import Point
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.action.server import ServerGoalHandle
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from std_srvs.srv import Trigger
from visualization_msgs.msg import Marker, MarkerArray

from cliport_ros import topics
from cliport_ros.action import Instruct as InstructAction
from cliport_ros.decision.config import PolicyNodeConfig
from cliport_ros.decision.gate import HeightmapGate, check_observed
from cliport_ros.decision.policy import (
    ORACLE,
    Decision,
    LearnedPolicy,
    OraclePolicy,
    Policy,
    Reason,
    RefusedError,
    accept,
)
from cliport_ros.instruction import InstructionError, check_instruction
from cliport_ros.msg import ExecutionProgress
from cliport_ros.msg import Heightmap as HeightmapMsg
from cliport_ros.msg import PickPlace as PickPlaceMsg
from cliport_ros.perception.camera import PerceptionError
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.visualize import affordance_figure
from cliport_ros.ros.conversions import (
    array_to_image,
    decision_from_msg,
    decision_to_msg,
    heightmap_from_msg,
    stamp_to_seconds,
)
from cliport_ros.ros.params import read_config
from cliport_ros.ros.qos import LATCHED
from cliport_ros.srv import ExecutePickPlace, Instruct, OracleAction

Code = Instruct.Response


def code_of(reason: Reason) -> int:
    """The Instruct.srv outcome code of a refusal (the enum's names are the srv's constant names)."""
    return getattr(Code, reason.name)


class PolicyNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("policy_node", **kwargs)
        self.cfg = read_config(self, PolicyNodeConfig)
        # torch is imported only when a model is used
        self.policy: Policy = (OraclePolicy(self._ask_oracle) if self.cfg.policy == ORACLE
                               else LearnedPolicy.from_checkpoint(self.cfg.policy, self.cfg.clip_weights))
        self.gate: HeightmapGate[HeightmapMsg] = HeightmapGate(self.cfg, self._now)
        self._busy = threading.Lock()

        clients = MutuallyExclusiveCallbackGroup()
        self.create_subscription(HeightmapMsg, self.cfg.heightmap_topic, self._on_heightmap, LATCHED,
                                 callback_group=MutuallyExclusiveCallbackGroup())
        self.executor_client = self.create_client(ExecutePickPlace, self.cfg.executor_service, callback_group=clients)
        self.oracle_client = self.create_client(OracleAction, self.cfg.oracle_service, callback_group=clients)
        self.affordance_pub = self.create_publisher(Image, topics.AFFORDANCE, LATCHED)
        self.marker_pub = self.create_publisher(MarkerArray, topics.MARKERS, LATCHED)
        self.decision_pub = self.create_publisher(PickPlaceMsg, topics.DECISION, LATCHED)
        self._executor_alive = -float("inf")  # time.monotonic() of executor_node's last heartbeat
        self.create_subscription(Header, topics.EXECUTOR_HEARTBEAT, self._on_executor_heartbeat, 10,
                                 callback_group=MutuallyExclusiveCallbackGroup())
        self.cancel_client = self.create_client(Trigger, topics.EXECUTOR_CANCEL, callback_group=clients)
        self._progress: tuple[float, ExecutionProgress] | None = None  # (time.monotonic(), msg) of the plan running
        self.create_subscription(ExecutionProgress, topics.EXECUTOR_PROGRESS, self._on_progress, 10,
                                 callback_group=MutuallyExclusiveCallbackGroup())
        self._cancel_requested = threading.Event()  # set by the running goal's cancel
        self._running_goal: ServerGoalHandle | None = None  # the action goal being carried out, if any
        self._feedback: Callable[[InstructAction.Feedback], None] | None = None
        self.create_service(Instruct, topics.INSTRUCT, self._on_instruct, callback_group=ReentrantCallbackGroup())
        self.action_server = ActionServer(self, InstructAction, topics.INSTRUCT, self._on_goal,
                                          goal_callback=lambda _: GoalResponse.ACCEPT,
                                          cancel_callback=self._on_cancel, callback_group=ReentrantCallbackGroup())
        # Alive, on its own thread even while an instruction runs: a client waiting on the action learns at once
        # when this process dies.
        heartbeat = self.create_publisher(Header, topics.POLICY_HEARTBEAT, 10)
        self.create_timer(1.0 / topics.HEARTBEAT_RATE, lambda: heartbeat.publish(
            Header(stamp=self.get_clock().now().to_msg(), frame_id=self.cfg.heightmap_topic)),
            callback_group=MutuallyExclusiveCallbackGroup())
        self.get_logger().info(f"serving /instruct with the {self.policy.label}")

    # -- inputs ---------------------------------------------------------------------------------------
    def _on_heightmap(self, msg: HeightmapMsg) -> None:
        self.gate.offer(stamp_to_seconds(msg.header.stamp), msg)

    def _on_executor_heartbeat(self, _: Header) -> None:
        self._executor_alive = time.monotonic()

    def _on_progress(self, msg: ExecutionProgress) -> None:
        self._progress = (time.monotonic(), msg)
        feedback = self._feedback
        if feedback is not None:
            feedback(InstructAction.Feedback(
                phase="moving", detail=f"{msg.segment} ({msg.index} of {msg.count})", segment=msg.index,
                segments=msg.count, planned_seconds=msg.planned_seconds, remaining_seconds=msg.remaining_seconds))

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def fresh_heightmap(self) -> tuple[HeightmapMsg, Heightmap]:
        """The newest heightmap if the gate lets it through, as a message and as core type."""
        if self.get_parameter("use_sim_time").value and self.get_clock().now().nanoseconds == 0:
            raise RefusedError(Reason.STALE_HEIGHTMAP, "use_sim_time is set but no /clock has arrived, so no "
                               "heightmap's age can be known: start the simulator's clock (ros_gz_bridge /clock), or "
                               "run without use_sim_time")
        _, msg = self.gate.fresh()
        try:
            return msg, check_observed(heightmap_from_msg(msg), self.cfg.min_observed)
        except PerceptionError as err:
            raise RefusedError(Reason.STALE_HEIGHTMAP, f"the newest heightmap is unusable: {err}") from err

    def _ask_oracle(self, instruction: str) -> Decision:
        response = self._call(self.oracle_client, OracleAction.Request(instruction=instruction), 10.0,
                              "the oracle policy needs sim_node")
        if not response.success:
            raise RefusedError(Reason.INVALID_INSTRUCTION, f"oracle: {response.message}")
        return decision_from_msg(response.action)

    def _call(self, client, request, timeout: float, what: str, alive: Callable[[], float] | None = None,
              deadline: Callable[[], float | None] | None = None):
        """Call a service from inside a callback: wait on an event, never spin (the MultiThreadedExecutor
        delivers the answer on another thread, in the clients' callback group). ``alive()``: when the server
        last showed it was alive (time.monotonic()); silent for HEARTBEAT_TIMEOUT means it died. ``deadline()``:
        a time.monotonic() the server itself has since promised to answer by (None: ``timeout`` stands)."""
        if not client.wait_for_service(timeout_sec=min(timeout, topics.SERVICE_DISCOVERY_WAIT)):
            raise RefusedError(Reason.INTERNAL_ERROR, f"{client.srv_name} is not available ({what})")
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        until = time.monotonic() + timeout
        while not done.wait(min(0.1, max(0.0, until - time.monotonic()))):
            now = time.monotonic()
            promised = deadline() if deadline is not None else None
            if promised is not None:
                until = promised
            # A server that dies never answers: say so at once rather than at the deadline.
            if alive is not None and now - alive() > topics.HEARTBEAT_TIMEOUT:
                client.remove_pending_request(future)
                raise RefusedError(Reason.EXECUTION_FAILED, f"{client.srv_name} went silent before answering "
                                   f"(no heartbeat for {now - alive():.1f} s; {what}): if the arm was moving, check it")
            if now >= until:
                client.remove_pending_request(future)
                raise RefusedError(Reason.INTERNAL_ERROR, f"{client.srv_name} did not answer in time ({what})")
        return future.result()

    # -- the service ----------------------------------------------------------------------------------
    def _on_goal(self, goal: ServerGoalHandle) -> InstructAction.Result:
        """The action: as the service, with feedback on the way and a cancel that stops the arm."""
        result = InstructAction.Result()
        self._feedback = goal.publish_feedback
        try:
            self._on_instruct(goal.request, result, goal=goal)
        finally:
            self._feedback = None
        if result.code == Code.CANCELLED:
            goal.canceled()
        elif result.success:
            goal.succeed()
        else:
            goal.abort()
        return result

    def _on_cancel(self, goal: ServerGoalHandle) -> CancelResponse:
        """Accept at once; before motion the instruction stops at its next step, during motion the executor
        holds the arm (executor/cancel, called here without waiting). A goal that is not running (answered
        BUSY) has nothing to stop."""
        if goal is not self._running_goal:
            return CancelResponse.ACCEPT
        self._cancel_requested.set()
        if self.cancel_client.wait_for_service(timeout_sec=1.0):
            self.cancel_client.call_async(Trigger.Request())
        else:
            self.get_logger().error(f"cancel: {self.cancel_client.srv_name} is not available; the arm was not told "
                                    "to stop")
        self._phase("stopping", "cancel requested: the arm is held where it is")
        return CancelResponse.ACCEPT

    def _check_cancelled(self) -> None:
        if self._cancel_requested.is_set():
            raise RefusedError(Reason.CANCELLED, "cancelled before the arm moved")

    def _on_instruct(self, request: Instruct.Request, response: Instruct.Response,
                     goal: ServerGoalHandle | None = None) -> Instruct.Response:
        response.policy = self.policy.label
        try:
            instruction = check_instruction(request.instruction, self.cfg.max_instruction_length)
        except InstructionError as err:
            response.code, response.message = Code.INVALID_INSTRUCTION, str(err)
            return response
        if not self._busy.acquire(blocking=False):
            response.code, response.message = Code.BUSY, "busy: another instruction is still executing"
            return response
        self._cancel_requested.clear()
        self._running_goal = goal
        try:
            self._instruct(instruction, request.dry_run, response)
        except RefusedError as refusal:
            response.code, response.message = code_of(refusal.reason), str(refusal)
        except Exception as err:  # a bug must not leave the service dead or the lock held
            self.get_logger().error(f"instruct failed: {err!r}")
            response.code, response.message = Code.INTERNAL_ERROR, f"internal error: {err}"
        finally:
            self._running_goal = None
            self._busy.release()
        self.get_logger().info(f"'{instruction}': {response.message}")
        return response

    def _phase(self, phase: str, detail: str, response: Instruct.Response | None = None) -> None:
        """Feedback to an action client (nothing for the service): the phase, and the decision once made."""
        feedback = self._feedback
        if feedback is None:
            return
        msg = InstructAction.Feedback(phase=phase, detail=detail)
        if response is not None:
            msg.pick_pose, msg.place_pose = response.pick_pose, response.place_pose
            msg.pick_confidence, msg.place_confidence = response.pick_confidence, response.place_confidence
        feedback(msg)

    def _instruct(self, instruction: str, dry_run: bool, response: Instruct.Response) -> None:
        self._phase("heightmap", "waiting for a fresh heightmap")
        msg, heightmap = self.fresh_heightmap()
        self._check_cancelled()
        header = Header(frame_id=msg.header.frame_id, stamp=msg.header.stamp)
        self._phase("deciding", self.policy.label)
        started = time.monotonic()
        decision = self.policy.decide(heightmap, instruction)
        response.predict_seconds = time.monotonic() - started
        action = decision_to_msg(decision, header, instruction)
        _report(decision, action, response)
        self._publish(heightmap, decision, action)
        self._phase("decided", f"pick at pixel {list(decision.pick_pixel)}, place at {list(decision.place_pixel)}",
                    response)
        accept(decision, self.cfg.min_confidence, heightmap.observed if self.cfg.refuse_unobserved else None)
        self._check_cancelled()
        request = ExecutePickPlace.Request(action=action, check_only=dry_run)
        # From the call on, the executor has HEARTBEAT_TIMEOUT to show it lives.
        called = self._executor_alive = time.monotonic()

        def promised() -> float | None:
            """The executor's own bound on the plan it reported, once it has reported one for this call."""
            progress = self._progress
            if progress is None or progress[0] < called:
                return None
            return progress[0] + progress[1].deadline_seconds + self.cfg.execute_grace

        result = self._call(self.executor_client, request, self.cfg.execute_timeout, "executor_node must be running",
                            alive=lambda: self._executor_alive, deadline=promised)
        response.executed = result.executed
        response.execute_seconds = result.execute_seconds
        if result.executed:
            self.gate.motion_ended()
        if not result.success:
            response.code, response.message = result.code, result.message
            return
        response.success, response.code = True, Code.OK
        response.message = result.message
        if dry_run:
            pick, place = list(decision.pick_pixel), list(decision.place_pixel)
            response.message = f"dry run: would pick at pixel {pick} and place at {place} ({result.message})"

    def _publish(self, heightmap: Heightmap, decision: Decision, action: PickPlaceMsg) -> None:
        """What was decided, for people: the affordance picture, the message, and two arrows in RViz."""
        header = action.header
        figure = affordance_figure(heightmap, decision.pick_pixel, decision.place_pixel, decision.action.rotation,
                                   decision.pick_map, decision.place_map)
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


def _report(decision: Decision, action: PickPlaceMsg, response: Instruct.Response) -> None:
    """The decision into the response: filled before anything moves, so a refusal still says what it was."""
    response.pick_pose.header = response.place_pose.header = action.header
    response.pick_pose.pose, response.place_pose.pose = action.pick, action.place
    response.pick_pixel = list(decision.pick_pixel)
    response.place_pixel = list(decision.place_pixel)
    response.place_rotation = decision.action.rotation
    response.pick_confidence, response.place_confidence = decision.pick_confidence, decision.place_confidence


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
