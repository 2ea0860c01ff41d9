"""The `cliport` command as a user runs it: the main job and the benchmark, in their own processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

REPO = Path(__file__).resolve().parents[1]


def cliport(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ROS_DOMAIN_ID"}  # the command picks its own
    return subprocess.run(
        [sys.executable, "-m", "cliport_ros.cli", *args], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=timeout,
    )


def subcommands(parser) -> dict[str, object]:
    """Every (nested) subcommand's parser, by its full command line: "demo", "bench model", ..."""
    import argparse

    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[name] = sub
                found.update({f"{name} {k}": v for k, v in subcommands(sub).items()})
    return found


def test_help_lists_every_subcommand_and_each_has_its_own_help(capsys):
    from cliport_ros.cli import build_parser

    result = cliport("--help")
    assert result.returncode == 0
    commands = subcommands(build_parser())
    assert {"demo", "train", "eval", "collect", "bench", "bench train"} <= set(commands)
    for command in commands:
        if " " not in command:
            assert re.search(rf"^\s+{re.escape(command)}\s", result.stdout, re.M), f"--help omits {command}"
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args([*command.split(), "--help"])
        assert exit_info.value.code == 0
        assert f"usage: cliport {command}" in capsys.readouterr().out


def test_demo_prints_measured_heights_and_saves_the_picture(tmp_path):
    out = tmp_path / "demo.png"
    result = cliport("demo", "--perception-only", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = re.findall(r"\| box at .*? \| ([\d.]+) \| ([\d.]+) \|", result.stdout)
    assert len(rows) == 4
    for true_top, measured in rows:
        assert abs(float(true_top) - float(measured)) <= 0.002
    picture = cv2.imread(str(out))
    assert picture is not None and picture.shape[0] > 320


def test_bench_perception_prints_a_rate_table():
    result = cliport("bench", "perception", "--frames", "5", "--warmup", "1")
    assert result.returncode == 0, result.stderr
    row = result.stdout.strip().splitlines()[-1]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0].startswith("node: filters on") and cells[1:4] == ["3", "640x480", "320x160"]
    assert float(cells[-2]) > 0  # Hz; the last column is the ratio to the baseline


def test_unknown_subcommand_fails_with_usage():
    result = cliport("fly")
    assert result.returncode == 2
    assert "usage" in result.stderr


def test_instruct_without_a_policy_node_says_so():
    result = cliport("instruct", "put the red block in the green bowl", "--wait", "1")
    assert result.returncode == 3
    assert "policy_node" in result.stderr


def test_bench_e2e_times_an_instruction():
    result = cliport("bench", "e2e", "--instructions", "1", "--real-time-factor", "3", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("| 10001 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "OK"
    assert 0 < float(cells[3]) < float(cells[4])  # first trajectory before completion


def test_up_runs_the_stack_until_stopped_and_reset_sets_a_scene(tmp_path):
    env = {**os.environ, "ROS_DOMAIN_ID": str(os.getpid() % 100 + 101)}  # away from the test suite's domain
    up = subprocess.Popen([sys.executable, "-m", "cliport_ros.cli", "up", "--log-dir", str(tmp_path)], cwd=REPO,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        reset = subprocess.run([sys.executable, "-m", "cliport_ros.cli", "reset", "--seed", "10005", "--wait", "60"],
                               env=env, capture_output=True, text=True, timeout=120)
        assert reset.returncode == 0, reset.stdout + reset.stderr
        assert reset.stdout.strip().endswith('"put the red blocks in a green bowl"')
        refused = subprocess.run([sys.executable, "-m", "cliport_ros.cli", "reset", "--task", "fly", "--wait", "30"],
                                 env=env, capture_output=True, text=True, timeout=120)
        assert refused.returncode == 1 and "unknown task 'fly'" in refused.stdout
    finally:
        up.terminate()
        out, _ = up.communicate(timeout=60)
    assert up.returncode == 0, out
    for node in ("sim_node", "perception_node", "policy_node", "executor_node"):
        assert (tmp_path / f"{node}.log").exists()
    alive = subprocess.run(["pgrep", "-f", "cliport_ros.nodes"], capture_output=True, text=True)
    assert not alive.stdout.strip(), "nodes outlived `cliport up`"


def test_eval_stores_a_score_that_the_table_shows_beside_the_paper(tmp_path):
    import torch

    from cliport_ros.model.checkpoint import save_checkpoint
    from cliport_ros.model.config import preset
    from cliport_ros.model.policy import CLIPortPolicy

    torch.manual_seed(0)
    policy = CLIPortPolicy(preset("tiny", streams="transporter_only"))
    checkpoint = save_checkpoint(tmp_path / "run" / "best.pt", policy, {"config": {"demos": 100}})
    result = cliport("eval", "--task", "put-block-in-bowl-seen-colors", "--checkpoint", str(checkpoint),
                     "--episodes", "1", timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    score = float(next(line for line in result.stdout.splitlines() if line.startswith("| put-block")).split("|")[6])
    assert 0.0 <= score <= 100.0
    wording = tmp_path / "paraphrases.txt"
    wording.write_text("# one a line\nplace the {pick} cubes into a {place} bowl\n")
    reworded = cliport("eval", "--task", "put-block-in-bowl-seen-colors", "--checkpoint", str(checkpoint),
                       "--episodes", "1", "--instructions", str(wording), timeout=600)
    assert reworded.returncode == 0, reworded.stderr[-2000:]
    table = cliport("eval", "--table", "--runs", str(tmp_path))
    assert table.returncode == 0
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.stdout.splitlines()
            if str(tmp_path) in line]
    assert len(rows) == 2
    own = next(r for r in rows if r[4] == "the task's own")
    assert own[:4] == ["put-block-in-bowl-seen-colors", "test", "100", "1"] and own[5] == f"{score:.1f}"
    assert own[6] == "92.5 (100)"  # the paper at 100 demos
    assert any(r[4] == "paraphrases.txt" for r in rows)
    bad = tmp_path / "bad.txt"
    bad.write_text("put the {colour} block in the {bowl}\n")
    refused = cliport("eval", "--task", "put-block-in-bowl-seen-colors", "--checkpoint", str(checkpoint),
                      "--episodes", "1", "--instructions", str(bad), timeout=600)
    assert refused.returncode != 0 and "colour" in refused.stderr
    picture = tmp_path / "aff.png"
    aff = cliport("affordance", "--checkpoint", str(checkpoint), "--task", "put-block-in-bowl-seen-colors",
                  "--out", str(picture), timeout=300)
    assert aff.returncode == 0, aff.stderr[-2000:]
    image = cv2.imread(str(picture))
    assert image is not None and image.shape[0] == 640  # 320 rows, drawn at 2x


def test_bench_model_prints_latency_and_refuses_bf16_where_it_would_crawl():
    import torch

    result = cliport("bench", "model", "--preset", "tiny", "--decisions", "1", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    cells = [c.strip() for c in result.stdout.strip().splitlines()[-1].strip("|").split("|")]
    assert cells[:3] == ["tiny", "fp32", "cpu"]
    pick, place, total = (float(cells[i]) for i in (6, 7, 9))
    assert 0 < pick < total and 0 < place < total
    gflop, peak, floor = (float(cells[i]) for i in (14, 15, 16))
    assert gflop > 0 and peak > 0 and floor == pytest.approx(gflop / peak, rel=0.02)  # printed rounded
    bf16 = cliport("bench", "model", "--preset", "tiny", "--dtype", "bf16", "--decisions", "1", timeout=300)
    if torch.ops.mkldnn._is_mkldnn_bf16_supported():
        assert bf16.returncode == 0 and "%" in bf16.stdout.splitlines()[-1]  # the fp32 agreement
    else:
        assert bf16.returncode == 2 and "no bf16 support" in bf16.stderr


def test_demo_runs_the_shipped_checkpoint_on_its_tasks_and_says_so_elsewhere(capsys, tmp_path):
    from cliport_ros.app.demo import choose_policy
    from cliport_ros.decision.policy import ORACLE
    from cliport_ros.model.checkpoint import SHIPPED, read_checkpoint, trained_tasks

    tasks = trained_tasks(read_checkpoint(SHIPPED))
    assert "put-block-in-bowl-seen-colors" in tasks
    assert choose_policy("shipped", tasks[0]) == str(SHIPPED)
    assert "(learned" in capsys.readouterr().out
    assert choose_policy("shipped", "towers-of-hanoi-seq") == ORACLE
    assert "was trained on" in capsys.readouterr().out
    assert choose_policy(str(tmp_path / "missing.pt"), tasks[0]) is None
    assert "no checkpoint" in capsys.readouterr().out


CONFIGURED = {  # subcommand -> the dataclass its flags are generated from, and values for required fields
    "demo": ("cliport_ros.app.config", "DemoConfig", {}),
    "collect": ("cliport_ros.sim.config", "CollectConfig", {"task": "align-rope", "n": 3}),
    "eval": ("cliport_ros.learn.config", "EvalConfig", {}),
    "train": ("cliport_ros.learn.config", "TrainConfig", {"task": "align-rope"}),
    "bench perception": ("cliport_ros.bench.config", "PerceptionBenchConfig", {}),
    "bench sim": ("cliport_ros.bench.config", "SimBenchConfig", {}),
    "bench model": ("cliport_ros.bench.config", "ModelBenchConfig", {}),
    "bench train": ("cliport_ros.bench.config", "TrainBenchConfig", {}),
    "bench e2e": ("cliport_ros.bench.config", "E2EBenchConfig", {}),
}


@pytest.mark.parametrize("command", sorted(CONFIGURED))
def test_a_subcommands_flags_are_its_config_fields_with_their_defaults(command):
    import dataclasses
    import importlib

    from cliport_ros.cli import build_parser
    from cliport_ros.options import from_options

    module, name, required = CONFIGURED[command]
    cls = getattr(importlib.import_module(module), name)
    flags = [arg for field, value in required.items() for arg in (f"--{field.replace('_', '-')}", str(value))]
    args = build_parser().parse_args([*command.split(), *flags])
    assert from_options(cls, args) == cls(**required)
    parser = subcommands(build_parser())[command]
    dests = {action.dest for action in parser._actions}
    assert {f.name for f in dataclasses.fields(cls)} <= dests


def test_eval_scores_the_oracle_through_the_shared_planner():
    result = cliport("eval", "--agent", "oracle", "--task", "put-block-in-bowl-seen-colors", "--episodes", "2",
                     timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\| put-block-in-bowl-seen-colors \| oracle \| test \| 2 \| the task's own \| 100\.0 \|",
                     result.stdout), result.stdout
