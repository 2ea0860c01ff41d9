"""The ``cliport`` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import sys

from cliport_ros.learn.config import TrainConfig
from cliport_ros.options import add_options, from_options


def _bench_perception(args: argparse.Namespace) -> int:
    from cliport_ros.bench.perception import PerceptionBenchConfig, print_table, run

    result = run(PerceptionBenchConfig(config=args.config, frames=args.frames, warmup=args.warmup))
    print_table(result)
    return 0


def _demo(args: argparse.Namespace) -> int:
    if args.perception_only:
        from cliport_ros.app import perception_demo

        return perception_demo.run(perception_demo.DemoConfig(out=args.out or "out/demo_heightmap.png"))
    from cliport_ros.app.demo import DemoConfig, run

    return run(DemoConfig(task=args.task, seed=args.seed, policy=args.policy, arm=args.arm,
                          real_time_factor=args.real_time_factor, out=args.out or "out/demo.png"))


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
    import rclpy

    from cliport_ros.app.client import StackClient, code_name
    from cliport_ros.ros.ros_env import loopback_dds

    loopback_dds()
    with rclpy.init():
        client = StackClient()
        try:
            missing = client.wait_for_services(("instruct",), timeout=args.wait)
            if missing:
                print(f"no {missing[0]} service within {args.wait:g} s: is policy_node running "
                      "(same ROS_DOMAIN_ID and discovery range)?", file=sys.stderr)
                return 3
            result = client.instruct(args.instruction, dry_run=args.dry_run, timeout=args.timeout)
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
    from cliport_ros.bench.sim import SimBenchConfig, print_table, run

    print_table(run(SimBenchConfig(episodes=args.episodes, renders=args.renders, arm=args.arm)))
    return 0


def _bench_e2e(args: argparse.Namespace) -> int:
    from cliport_ros.bench.e2e import E2EBenchConfig, print_table, run

    cfg = E2EBenchConfig(instructions=args.instructions, policy=args.policy, arm=args.arm,
                         real_time_factor=args.real_time_factor)
    print_table(run(cfg), cfg)
    return 0


def _bench_model(args: argparse.Namespace) -> int:
    from cliport_ros.bench.model import ModelBenchConfig, UnsupportedDtypeError, print_table, run

    cfg = ModelBenchConfig(preset=args.preset, dtype=args.dtype, decisions=args.decisions,
                           clip_weights=args.clip_weights, device=args.device, checkpoint=args.checkpoint)
    try:
        print_table(run(cfg))
    except UnsupportedDtypeError as err:
        print(f"cliport bench model: {err}", file=sys.stderr)
        return 2
    return 0


def _bench_train(args: argparse.Namespace) -> int:
    from cliport_ros.bench.train import TrainBenchConfig, print_table, run

    cfg = TrainBenchConfig(preset=args.preset, baseline=args.baseline, device=args.device,
                           batch_size=args.batch_size, steps=args.steps)
    print_table(run(cfg))
    return 0


def _train(args: argparse.Namespace) -> int:
    import os

    from cliport_ros.learn.train import train

    cfg = from_options(TrainConfig, args)
    validating = cfg.eval_episodes > 0 and os.environ.get("RANK", "0") == "0"  # under torchrun, rank 0 validates
    env = None
    if validating:  # the simulator only where it validates: a GPU box training with --eval-episodes 0 needs none
        from cliport_ros.learn.evaluate import evaluate
        from cliport_ros.sim.env import Environment

        env = Environment(cfg.task)
    try:
        best = train(cfg, evaluate=(lambda policy: evaluate(policy, cfg.task, cfg.eval_episodes, "val", env,
                                                            progress=False).mean) if validating else None)
    finally:
        if env is not None:
            env.close()
    print(f"best checkpoint: {best}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from cliport_ros.learn.evaluate import evaluate, results_table, save_result
    from cliport_ros.model.checkpoint import SHIPPED, load_checkpoint, read_checkpoint, resolve_policy

    if args.table:
        print(results_table(args.runs, SHIPPED.parent))
        return 0
    if not (args.task and args.checkpoint):
        print("cliport eval: --task and --checkpoint are required (or --table)", file=sys.stderr)
        return 2
    checkpoint = resolve_policy(args.checkpoint)
    policy = load_checkpoint(checkpoint)
    demos = read_checkpoint(checkpoint)["meta"].get("config", {}).get("demos")
    try:
        result = evaluate(policy, args.task, args.episodes, args.split, instructions=args.instructions)
    except (ValueError, OSError) as err:  # a template file that does not fit the task, or is missing
        print(f"cliport eval: {err}", file=sys.stderr)
        return 2
    saved = save_result(result, checkpoint, demos)
    wording = result.wording or "the task's own"
    print(f"| task | split | episodes | wording | score |\n|---|---|---|---|---|\n"
          f"| {result.task} | {result.split} | {len(result.scores)} | {wording} | {result.mean:.1f} |")
    print(f"saved {saved}")
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


def _collect(args: argparse.Namespace) -> int:
    from cliport_ros.sim.collect import CollectConfig, collect

    cfg = CollectConfig(task=args.task, n=args.n, split=args.split, out=args.out, arm=args.arm)
    result = collect(cfg)
    print(f"{result['episodes']} episodes in {cfg.directory} ({result['rejected']} seeds rejected this run)")
    return 0


def _render(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cliport_ros.perception.visualize import heightmap_figure, save_rgb
    from cliport_ros.sim.env import Environment
    from cliport_ros.sim.scene import SimConfig

    env = Environment(args.task, config=SimConfig(arm=args.arm))
    try:
        obs = env.reset(args.seed)
    finally:
        env.close()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_rgb(args.out, heightmap_figure(obs.heightmap, [v.rgb for v in obs.views]))
    print(f"{args.task} seed {args.seed}: \"{obs.language}\" -> {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cliport", description="Language-conditioned pick-and-place for ROS 2.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the simulated arm carries out an instruction sent over /instruct")
    demo.add_argument("--task", default="put-block-in-bowl-seen-colors", help="task whose scene to set up")
    demo.add_argument("--seed", type=int, default=10001, help="scene seed (10001: the first test scene)")
    demo.add_argument("--policy", default="shipped",
                      help="shipped (the packaged learned checkpoint), a checkpoint path, or oracle (the "
                           "simulator's scripted expert, reads true poses)")
    demo.add_argument("--arm", default="ur5", choices=["ur5", "franka"], help="simulated arm")
    demo.add_argument("--real-time-factor", type=float, default=2.0, help="simulated seconds per wall second")
    demo.add_argument("--out", default=None, help="picture to save (default out/demo.png)")
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
    collect.add_argument("--task", required=True, help="task name, e.g. put-block-in-bowl-seen-colors")
    collect.add_argument("--n", type=int, required=True, help="successful episodes wanted")
    collect.add_argument("--split", default="train", choices=["train", "val", "test"],
                         help="seed split: train even seeds, val odd < 10001, test odd >= 10001")
    collect.add_argument("--out", default="data", help="root folder; episodes go to OUT/TASK-SPLIT/")
    collect.add_argument("--arm", default="ur5", help="simulated arm")
    collect.set_defaults(func=_collect)

    train = sub.add_parser("train", help="train a policy on collected demonstrations")
    add_options(train, TrainConfig)
    train.set_defaults(func=_train)

    evaluate = sub.add_parser("eval", help="score a checkpoint on simulator episodes")
    evaluate.add_argument("--task", help="task name")
    evaluate.add_argument("--checkpoint", help="checkpoint file from `cliport train`, or shipped (the packaged one)")
    evaluate.add_argument("--instructions", default=None,
                          help="file of instruction templates (one a line, the task's goal fields as placeholders, "
                               "e.g. 'place the {pick} cubes into a {place} bowl'); one reworded per episode")
    evaluate.add_argument("--table", action="store_true",
                          help="print every stored score under --runs and of the shipped checkpoint beside the "
                               "paper's numbers")
    evaluate.add_argument("--runs", default="runs", help="where --table looks for scores")
    evaluate.add_argument("--episodes", type=int, default=100, help="episodes to run")
    evaluate.add_argument("--split", default="test", choices=["val", "test"], help="seed split")
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
    render.set_defaults(func=_render)

    bench = sub.add_parser("bench", help="benchmarks that print a table")
    bench_sub = bench.add_subparsers(dest="target", required=True)
    perception = bench_sub.add_parser("perception", help="heightmap rate: decode + fuse all cameras of a layout")
    perception.add_argument("--config", default="cameras_ravens.yaml", help="camera layout YAML")
    perception.add_argument("--frames", type=int, default=200, help="timed frame sets")
    perception.add_argument("--warmup", type=int, default=10, help="untimed frame sets first")
    perception.set_defaults(func=_bench_perception)
    sim = bench_sub.add_parser("sim", help="three-camera render rate and seconds per oracle episode per task")
    sim.add_argument("--episodes", type=int, default=5, help="oracle episodes per task")
    sim.add_argument("--renders", type=int, default=10, help="timed three-camera renders")
    sim.add_argument("--arm", default="ur5", help="simulated arm")
    sim.set_defaults(func=_bench_sim)
    model = bench_sub.add_parser("model", help="policy latency per decision (pick, place, total) and peak memory")
    model.add_argument("--preset", default="full", choices=["full", "small", "cpu", "tiny"], help="model preset")
    model.add_argument("--checkpoint", default="",
                       help="time a checkpoint instead (shipped: the packaged one); --preset is then ignored")
    model.add_argument("--device", default="cpu", help="cpu, or cuda / cuda:N")
    model.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"], help="fp32, or bf16 autocast")
    model.add_argument("--decisions", type=int, default=5, help="timed decisions (median reported)")
    model.add_argument("--clip-weights", default="random:0",
                       help="frozen CLIP weights: openai, a file, or random:<seed> (speed is the same)")
    model.set_defaults(func=_bench_model)
    bench_train = bench_sub.add_parser(
        "train", help="training seconds per sample and where a step's time goes: plain and optimised side by side")
    bench_train.add_argument("--preset", default="cpu", choices=["small", "full", "cpu", "tiny"],
                             help="the optimised row's preset (cpu: half resolution, query turned)")
    bench_train.add_argument("--baseline", default="small", choices=["small", "full", "cpu", "tiny"],
                             help="the plain rows' preset: as trained before, then the same channels_last")
    bench_train.add_argument("--device", default="cpu", help="cpu, or cuda / cuda:N")
    bench_train.add_argument("--batch-size", type=int, default=4, help="samples per step")
    bench_train.add_argument("--steps", type=int, default=2, help="timed steps per row, after one warm-up step")
    bench_train.set_defaults(func=_bench_train)

    e2e = bench_sub.add_parser("e2e", help="seconds from /instruct to the first trajectory and to completion")
    e2e.add_argument("--instructions", type=int, default=10, help="instructions, one test scene each")
    e2e.add_argument("--policy", default="oracle", help="checkpoint path, or oracle")
    e2e.add_argument("--arm", default="ur5", choices=["ur5", "franka"], help="simulated arm")
    e2e.add_argument("--real-time-factor", type=float, default=1.0, help="simulated seconds per wall second")
    e2e.set_defaults(func=_bench_e2e)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
