"""A stand-in for a physical arm's controller and gripper, as its own process over DDS, with fault knobs.

It follows each trajectory on ``/<controller>/joint_trajectory`` kinematically (as ros2_control's joint
trajectory controller does: a new one replaces the old, from where the arm is), publishes ``/joint_states``
at 100 Hz, and serves ``gripper/set``. The knobs make it misbehave the way real drivers do:

  --speed 0.1          follow at a tenth of the planned speed
  --freeze-after 0.5   stop publishing joint states 0.5 s after the first trajectory (a driver that hangs)
  --die-after 0.5      exit at once 0.5 s after the first trajectory (a driver that crashes)
  --offset-after 0.5   from then on report one joint this far off (--offset rad): an encoder fault, a collision.
                       --offset-joint still: the joint the current trajectory moves least, so the jump leaves
                       the path; moving: the one it moves most, so the jump may land on the path (ahead of
                       the plan's clock, which the path check allows: a simulator may run faster than real
                       time) and only its speed gives it away
  --gripper hang       never answer; ``fail-release``: grip, but report every release as failed
  --interface action   take trajectories as control_msgs/FollowJointTrajectory goals on
                       ``/<controller>/follow_joint_trajectory`` instead (a new goal preempts the running one;
                       a cancel holds the arm where it is), as the controller's action server does;
  --refuse             ... refusing every goal (an inactive controller)
  --abort-after 0.5    ... aborting the running goal 0.5 s after the first, holding the arm (the controller's
                       own tolerance check failed)

The trajectories it receives are written, one line each (time, number of points), to --log; a cancel is
written with 0 points. Over the action, each goal's tolerances are printed ("goal: ...").
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from sensor_msgs.msg import JointState
from std_srvs.srv import SetBool
from trajectory_msgs.msg import JointTrajectory

from cliport_ros.execution.arms import arm_profile
from cliport_ros.execution.kinematics import ArmKinematics
from cliport_ros.ros.conversions import trajectory_from_msg


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arm", default="ur5")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--freeze-after", type=float, default=None)
    parser.add_argument("--die-after", type=float, default=None)
    parser.add_argument("--offset-after", type=float, default=None)
    parser.add_argument("--offset", type=float, default=0.4)
    parser.add_argument("--offset-joint", default="still", choices=["still", "moving"],
                        help="offset the joint the current segment moves least (off the path) or most (along it)")
    parser.add_argument("--gripper", default="ok", choices=["ok", "hang", "fail-release"])
    parser.add_argument("--interface", default="topic", choices=["topic", "action"])
    parser.add_argument("--refuse", action="store_true")
    parser.add_argument("--abort-after", type=float, default=None)
    parser.add_argument("--log", default=os.devnull)
    args = parser.parse_args()

    profile = arm_profile(args.arm)
    names = list(ArmKinematics.from_profile(profile).joint_names)
    q = np.array(profile.home, dtype=float)
    state = {"q": q, "dq": np.zeros_like(q), "trajectory": None, "started": 0.0, "start": q, "first": None,
             "offset_joint": 0, "ticked": time.monotonic()}
    log = open(args.log, "a", buffering=1)  # open for the process's life

    rclpy.init()
    node = rclpy.create_node("fake_arm")
    publisher = node.create_publisher(JointState, "joint_states", 10)

    def on_trajectory(msg: JointTrajectory) -> None:
        now = time.monotonic()
        log.write(f"{now:.6f} {len(msg.points)}\n")
        trajectory = trajectory_from_msg(msg).reordered(names)
        state["started"], state["start"] = now, state["q"].copy()
        state["trajectory"] = trajectory  # last: the tick (on another thread with the action) samples it from now
        moves = np.abs(trajectory.positions[-1] - state["start"])
        if len(msg.points) > 1:  # a hold (one point) does not choose the joint
            state["offset_joint"] = int(np.argmax(moves) if args.offset_joint == "moving" else np.argmin(moves))
        state["first"] = state["first"] or now

    def hold() -> None:
        state["trajectory"] = None

    def tick() -> None:
        now = time.monotonic()
        since = now - state["first"] if state["first"] is not None else -1.0
        if args.die_after is not None and since >= args.die_after:
            os._exit(1)
        trajectory = state["trajectory"]
        # The velocity over the time that really passed since the last tick: a tick delayed by a loaded
        # machine must not read as a faster arm (the executor checks the arm is at rest before each segment).
        elapsed, state["ticked"] = now - state["ticked"], now
        if elapsed > 0.03 and since >= 0:  # for a failing test's reader: the arm itself fell behind
            print(f"tick {elapsed * 1e3:.0f} ms after the last, {since:.3f} s after the first trajectory", flush=True)
        if trajectory is not None:
            q_new = trajectory.sample((now - state["started"]) * args.speed, state["start"])
            state["dq"] = (q_new - state["q"]) / max(elapsed, 1e-3)
            state["q"] = q_new
        else:
            state["dq"] = np.zeros_like(state["q"])
        if args.freeze_after is not None and since >= args.freeze_after:
            return
        reported = state["q"].copy()
        if args.offset_after is not None and since >= args.offset_after:
            reported[state["offset_joint"]] += args.offset
        msg = JointState(name=names, position=list(reported), velocity=list(state["dq"]))
        msg.header.stamp = node.get_clock().now().to_msg()
        publisher.publish(msg)

    def on_gripper(request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        if args.gripper == "hang":
            time.sleep(3600)
        response.success = bool(request.data) or args.gripper != "fail-release"
        return response

    arm = MutuallyExclusiveCallbackGroup()  # a hanging gripper must not stop the arm's own loop
    if args.interface == "action":
        serve_follow_joint_trajectory(node, profile.controller, state, on_trajectory, hold, log, args)
    else:
        node.create_subscription(JointTrajectory, f"{profile.controller}/joint_trajectory", on_trajectory, 10,
                                 callback_group=arm)
    node.create_timer(0.01, tick, callback_group=arm)
    node.create_service(SetBool, "gripper/set", on_gripper, callback_group=MutuallyExclusiveCallbackGroup())
    executor = MultiThreadedExecutor(num_threads=6)  # goals run on threads
    executor.add_node(node)
    try:
        executor.spin()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


def serve_follow_joint_trajectory(node, controller: str, state: dict, on_trajectory, hold, log, args) -> None:
    """The controller's FollowJointTrajectory server over the same kinematic arm: one goal runs at a time; a new
    one preempts it, a cancel holds the arm, and a goal succeeds once its trajectory's time has passed."""
    from control_msgs.action import FollowJointTrajectory
    from rclpy.action import ActionServer, CancelResponse, GoalResponse
    from rclpy.callback_groups import ReentrantCallbackGroup

    Result = FollowJointTrajectory.Result  # noqa: N806  (the message type)
    running = {"goal": None, "aborted": False}

    def on_goal(_request) -> GoalResponse:
        return GoalResponse.REJECT if args.refuse else GoalResponse.ACCEPT

    def on_cancel(goal) -> CancelResponse:
        log.write(f"{time.monotonic():.6f} 0\n")
        if goal is running["goal"]:
            hold()
        return CancelResponse.ACCEPT

    def execute(goal):
        running["goal"] = goal
        tolerances = {t.name: t.position for t in goal.request.goal_tolerance}
        window = goal.request.goal_time_tolerance
        print(f"goal: goal_tolerance {tolerances} goal_time_tolerance {window.sec + window.nanosec * 1e-9:.3f}",
              flush=True)
        on_trajectory(goal.request.trajectory)
        trajectory = state["trajectory"]
        while True:
            time.sleep(0.005)
            if running["goal"] is not goal:  # preempted by a newer goal
                goal.abort()
                return Result(error_code=Result.SUCCESSFUL, error_string="preempted")
            if goal.is_cancel_requested:
                goal.canceled()
                return Result(error_code=Result.SUCCESSFUL, error_string="cancelled")
            since = time.monotonic() - state["first"]
            if args.abort_after is not None and since >= args.abort_after and not running["aborted"]:
                running["aborted"] = True
                hold()
                goal.abort()
                return Result(error_code=Result.PATH_TOLERANCE_VIOLATED, error_string="fake_arm: --abort-after")
            if time.monotonic() - state["started"] >= trajectory.duration / args.speed:
                goal.succeed()
                return Result(error_code=Result.SUCCESSFUL)

    node._follow_server = ActionServer(node, FollowJointTrajectory, f"{controller}/follow_joint_trajectory",
                                       execute, goal_callback=on_goal, cancel_callback=on_cancel,
                                       callback_group=ReentrantCallbackGroup())


if __name__ == "__main__":
    main()
