"""sim_node: the PyBullet tabletop, on the wire like a real arm with RGB-D cameras.

Publishes each camera's colour/depth/camera_info (as realsense-ros would) and
``/joint_states``; follows ``trajectory_msgs/JointTrajectory`` on
``/<controller>/joint_trajectory`` (as a ros2_control joint trajectory
controller would); switches suction with the ``gripper/set`` service
(std_srvs/SetBool, success = something is held); and serves ``sim/reset``
(ResetTask; a push task mounts the spatula in place of the suction cup, so
the executor must run with ``tool: spatula``), ``sim/status`` (TaskStatus) and ``sim/oracle`` (OracleAction:
the scripted expert's next pick-and-place, which reads true object poses).

Everything runs on one thread: PyBullet's client is not thread-safe, so
physics, rendering and service callbacks must not interleave. Physics
advances on a timer in real time (or ``real_time_factor`` times faster);
while the cameras render, simulated time simply waits. Rendering three
640x480 views takes about half a second of CPU here, so by default the
cameras pause while a trajectory is being followed
and for a second after it (``render_while_moving``, ``motion_hold_off``),
so a pick-and-place's segments and gripper commands run back to back:
frames of a moving arm are no use to the policy, and rendering them would
slow the motion itself several times over.
"""

from __future__ import annotations

import time

import numpy as np
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.time import Time
from sensor_msgs.msg import JointState
from std_msgs.msg import Header
from std_srvs.srv import SetBool
from trajectory_msgs.msg import JointTrajectory

from cliport_ros.decision.policy import oracle_decision
from cliport_ros.execution.arms import arm_profile
from cliport_ros.instruction import same_instruction
from cliport_ros.ros.camera_publisher import CameraPublisher
from cliport_ros.ros.conversions import pick_place_to_msg, trajectory_from_msg
from cliport_ros.ros.params import read_config
from cliport_ros.sim.config import SimConfig, SimNodeConfig
from cliport_ros.sim.motion import TrajectoryFollower
from cliport_ros.sim.scene import TabletopSim
from cliport_ros.sim.tasks import make_task
from cliport_ros.sim.tasks.base import TaskError
from cliport_ros.srv import OracleAction, ResetTask, TaskStatus


class SimNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("sim_node", **kwargs)
        cfg = self.cfg = read_config(self, SimNodeConfig)
        arm = cfg.arm
        controller = cfg.controller or arm_profile(arm).controller
        self.camera_period = 1.0 / cfg.camera_rate
        self.real_time_factor = cfg.real_time_factor
        self.render_while_moving = cfg.render_while_moving
        self.motion_hold_off = cfg.motion_hold_off
        self._last_motion = -np.inf  # sim time a trajectory was last being followed

        self.sim = TabletopSim(SimConfig(arm=arm, cameras=cfg.camera_config))
        self.task = None
        self.seed = -1
        self.follower = TrajectoryFollower(self.sim.arm)
        self.sim_time = 0.0
        self._last_wall = time.monotonic()
        self._last_render = -np.inf

        self.cameras = CameraPublisher(self, self.sim.perception.cameras)
        self.joint_pub = self.create_publisher(JointState, "joint_states", 10)
        self.create_subscription(JointTrajectory, f"{controller}/joint_trajectory", self._on_trajectory, 10)
        self.create_service(SetBool, "gripper/set", self._on_gripper)
        self.create_service(ResetTask, "sim/reset", self._on_reset)
        self.create_service(TaskStatus, "sim/status", self._on_status)
        self.create_service(OracleAction, "sim/oracle", self._on_oracle)
        self.create_timer(1.0 / cfg.joint_state_rate, self._tick)
        self.get_logger().info(
            f"simulating a {arm} with cameras {[c.name for c in self.sim.perception.cameras]}; "
            f"trajectories on {controller}/joint_trajectory"
        )

    # -- the physics loop -------------------------------------------------------------------------------
    def _tick(self) -> None:
        now, stamp = time.monotonic(), self.get_clock().now()
        wall_dt, self._last_wall = min(now - self._last_wall, 0.1), now  # after a render, do not leap ahead
        for _ in range(max(1, round(wall_dt * self.real_time_factor * self.sim.config.physics_hz))):
            self.follower.step(self.sim_time)
            self.sim.bullet.stepSimulation()
            self.sim_time += self.sim.dt
        # The state the physics caught up with is the arm's at the tick's start: stamped then, not after the
        # stepping (which takes a varying time), so joint speeds read from the stamps are the simulated ones
        # (x real_time_factor), as a real driver's would be.
        self._publish_joint_states(stamp)
        if self.task is not None:
            self.task.update(self.sim)  # bank sub-goals as they are met
        if self.follower.trajectory is not None:
            self._last_motion = self.sim_time
        moving = self.sim_time - self._last_motion < self.motion_hold_off
        if now - self._last_render >= self.camera_period and (self.render_while_moving or not moving):
            self.publish_cameras()

    def _publish_joint_states(self, stamp: Time) -> None:
        states = self.sim.bullet.getJointStates(self.sim.arm.body, self.sim.arm.joints)
        msg = JointState(name=list(self.sim.arm.joint_names))
        msg.header.stamp = stamp.to_msg()
        msg.position = [float(s[0]) for s in states]
        msg.velocity = [float(s[1]) for s in states]
        msg.effort = [float(s[3]) for s in states]
        self.joint_pub.publish(msg)

    def publish_cameras(self) -> None:
        self._last_render = time.monotonic()
        self.cameras.publish(self.sim.observe(), self.get_clock().now().to_msg())

    # -- callbacks ----------------------------------------------------------------------------------------
    def _on_trajectory(self, msg: JointTrajectory) -> None:
        try:
            self.follower.start(trajectory_from_msg(msg), self.sim_time)
        except ValueError as err:
            self.get_logger().error(f"rejected joint trajectory: {err}")

    def _on_gripper(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        if request.data and self.sim.arm.profile.gripper == "spatula":
            response.success, response.message = False, "a spatula is mounted: it pushes and holds nothing"
        elif request.data:
            response.success = self.sim.grip()
            response.message = "holding an object" if response.success else "gripping, but holding nothing"
        else:
            self.sim.release()
            response.success, response.message = True, "released"
        return response

    def _on_reset(self, request: ResetTask.Request, response: ResetTask.Response) -> ResetTask.Response:
        try:
            task = make_task(request.task)
            task.reset(self.sim, int(request.seed))  # mounts the task's tool: a push task's spatula
        except (ValueError, TaskError) as err:
            response.success, response.message = False, str(err)
            return response
        self.task, self.seed = task, int(request.seed)
        self.follower = TrajectoryFollower(self.sim.arm)  # the reset loaded a new arm
        self.sim.arm.command(self.sim.arm.joint_positions())
        response.success = True
        response.instruction = task.language(self.sim)
        response.message = f"{request.task} seed {request.seed}: {len(self.sim.objects)} objects"
        self.publish_cameras()
        return response

    def _on_status(self, request: TaskStatus.Request, response: TaskStatus.Response) -> TaskStatus.Response:
        response.holding = self.sim.arm.held is not None
        if self.task is None:
            return response
        response.task, response.seed = self.task.name, self.seed
        response.instruction = self.task.language(self.sim)
        response.reward = float(self.task.reward(self.sim))
        response.done = self.task.done(self.sim)
        response.max_steps = int(self.task.max_steps)
        return response

    def _on_oracle(self, request: OracleAction.Request, response: OracleAction.Response) -> OracleAction.Response:
        if self.task is None:
            response.message = "no task: reset one with sim/reset first"
            return response
        goal = self.task.language(self.sim)
        if not same_instruction(request.instruction, goal):
            response.message = f"the oracle can only carry out the scene's current instruction: '{goal}'"
            return response
        action = None if self.task.done(self.sim) else self.task.oracle(self.sim)
        if action is None:
            response.message = f"nothing left to do for '{goal}'"
            return response
        decision = oracle_decision(action, self.sim.perception.workspace)
        header = Header(frame_id=self.sim.perception.base_frame, stamp=self.get_clock().now().to_msg())
        response.action = pick_place_to_msg(action, header, decision.pick_pixel, decision.place_pixel,
                                            decision.pick_confidence, decision.place_confidence, request.instruction)
        response.success, response.message = True, "oracle pick-and-place from the true object poses"
        return response

    def destroy_node(self) -> None:
        self.sim.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    try:
        with rclpy.init(args=args):
            rclpy.spin(SimNode())
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == "__main__":
    main()
