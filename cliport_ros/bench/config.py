"""Every ``cliport bench ...`` target's options, light to import: ``cliport``'s flags are generated from them."""

from __future__ import annotations

from dataclasses import dataclass

from cliport_ros.execution.arms import ARMS
from cliport_ros.model.config import PRESETS
from cliport_ros.options import option


@dataclass(frozen=True)
class PerceptionBenchConfig:
    """``cliport bench perception`` options."""

    config: str = option("cameras_ravens.yaml", "camera layout YAML")
    frames: int = option(200, "timed frame sets")
    warmup: int = option(10, "untimed frame sets first")
    temporal_sets: int = option(5, "also time the node's path fusing the last N sets (1: no such row)")
    seed: int = option(0, "seed of the simulated camera artefacts")

    def __post_init__(self) -> None:
        if self.frames < 1 or self.warmup < 0:
            raise ValueError(f"frames={self.frames} must be >= 1 and warmup={self.warmup} >= 0")
        if self.temporal_sets < 1:
            raise ValueError(f"temporal_sets={self.temporal_sets} must be >= 1")


@dataclass(frozen=True)
class SimBenchConfig:
    """``cliport bench sim`` options."""

    episodes: int = option(5, "oracle episodes per task")
    renders: int = option(10, "timed three-camera renders")
    arm: str = option("ur5", "simulated arm", tuple(sorted(ARMS)))


@dataclass(frozen=True)
class E2EBenchConfig:
    """``cliport bench e2e`` options."""

    instructions: int = option(10, "instructions, one test scene each")
    policy: str = option("oracle", "checkpoint path, shipped, or oracle")
    arm: str = option("ur5", "simulated arm", tuple(sorted(ARMS)))
    real_time_factor: float = option(1.0, "simulated seconds per wall second")
    log_dir: str = option("out/logs", "where each node's output goes")


@dataclass(frozen=True)
class ModelBenchConfig:
    """``cliport bench model`` options."""

    preset: str = option("full", "model preset", tuple(PRESETS))
    dtype: str = option("fp32", "fp32, or bf16 autocast", ("fp32", "bf16"))
    decisions: int = option(5, "timed decisions (median reported)")
    clip_weights: str = option("random:0", "frozen CLIP weights: openai, a file, or random:<seed> (speed is the "
                               "same)")
    device: str = option("cpu", "cpu, or cuda / cuda:N")
    checkpoint: str = option("", "time a checkpoint instead (shipped: the packaged one); --preset is then ignored")

    def __post_init__(self) -> None:
        if self.dtype not in ("fp32", "bf16"):
            raise ValueError(f"dtype={self.dtype!r} must be fp32 or bf16")
        if self.decisions < 1:
            raise ValueError("decisions must be >= 1")


@dataclass(frozen=True)
class TrainBenchConfig:
    """``cliport bench train`` options."""

    preset: str = option("cpu", "the optimised row's preset (cpu: half resolution, query turned)", tuple(PRESETS))
    baseline: str = option("small", "the plain rows' preset: as trained before, then the same channels_last",
                           tuple(PRESETS))
    device: str = option("cpu", "cpu, or cuda / cuda:N")
    batch_size: int = option(4, "samples per step")
    steps: int = option(2, "timed steps per row, after one untimed (FLOP-counted) warm-up step")
    clip_weights: str = option("random:0", "frozen CLIP weights (speed does not depend on their values)")
    text_encoder: str = option("minilm", "sentence encoder")

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.steps < 1:
            raise ValueError(f"batch_size={self.batch_size} and steps={self.steps} must be >= 1")
