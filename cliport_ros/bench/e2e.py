"""End-to-end latency of the simulated product: /instruct -> first joint trajectory -> motion finished.

Starts the stack as ``cliport demo`` does; for each of N test scenes of
put-block-in-bowl it resets the simulator, waits for a heightmap of the new
scene, sends the scene's instruction and times, from the call, the first
trajectory on the controller topic and the answer (motion finished).
"""

from __future__ import annotations

import time

import numpy as np
import rclpy
from trajectory_msgs.msg import JointTrajectory

from cliport_ros.app.client import StackClient, code_name
from cliport_ros.app.stack import Stack, StackConfig, argument_overrides
from cliport_ros.bench.config import E2EBenchConfig
from cliport_ros.execution.arms import arm_profile
from cliport_ros.ros.ros_env import isolate_dds
from cliport_ros.sim.tasks.base import seeds_for

TASK = "put-block-in-bowl-seen-colors"


def run(cfg: E2EBenchConfig) -> list[dict]:
    domain = isolate_dds()
    overrides = argument_overrides({"arm": cfg.arm, "policy": cfg.policy, "real_time_factor": cfg.real_time_factor})
    rows = []
    with Stack(StackConfig(log_dir=cfg.log_dir, overrides=overrides)) as stack, rclpy.init(domain_id=domain):
        client = StackClient(name="bench_e2e")
        first: list[float] = []
        client.node.create_subscription(JointTrajectory, f"{arm_profile(cfg.arm).controller}/joint_trajectory",
                                        lambda _: first.append(time.monotonic()), 10)
        try:
            missing = client.wait_for_services(timeout=90)
            if missing:
                raise RuntimeError(f"the stack did not come up: missing {missing}, exited {stack.dead()}")
            for seed in list(zip(range(cfg.instructions), seeds_for("test"), strict=False)):
                reset = client.reset(TASK, seed[1])
                if not reset.success or client.heightmap_after(client.now()) is None:
                    raise RuntimeError(f"seed {seed[1]}: no scene or no heightmap ({reset.message})")
                first.clear()
                start = time.monotonic()
                result = client.instruct(reset.instruction)
                done = time.monotonic()
                client.spin_until(lambda: False, 0.1)  # deliver any trajectory still queued
                rows.append({"seed": seed[1], "code": code_name(result.code), "predict_s": result.predict_seconds,
                             "first_s": (first[0] - start) if first else float("nan"), "done_s": done - start,
                             "reward": client.status().reward})
                print(f"seed {seed[1]}: {rows[-1]['code']} in {rows[-1]['done_s']:.1f} s", flush=True)
        finally:
            client.close()
    return rows


def print_table(rows: list[dict], cfg: E2EBenchConfig) -> None:
    print(f"\nend to end, {cfg.arm}, policy {cfg.policy}, real_time_factor {cfg.real_time_factor:g}, "
          f"{len(rows)} instructions ({TASK}, one pick-and-place each)")
    print("| seed | outcome | predict (s) | /instruct -> first trajectory (s) | /instruct -> done (s) | reward |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['seed']} | {r['code']} | {r['predict_s']:.2f} | {r['first_s']:.2f} | {r['done_s']:.1f} "
              f"| {r['reward']:.2f} |")
    first = np.array([r["first_s"] for r in rows])
    done = np.array([r["done_s"] for r in rows])
    print(f"| median | {sum(r['code'] == 'OK' for r in rows)}/{len(rows)} OK | "
          f"{np.median([r['predict_s'] for r in rows]):.2f} | {np.nanmedian(first):.2f} | {np.median(done):.1f} | |")
