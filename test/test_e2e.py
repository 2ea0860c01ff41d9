"""End to end over DDS: sim_node, perception_node, policy_node and executor_node as their own processes.

An instruction sent to /instruct puts the named block in the named bowl in
the simulator; refusals move nothing; a second instruction during a motion
is refused at once; killing policy_node and starting it again leaves the
rest of the stack working.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from sensor_msgs.msg import JointState

from cliport_ros.app.client import StackClient
from cliport_ros.app.stack import Stack, StackConfig
from cliport_ros.srv import Instruct

from conftest import DOMAIN_ID

TASK = "put-block-in-bowl-seen-colors"
ONE_BLOCK_SEED = 10005  # "put the red blocks in a green bowl": one red block, one green bowl
Code = Instruct.Response


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    overrides = {"sim_node": {"real_time_factor": 3.0, "camera_rate": 2.0}}
    with Stack(StackConfig(log_dir=str(tmp_path_factory.mktemp("logs")), overrides=overrides)) as running:
        yield running


@contextmanager
def connected_client(running: Stack, name: str) -> Iterator[StackClient]:
    """A StackClient on its own rclpy context, once every service of ``running`` is up."""
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context, domain_id=DOMAIN_ID)
    user = StackClient(context=context, name=name)
    try:
        missing = user.wait_for_services(timeout=120)
        assert not missing, f"missing {missing}; exited {running.dead()}\n" + "\n".join(
            f"--- {n} ---\n{running.log_tail(n)}" for n in running.procs)
        yield user
    finally:
        user.close()
        context.try_shutdown()


@contextmanager
def another_stack(stack: Stack, log_dir, overrides: dict, name: str) -> Iterator[StackClient]:
    """Stop the module's stack (one simulated stack at a time on this domain), run one with ``overrides``."""
    stack.stop()
    with Stack(StackConfig(log_dir=str(log_dir), overrides=overrides)) as running, \
            connected_client(running, name) as user:
        yield user


@pytest.fixture(scope="module")
def client(stack):
    with connected_client(stack, "e2e_client") as user:
        yield user


def fresh_scene(client: StackClient, seed: int = ONE_BLOCK_SEED) -> str:
    reset = client.reset(TASK, seed)
    assert reset.success, reset.message
    assert client.heightmap_after(client.now(), timeout=30) is not None, "no heightmap after the reset"
    return reset.instruction


def joint_positions(client: StackClient) -> np.ndarray:
    states: list[JointState] = []
    sub = client.node.create_subscription(JointState, "joint_states", states.append, 10)
    try:
        assert client.spin_until(lambda: bool(states), 10)
        return np.array(states[-1].position)
    finally:
        client.node.destroy_subscription(sub)


def test_instruction_puts_the_named_block_in_the_named_bowl(client):
    instruction = fresh_scene(client)
    assert instruction == "put the red blocks in a green bowl"
    result = client.instruct(instruction, timeout=200)
    assert result.success, result.message
    assert result.code == Code.OK and result.executed
    assert result.policy.startswith("oracle")
    assert 0.25 <= result.pick_pose.pose.position.x <= 0.75
    status = client.status()
    assert status.done and status.reward == pytest.approx(1.0)
    assert not status.holding


@pytest.mark.parametrize("text", ["", "   \t ", "x" * 300, "?? !! 42", "put the red\x00 block"])
def test_bad_instructions_are_refused_without_moving(client, text):
    fresh_scene(client)
    before = joint_positions(client)
    started = time.monotonic()
    result = client.instruct(text)
    assert time.monotonic() - started < 5
    assert not result.success and result.code == Code.INVALID_INSTRUCTION and not result.executed
    assert result.message
    assert np.abs(joint_positions(client) - before).max() < 1e-3


def test_an_instruction_the_oracle_cannot_ground_is_refused(client):
    fresh_scene(client)
    result = client.instruct("put the purple blocks in a white bowl")
    assert result.code == Code.INVALID_INSTRUCTION and not result.executed
    assert "put the red blocks in a green bowl" in result.message  # says what it can do


def test_dry_run_predicts_and_checks_without_moving(client):
    instruction = fresh_scene(client)
    before = joint_positions(client)
    result = client.instruct(instruction, dry_run=True)
    assert result.success and not result.executed, result.message
    assert result.pick_pixel[0] > 0 and result.place_pixel[0] > 0
    assert np.abs(joint_positions(client) - before).max() < 1e-3
    assert client.status().reward == 0.0


@pytest.mark.fault("a second instruction during a motion", expect="BUSY at once, never queued")
def test_second_instruction_during_a_motion_is_refused_at_once(client):
    instruction = fresh_scene(client)
    first: dict[str, Instruct.Response] = {}
    # The first call waits for the motion in its own thread, on its own node and context.
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context, domain_id=DOMAIN_ID)
    other = StackClient(context=context, name="e2e_first")
    thread = threading.Thread(target=lambda: first.update(result=other.instruct(instruction)))
    try:
        thread.start()
        start = joint_positions(client)
        assert client.spin_until(lambda: np.abs(joint_positions(client) - start).max() > 0.05, 60), "arm never moved"
        asked = time.monotonic()
        second = client.instruct(instruction)
        assert time.monotonic() - asked < 3.0, "the second instruction was queued, not refused"
        assert second.code == Code.BUSY and not second.executed
        thread.join(timeout=300)
        assert first["result"].success, first["result"].message
    finally:
        thread.join(timeout=300)
        other.close()
        context.try_shutdown()
    assert client.status().done


def instruct_from_a_new_client(stack: Stack, instruction: str, name: str) -> Instruct.Response:
    """``instruction`` from a new client, as a user's next `cliport instruct` would send it after policy_node
    was restarted: this process's participant may still list the killed server until its DDS lease runs out,
    and a request sent there is lost."""
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context, domain_id=DOMAIN_ID)
    user = StackClient(context=context, name=name)
    try:
        assert not user.wait_for_services(("instruct",), timeout=120), stack.log_tail("policy_node")
        return user.instruct(instruction, timeout=200)
    finally:
        user.close()
        context.try_shutdown()


@contextmanager
def terminal_instruct(instruction: str) -> Iterator[tuple[subprocess.Popen, list[str]]]:
    """`cliport instruct INSTRUCTION` in its own process on this stack's domain, and the lines it prints so far;
    the block returns once it printed its first ``[moving]`` line."""
    env = {**os.environ, "ROS_DOMAIN_ID": str(DOMAIN_ID), "PYTHONUNBUFFERED": "1"}
    terminal = subprocess.Popen([sys.executable, "-m", "cliport_ros.cli", "instruct", instruction], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(terminal.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not any(line.startswith("[moving]") for line in lines) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert any(line.startswith("[moving]") for line in lines), "".join(lines)
        yield terminal, lines
    finally:
        terminal.kill()
        reader.join(timeout=10)


@pytest.mark.fault("policy_node SIGKILLed", expect="the rest of the stack works; a restarted node serves")
def test_killing_and_restarting_policy_node_leaves_the_others_working(stack, client):
    stack.stop("policy_node", kill=True)
    status = client.status()  # the simulator still answers
    assert status.task == TASK
    stack.start("policy_node")
    instruction = fresh_scene(client)  # cameras and perception still work
    result = instruct_from_a_new_client(stack, instruction, "e2e_after_restart")
    assert result.success, result.message
    assert client.status().done
    assert not stack.dead()


@pytest.mark.fault("policy_node SIGKILLed mid-motion",
                   expect="POLICY_LOST to the user; the checked motion ends at rest at home; a restarted node serves")
def test_policy_node_killed_mid_motion_is_reported_and_the_arm_ends_its_motion_at_home(stack, client):
    """The executor carries the motion it was given (planned and checked) to its end rather than stopping the
    arm wherever it is, possibly holding the object; the user's terminal names what happened."""
    from cliport_ros import topics
    from cliport_ros.execution.arms import arm_profile

    instruction = fresh_scene(client)
    with terminal_instruct(instruction) as (terminal, lines):
        killed = time.monotonic()
        stack.stop("policy_node", kill=True)
        assert terminal.wait(timeout=60) == 1
        reported = time.monotonic() - killed
    output = "".join(lines)
    assert output.splitlines()[-1].startswith("POLICY_LOST"), output
    assert reported < topics.HEARTBEAT_TIMEOUT + 3.0, f"reported {reported:.1f} s after the kill"
    home = np.array(arm_profile("ur5").home)
    deadline = time.monotonic() + 60
    while np.abs(joint_positions(client) - home).max() > 0.02 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert np.abs(joint_positions(client) - home).max() <= 0.02, "the arm did not end its motion at home"
    status = client.status()
    assert status.done and not status.holding  # the block was put in the bowl, and let go
    stack.start("policy_node")
    result = instruct_from_a_new_client(stack, fresh_scene(client), "e2e_after_kill_mid_motion")
    assert result.success, result.message
    assert not stack.dead()


@pytest.mark.fault("heightmaps stop mid-motion (the camera pipeline stalls)",
                   expect="the motion under way ends; the next instruction STALE_HEIGHTMAP, nothing moves")
def test_heightmaps_that_stop_mid_motion_let_it_end_and_refuse_the_next_instruction(stack, client):
    """perception_node frozen (SIGSTOP) once the arm moves: no heightmap newer than the motion comes, so the
    next instruction is refused by name after heightmap_wait, and the arm stays where it is."""
    import signal

    perception = stack.procs["perception_node"]
    instruction = fresh_scene(client)
    stalled: list[float] = []

    def on_feedback(feedback) -> None:
        if feedback.phase == "moving" and not stalled:
            perception.send_signal(signal.SIGSTOP)
            stalled.append(time.monotonic())

    try:
        first = client.follow(instruction, feedback=on_feedback, timeout=300)
        assert stalled, "no moving feedback"
        assert first.success, first.message  # the motion under way needs no new heightmap
        before = joint_positions(client)
        second = client.instruct(instruction, timeout=60)
        assert second.code == Code.STALE_HEIGHTMAP and not second.executed, second.message
        assert np.abs(joint_positions(client) - before).max() < 1e-3
    finally:
        perception.send_signal(signal.SIGCONT)
    fresh_scene(client)  # heightmaps come again once the pipeline runs


def test_cliport_instruct_from_a_terminal(client):
    """The terminal client for machines without ros2cli, in its own process on this stack's domain."""
    instruction = fresh_scene(client)
    env = {**os.environ, "ROS_DOMAIN_ID": str(DOMAIN_ID)}
    run = subprocess.run([sys.executable, "-m", "cliport_ros.cli", "instruct", instruction, "--dry-run"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    phases = [line.split("]")[0].strip("[") for line in lines if line.startswith("[")]
    assert phases[:3] == ["heightmap", "deciding", "decided"], run.stdout  # as they happen, then the outcome
    assert any(line.startswith("OK: dry run") for line in lines) and "arm moved: no" in run.stdout
    refused = subprocess.run([sys.executable, "-m", "cliport_ros.cli", "instruct", "   "],
                             env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and refused.stdout.startswith("INVALID_INSTRUCTION")


@pytest.mark.fault("Ctrl-C of cliport instruct mid-motion",
                   expect="a hold within 100 ms; CANCELLED; the next instruction works")
def test_ctrl_c_of_cliport_instruct_mid_motion_holds_the_arm_and_the_next_instruction_works(ros_context, client):
    """The user's Ctrl-C cancels the Instruct action: the executor holds the arm where it is (a one-point
    trajectory on the controller's topic), the terminal prints CANCELLED, and the stack takes the next one."""
    import signal

    import rclpy
    from trajectory_msgs.msg import JointTrajectory

    from cliport_ros.execution.arms import arm_profile

    from conftest import Spinning

    instruction = fresh_scene(client)
    received: list[tuple[float, int]] = []  # (arrival, points) of every trajectory the controller is sent
    listener = rclpy.create_node("e2e_cancel_listener", context=ros_context)
    topic = f"{arm_profile('ur5').controller}/joint_trajectory"
    listener.create_subscription(JointTrajectory, topic, lambda m: received.append((time.monotonic(), len(m.points))),
                                 10)
    spinning = Spinning(ros_context, listener)
    deadline = time.monotonic() + 30
    while listener.count_publishers(topic) == 0 and time.monotonic() < deadline:  # matched with executor_node
        time.sleep(0.05)
    try:
        with terminal_instruct(instruction) as (terminal, lines):
            time.sleep(0.3)  # well inside the first segment
            cancelled = time.monotonic()
            terminal.send_signal(signal.SIGINT)
            assert terminal.wait(timeout=60) == 1
        output = "".join(lines)
        assert "CANCELLED" in output and "arm moved: yes" in output, output
        holds = [t for t, points in received if points == 1 and t > cancelled]
        assert holds, f"no hold after the cancel: {received}"
        print(f"Ctrl-C to the first hold: {(holds[0] - cancelled) * 1e3:.0f} ms")
        assert holds[0] - cancelled < 0.1
    finally:
        spinning.close()
    result = client.instruct(fresh_scene(client), timeout=300)
    assert result.success, result.message


def test_the_instruct_action_reports_each_phase_and_segment(client):
    feedback = []
    result = client.follow(fresh_scene(client), feedback=feedback.append, timeout=300)
    assert result.success, result.message
    phases = [f.phase for f in feedback]
    assert phases[:3] == ["heightmap", "deciding", "decided"]
    decided = feedback[2]
    assert decided.pick_confidence == result.pick_confidence and decided.pick_pose == result.pick_pose
    moving = [f for f in feedback if f.phase == "moving"]
    assert [f.segment for f in moving] == list(range(1, moving[0].segments + 1))  # every segment, in order
    assert moving[0].planned_seconds > 0 and moving[0].remaining_seconds == pytest.approx(moving[0].planned_seconds)
    assert moving[-1].remaining_seconds < moving[0].remaining_seconds


def test_franka_with_its_gripper_end_to_end(stack, client, tmp_path):
    """The same instruction through the Franka profile: fingers close on the block instead of suction."""
    overrides = {"sim_node": {"arm": "franka", "real_time_factor": 3.0}, "executor_node": {"arm": "franka"}}
    with another_stack(stack, tmp_path, overrides, "e2e_franka") as user:
        instruction = fresh_scene(user)
        result = user.instruct(instruction, timeout=200)
        assert result.success, result.message
        status = user.status()
        assert status.done and not status.holding


def test_push_task_with_the_spatula_end_to_end(stack, client, tmp_path):
    """separating-piles through the whole stack: sim_node mounts the spatula, the executor pushes."""
    overrides = {"sim_node": {"real_time_factor": 3.0}, "executor_node": {"tool": "spatula"}}
    with another_stack(stack, tmp_path, overrides, "e2e_push") as user:
        reset = user.reset("separating-piles-seen-colors", 10001)
        assert reset.success, reset.message
        assert user.heightmap_after(user.now(), timeout=30) is not None
        before = user.status()
        assert before.max_steps == 20 and not before.done
        result = user.instruct(reset.instruction, timeout=200)
        assert result.success and result.message.startswith("pushed"), result.message
        after = user.status()
        assert after.reward > before.reward and not after.holding


def test_shipped_checkpoint_decides_in_policy_node_and_the_arm_carries_it_out(stack, client, tmp_path):
    """The packaged learned policy (not the oracle) in policy_node over DDS: it decides on the heightmap
    perception published exactly as the checkpoint decides on that map in this process, and the executor
    carries the decision out. (How often a decision succeeds is `cliport eval`'s measure, not one scene's.)"""
    from cliport_ros.model.checkpoint import SHIPPED, load_checkpoint
    from cliport_ros.ros.conversions import heightmap_from_msg

    overrides = {"sim_node": {"real_time_factor": 3.0, "camera_rate": 2.0}, "policy_node": {"policy": "shipped"}}
    with another_stack(stack, tmp_path, overrides, "e2e_learned") as user:
        instruction = fresh_scene(user)
        seen = heightmap_from_msg(user.heightmaps[-1])
        result = user.instruct(instruction, timeout=300)
        assert result.code == Code.OK and result.executed, result.message
        assert result.policy.startswith("checkpoint ") and "(learned" in result.policy
        expected = load_checkpoint(SHIPPED).act(seen, instruction)
        # (within a pixel or two: another thread count sums in another order, and near-ties may flip)
        assert np.abs(np.array(result.pick_pixel) - expected.pick_pixel).max() <= 2
        assert np.abs(np.array(result.place_pixel) - expected.place_pixel).max() <= 2
        assert not user.status().holding  # released at the place
