"""``cliport train`` options: the fields of TrainConfig are the command's flags (cliport_ros/options.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cliport_ros.model.config import PRESETS, STREAMS, TEXT_ENCODERS
from cliport_ros.options import option


@dataclass(frozen=True)
class TrainConfig:
    """How one policy is trained; ``run_dir`` is where its checkpoints and curve go."""

    task: str = option(help="task name (demonstrations in DATA/TASK-train)")
    data: str = option("data", "root folder of `cliport collect` output")
    demos: int = option(100, "training episodes to use")
    preset: str = option("small", "model preset (tiny: smoke tests only)", sorted(PRESETS))
    clip_weights: str = option("openai", "frozen CLIP weights: openai, a file, or random:<seed>")
    text_encoder: str = option("clip", "sentence features: CLIP's text tower, or the offline all-MiniLM-L6-v2",
                               TEXT_ENCODERS)
    streams: str = option("two_stream", "the full model, or one of the paper's ablations", STREAMS)
    steps: int = option(2000, "optimiser steps")
    batch_size: int = option(4, "samples per step (per process under torchrun)")
    lr: float = option(1e-4, "Adam learning rate")
    out: str = option("runs", "runs folder; checkpoints go to OUT/TASK-PRESET-nDEMOS/")
    save_every: int = option(200, "steps between resumable checkpoints")
    eval_every: int = option(0, "steps between validation rollouts (0: at the end)")
    eval_episodes: int = option(10, "validation episodes per evaluation (0: none; the last checkpoint is the best)")
    augment: bool = option(True, "random SE(2) augmentation of every sample")
    seed: int = option(0, "random seed")
    device: str = option("auto", "auto (this rank's GPU if any, else CPU), cpu, cuda, cuda:N")
    max_minutes: float = option(0.0, "wall-clock budget: stop (validate, save) after the step that spends it; "
                                "0: none")
    channels_last: bool = option(False, "channels_last tensors (computes the same; `cliport bench train` shows "
                                 "whether faster)")

    def __post_init__(self) -> None:
        for name in ("demos", "steps", "batch_size", "save_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig: {name}={getattr(self, name)} must be >= 1")
        if self.lr <= 0:
            raise ValueError(f"TrainConfig: lr={self.lr} must be > 0")
        if self.max_minutes < 0:
            raise ValueError(f"TrainConfig: max_minutes={self.max_minutes} must be >= 0 (0: no limit)")
        if self.eval_episodes < 0:
            raise ValueError(f"TrainConfig: eval_episodes={self.eval_episodes} must be >= 0 (0: no validation)")

    @property
    def run_dir(self) -> Path:
        return Path(self.out) / f"{self.task}-{self.preset}-n{self.demos}"


AGENTS = ("learned", "oracle")  # what `cliport eval` can score


@dataclass(frozen=True)
class EvalConfig:
    """``cliport eval`` options."""

    task: str = option("", "task name")
    agent: str = option("learned", "learned (--checkpoint), or oracle: the scripted expert, which reads true "
                        "poses, through the same planner (the ceiling a learned policy can reach)", AGENTS)
    checkpoint: str = option("", "checkpoint file from `cliport train`, or shipped (the packaged one)")
    instructions: str = option("", "file of instruction templates (one a line, the task's goal fields as "
                               "placeholders, e.g. 'place the {pick} cubes into a {place} bowl'); one reworded "
                               "per episode")
    episodes: int = option(100, "episodes to run")
    split: str = option("test", "seed split", ("val", "test"))
    table: bool = option(False, "print every stored score under --runs and of the shipped checkpoint beside the "
                         "paper's numbers")
    runs: str = option("runs", "where --table looks for scores")

    def __post_init__(self) -> None:
        if self.agent not in AGENTS:
            raise ValueError(f"EvalConfig: agent={self.agent!r} must be one of {AGENTS}")
        if self.episodes < 1:
            raise ValueError(f"EvalConfig: episodes={self.episodes} must be >= 1")
