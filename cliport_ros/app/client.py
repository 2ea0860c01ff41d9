"""A client of the running stack: instruct, reset and query the simulator, read heightmaps and affordances.

Used by ``cliport instruct`` / ``demo`` / ``bench e2e`` and the end-to-end
tests. It owns its node and a single-threaded executor and spins only while
waiting for an answer; it is not meant to be used from inside a callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import rclpy
from rclpy.action import ActionClient
from rclpy.context import Context
from rclpy.executors import Executor, SingleThreadedExecutor
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from cliport_ros import topics
from cliport_ros.action import Instruct as InstructAction
from cliport_ros.msg import Heightmap as HeightmapMsg
from cliport_ros.ros.conversions import stamp_to_seconds
from cliport_ros.ros.qos import LATCHED
from cliport_ros.srv import Instruct, ResetTask, TaskStatus

CODE_NAMES = {getattr(Instruct.Response, n): n for n in dir(Instruct.Response)
              if n.isupper() and isinstance(getattr(Instruct.Response, n), int)}


def code_name(code: int) -> str:
    return CODE_NAMES.get(code, f"code {code}")


def spin_until(executor: Executor, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Spin ``executor`` until ``predicate()`` holds or ``timeout`` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        executor.spin_once(timeout_sec=0.05)
    return True


class ServerLostError(RuntimeError):
    """The node serving a request stopped beating its heartbeat before it answered (it died or hangs)."""


class StackClient:
    def __init__(self, context: Context | None = None, name: str = "cliport_client") -> None:
        self.node = rclpy.create_node(name, context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.heightmaps: list[HeightmapMsg] = []
        self.affordances: list[Image] = []
        self.node.create_subscription(HeightmapMsg, topics.HEIGHTMAP, self.heightmaps.append, LATCHED)
        self.node.create_subscription(Image, topics.AFFORDANCE, self.affordances.append, LATCHED)
        self.policy_alive = -float("inf")  # time.monotonic() of policy_node's last heartbeat
        self.node.create_subscription(Header, topics.POLICY_HEARTBEAT, self._on_policy_heartbeat, 10)
        self._clients = {
            "instruct": self.node.create_client(Instruct, topics.INSTRUCT),
            "reset": self.node.create_client(ResetTask, "sim/reset"),
            "status": self.node.create_client(TaskStatus, "sim/status"),
        }

        self.instruct_action = ActionClient(self.node, InstructAction, topics.INSTRUCT)

    def _on_policy_heartbeat(self, _: Header) -> None:
        self.policy_alive = time.monotonic()

    def close(self) -> None:
        self.instruct_action.destroy()
        self.executor.shutdown()
        self.node.destroy_node()

    def spin_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        return spin_until(self.executor, predicate, timeout)

    def wait_for_services(self, names: tuple[str, ...] = ("instruct", "reset", "status"), timeout: float = 60.0
                          ) -> list[str]:
        """Wait for the named services; return those still missing after ``timeout``."""
        self.spin_until(lambda: all(self._clients[n].service_is_ready() for n in names), timeout)
        return [self._clients[n].srv_name for n in names if not self._clients[n].service_is_ready()]

    def call(self, name: str, request, timeout: float):
        """Call a service and wait; TimeoutError when it is missing or does not answer."""
        client = self._clients[name]
        if not self.spin_until(client.service_is_ready, min(timeout, 30.0)):
            raise TimeoutError(f"service {client.srv_name} is not available")
        future = client.call_async(request)
        if not self.spin_until(future.done, timeout):
            client.remove_pending_request(future)
            raise TimeoutError(f"service {client.srv_name} did not answer within {timeout:g} s")
        return future.result()

    def instruct(self, instruction: str, dry_run: bool = False, timeout: float = 600.0) -> Instruct.Response:
        return self.call("instruct", Instruct.Request(instruction=instruction, dry_run=dry_run), timeout)

    def follow(self, instruction: str, dry_run: bool = False, timeout: float = 600.0,
               feedback: Callable[[InstructAction.Feedback], None] | None = None,
               cancel: Callable[[], bool] | None = None) -> InstructAction.Result:
        """The Instruct action: ``feedback`` sees each phase as it happens; once ``cancel()`` returns True (or on
        a KeyboardInterrupt) the goal is cancelled, which stops the arm, and the result (code CANCELLED) is still
        awaited; a second KeyboardInterrupt stops waiting. TimeoutError when the action server is missing or
        nothing finishes within ``timeout``; ServerLostError when policy_node goes silent for HEARTBEAT_TIMEOUT
        before it answers."""
        if not self.spin_until(self.instruct_action.server_is_ready, min(timeout, 30.0)):
            raise TimeoutError(f"action {topics.INSTRUCT} is not available")
        sent = self.instruct_action.send_goal_async(
            InstructAction.Goal(instruction=instruction, dry_run=dry_run),
            feedback_callback=(lambda msg: feedback(msg.feedback)) if feedback else None)
        if not self.spin_until(sent.done, 30.0) or not sent.result().accepted:
            raise TimeoutError(f"action {topics.INSTRUCT} did not accept the goal")
        goal = sent.result()
        outcome, sent_at = goal.get_result_async(), time.monotonic()
        cancelled = False
        deadline = time.monotonic() + timeout
        while not outcome.done():
            now = time.monotonic()
            if now > deadline:
                raise TimeoutError(f"action {topics.INSTRUCT} did not finish within {timeout:g} s")
            silent = now - max(self.policy_alive, sent_at)
            if silent > topics.HEARTBEAT_TIMEOUT:
                raise ServerLostError(f"policy_node went silent ({silent:.1f} s without a heartbeat) before it "
                                      "answered: it died or hangs. executor_node finishes or stops the motion it "
                                      "was given; check the arm before the next instruction")
            try:
                self.executor.spin_once(timeout_sec=0.02)
                if not cancelled and cancel is not None and cancel():
                    raise KeyboardInterrupt
            except KeyboardInterrupt:
                if cancelled:
                    raise  # a second Ctrl-C: stop waiting (the arm was already told to stop)
                cancelled = True
                goal.cancel_goal_async()
        return outcome.result().result

    def reset(self, task: str, seed: int, timeout: float = 60.0) -> ResetTask.Response:
        return self.call("reset", ResetTask.Request(task=task, seed=seed), timeout)

    def status(self, timeout: float = 10.0) -> TaskStatus.Response:
        return self.call("status", TaskStatus.Request(), timeout)

    def now(self) -> float:
        return self.node.get_clock().now().nanoseconds * 1e-9

    def heightmap_after(self, t: float, timeout: float = 30.0) -> HeightmapMsg | None:
        """The first heightmap stamped after ROS time ``t`` (seconds), or None."""
        def newer() -> bool:
            return bool(self.heightmaps) and stamp_to_seconds(self.heightmaps[-1].header.stamp) > t

        return self.heightmaps[-1] if self.spin_until(newer, timeout) else None
