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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cliport", description="Language-conditioned pick-and-place for ROS 2.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the perception pipeline over DDS on a rendered scene")
    demo.add_argument("--config", default="cameras_ravens.yaml", help="camera layout YAML (path or name in config/)")
    demo.add_argument("--out", default="out/demo_heightmap.png", help="where to save the picture")
    demo.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the heightmap")
    demo.set_defaults(func=_demo)

    bench = sub.add_parser("bench", help="benchmarks that print a table")
    bench_sub = bench.add_subparsers(dest="target", required=True)
    perception = bench_sub.add_parser("perception", help="heightmap rate: decode + fuse all cameras of a layout")
    perception.add_argument("--config", default="cameras_ravens.yaml", help="camera layout YAML")
    perception.add_argument("--frames", type=int, default=200, help="timed frame sets")
    perception.add_argument("--warmup", type=int, default=10, help="untimed frame sets first")
    perception.set_defaults(func=_bench_perception)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
