"""Faults of the robot itself, injected into real processes over DDS: executor_node drives test/fake_arm.py (a
stand-in for a physical arm's controller and gripper, the one thing that cannot exist here) with a knob turned.

For each: the executor answers with a named code, and where the arm was moving it is sent a hold at its
measured position (a one-point trajectory) within the bound; nothing moves on a guess.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from std_msgs.msg import Header

from cliport_ros.execution.actions import PickPlace
from cliport_ros.execution.supervisor import SupervisorConfig
from cliport_ros.ros.conversions import pick_place_to_msg
from cliport_ros.srv import ExecutePickPlace

from conftest import Spinning, with_control_msgs

Code = ExecutePickPlace.Response
ACTION = PickPlace((0.5, 0.1, 0.04), (0.55, -0.2, 0.045))
FAKE_ARM = Path(__file__).with_name("fake_arm.py")
TIMEOUT_MARGIN = 1.0
FAST = ["-p", "timeout_factor:=1.5", "-p", f"timeout_margin:={TIMEOUT_MARGIN}", "-p", "gripper_timeout:=1.0",
        "-p", "joint_state_timeout:=0.5"]


class Robot:
    """executor_node and a fake arm, each its own process; the test is the policy, calling executor/execute."""

    def __init__(self, context, tmp_path: Path, *knobs: str, interface: str = "topic") -> None:
        import rclpy

        self.log = tmp_path / "trajectories.txt"
        action = interface == "action"  # both sides speak FollowJointTrajectory
        env = with_control_msgs() if action else None
        params = ["-p", "trajectory_interface:=action"] if action else []
        knobs = (*knobs, "--interface", interface)
        # Their output is kept beside the log (pytest keeps the last runs' tmp_path), for a failure to be read
        self.arm_output, executor_output = tmp_path / "fake_arm.out", tmp_path / "executor.out"
        with self.arm_output.open("w") as arm_out, executor_output.open("w") as executor_out:
            self.arm = subprocess.Popen([sys.executable, str(FAKE_ARM), "--log", str(self.log), *knobs], env=env,
                                        stdout=arm_out, stderr=subprocess.STDOUT)
            self.executor = subprocess.Popen([sys.executable, "-m", "cliport_ros.nodes.executor_node",
                                              "--ros-args", *FAST, *params], env=env, stdout=executor_out,
                                             stderr=subprocess.STDOUT)
        self.node = rclpy.create_node("fault_test", context=context)
        self.client = self.node.create_client(ExecutePickPlace, "executor/execute")
        self.spinning = Spinning(context, self.node)

    def execute(self, timeout: float = 90.0) -> ExecutePickPlace.Response:
        """Once the executor sees the fake arm (a check-only request plans from its joint states), the plan."""
        assert self.client.wait_for_service(timeout_sec=60), "executor_node did not come up"
        deadline = time.monotonic() + 60
        while not (check := self._call(True, timeout)).success and time.monotonic() < deadline:
            assert "joint_states" in check.message, check.message
            time.sleep(0.1)
        assert check.success, check.message
        return self._call(False, timeout)

    def _call(self, check_only: bool, timeout: float) -> ExecutePickPlace.Response:
        request = ExecutePickPlace.Request(action=pick_place_to_msg(ACTION, Header(frame_id="base_link"), (0, 0),
                                                                    (0, 0), 1.0, 1.0, "fault test"),
                                           check_only=check_only)
        done = threading.Event()
        future = self.client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        assert done.wait(timeout), "executor_node did not answer"
        return future.result()

    def output(self) -> str:
        """What the fake arm has printed."""
        return self.arm_output.read_text()

    def trajectories(self) -> list[tuple[float, int]]:
        """(arrival, points) of every trajectory the fake arm received, once none has arrived for 0.3 s (a hold
        sent just before the executor answered may still be on its way)."""
        def read() -> list[tuple[float, int]]:
            lines = self.log.read_text().split() if self.log.exists() else []
            return [(float(t), int(n)) for t, n in zip(lines[::2], lines[1::2], strict=True)]

        seen, deadline = read(), time.monotonic() + 3.0
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = read()
            if now == seen:
                break
            seen = now
        return seen

    def close(self) -> None:
        self.spinning.close()
        for process in (self.executor, self.arm):
            process.kill()
            process.wait()


@pytest.fixture
def robot(ros_context, tmp_path, closing):
    return lambda *knobs, interface="topic": closing(Robot(ros_context, tmp_path, *knobs, interface=interface))


def holds(robot: Robot) -> list[float]:
    return [t for t, points in robot.trajectories() if points == 1]


def cancels(robot: Robot) -> list[float]:
    return [t for t, points in robot.trajectories() if points == 0]


def test_a_healthy_arm_carries_out_the_plan(robot):
    """The baseline the faults below break: the fake arm follows every segment and grips."""
    fine = robot()
    result = fine.execute()
    assert result.success, result.message
    assert len(fine.trajectories()) == 7 and not holds(fine)


@pytest.mark.fault("controller 10x slower than planned", expect="a hold; EXECUTION_FAILED at the segment's timeout")
def test_a_controller_ten_times_slower_times_out_and_is_held(robot):
    slow = robot("--speed", "0.1")
    result = slow.execute()
    assert result.code == Code.EXECUTION_FAILED and "did not finish 'approach pick'" in result.message
    assert holds(slow) and len(slow.trajectories()) == 2  # the first segment, then the hold


@pytest.mark.fault("joint_states frozen mid-segment", expect="EXECUTION_FAILED within joint_state_timeout")
def test_joint_states_that_freeze_mid_segment_fail_the_plan(robot):
    frozen = robot("--freeze-after", "0.3")
    result = frozen.execute()
    assert result.code == Code.EXECUTION_FAILED and "joint_states" in result.message
    first = frozen.trajectories()[0][0]
    assert time.monotonic() - first < 10.0
    assert len(frozen.trajectories()) == 1  # nothing further: where the arm is, nobody knows


@pytest.mark.fault("arm driver dies mid-segment", expect="EXECUTION_FAILED within joint_state_timeout")
def test_an_arm_driver_that_dies_mid_segment_fails_the_plan(robot):
    dead = robot("--die-after", "0.3")
    result = dead.execute()
    assert result.code == Code.EXECUTION_FAILED and "joint_states" in result.message
    assert dead.arm.wait(timeout=10) == 1


@pytest.mark.fault("joint state jumps off the path", expect="a hold at once; EXECUTION_FAILED naming the joint")
def test_a_state_that_jumps_off_the_planned_path_is_held_at_once(robot):
    jumped = robot("--offset-after", "0.5", "--offset", "0.4")
    result = jumped.execute()
    # Caught first by its speed (a drift off the path is the path check's, unit-tested in test_supervisor.py)
    assert result.code == Code.EXECUTION_FAILED and "jumped" in result.message, result.message
    trajectories = jumped.trajectories()
    assert holds(jumped) and holds(jumped)[0] - trajectories[0][0] < 0.5 + 0.3  # the jump, then within a poll


@pytest.mark.fault("joint state jumps along the motion", expect="a hold at once, at the last good state; "
                   "EXECUTION_FAILED naming the joint")
def test_a_state_that_jumps_along_the_motion_is_held_at_once(robot):
    """A jump that lands on the planned path is no deviation; its speed between two stamps gives it away."""
    jumped = robot("--offset-after", "0.5", "--offset", "0.4", "--offset-joint", "moving")
    result = jumped.execute()
    # 0.4 rad, plus or minus the motion between the two states
    assert result.code == Code.EXECUTION_FAILED and re.search(r" jumped 0\.[34]\d\d rad", result.message), \
        result.message
    trajectories = jumped.trajectories()
    assert holds(jumped) and holds(jumped)[0] - trajectories[0][0] < 0.5 + 0.3


@pytest.mark.fault("gripper hangs", expect="a hold; EXECUTION_FAILED after gripper_timeout")
def test_a_gripper_that_never_answers_fails_the_grip_and_the_arm_is_held(robot):
    hung = robot("--gripper", "hang")
    result = hung.execute()
    assert result.code == Code.EXECUTION_FAILED and "did not answer" in result.message
    assert holds(hung) and len(hung.trajectories()) == 3  # approach, descend, hold: no motion on a guess


@pytest.mark.fault("gripper fails the release", expect="a hold where it let go; EXECUTION_FAILED")
def test_a_release_that_fails_leaves_the_arm_held_at_the_place(robot):
    stuck = robot("--gripper", "fail-release")
    result = stuck.execute()
    assert result.code == Code.EXECUTION_FAILED and "did not release" in result.message
    assert holds(stuck) and len(stuck.trajectories()) == 6  # up to the place descent, then the hold


def test_a_healthy_arm_carries_out_the_plan_over_follow_joint_trajectory_with_the_executors_tolerances(robot):
    """trajectory_interface action: every segment is a FollowJointTrajectory goal, as MoveIt sends them, carrying
    the executor's goal tolerance for every joint and its time allowance past the trajectory's end."""
    fine = robot(interface="action")
    result = fine.execute()
    assert result.success, result.message
    assert len(fine.trajectories()) == 7 and not holds(fine) and not cancels(fine)
    goals = re.findall(r"goal: goal_tolerance (\{.*\}) goal_time_tolerance ([\d.]+)", fine.output())
    assert len(goals) == 7, fine.output()
    for tolerances, window in goals:
        tolerances = ast.literal_eval(tolerances)
        assert len(tolerances) == 6 and set(tolerances.values()) == {SupervisorConfig.goal_tolerance}
        assert float(window) >= TIMEOUT_MARGIN  # (timeout_factor - 1) x the segment's time, plus the margin


@pytest.mark.fault("controller refuses the goal", expect="EXECUTION_FAILED naming the refusal; nothing moves")
def test_a_controller_that_refuses_the_goal_fails_the_plan_before_anything_moves(robot):
    refusing = robot("--refuse", interface="action")
    result = refusing.execute()
    assert result.code == Code.EXECUTION_FAILED and "refused the trajectory" in result.message, result.message
    assert "follow_joint_trajectory" in result.message
    assert not refusing.trajectories()  # the controller took none


@pytest.mark.fault("controller aborts the goal mid-segment", expect="EXECUTION_FAILED with its error_code")
def test_a_controller_that_aborts_the_goal_fails_the_plan_with_its_error_code(robot):
    aborting = robot("--abort-after", "0.5", interface="action")
    result = aborting.execute()
    assert result.code == Code.EXECUTION_FAILED and "aborted the trajectory" in result.message, result.message
    assert "error_code -4" in result.message  # PATH_TOLERANCE_VIOLATED
    assert len(aborting.trajectories()) == 1  # the first segment; nothing after it


def test_a_cancel_over_follow_joint_trajectory_reaches_the_controller_within_100_ms(robot):
    from std_srvs.srv import Trigger

    from cliport_ros import topics

    moving = robot(interface="action")
    answers: list[ExecutePickPlace.Response] = []
    running = threading.Thread(target=lambda: answers.append(moving.execute()))
    running.start()
    deadline = time.monotonic() + 60
    while not (moving.log.exists() and moving.log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # well into the first segment
    cancel = moving.node.create_client(Trigger, topics.EXECUTOR_CANCEL)
    assert cancel.wait_for_service(timeout_sec=10)
    sent = time.monotonic()
    done = threading.Event()
    cancel.call_async(Trigger.Request()).add_done_callback(lambda _: done.set())
    assert done.wait(10)
    running.join(60)
    assert answers and answers[0].code == Code.CANCELLED, answers
    assert cancels(moving) and cancels(moving)[0] - sent < 0.1, (cancels(moving), sent)


@pytest.mark.skipif(importlib.util.find_spec("control_msgs") is not None, reason="control_msgs is installed here")
def test_trajectory_interface_action_without_control_msgs_stops_the_executor_at_start_naming_it():
    done = subprocess.run([sys.executable, "-m", "cliport_ros.nodes.executor_node", "--ros-args", "-p",
                           "trajectory_interface:=action"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "trajectory_interface 'action' needs control_msgs" in done.stdout + done.stderr
