"""sim_node's configuration (its ROS parameters are these fields, with these defaults) and ``cliport collect``'s."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cliport_ros.execution.arms import ARMS
from cliport_ros.options import option
from cliport_ros.sim.colors import SPLITS

DEPTH_MODELS = ("ideal", "realsense")  # exact rendered depth; a D435-like camera's (perception/depth_model.py)


@dataclass(frozen=True)
class SimConfig:
    """Simulator settings."""

    arm: str = "ur5"
    cameras: str = "cameras_ravens.yaml"
    physics_hz: int = 480
    # "realsense": rendered depth gets a D435's noise, dropout, sparse sampling at range and flying pixels, and
    # the maps are fused with perception's real-camera filters; "ideal": exact depth, the layout's filters.
    depth_model: str = "ideal"

    def __post_init__(self) -> None:
        from cliport_ros.execution.arms import arm_profile

        arm_profile(self.arm)
        if self.physics_hz < 60:
            raise ValueError(f"SimConfig: physics_hz={self.physics_hz} must be >= 60")
        if self.depth_model not in DEPTH_MODELS:
            raise ValueError(f"SimConfig: depth_model={self.depth_model!r} is not one of {DEPTH_MODELS} (ideal: "
                             "exact rendered depth; realsense: a D435-like camera's)")


@dataclass(frozen=True)
class SimNodeConfig:
    """What is simulated, how fast, and what is published."""

    arm: str = "ur5"
    camera_config: str = "cameras_ravens.yaml"  # the camera layout rendered (and fused by perception_node)
    controller: str = ""  # "" = the arm's usual controller (ArmProfile.controller), as a real driver names it
    camera_rate: float = 1.0  # Hz, all cameras (paused while the arm moves, unless render_while_moving)
    real_time_factor: float = 1.0  # simulated seconds per wall-clock second
    joint_state_rate: float = 50.0  # Hz
    render_while_moving: bool = False
    motion_hold_off: float = 1.0  # s of simulated time after a motion before the cameras render again

    def __post_init__(self) -> None:
        if self.arm not in ARMS:
            raise ValueError(f"SimNodeConfig: unknown arm {self.arm!r}; known: {sorted(ARMS)}")
        for name in ("camera_rate", "real_time_factor", "joint_state_rate"):
            if not 0.0 < getattr(self, name) < float("inf"):
                raise ValueError(f"SimNodeConfig: {name}={getattr(self, name)} must be a finite number > 0")
        if not 0.0 <= self.motion_hold_off < float("inf"):
            raise ValueError(f"SimNodeConfig: motion_hold_off={self.motion_hold_off} must be a finite number >= 0")


@dataclass(frozen=True)
class CollectConfig:
    """``cliport collect`` options."""

    task: str = option(help="task name, e.g. put-block-in-bowl-seen-colors")
    n: int = option(help="successful episodes wanted")
    split: str = option("train", "seed split: train even seeds, val odd < 10001, test odd >= 10001", SPLITS)
    out: str = option("data", "root folder; episodes go to OUT/TASK-SPLIT/")
    arm: str = option("ur5", "simulated arm", tuple(sorted(ARMS)))
    depth_model: str = option(SimConfig.depth_model, "rendered depth: exact, or like a RealSense D435's (noise, "
                              "dropout, sparse at range, flying pixels) for maps that look like a real camera's",
                              DEPTH_MODELS)

    def __post_init__(self) -> None:
        from cliport_ros.sim.tasks.base import make_task, seeds_for  # pybullet: only when used

        make_task(self.task)  # unknown names fail here, listing the known ones
        if self.n < 1:
            raise ValueError(f"CollectConfig: n={self.n} must be >= 1")
        next(seeds_for(self.split))  # validates the split

    @property
    def directory(self) -> Path:
        return Path(self.out) / f"{self.task}-{self.split}"
