"""policy_node's configuration: its ROS parameters are these fields, with these defaults."""

from __future__ import annotations

from dataclasses import dataclass

from cliport_ros import topics
from cliport_ros.decision.gate import GateConfig
from cliport_ros.decision.policy import ORACLE


@dataclass(frozen=True)
class PolicyNodeConfig(GateConfig):
    """The gate's bounds (inherited) and what the node decides with and talks to."""

    policy: str = ORACLE  # a checkpoint path, "shipped" (the packaged one), or "oracle" (simulation only)
    clip_weights: str = ""  # "" = the CLIP weights the checkpoint names
    max_instruction_length: int = 200  # characters
    min_confidence: float = 1e-3  # pick and place probability below which the arm does not move
    refuse_unobserved: bool = True  # refuse a pick or place in a cell no camera saw
    # s to wait for the executor to answer before it reports a plan (planning, a dry run); once it reports one
    # (executor/progress), the wait is that plan's own bound plus execute_grace, not a fixed time.
    execute_timeout: float = 30.0
    execute_grace: float = 5.0
    heightmap_topic: str = topics.HEIGHTMAP
    executor_service: str = "executor/execute"
    oracle_service: str = "sim/oracle"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.policy:
            raise ValueError("PolicyNodeConfig: policy is empty; give a checkpoint path, 'shipped' or 'oracle'")
        if self.max_instruction_length < 1:
            raise ValueError(f"PolicyNodeConfig: max_instruction_length={self.max_instruction_length} must be >= 1")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"PolicyNodeConfig: min_confidence={self.min_confidence} must lie in [0, 1]")
        for name in ("execute_timeout", "execute_grace"):
            if not 0.0 < getattr(self, name) < float("inf"):
                raise ValueError(f"PolicyNodeConfig: {name}={getattr(self, name)} must be a finite number > 0")
