"""The ``cliport`` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import sys


def _bench_perception(args: argparse.Namespace) -> int:
    from cliport_ros.bench.perception import PerceptionBenchConfig, print_table, run

    result = run(PerceptionBenchConfig(config=args.config, frames=args.frames, warmup=args.warmup))
    print_table(result)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from cliport_ros.nodes.perception_demo import DemoConfig, run

    return run(DemoConfig(config=args.config, out=args.out, timeout=args.timeout))


def _bench_sim(args: argparse.Namespace) -> int:
    from cliport_ros.bench.sim import SimBenchConfig, print_table, run

    print_table(run(SimBenchConfig(episodes=args.episodes, renders=args.renders, arm=args.arm)))
    return 0


def _bench_model(args: argparse.Namespace) -> int:
    from cliport_ros.bench.model import ModelBenchConfig, print_table, run

    cfg = ModelBenchConfig(preset=args.preset, dtype=args.dtype, decisions=args.decisions,
                           clip_weights=args.clip_weights)
    print_table(run(cfg))
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

    demo = sub.add_parser("demo", help="run the perception pipeline over DDS on a rendered scene")
    demo.add_argument("--config", default="cameras_ravens.yaml", help="camera layout YAML (path or name in config/)")
    demo.add_argument("--out", default="out/demo_heightmap.png", help="where to save the picture")
    demo.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the heightmap")
    demo.set_defaults(func=_demo)

    collect = sub.add_parser("collect", help="oracle demonstrations in the simulator (resumable)")
    collect.add_argument("--task", required=True, help="task name, e.g. put-block-in-bowl-seen-colors")
    collect.add_argument("--n", type=int, required=True, help="successful episodes wanted")
    collect.add_argument("--split", default="train", choices=["train", "val", "test"],
                         help="seed split: train even seeds, val odd < 10001, test odd >= 10001")
    collect.add_argument("--out", default="data", help="root folder; episodes go to OUT/TASK-SPLIT/")
    collect.add_argument("--arm", default="ur5", help="simulated arm")
    collect.set_defaults(func=_collect)

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
    model.add_argument("--preset", default="full", choices=["full", "small"], help="model preset")
    model.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"], help="fp32, or bf16 autocast")
    model.add_argument("--decisions", type=int, default=5, help="timed decisions (median reported)")
    model.add_argument("--clip-weights", default="random:0",
                       help="frozen CLIP weights: openai, a file, or random:<seed> (speed is the same)")
    model.set_defaults(func=_bench_model)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
