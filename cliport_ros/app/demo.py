"""``cliport demo``: the whole product on a simulated arm, driven through ``/instruct`` over DDS.

Starts sim_node, perception_node, policy_node and executor_node as their own
processes (as ``launch/sim.launch.py`` would), resets a task's scene
(put-block-in-bowl by default; a push task gets the executor's spatula),
sends the scene's instruction until the task is done or its step limit is
reached, prints each outcome and the task reward, and saves a
before/after picture with the policy's affordances.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import rclpy

from cliport_ros.app.client import StackClient, code_name
from cliport_ros.app.config import DemoConfig
from cliport_ros.app.stack import Stack, StackConfig, argument_overrides
from cliport_ros.decision.policy import ORACLE, ORACLE_LABEL
from cliport_ros.perception.visualize import save_rgb
from cliport_ros.ros.conversions import heightmap_from_msg, rgb_from_image
from cliport_ros.ros.ros_env import isolate_dds
from cliport_ros.sim.tasks import make_task


def _label(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((24, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, img], axis=0)


def _figure(before: np.ndarray, after: np.ndarray, affordance: np.ndarray | None) -> np.ndarray:
    """before | after colormaps (2x), the first decision's affordances below."""
    def big(img: np.ndarray) -> np.ndarray:
        return np.repeat(np.repeat(img, 2, 0), 2, 1)

    gap = np.full((before.shape[0] * 2 + 24, 8, 3), 255, np.uint8)
    top = np.concatenate([_label(big(before), "before"), gap, _label(big(after), "after")], axis=1)
    if affordance is None:
        return top
    aff = _label(affordance, "first decision: pick | place")
    width = max(top.shape[1], aff.shape[1])

    def pad(img: np.ndarray) -> np.ndarray:
        return np.pad(img, ((0, 0), (0, width - img.shape[1]), (0, 0)), constant_values=255)

    return np.concatenate([pad(top), np.full((8, width, 3), 255, np.uint8), pad(aff)], axis=0)


def choose_policy(source: str, task: str) -> str | None:
    """The policy_node ``policy`` for this demo, said aloud; None (after saying why) if there is none to run.

    The packaged checkpoint runs the tasks it was trained on; for another task the demo says so and runs
    the oracle rather than show a policy acting on a scene it never learned.
    """
    if source == ORACLE:
        print(f"policy: {ORACLE_LABEL}")
        return ORACLE
    from cliport_ros.model.checkpoint import (
        SHIPPED_NAME,
        CheckpointError,
        describe,
        read_checkpoint,
        resolve_policy,
        trained_tasks,
    )

    path = resolve_policy(source)
    try:
        payload = read_checkpoint(path)
    except CheckpointError as err:
        print(f"policy: {err}")
        return None
    tasks = trained_tasks(payload)
    if tasks and task not in tasks:
        if source == SHIPPED_NAME:
            print(f"policy: the shipped checkpoint was trained on {', '.join(tasks)}, not {task}; running the "
                  f"{ORACLE_LABEL} (--policy PATH runs a checkpoint of your own)")
            return ORACLE
        print(f"warning: {path} was trained on {', '.join(tasks)}, not {task}")
    print(f"policy: {describe(payload, path)}")
    return path


def run(cfg: DemoConfig) -> int:
    try:
        tool = make_task(cfg.task).tool or ""  # the end effector the task's scene mounts
    except ValueError as err:
        print(err)
        return 2
    policy = choose_policy(cfg.policy, cfg.task)
    if policy is None:
        return 2
    domain = isolate_dds()
    overrides = argument_overrides({"arm": cfg.arm, "tool": tool, "policy": policy,
                                    "real_time_factor": cfg.real_time_factor})
    print(f"starting sim_node, perception_node, policy_node, executor_node (ROS_DOMAIN_ID {domain}, "
          f"localhost only; logs in {cfg.log_dir}/)")
    with Stack(StackConfig(log_dir=cfg.log_dir, overrides=overrides)) as stack, rclpy.init(domain_id=domain):
        client = StackClient()
        try:
            return _run(cfg, stack, client)
        finally:
            client.close()


def _run(cfg: DemoConfig, stack: Stack, client: StackClient) -> int:
    missing = client.wait_for_services(timeout=cfg.startup_timeout)
    if missing or stack.dead():
        print(f"the stack did not come up: missing {missing}, exited {stack.dead()}")
        for node in stack.procs:
            print(f"--- {node} ---\n{stack.log_tail(node)}")
        return 1
    reset = client.reset(cfg.task, cfg.seed)
    if not reset.success:
        print(f"reset failed: {reset.message}")
        return 1
    reset_time = client.now()
    print(f"scene: {reset.message}")
    before = client.heightmap_after(reset_time)
    if before is None:
        print("no heightmap after the reset: is perception_node receiving the cameras?")
        return 1
    status = client.status()
    first_affordance = None
    steps = 0
    while not status.done and steps < status.max_steps:
        instruction = status.instruction
        print(f'> instruct "{instruction}"')
        started = time.monotonic()
        result = client.instruct(instruction)
        steps += 1
        print(f"  {code_name(result.code)}: {result.message}")
        print(f"  policy: {result.policy}; pick pixel {[int(v) for v in result.pick_pixel]}, place pixel "
              f"{[int(v) for v in result.place_pixel]}, rotation {np.degrees(result.place_rotation):.0f} deg; "
              f"{time.monotonic() - started:.1f} s")
        if first_affordance is None and client.spin_until(lambda: bool(client.affordances), 5.0):
            first_affordance = rgb_from_image(client.affordances[-1])
        status = client.status()
        print(f"  reward {status.reward:.2f}{' (done)' if status.done else ''}")
        if not result.success:
            break
    after = client.heightmap_after(client.now() - 0.01, timeout=15.0) or client.heightmaps[-1]
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_rgb(str(out), _figure(heightmap_from_msg(before).color, heightmap_from_msg(after).color, first_affordance))
    print(f"saved {out}")
    verdict = f'done: "{status.instruction}" is achieved' if status.done else "not done"
    print(f"task {status.task} seed {status.seed}: reward {status.reward:.2f} after {steps} instruction(s) — "
          f"{verdict}. Policy: {result.policy if steps else cfg.policy}")
    # A learned policy may miss; that is the demo's result, shown above, not a failure of the stack. Exit 1
    # only when the product itself failed: an instruction refused, or a motion that did not complete.
    return 0 if status.done or result.success else 1
