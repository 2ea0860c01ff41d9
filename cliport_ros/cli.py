"""The ``cliport`` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import sys

from cliport_ros.app.config import CalibrateConfig, DemoConfig, PerceptionDemoConfig, ReplayConfig
from cliport_ros.bench.config import (
    E2EBenchConfig,
    ModelBenchConfig,
    PerceptionBenchConfig,
    SimBenchConfig,
    TrainBenchConfig,
)
from cliport_ros.gazebo.config import ExportSceneConfig
from cliport_ros.learn.config import EvalConfig, TrainConfig
from cliport_ros.options import add_options, from_options
from cliport_ros.sim.config import DEPTH_MODELS, CollectConfig, SimConfig


def _bench_perception(args: argparse.Namespace) -> int:
    from cliport_ros.bench.perception import print_table, run

    result = run(from_options(PerceptionBenchConfig, args))
    print_table(result)
    return 0


def _demo(args: argparse.Namespace) -> int:
    if args.perception_only:
        from cliport_ros.app import perception_demo

        given = {"out": args.out} if args.out != DemoConfig.out else {}
        return perception_demo.run(PerceptionDemoConfig(**given))
    from cliport_ros.app.demo import run

    return run(from_options(DemoConfig, args))


def _up(args: argparse.Namespace) -> int:
    import os
    import signal
    import time

    from cliport_ros.app.stack import SIM_ARGUMENTS, Stack, StackConfig, argument_overrides
    from cliport_ros.ros.ros_env import loopback_dds

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # `kill` stops the nodes too, as Ctrl-C does
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even where the shell started us ignoring it
    loopback_dds()
    overrides = argument_overrides({name: getattr(args, name) for name in SIM_ARGUMENTS})
    with Stack(StackConfig(log_dir=args.log_dir, overrides=overrides)) as stack:
        print(f"sim_node, perception_node, policy_node, executor_node running (ROS_DOMAIN_ID "
              f"{os.environ.get('ROS_DOMAIN_ID', '0')}, logs in {args.log_dir}/); Ctrl-C stops them")
        try:
            while not stack.dead():
                time.sleep(0.5)
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reached the nodes too; let them stop in peace
            return 0
        print(f"a node exited: {stack.dead()}", file=sys.stderr)
        for node in stack.dead():
            print(f"--- {node} ---\n{stack.log_tail(node)}", file=sys.stderr)
        return 1


def _reset(args: argparse.Namespace) -> int:
    import rclpy

    from cliport_ros.app.client import StackClient
    from cliport_ros.ros.ros_env import loopback_dds

    loopback_dds()
    with rclpy.init():
        client = StackClient()
        try:
            if client.wait_for_services(("reset",), timeout=args.wait):
                print(f"no sim/reset service within {args.wait:g} s: is sim_node running?", file=sys.stderr)
                return 3
            result = client.reset(args.task, args.seed)
        finally:
            client.close()
    print(f'{result.message}: "{result.instruction}"' if result.success else f"refused: {result.message}")
    return 0 if result.success else 1


def _instruct(args: argparse.Namespace) -> int:
    import signal
    import threading

    import rclpy
    from rclpy.signals import SignalHandlerOptions

    from cliport_ros import topics
    from cliport_ros.app.client import ServerLostError, StackClient, code_name
    from cliport_ros.ros.ros_env import loopback_dds

    def show(feedback) -> None:
        print(f"[{feedback.phase}] {feedback.detail}", flush=True)

    loopback_dds()
    # rclpy's own SIGINT handler would shut the context down before the cancel could be sent.
    with rclpy.init(signal_handler_options=SignalHandlerOptions.NO):
        client = StackClient()
        try:
            if not client.spin_until(client.instruct_action.server_is_ready, args.wait):
                print(f"no {topics.INSTRUCT} action within {args.wait:g} s: is policy_node "
                      "running (same ROS_DOMAIN_ID and discovery range)?", file=sys.stderr)
                return 3
            # Ctrl-C cancels the goal, which stops the arm, and the outcome is still printed; a second Ctrl-C
            # stops waiting. A flag, not an exception: one raised inside a callback could be swallowed there.
            interrupted = threading.Event()

            def on_interrupt(*_: object) -> None:
                interrupted.set()
                signal.signal(signal.SIGINT, signal.default_int_handler)

            signal.signal(signal.SIGINT, on_interrupt)
            try:
                result = client.follow(args.instruction, dry_run=args.dry_run, timeout=args.timeout,
                                       feedback=show, cancel=interrupted.is_set)
            except (ServerLostError, TimeoutError) as err:
                print(f"{'POLICY_LOST' if isinstance(err, ServerLostError) else 'TIMEOUT'}: {err}")
                return 1
        finally:
            client.close()
    print(f"{code_name(result.code)}: {result.message}")
    print(f"policy: {result.policy}")
    if result.pick_confidence or result.place_confidence:
        pick, place = result.pick_pose.pose.position, result.place_pose.pose.position
        pick_pixel, place_pixel = [int(v) for v in result.pick_pixel], [int(v) for v in result.place_pixel]
        print(f"pick ({pick.x:.3f}, {pick.y:.3f}, {pick.z:.3f}) pixel {pick_pixel} p={result.pick_confidence:.3g}; "
              f"place ({place.x:.3f}, {place.y:.3f}, {place.z:.3f}) pixel {place_pixel} "
              f"p={result.place_confidence:.3g}, rotation {result.place_rotation:.2f} rad")
    print(f"predict {result.predict_seconds:.2f} s, execute {result.execute_seconds:.2f} s, "
          f"arm moved: {'yes' if result.executed else 'no'}")
    return 0 if result.success else 1


def _bench_sim(args: argparse.Namespace) -> int:
    from cliport_ros.bench.sim import print_table, run

    print_table(run(from_options(SimBenchConfig, args)))
    return 0


def _bench_e2e(args: argparse.Namespace) -> int:
    from cliport_ros.bench.e2e import print_table, run

    cfg = from_options(E2EBenchConfig, args)
    print_table(run(cfg), cfg)
    return 0


def _bench_model(args: argparse.Namespace) -> int:
    from cliport_ros.bench.model import UnsupportedDtypeError, print_table, run

    cfg = from_options(ModelBenchConfig, args)
    try:
        print_table(run(cfg))
    except UnsupportedDtypeError as err:
        print(f"cliport bench model: {err}", file=sys.stderr)
        return 2
    return 0


def _bench_train(args: argparse.Namespace) -> int:
    from cliport_ros.bench.train import print_table, run

    cfg = from_options(TrainBenchConfig, args)
    print_table(run(cfg))
    return 0


def _train(args: argparse.Namespace) -> int:
    import os

    from cliport_ros.learn.train import train

    cfg = from_options(TrainConfig, args)
    validating = cfg.eval_episodes > 0 and os.environ.get("RANK", "0") == "0"  # under torchrun, rank 0 validates
    env = None
    if validating:  # the simulator only where it validates: a GPU box training with --eval-episodes 0 needs none
        from cliport_ros.decision.policy import LearnedPolicy
        from cliport_ros.learn.evaluate import evaluate
        from cliport_ros.sim.env import Environment

        env = Environment(cfg.task)
    try:
        best = train(cfg, evaluate=(lambda network: evaluate(LearnedPolicy(network, "in training"), cfg.task,
                                                             cfg.eval_episodes, "val", env, progress=False).mean)
                     if validating else None)
    finally:
        if env is not None:
            env.close()
    print(f"best checkpoint: {best}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from cliport_ros.learn.evaluate import evaluate, results_table, save_result
    from cliport_ros.model.checkpoint import SHIPPED

    cfg = from_options(EvalConfig, args)
    if cfg.table:
        print(results_table(cfg.runs, SHIPPED.parent))
        return 0
    if not cfg.task or (cfg.agent == "learned" and not cfg.checkpoint):
        print("cliport eval: --task and --checkpoint (or --agent oracle) are required, or --table", file=sys.stderr)
        return 2
    policy, checkpoint, demos = None, None, None  # None: the task's oracle
    if cfg.agent == "learned":
        from cliport_ros.decision.policy import LearnedPolicy
        from cliport_ros.model.checkpoint import read_checkpoint, resolve_policy

        checkpoint = resolve_policy(cfg.checkpoint)
        policy = LearnedPolicy.from_checkpoint(str(checkpoint))
        demos = read_checkpoint(checkpoint)["meta"].get("config", {}).get("demos")
    try:
        result = evaluate(policy, cfg.task, cfg.episodes, cfg.split, instructions=cfg.instructions or None)
    except (ValueError, OSError) as err:  # a template file that does not fit the task, or is missing
        print(f"cliport eval: {err}", file=sys.stderr)
        return 2
    wording = result.wording or "the task's own"
    print(f"| task | agent | split | episodes | wording | score |\n|---|---|---|---|---|---|\n"
          f"| {result.task} | {cfg.agent} | {result.split} | {len(result.scores)} | {wording} | {result.mean:.1f} |")
    if checkpoint is not None:
        print(f"saved {save_result(result, checkpoint, demos)}")
    return 0


def _export_checkpoint(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cliport_ros.model.checkpoint import export_checkpoint

    target = export_checkpoint(args.source, args.target)
    print(f"{target}: {Path(target).stat().st_size / 1e6:.1f} MB (fp16 weights)")
    return 0


def _affordance(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cliport_ros.model.checkpoint import load_checkpoint
    from cliport_ros.perception.visualize import affordance_figure, save_rgb
    from cliport_ros.sim.env import Environment

    policy = load_checkpoint(args.checkpoint)
    env = Environment(args.task)
    try:
        obs = env.reset(args.seed)
    finally:
        env.close()
    d = policy.act(obs.heightmap, obs.language)
    figure = affordance_figure(obs.heightmap, d.pick_pixel, d.place_pixel, d.rotation, d.pick_logits,
                              d.place_logits[d.rotation_bin])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_rgb(args.out, figure)
    print(f'"{obs.language}": pick {d.pick_pixel} (p={d.pick_confidence:.3g}), place {d.place_pixel} '
          f"rotation {d.rotation:.2f} rad (p={d.place_confidence:.3g}) -> {args.out}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from cliport_ros.app.replay import run

    return run(from_options(ReplayConfig, args))


def _calibrate_table(args: argparse.Namespace) -> int:
    from cliport_ros.app.calibrate import run

    try:
        cfg = from_options(CalibrateConfig, args)
    except ValueError as err:  # which input or offset is missing: a usage error, not a traceback
        print(f"cliport calibrate-table: {err}", file=sys.stderr)
        return 2
    return run(cfg)


def _collect(args: argparse.Namespace) -> int:
    from cliport_ros.sim.collect import collect

    cfg = from_options(CollectConfig, args)
    result = collect(cfg)
    print(f"{result['episodes']} episodes in {cfg.directory} ({result['rejected']} seeds rejected this run)")
    return 0


def _export_scene(args: argparse.Namespace) -> int:
    from cliport_ros.gazebo.config import CONTROLLERS_YAML
    from cliport_ros.gazebo.scene import export_scene
    from cliport_ros.perception.config import config_dir

    cfg = from_options(ExportSceneConfig, args)
    try:
        scene = export_scene(cfg.task, cfg.seed, cfg.arm, cfg.out, config_dir() / CONTROLLERS_YAML, cfg.cameras)
    except ValueError as err:  # a task Gazebo cannot hold (spatula, rope), or an arm the task does not run on
        print(f"cliport export-scene: {err}", file=sys.stderr)
        return 2
    print(f"{scene.world} ({len(scene.objects)} graspable objects): \"{scene.instruction}\"")
    return 0


def _render(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cliport_ros.perception.config import fuse_views, load_perception_config
    from cliport_ros.perception.visualize import depth_model_figure, heightmap_figure, save_rgb
    from cliport_ros.sim.config import SimConfig
    from cliport_ros.sim.env import Environment

    env = Environment(args.task, config=SimConfig(arm=args.arm, depth_model=args.depth_model))
    try:
        obs = env.reset(args.seed)
        if env.sim.depth_model is not None:  # the same scene, as exact depth and the layout's own perception
            exact = [env.sim.render_exact(c) for c in env.sim.perception.cameras]
            layout = load_perception_config(env.sim.config.cameras)
            clean, unfiltered = fuse_views(exact, layout), fuse_views(obs.views, layout)
    finally:
        env.close()
    if env.sim.depth_model is None:
        figure = heightmap_figure(obs.heightmap, [v.rgb for v in obs.views])
    else:
        realistic = [v.depth for v in obs.views]
        figure = depth_model_figure([("ideal depth", clean, [v.depth for v in exact]),
                                     (f"{args.depth_model} depth, fused without filters", unfiltered, realistic),
                                     (f"{args.depth_model} depth, real-camera filters (what the simulator "
                                      "observes)", obs.heightmap, realistic)])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_rgb(args.out, figure)
    print(f"{args.task} seed {args.seed}: \"{obs.language}\" -> {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cliport", description="Language-conditioned pick-and-place for ROS 2.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the simulated arm carries out an instruction sent over /instruct")
    add_options(demo, DemoConfig)
    demo.add_argument("--perception-only", action="store_true",
                      help="only the perception pipeline over DDS on an analytic scene")
    demo.set_defaults(func=_demo)

    from cliport_ros.app.stack import SIM_ARGUMENTS

    up = sub.add_parser("up", help="run the simulated stack (what sim.launch.py starts) until Ctrl-C")
    for name, argument in SIM_ARGUMENTS.items():  # the launch file's arguments
        up.add_argument(f"--{name.replace('_', '-')}", type=type(argument.default), default=argument.default,
                        help=f"{argument.description} (default {argument.default!r})")
    up.add_argument("--log-dir", default="out/logs", help="where each node's output goes")
    up.set_defaults(func=_up)

    reset = sub.add_parser("reset", help="set up a task's scene in a running sim_node (sim/reset)")
    reset.add_argument("--task", default="put-block-in-bowl-seen-colors", help="task name")
    reset.add_argument("--seed", type=int, default=10001, help="scene seed")
    reset.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the service")
    reset.set_defaults(func=_reset)

    instruct = sub.add_parser("instruct", help="send one instruction to a running policy_node (/instruct)")
    instruct.add_argument("instruction", help='e.g. "put the red blocks in a green bowl"')
    instruct.add_argument("--dry-run", action="store_true", help="only predict and check reachability")
    instruct.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the service")
    instruct.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the outcome")
    instruct.set_defaults(func=_instruct)

    collect = sub.add_parser("collect", help="oracle demonstrations in the simulator (resumable)")
    add_options(collect, CollectConfig)
    collect.set_defaults(func=_collect)

    train = sub.add_parser("train", help="train a policy on collected demonstrations")
    add_options(train, TrainConfig)
    train.set_defaults(func=_train)

    evaluate = sub.add_parser("eval", help="score a checkpoint (or the oracle) on simulator episodes")
    add_options(evaluate, EvalConfig)
    evaluate.set_defaults(func=_eval)

    export = sub.add_parser("export-checkpoint", help="store a checkpoint's weights in fp16 for shipping")
    export.add_argument("source", help="checkpoint from `cliport train`")
    export.add_argument("target", help="file to write")
    export.set_defaults(func=_export_checkpoint)

    affordance = sub.add_parser("affordance", help="picture of a checkpoint's pick and place heatmaps on a scene")
    affordance.add_argument("--checkpoint", required=True, help="checkpoint file")
    affordance.add_argument("--task", required=True, help="task whose scene to use")
    affordance.add_argument("--seed", type=int, default=10001, help="scene seed")
    affordance.add_argument("--out", default="out/affordance.png", help="PNG to write")
    affordance.set_defaults(func=_affordance)

    render = sub.add_parser("render", help="picture of a task's first observation: 3 views and the heightmap")
    render.add_argument("--task", required=True, help="task name")
    render.add_argument("--seed", type=int, default=0, help="episode seed (its parity picks the split)")
    render.add_argument("--out", default="out/render.png", help="PNG to write")
    render.add_argument("--arm", default="ur5", help="simulated arm")
    render.add_argument("--depth-model", default=SimConfig.depth_model, choices=DEPTH_MODELS,
                        help="rendered depth; realsense: a picture comparing the scene's ideal and realistic "
                        f"depth and heightmaps (default {SimConfig.depth_model!r})")
    render.set_defaults(func=_render)

    export_scene = sub.add_parser("export-scene", help="a task scene as Gazebo Sim files: world SDF, object "
                                  "models, the arm's URDF (what gazebo.launch.py spawns)")
    add_options(export_scene, ExportSceneConfig)
    export_scene.set_defaults(func=_export_scene)

    replay = sub.add_parser("replay", help="perception (and a dry-run decision) over a recorded ROS 2 bag: "
                            "heightmap and affordance pictures, nothing moves")
    add_options(replay, ReplayConfig, positional=("bag",))
    replay.set_defaults(func=_replay)

    calibrate = sub.add_parser("calibrate-table", help="a camera's pose from one RGB-D frame of the table "
                               "(plane fit + base offset or ArUco marker), written into a camera YAML")
    add_options(calibrate, CalibrateConfig)
    calibrate.set_defaults(func=_calibrate_table)

    bench = sub.add_parser("bench", help="benchmarks that print a table")
    bench_sub = bench.add_subparsers(dest="target", required=True)
    targets = {
        "perception": (PerceptionBenchConfig, _bench_perception,
                       "heightmap rate: decode + fuse all cameras of a layout"),
        "sim": (SimBenchConfig, _bench_sim, "three-camera render rate and seconds per oracle episode per task"),
        "model": (ModelBenchConfig, _bench_model, "policy latency per decision (pick, place, total) and peak memory"),
        "train": (TrainBenchConfig, _bench_train,
                  "training seconds per sample and where a step's time goes: plain and optimised side by side"),
        "e2e": (E2EBenchConfig, _bench_e2e, "seconds from /instruct to the first trajectory and to completion"),
    }
    for name, (config, run, help_text) in targets.items():
        target = bench_sub.add_parser(name, help=help_text)
        add_options(target, config)
        target.set_defaults(func=run)

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
