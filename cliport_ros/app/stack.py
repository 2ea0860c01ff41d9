"""The simulated stack as processes: what ``launch/sim.launch.py`` starts, for machines without ``ros2 launch``.

Each node runs as ``python -m cliport_ros.nodes.<node>`` with the same
parameter files the launch file uses (``config/sim.yaml``, and the camera
YAML for perception_node), its output in ``<log_dir>/<node>.log``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cliport_ros.perception.config import config_dir

SIM_NODES = ("sim_node", "perception_node", "policy_node", "executor_node")


@dataclass(frozen=True)
class StackConfig:
    """Which nodes to start and the parameters that differ from ``config/sim.yaml``."""

    nodes: tuple[str, ...] = SIM_NODES
    params_file: str = "sim.yaml"
    camera_config: str = "cameras_ravens.yaml"
    log_dir: str = "out/logs"
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # node -> {parameter: value}

    def __post_init__(self) -> None:
        unknown = (set(self.nodes) | set(self.overrides)) - set(SIM_NODES)
        if unknown:
            raise ValueError(f"StackConfig: unknown nodes {sorted(unknown)}; known: {list(SIM_NODES)}")


def _ros_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"  # keep strings that look like numbers strings
    return str(value)


class Stack:
    """Running node processes; a context manager that stops them all on exit."""

    def __init__(self, cfg: StackConfig | None = None) -> None:
        self.cfg = cfg or StackConfig()
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: dict[str, IO[str]] = {}
        Path(self.cfg.log_dir).mkdir(parents=True, exist_ok=True)
        for node in self.cfg.nodes:
            self.start(node)

    def command(self, node: str) -> list[str]:
        params = self.cfg.camera_config if node == "perception_node" else self.cfg.params_file
        args = [sys.executable, "-m", f"cliport_ros.nodes.{node}", "--ros-args",
                "--params-file", str(config_dir() / params)]
        for key, value in self.cfg.overrides.get(node, {}).items():
            args += ["-p", f"{key}:={_ros_value(value)}"]
        return args

    def start(self, node: str) -> None:
        if node in self.procs and self.procs[node].poll() is None:
            raise RuntimeError(f"{node} is already running")
        log = open(Path(self.cfg.log_dir) / f"{node}.log", "a")  # closed in stop()
        self._logs[node] = log
        self.procs[node] = subprocess.Popen(self.command(node), stdout=log, stderr=subprocess.STDOUT,
                                            env=os.environ.copy())

    def stop(self, node: str | None = None, kill: bool = False) -> None:
        """Stop one node (SIGINT, as Ctrl-C; SIGKILL with ``kill``), or all of them."""
        for name in [node] if node else list(self.procs):
            proc = self.procs.pop(name)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL if kill else signal.SIGINT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self._logs.pop(name).close()

    def dead(self) -> dict[str, int]:
        """Nodes that exited, with their exit codes."""
        return {name: proc.returncode for name, proc in self.procs.items() if proc.poll() is not None}

    def log_tail(self, node: str, lines: int = 20) -> str:
        path = Path(self.cfg.log_dir) / f"{node}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
