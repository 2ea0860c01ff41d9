"""The `cliport` command as a user runs it: the main job and the benchmark, in their own processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]


def cliport(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ROS_DOMAIN_ID"}  # the command picks its own
    return subprocess.run(
        [sys.executable, "-m", "cliport_ros.cli", *args], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=timeout,
    )


def test_help_describes_every_subcommand():
    result = cliport("--help")
    assert result.returncode == 0
    for sub in ("demo", "bench"):
        assert sub in result.stdout


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
    assert cells[:3] == ["3", "640x480", "320x160"]
    assert float(cells[-1]) > 0


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
