"""``cliport demo``'s options, light to import: ``cliport``'s flags are generated from them."""

from __future__ import annotations

from dataclasses import dataclass

from cliport_ros.execution.arms import ARMS
from cliport_ros.options import option


@dataclass(frozen=True)
class DemoConfig:
    """``cliport demo`` options."""

    task: str = option("put-block-in-bowl-seen-colors", "task whose scene to set up")
    seed: int = option(10001, "scene seed (10001: the first test scene)")
    policy: str = option("shipped", "shipped (the packaged learned checkpoint), a checkpoint path, or oracle (the "
                         "simulator's scripted expert, reads true poses)")
    arm: str = option("ur5", "simulated arm", tuple(sorted(ARMS)))
    real_time_factor: float = option(2.0, "simulated seconds per wall second")
    out: str = option("out/demo.png", "picture to save")
    log_dir: str = option("out/logs", "where each node's output goes")
    startup_timeout: float = option(90.0, "seconds for the nodes to come up")


@dataclass(frozen=True)
class PerceptionDemoConfig:
    """``cliport demo --perception-only`` options."""

    config: str = option("cameras_ravens.yaml", "camera layout YAML")
    out: str = option("out/demo_heightmap.png", "picture to save")
    timeout: float = option(30.0, "seconds for the heightmap to arrive")
