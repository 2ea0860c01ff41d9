"""executor_node: one pick-and-place (or push) -> joint trajectories for a ros2_control arm, plus the gripper.

Serves ``executor/execute`` (cliport_ros/ExecutePickPlace). A request is
checked against the configured workspace and solved by inverse kinematics
for every waypoint before anything moves; then each segment of the plan is
published on ``/<controller>/joint_trajectory`` (or, with ``trajectory_interface:
action``, sent as a ``/<controller>/follow_joint_trajectory`` goal) and confirmed
finished from ``/joint_states`` before the next (and before any gripper command, sent on
the ``gripper/set`` std_srvs/SetBool service: true grips, false releases).
With ``tool: spatula`` the arm pushes instead: the request's pick and place
are where the push starts and where it heads, and no gripper is used.

Threads: the service waits for joint states and the gripper while the
MultiThreadedExecutor delivers them in other callback groups; a second
request while one runs is refused at once with BUSY, never queued.
"""

from __future__ import annotations

import signal
import threading
import time

import numpy as np
import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import JointState
from std_msgs.msg import Header
from std_srvs.srv import SetBool, Trigger
from trajectory_msgs.msg import JointTrajectory

from cliport_ros import topics
from cliport_ros.execution.arms import arm_profile
from cliport_ros.execution.collision import ClearanceConfig, SceneChecker, held_height
from cliport_ros.execution.config import ExecutorNodeConfig
from cliport_ros.execution.frames import check_decision_frame
from cliport_ros.execution.kinematics import ArmKinematics
from cliport_ros.execution.planner import PlanError, PlannerConfig, Segment, joint_move, plan
from cliport_ros.execution.supervisor import (
    CancelledError,
    MotionError,
    SegmentSupervisor,
    allowed_seconds,
    joint_jump,
    jump_threshold,
    segment_timeout,
)
from cliport_ros.execution.trajectory import Trajectory
from cliport_ros.msg import ExecutionProgress
from cliport_ros.msg import Heightmap as HeightmapMsg
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.workspace import Workspace
from cliport_ros.ros.conversions import heightmap_from_msg, pick_place_from_msg, stamp_to_seconds, trajectory_to_msg
from cliport_ros.ros.params import read_config
from cliport_ros.ros.qos import LATCHED
from cliport_ros.ros.trajectory_action import TrajectoryActionClient
from cliport_ros.srv import ExecutePickPlace

Response = ExecutePickPlace.Response
LATE_JOINT_STATES = 0.1  # s between two joint states' stamps, mid-motion, that is worth a warning
# Every joint state is compared with the one before it (joint_jump), so none may be dropped while this process
# is busy elsewhere: room for 5 s of a 100 Hz driver (1 s at 500 Hz). A queue of 10 lost 150 ms of states
# under load, and a jump between the two ends of the gap passed for motion.
JOINT_STATE_QUEUE = 500


class ExecutorNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("executor_node", **kwargs)
        cfg = self.cfg = read_config(self, ExecutorNodeConfig)
        self.profile = arm_profile(cfg.arm, cfg.tool or None)
        urdf, tool = cfg.urdf or self.profile.urdf, cfg.tool_frame or self.profile.tool_link
        custom = (urdf, tool) != (self.profile.urdf, self.profile.tool_link)
        self.kinematics = ArmKinematics(urdf, tool) if custom else ArmKinematics.from_profile(self.profile)
        self.joint_names = [n for n in cfg.joint_names if n] or list(self.kinematics.joint_names)
        if len(self.joint_names) != len(self.kinematics.joint_names):
            raise ValueError(f"joint_names has {len(self.joint_names)} names; the arm has "
                             f"{len(self.kinematics.joint_names)} joints {list(self.kinematics.joint_names)}")
        home = cfg.home if len(cfg.home) == len(self.joint_names) else self.profile.home
        self.home = np.array(home, dtype=float)
        controller = cfg.controller or self.profile.controller
        self.workspace = read_config(self, Workspace, "workspace.")
        self.planner = read_config(self, PlannerConfig, "planner.")
        self.clearance = read_config(self, ClearanceConfig, "clearance.")
        self.checker = SceneChecker(self.profile, self.kinematics.joint_names, self.clearance, urdf)

        self._busy = threading.Lock()
        self._state_lock = threading.Lock()
        self._state: tuple[float, np.ndarray, np.ndarray | None] | None = None  # (received, q, dq)
        self._ignored = ""  # why the last unusable joint_states message was ignored
        self._moving = False  # a plan is being carried out
        self._measured: tuple[float, np.ndarray] | None = None  # (stamp, q) of the last joint state
        self._jumped = ""  # why the running plan's joint states cannot be trusted (joint_jump)
        self._late = False  # the running plan's joint states once came LATE_JOINT_STATES apart (warned)
        self._supervisor: SegmentSupervisor | None = None  # the one carrying it out
        self._halted = ""  # why the node stopped for good (a signal, shutdown); nothing moves after it
        service_group = ReentrantCallbackGroup()  # so a second request runs, and is refused, at once
        # Joint states on a node of their own, spun by a single-threaded executor on a thread of its own:
        # rclpy's MultiThreadedExecutor busy-waits (a core here at 100 Hz, against 13 % single-threaded), which
        # left this callback 0.5 s behind on a loaded machine, and the jump check needs each state as it comes.
        self._state_node = rclpy.create_node(f"{self.get_name()}_joint_states", namespace=self.get_namespace(),
                                             context=self.context)
        self._state_node.create_subscription(JointState, "joint_states", self._on_joint_state, JOINT_STATE_QUEUE)
        self._state_executor = SingleThreadedExecutor(context=self.context)
        self._state_executor.add_node(self._state_node)
        threading.Thread(target=self._spin_joint_states, daemon=True).start()
        # The frame and bounds of the newest heightmap: the terms the policy's decisions are in.
        self._heightmap_terms: tuple[str, Workspace] | None = None
        self._heightmap: Heightmap | None = None  # the newest one: what every plan is checked against
        self.create_subscription(HeightmapMsg, topics.HEIGHTMAP, self._on_heightmap, LATCHED,
                                 callback_group=MutuallyExclusiveCallbackGroup())
        self.gripper = self.create_client(SetBool, cfg.gripper_service, callback_group=MutuallyExclusiveCallbackGroup())
        self.follower: TrajectoryActionClient | None = None
        if cfg.trajectory_interface == "action":
            self.follower = TrajectoryActionClient(self, controller, MutuallyExclusiveCallbackGroup())
            commands = self.follower.name
        else:
            self.trajectory_pub = self.create_publisher(JointTrajectory, f"{controller}/joint_trajectory", 10)
            commands = self.trajectory_pub.topic_name
        self.create_service(ExecutePickPlace, "executor/execute", self._on_execute, callback_group=service_group)
        self.create_service(Trigger, topics.EXECUTOR_CANCEL, self._on_cancel, callback_group=service_group)
        self.progress_pub = self.create_publisher(ExecutionProgress, topics.EXECUTOR_PROGRESS, 10)
        # Alive, on its own thread even mid-motion: a caller waiting on executor/execute learns at once when
        # this process dies (DDS itself notices only after its lease, 20 s by default).
        heartbeat = self.create_publisher(Header, topics.EXECUTOR_HEARTBEAT, 10)
        self.create_timer(1.0 / topics.HEARTBEAT_RATE, lambda: heartbeat.publish(
            Header(stamp=self.get_clock().now().to_msg(), frame_id=self.cfg.base_frame)),
            callback_group=MutuallyExclusiveCallbackGroup())
        self.get_logger().info(f"executing for a {cfg.arm} ({self.profile.gripper}) on {commands}, gripper "
                               f"{self.gripper.srv_name}")

    def _spin_joint_states(self) -> None:
        try:
            self._state_executor.spin()
        except ExternalShutdownException:
            pass

    def destroy_node(self) -> None:
        self._state_executor.shutdown(timeout_sec=1.0)
        self._state_node.destroy_node()
        super().destroy_node()

    @property
    def pushes(self) -> bool:
        return self.profile.gripper == "spatula"

    # -- joint states ---------------------------------------------------------------------------------
    def _on_joint_state(self, msg: JointState) -> None:
        """Keep the arm's joints from a message; a malformed or foreign message is ignored and remembered, so
        that "no joint states" can say what did arrive. Never raises: the callback must not kill the node."""
        problem = joint_state_problem(msg, self.joint_names)
        if problem:
            self._ignored = problem
            return
        index = {name: k for k, name in enumerate(msg.name)}
        q = np.array([msg.position[index[n]] for n in self.joint_names])
        dq = None
        if len(msg.velocity) == len(msg.name):
            dq = np.array([msg.velocity[index[n]] for n in self.joint_names])
        if not np.isfinite(q).all() or (dq is not None and not np.isfinite(dq).all()):
            self._ignored = "a joint_states message with non-finite positions or velocities"
            return
        stamp = stamp_to_seconds(msg.header.stamp) or time.monotonic()  # (a driver that leaves it unset)
        with self._state_lock:
            previous, self._measured = self._measured, (stamp, q)
            gap = stamp - previous[0] if previous is not None else 0.0
            if self._moving and gap > LATE_JOINT_STATES and not self._late:  # once a plan: a driver falling behind
                self._late = True
                unseen = jump_threshold(gap, self.kinematics.velocity_limits, self.cfg.jump_factor).min()
                self.get_logger().warn(f"joint_states stamped {gap * 1e3:.0f} ms apart during the motion: a jump "
                                       f"under {unseen:.2f} rad between them would pass for motion")
            jump = joint_jump(previous, (stamp, q), self.kinematics.velocity_limits, self.cfg.jump_factor,
                              self.joint_names) if self._moving and not self._jumped else None
            if jump:  # hold where the arm was last measured; the plan fails at its next check
                self._jumped = jump
                self.get_logger().warn(f"holding the arm: {jump}")
            else:
                self._state = (time.monotonic(), q, dq)
        if jump:
            self._hold_now()

    def _on_heightmap(self, msg: HeightmapMsg) -> None:
        try:
            bounds = Workspace(msg.x_min, msg.x_max, msg.y_min, msg.y_max, msg.z_min, msg.z_max, msg.pixel_size)
        except ValueError as err:
            self.get_logger().warn(f"ignoring a heightmap with unusable bounds: {err}")
            return
        try:
            heightmap = heightmap_from_msg(msg)
        except ValueError as err:
            self.get_logger().warning(f"ignoring an unreadable heightmap: {err}")
            return
        self._heightmap_terms, self._heightmap = (msg.header.frame_id, bounds), heightmap

    def joint_state(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Latest joint positions (and velocities); waits up to ``joint_state_timeout`` for a fresh message."""
        deadline = time.monotonic() + self.cfg.joint_state_timeout
        while True:
            with self._state_lock:
                state = self._state
            if state is not None and time.monotonic() - state[0] <= self.cfg.joint_state_timeout:
                return state[1], state[2]
            if time.monotonic() > deadline:
                seen = f" (ignored: {self._ignored})" if self._ignored else ""
                raise MotionError(f"no /joint_states for {', '.join(self.joint_names[:2])}... in the last "
                                  f"{self.cfg.joint_state_timeout:g} s{seen}")
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
        if self._halted:
            response.code, response.message = Response.EXECUTION_FAILED, f"stopped: {self._halted}"
            return response
        try:
            action = pick_place_from_msg(request.action)
        except ValueError as err:
            response.code, response.message = Response.OUTSIDE_WORKSPACE, f"invalid pick-and-place: {err}"
            return response
        try:
            check_decision_frame(request.action.header.frame_id, self.cfg.base_frame, self.workspace,
                                 *(self._heightmap_terms or (None, None)))
            start, _ = self.joint_state()
            segments = plan(action, self.kinematics, self.profile, start, self.workspace, self.planner,
                            home=self.home)
            heightmap = self._heightmap
            if heightmap is not None:
                self.checker.set_scene(heightmap)
            self.checker.check(segments, start, held_height(action.pick_xyz[2], self.profile, self.workspace.z_min))
        except MotionError as err:
            response.code, response.message = Response.EXECUTION_FAILED, str(err)
            return response
        except PlanError as err:
            response.code = {"outside_workspace": Response.OUTSIDE_WORKSPACE,
                             "collision": Response.COLLISION}.get(err.reason, Response.UNREACHABLE)
            response.message = str(err)
            return response
        duration = sum(s.trajectory.duration for s in segments)
        if request.check_only:
            response.success, response.code = True, Response.OK
            response.message = f"feasible: {len(segments)} segments, {duration:.1f} s of motion"
            return response
        if any(s.gripper for s in segments) and not self.gripper.wait_for_service(timeout_sec=self.cfg.gripper_timeout):
            response.code = Response.EXECUTION_FAILED
            response.message = f"gripper service {self.gripper.srv_name} is not available; nothing moved"
            return response
        if self.follower is not None and not self.follower.ready(self.cfg.joint_state_timeout):
            response.code = Response.EXECUTION_FAILED
            response.message = f"the controller's action {self.follower.name} is not available; nothing moved"
            return response
        response.executed = True
        supervisor = SegmentSupervisor(self, self.cfg, self._home_from, on_segment=self._report_progress)
        self._supervisor, self._moving, self._jumped, self._late = supervisor, True, "", False
        try:
            supervisor.run(segments, start)
        except MotionError as err:
            response.code = Response.CANCELLED if isinstance(err, CancelledError) else Response.EXECUTION_FAILED
            response.message = str(err)
            response.execute_seconds = time.monotonic() - start_time
            return response
        finally:
            self._moving, self._supervisor = False, None
            if supervisor.first_sent is not None:
                response.first_trajectory_seconds = supervisor.first_sent - start_time
        response.success, response.code = True, Response.OK
        response.execute_seconds = time.monotonic() - start_time
        if self.pushes:
            response.message = f"pushed from {_fmt(action.pick_xyz)} towards {_fmt(action.place_xyz)}"
        else:
            response.message = f"picked at {_fmt(action.pick_xyz)} and placed at {_fmt(action.place_xyz)}"
        return response

    def _report_progress(self, index: int, plan: list[Segment]) -> None:
        rest = plan[index:]
        self.progress_pub.publish(ExecutionProgress(
            header=Header(stamp=self.get_clock().now().to_msg(), frame_id=self.cfg.base_frame),
            segment=plan[index].name, index=index + 1, count=len(plan),
            planned_seconds=sum(s.trajectory.duration for s in plan),
            remaining_seconds=sum(s.trajectory.duration for s in rest),
            deadline_seconds=allowed_seconds(rest, self.cfg)))

    def _on_cancel(self, _: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        """Stop the running plan now: a hold at the measured position from this thread, and the supervisor fails
        the plan at its next check (then waits for the arm to be at rest); the next request runs as usual."""
        supervisor = self._supervisor
        if supervisor is None or not self._moving:
            response.success, response.message = False, "nothing is executing"
            return response
        supervisor.cancel("executor/cancel was called")
        self._hold_now()
        self.get_logger().warning("cancelled: holding the arm")
        response.success, response.message = True, "stopping: the arm is held where it is"
        return response

    # -- ArmIO: how the supervisor reaches the arm ----------------------------------------------------------
    def send(self, trajectory: Trajectory) -> None:
        msg = trajectory_to_msg(trajectory, Header(frame_id=self.cfg.base_frame))
        msg.joint_names = list(self.joint_names)
        if self.follower is not None:
            duration = trajectory.duration
            self.follower.send(msg, self.cfg.goal_tolerance, segment_timeout(duration, self.cfg) - duration)
        else:
            self.trajectory_pub.publish(msg)

    def state(self) -> tuple[np.ndarray, np.ndarray | None]:
        if self._halted:
            raise MotionError(f"stopped: {self._halted}")
        if self._jumped:
            raise MotionError(f"stopped: {self._jumped}")
        if self.follower is not None and (failure := self.follower.failure()):
            raise MotionError(failure)
        return self.joint_state()

    def halt(self, why: str) -> None:
        """Stop now, from any thread: a hold at the measured position if a motion is running, and the running
        plan fails at its next check. Idempotent."""
        if self._halted:
            return
        self._halted = why
        if self._moving and self._hold_now():
            self.get_logger().warn(f"holding the arm: {why}")

    def _hold_now(self) -> bool:
        """Stop the arm from any thread, without waiting: over the action, the controller's cancel (it holds where
        it is); over the topic, a hold at the latest measured position. Whether a stop went out."""
        if self.follower is not None:
            return self.follower.cancel()
        with self._state_lock:
            state = self._state
        if state is None:
            return False
        self.send(Trajectory(tuple(self.kinematics.joint_names), np.array([0.1]), state[1][None]))
        return True

    def grip(self, close: bool) -> bool:
        """Grip (True: something is held) or release (True: released); MotionError when the gripper does not
        answer."""
        timeout = self.cfg.gripper_timeout
        if not self.gripper.wait_for_service(timeout_sec=timeout):
            raise MotionError(f"gripper service {self.gripper.srv_name} is not available")
        done = threading.Event()
        future = self.gripper.call_async(SetBool.Request(data=close))
        future.add_done_callback(lambda _: done.set())  # delivered on the gripper's own callback group
        if not done.wait(timeout):
            self.gripper.remove_pending_request(future)
            raise MotionError(f"gripper service {self.gripper.srv_name} did not answer in {timeout:g} s")
        return bool(future.result().success)

    def touching(self) -> bool:
        """Contact is not measured on the wire: a descent runs to its planned end (``suction_press`` below the
        measured top, which the cup's bellows absorb)."""
        return False

    def _home_from(self, q: np.ndarray) -> Segment:
        return Segment("home", joint_move(self.kinematics, q, self.home, self.planner), None)


def joint_state_problem(msg: JointState, joints: list[str]) -> str:
    """Why ``msg`` cannot give the positions of ``joints`` ("" if it can)."""
    if len(msg.position) != len(msg.name):
        return f"a joint_states message with {len(msg.name)} names and {len(msg.position)} positions"
    missing = [n for n in joints if n not in msg.name]
    if missing:
        return (f"joint_states naming {list(msg.name)[:7]}, without {missing[:3]} (another arm's or a gripper's, or "
                "set joint_names to the driver's names)")
    return ""


def _fmt(xyz) -> str:
    return "(" + ", ".join(f"{v:.3f}" for v in xyz) + ")"


def main(args: list[str] | None = None) -> None:
    """Spin until SIGINT or SIGTERM, which first hold the arm if it is moving (rclpy's own handler would
    shut the context down first, and nothing could be published any more)."""
    try:
        with rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO):
            executor = MultiThreadedExecutor(num_threads=4)
            node = ExecutorNode()
            executor.add_node(node)

            def on_signal(signum: int, _frame: object) -> None:
                node.halt(f"{signal.Signals(signum).name} received")
                raise KeyboardInterrupt

            signal.signal(signal.SIGINT, on_signal)
            signal.signal(signal.SIGTERM, on_signal)
            try:
                executor.spin()
            finally:
                node.halt("executor_node shutting down")
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == "__main__":
    main()
