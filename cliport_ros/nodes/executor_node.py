"""executor_node: one pick-and-place (or push) -> joint trajectories for a ros2_control arm, plus the gripper.

Serves ``executor/execute`` (cliport_ros/ExecutePickPlace). A request is
checked against the configured workspace and solved by inverse kinematics
for every waypoint before anything moves; then each segment of the plan is
published on ``/<controller>/joint_trajectory`` and confirmed finished from
``/joint_states`` before the next (and before any gripper command, sent on
the ``gripper/set`` std_srvs/SetBool service: true grips, false releases).
With ``tool: spatula`` the arm pushes instead: the request's pick and place
are where the push starts and where it heads, and no gripper is used.

Threads: the service waits for joint states and the gripper while the
MultiThreadedExecutor delivers them in other callback groups; a second
request while one runs is refused at once with BUSY, never queued.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Header
from std_srvs.srv import SetBool
from trajectory_msgs.msg import JointTrajectory as JointTrajectoryMsg

from cliport_ros.execution.arms import arm_profile
from cliport_ros.execution.kinematics import ArmKinematics
from cliport_ros.execution.planner import PlanError, PlannerConfig, Segment, joint_move, plan_pick_place, plan_push
from cliport_ros.nodes.conversions import pick_place_from_msg, trajectory_to_msg
from cliport_ros.nodes.params import declare_dataclass
from cliport_ros.perception.workspace import Workspace
from cliport_ros.srv import ExecutePickPlace

DEFAULT_CONTROLLERS = {"ur5": "scaled_joint_trajectory_controller", "franka": "fr3_arm_controller"}
Response = ExecutePickPlace.Response


class MotionError(RuntimeError):
    """The arm did not finish a segment, or the gripper failed; the message says which."""


class ExecutorNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("executor_node", **kwargs)
        arm = self.declare_parameter("arm", "ur5").value
        # "" = the arm's own end effector; "spatula" (UR5) turns every request into a push.
        self.profile = arm_profile(arm, self.declare_parameter("tool", "").value or None)
        urdf = self.declare_parameter("urdf", "").value or self.profile.urdf
        tool = self.declare_parameter("tool_frame", "").value or self.profile.tool_link
        custom = (urdf, tool) != (self.profile.urdf, self.profile.tool_link)
        self.kinematics = ArmKinematics(urdf, tool) if custom else ArmKinematics.from_profile(self.profile)
        # Names the controller and /joint_states use, in the URDF's joint order (default: the URDF's own).
        names = self.declare_parameter("joint_names", [""]).value
        self.joint_names = [n for n in names if n] or list(self.kinematics.joint_names)
        if len(self.joint_names) != len(self.kinematics.joint_names):
            raise ValueError(f"joint_names has {len(self.joint_names)} names; the arm has "
                             f"{len(self.kinematics.joint_names)} joints {list(self.kinematics.joint_names)}")
        home = self.declare_parameter("home", [0.0]).value
        self.home = np.array(home if len(home) == len(self.joint_names) else self.profile.home, dtype=float)
        controller = self.declare_parameter("controller", DEFAULT_CONTROLLERS.get(arm, "joint_trajectory_controller"))
        self.frame_id = self.declare_parameter("base_frame", "base_link").value
        self.workspace = Workspace(**declare_dataclass(self, Workspace, "workspace."))
        self.planner = PlannerConfig(**declare_dataclass(self, PlannerConfig, "planner."))
        self.goal_tolerance = self.declare_parameter("goal_tolerance", 0.02).value  # rad, every joint
        # A segment may take this many times its planned duration, plus the margin, before it counts as failed.
        self.timeout_factor = self.declare_parameter("timeout_factor", 3.0).value
        self.timeout_margin = self.declare_parameter("timeout_margin", 5.0).value
        self.gripper_timeout = self.declare_parameter("gripper_timeout", 5.0).value
        # Joint states older than this mean the arm's driver is gone: nothing moves on them.
        self.joint_state_timeout = self.declare_parameter("joint_state_timeout", 2.0).value

        self._busy = threading.Lock()
        self._state_lock = threading.Lock()
        self._state: tuple[float, np.ndarray, np.ndarray | None] | None = None  # (received, q, dq)
        service_group = ReentrantCallbackGroup()  # so a second request runs, and is refused, at once
        self.create_subscription(JointState, "joint_states", self._on_joint_state, 10,
                                 callback_group=MutuallyExclusiveCallbackGroup())
        self.gripper = self.create_client(SetBool, self.declare_parameter("gripper_service", "gripper/set").value,
                                          callback_group=MutuallyExclusiveCallbackGroup())
        self.trajectory_pub = self.create_publisher(JointTrajectoryMsg, f"{controller.value}/joint_trajectory", 10)
        self.create_service(ExecutePickPlace, "executor/execute", self._on_execute, callback_group=service_group)
        self.get_logger().info(f"executing for a {arm} ({self.profile.gripper}) on "
                               f"{controller.value}/joint_trajectory, gripper {self.gripper.srv_name}")

    @property
    def pushes(self) -> bool:
        return self.profile.gripper == "spatula"

    # -- joint states ---------------------------------------------------------------------------------
    def _on_joint_state(self, msg: JointState) -> None:
        index = {name: k for k, name in enumerate(msg.name)}
        if not all(n in index for n in self.joint_names):
            return  # another arm's or a gripper's joint states
        q = np.array([msg.position[index[n]] for n in self.joint_names])
        dq = None
        if len(msg.velocity) == len(msg.name):
            dq = np.array([msg.velocity[index[n]] for n in self.joint_names])
        with self._state_lock:
            self._state = (time.monotonic(), q, dq)

    def joint_state(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Latest joint positions (and velocities); waits up to ``joint_state_timeout`` for a fresh message."""
        deadline = time.monotonic() + self.joint_state_timeout
        while True:
            with self._state_lock:
                state = self._state
            if state is not None and time.monotonic() - state[0] <= self.joint_state_timeout:
                return state[1], state[2]
            if time.monotonic() > deadline:
                raise MotionError(f"no /joint_states for {', '.join(self.joint_names[:2])}... in the last "
                                  f"{self.joint_state_timeout:g} s")
            time.sleep(0.01)

    # -- the service ----------------------------------------------------------------------------------
    def _on_execute(self, request: ExecutePickPlace.Request, response: Response) -> Response:
        if not self._busy.acquire(blocking=False):
            response.code, response.message = Response.BUSY, "busy: another pick-and-place is executing"
            return response
        try:
            return self._execute(request, response)
        except Exception as err:  # a bug must not leave the service dead or the lock held
            self.get_logger().error(f"execute failed: {err!r}")
            response.code, response.message = Response.INTERNAL_ERROR, f"internal error: {err}"
            return response
        finally:
            self._busy.release()

    def _execute(self, request: ExecutePickPlace.Request, response: Response) -> Response:
        start_time = time.monotonic()
        try:
            action = pick_place_from_msg(request.action)
        except ValueError as err:
            response.code, response.message = Response.OUTSIDE_WORKSPACE, f"invalid pick-and-place: {err}"
            return response
        try:
            start, _ = self.joint_state()
            planner = plan_push if self.pushes else plan_pick_place
            plan = planner(action, self.kinematics, self.profile, start, self.workspace, self.planner,
                           home=self.home)
        except MotionError as err:
            response.code, response.message = Response.EXECUTION_FAILED, str(err)
            return response
        except PlanError as err:
            response.code = Response.OUTSIDE_WORKSPACE if err.reason == "outside_workspace" else Response.UNREACHABLE
            response.message = str(err)
            return response
        duration = sum(s.trajectory.duration for s in plan)
        if request.check_only:
            response.success, response.code = True, Response.OK
            response.message = f"feasible: {len(plan)} segments, {duration:.1f} s of motion"
            return response
        response.executed = True
        try:
            for segment in plan:
                self._run_segment(segment)
                if not response.first_trajectory_seconds:
                    response.first_trajectory_seconds = self._first_published - start_time
                if segment.gripper is not None and not self._command_gripper(segment.gripper == "grip"):
                    self._recover(plan)
                    raise MotionError(f"nothing held after gripping at {segment.name}")
        except MotionError as err:
            response.code, response.message = Response.EXECUTION_FAILED, str(err)
            response.execute_seconds = time.monotonic() - start_time
            return response
        response.success, response.code = True, Response.OK
        response.execute_seconds = time.monotonic() - start_time
        if self.pushes:
            response.message = f"pushed from {_fmt(action.pick_xyz)} towards {_fmt(action.place_xyz)}"
        else:
            response.message = f"picked at {_fmt(action.pick_xyz)} and placed at {_fmt(action.place_xyz)}"
        return response

    def _run_segment(self, segment: Segment) -> None:
        """Publish one segment and wait until /joint_states show its last point reached and at rest."""
        trajectory = segment.trajectory
        msg = trajectory_to_msg(trajectory, Header(frame_id=self.frame_id))
        msg.joint_names = list(self.joint_names)
        self.trajectory_pub.publish(msg)
        self._first_published = time.monotonic()
        goal = np.asarray(trajectory.positions)[-1]
        deadline = time.monotonic() + trajectory.duration * self.timeout_factor + self.timeout_margin
        while time.monotonic() < deadline:
            q, dq = self.joint_state()
            at_rest = dq is None or np.abs(dq).max() < 0.05
            if np.abs(q - goal).max() < self.goal_tolerance and at_rest:
                return
            time.sleep(0.01)
        q, _ = self.joint_state()
        raise MotionError(f"the arm did not finish '{segment.name}' within {deadline - self._first_published:.0f} s "
                          f"(largest joint error {np.abs(q - goal).max():.3f} rad)")

    def _command_gripper(self, close: bool) -> bool:
        """Grip (True: something is held) or release; MotionError when the gripper does not answer."""
        if not self.gripper.wait_for_service(timeout_sec=self.gripper_timeout):
            raise MotionError(f"gripper service {self.gripper.srv_name} is not available")
        done = threading.Event()
        future = self.gripper.call_async(SetBool.Request(data=close))
        future.add_done_callback(lambda _: done.set())
        if not done.wait(self.gripper_timeout):
            self.gripper.remove_pending_request(future)
            raise MotionError(f"gripper service {self.gripper.srv_name} did not answer in {self.gripper_timeout} s")
        result = future.result()
        return bool(result.success) if close else True

    def _recover(self, plan: list[Segment]) -> None:
        """After a failed grip: release, go back up the way the tool came down, then home."""
        self._command_gripper(False)
        by_name = {s.name: s for s in plan}
        self._run_segment(by_name["lift"])
        q, _ = self.joint_state()
        self._run_segment(self._home_from(q))

    def _home_from(self, q: np.ndarray) -> Segment:
        return Segment("home", joint_move(self.kinematics, q, self.home, self.planner), None)


def _fmt(xyz) -> str:
    return "(" + ", ".join(f"{v:.3f}" for v in xyz) + ")"


def main(args: list[str] | None = None) -> None:
    try:
        with rclpy.init(args=args):
            executor = MultiThreadedExecutor(num_threads=4)
            node = ExecutorNode()
            executor.add_node(node)
            executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == "__main__":
    main()
