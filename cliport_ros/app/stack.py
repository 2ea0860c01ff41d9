"""The simulated stack: one description, read by ``launch/sim.launch.py`` and by :class:`Stack`, which starts
it as processes on machines without ``ros2 launch`` (``cliport up`` / ``demo``, the end-to-end tests).

The description is which nodes run with which parameter file (``SIM_NODES``) and the stack's arguments
(``SIM_ARGUMENTS``: the launch arguments, and ``cliport up``'s flags), each naming the node parameters it
sets. :class:`Stack` runs each node as ``python -m cliport_ros.nodes.<node>``, its output in
``<log_dir>/<node>.log``.
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
from cliport_ros.ros.ros_env import clean_dead_shared_memory

# node -> its parameter file in config/ (perception_node fuses the cameras sim_node renders)
SIM_NODES = {"sim_node": "sim.yaml", "perception_node": "cameras_ravens.yaml", "policy_node": "sim.yaml",
             "executor_node": "sim.yaml"}


@dataclass(frozen=True)
class StackArgument:
    """One argument of the stack: its default (whose type is the argument's), what it means, the node
    parameters it sets."""

    default: str | float
    description: str
    sets: tuple[tuple[str, str], ...]  # (node, parameter)


SIM_ARGUMENTS = {
    "arm": StackArgument("ur5", "simulated arm: ur5 (suction) or franka", (("sim_node", "arm"),
                                                                            ("executor_node", "arm"))),
    "tool": StackArgument("", "end effector in place of the arm's own: spatula (UR5, for the push tasks)",
                          (("executor_node", "tool"),)),
    "policy": StackArgument("oracle", "checkpoint path, shipped (the packaged checkpoint), or oracle (the "
                            "simulator's scripted expert)", (("policy_node", "policy"),)),
    "real_time_factor": StackArgument(1.0, "simulated seconds per wall-clock second",
                                      (("sim_node", "real_time_factor"),)),
}


def argument_overrides(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Stack argument values (``{"arm": "franka"}``) -> the node parameters they set."""
    unknown = set(values) - set(SIM_ARGUMENTS)
    if unknown:
        raise ValueError(f"unknown stack arguments {sorted(unknown)}; known: {list(SIM_ARGUMENTS)}")
    overrides: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        for node, parameter in SIM_ARGUMENTS[name].sets:
            overrides.setdefault(node, {})[parameter] = value
    return overrides


@dataclass(frozen=True)
class StackConfig:
    """Which nodes to start and the parameters that differ from their parameter files."""

    nodes: tuple[str, ...] = tuple(SIM_NODES)
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
    """Running node processes; a context manager that stops them all on exit.

    Starting, and after a node is killed, it removes the Fast DDS shared memory of dead processes, so
    crashed and killed runs do not pile up in RAM.
    """

    def __init__(self, cfg: StackConfig | None = None) -> None:
        self.cfg = cfg or StackConfig()
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: dict[str, IO[str]] = {}
        Path(self.cfg.log_dir).mkdir(parents=True, exist_ok=True)
        clean_dead_shared_memory()
        for node in self.cfg.nodes:
            self.start(node)

    def command(self, node: str) -> list[str]:
        args = [sys.executable, "-m", f"cliport_ros.nodes.{node}", "--ros-args",
                "--params-file", str(config_dir() / SIM_NODES[node])]
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
        killed = False
        for name in [node] if node else list(self.procs):
            proc = self.procs.pop(name)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL if kill else signal.SIGINT)
                killed |= kill
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    killed = True
            self._logs.pop(name).close()
        if killed:  # a killed node leaves its shared memory behind
            clean_dead_shared_memory()

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
