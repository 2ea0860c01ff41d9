"""Command-line flags generated from config dataclasses: the dataclass's defaults, its choices, its checks."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from cliport_ros.learn.config import TrainConfig
from cliport_ros.model.config import PRESETS
from cliport_ros.options import add_options, from_options


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="train")
    add_options(p, TrainConfig)
    return p


def test_flags_default_to_the_dataclass_defaults():
    cfg = from_options(TrainConfig, parser().parse_args(["--task", "stack-block-pyramid-seq"]))
    assert cfg == TrainConfig(task="stack-block-pyramid-seq")


def test_every_field_is_a_flag_and_booleans_switch_away_from_their_default():
    args = parser().parse_args(["--task", "t", "--no-augment", "--channels-last", "--batch-size", "8", "--lr", "3e-4",
                                "--max-minutes", "1.5"])
    cfg = from_options(TrainConfig, args)
    assert (cfg.augment, cfg.channels_last, cfg.batch_size, cfg.lr, cfg.max_minutes) == (False, True, 8, 3e-4, 1.5)
    assert {f.name for f in dataclasses.fields(TrainConfig)} <= set(vars(args))


def test_a_required_field_is_a_required_flag_and_choices_come_from_the_registry(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args([])
    assert "--task" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser().parse_args(["--task", "t", "--preset", "huge"])
    err = capsys.readouterr().err
    assert all(name in err for name in PRESETS), err


def test_the_dataclass_still_names_a_bad_value():
    with pytest.raises(ValueError, match="batch_size"):
        from_options(TrainConfig, parser().parse_args(["--task", "t", "--batch-size", "0"]))
