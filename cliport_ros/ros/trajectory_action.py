"""Driving a ros2_control joint trajectory controller through ``control_msgs/action/FollowJointTrajectory``, as
MoveIt's controller manager does, instead of its ``joint_trajectory`` topic.

Over the action the controller says what the topic cannot: that it refused a trajectory (an inactive
controller, joints it does not drive, a start in the past) and that it aborted one (its own path or goal
tolerance). A cancel is its own stop: the controller holds where it is. ``control_msgs`` is not on PyPI, so it
is imported only when this interface is chosen (a ROS install has it).
"""

from __future__ import annotations

import threading
from typing import Any

from action_msgs.msg import GoalStatus
from rclpy.action import ActionClient
from rclpy.duration import Duration
from rclpy.node import Node
from trajectory_msgs.msg import JointTrajectory

ACTION_SUFFIX = "follow_joint_trajectory"  # /<controller>/follow_joint_trajectory, as ros2_control names it


def load_follow_joint_trajectory() -> Any:
    """The action type; ValueError naming the way out where ``control_msgs`` is not installed."""
    try:
        from control_msgs.action import FollowJointTrajectory
    except ImportError as err:
        raise ValueError("trajectory_interface 'action' needs control_msgs (apt install "
                         "ros-$ROS_DISTRO-control-msgs); without it set trajectory_interface: topic") from err
    return FollowJointTrajectory


class TrajectoryActionClient:
    """One controller's FollowJointTrajectory server, one goal at a time: each ``send`` preempts the last (as the
    controller does), and only the newest goal's refusal or abort counts (``failure``)."""

    def __init__(self, node: Node, controller: str, callback_group: Any = None) -> None:
        self.action = load_follow_joint_trajectory()
        self.name = f"{controller}/{ACTION_SUFFIX}"
        self.client = ActionClient(node, self.action, self.name, callback_group=callback_group)
        self._lock = threading.Lock()
        self._goal = 0  # number of the newest goal sent
        self._handle: Any = None  # the newest goal's handle, once the controller accepted it
        self._cancel_wanted = False  # cancel the newest goal as soon as it is accepted
        self._failure = ""

    def ready(self, timeout: float) -> bool:
        """Whether the controller's action server is there (waits up to ``timeout`` s)."""
        return self.client.wait_for_server(timeout_sec=timeout)

    def send(self, msg: JointTrajectory, goal_tolerance: float, goal_time_tolerance: float) -> None:
        """Send ``msg`` as a new goal (returns at once); the answer arrives on the callback group.

        The goal carries the executor's own finish rule (every joint within ``goal_tolerance`` rad, at most
        ``goal_time_tolerance`` s after the trajectory's end), so the controller aborts by the same rule; its
        path tolerance stays the controller's, which is measured against the time-indexed sample, not (as the
        executor's) against the path.
        """
        from control_msgs.msg import JointTolerance

        request = self.action.Goal(trajectory=msg, goal_time_tolerance=Duration(seconds=goal_time_tolerance).to_msg())
        request.goal_tolerance = [JointTolerance(name=name, position=goal_tolerance) for name in msg.joint_names]
        with self._lock:
            self._goal += 1
            goal, self._handle, self._cancel_wanted, self._failure = self._goal, None, False, ""
        future = self.client.send_goal_async(request)
        future.add_done_callback(lambda f: self._on_response(goal, f))

    def failure(self) -> str:
        """Why the newest goal was refused or aborted ("" while it is accepted, running or done)."""
        with self._lock:
            return self._failure

    def cancel(self) -> bool:
        """Cancel the newest goal (the controller holds where it is), from any thread, without waiting; whether
        there was one to cancel (one not yet accepted is cancelled once it is)."""
        with self._lock:
            if self._goal == 0:
                return False
            handle, self._cancel_wanted = self._handle, self._handle is None
        if handle is not None:
            handle.cancel_goal_async()
        return True

    def _on_response(self, goal: int, future: Any) -> None:
        try:
            handle = future.result()
        except Exception as err:  # the server went away mid-request
            self._fail(goal, f"the controller's {self.name} did not take the trajectory: {err}")
            return
        if not handle.accepted:
            self._fail(goal, f"the controller refused the trajectory on {self.name} (inactive, or other joints)")
            return
        with self._lock:
            if goal != self._goal:
                return
            self._handle, cancel = handle, self._cancel_wanted
        if cancel:
            handle.cancel_goal_async()
        handle.get_result_async().add_done_callback(lambda f: self._on_result(goal, f))

    def _on_result(self, goal: int, future: Any) -> None:
        answer = future.result()
        if answer.status == GoalStatus.STATUS_CANCELED:
            return  # cancelled from here: the stop asked for
        code, text = answer.result.error_code, answer.result.error_string
        if answer.status == GoalStatus.STATUS_ABORTED or code != self.action.Result.SUCCESSFUL:
            self._fail(goal, f"the controller aborted the trajectory on {self.name}: error_code {code}"
                       + (f", {text}" if text else ""))

    def _fail(self, goal: int, why: str) -> None:
        with self._lock:
            if goal == self._goal:
                self._failure = why
