"""The Policy interface every decider implements, and the checks a decision passes before anything moves.

A policy turns a heightmap and an instruction into one pick-and-place. Two
implement it: :class:`LearnedPolicy` (a CLIPort checkpoint) and
:class:`OraclePolicy` (the simulator's scripted expert, asked through a
callable so that this module needs no ROS). ``policy_node`` holds one and
only moves the arm on a decision that :func:`accept` lets through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from cliport_ros.execution.actions import PickPlace, action_from_pixels
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.workspace import Workspace

if TYPE_CHECKING:  # torch only when a learned policy is built
    from cliport_ros.model.policy import CLIPortPolicy

ORACLE = "oracle"
ORACLE_LABEL = "oracle (simulator ground truth, not a learned policy)"


class Reason(Enum):
    """Why a request was refused; each name is also an ``Instruct.srv`` outcome code."""

    INVALID_INSTRUCTION = "invalid_instruction"
    NO_HEIGHTMAP = "no_heightmap"
    STALE_HEIGHTMAP = "stale_heightmap"
    LOW_CONFIDENCE = "low_confidence"
    EXECUTION_FAILED = "execution_failed"
    INTERNAL_ERROR = "internal_error"
    UNOBSERVED = "unobserved"
    CANCELLED = "cancelled"


class RefusedError(Exception):
    """A request nothing moves for: a :class:`Reason` and one sentence why."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Decision:
    """One pick-and-place: the action in the base frame, the heightmap pixels it was read from, the
    probabilities the policy gave them, and (for a learned policy) the maps behind them."""

    action: PickPlace
    pick_pixel: tuple[int, int]
    place_pixel: tuple[int, int]
    pick_confidence: float
    place_confidence: float
    pick_map: np.ndarray | None = None  # (H, W) pick logits
    place_map: np.ndarray | None = None  # (H, W) place logits at the chosen rotation

    @property
    def confidence(self) -> float:
        return min(self.pick_confidence, self.place_confidence)


class Policy(Protocol):
    """Anything that decides: ``label`` says what it is (shown to the user with every answer)."""

    label: str

    def decide(self, heightmap: Heightmap, instruction: str) -> Decision: ...


class LearnedPolicy:
    """A CLIPort network deciding on the heightmap it was trained for."""

    def __init__(self, network: CLIPortPolicy, label: str) -> None:
        self.network = network
        self.label = label

    @classmethod
    def from_checkpoint(cls, source: str, clip_weights: str = "") -> LearnedPolicy:
        """``source``: a checkpoint path or ``shipped``; ``clip_weights``: "" for the ones it names.
        Raises CheckpointError for a missing, corrupt or mismatched file."""
        from cliport_ros.model.checkpoint import describe, policy_from_payload, read_checkpoint, resolve_policy
        from cliport_ros.model.clip_backbone import FrozenCLIP

        path = resolve_policy(source)
        payload = read_checkpoint(path)
        network = policy_from_payload(payload, path, FrozenCLIP(clip_weights) if clip_weights else None)
        return cls(network, describe(payload, Path(path)))

    def decide(self, heightmap: Heightmap, instruction: str) -> Decision:
        expected = tuple(self.network.cfg.in_shape)
        if heightmap.workspace.shape != expected:
            rows, cols = heightmap.workspace.shape
            raise RefusedError(Reason.INTERNAL_ERROR, f"the heightmap is {rows}x{cols} cells; the checkpoint was "
                          f"trained on {expected[0]}x{expected[1]}: match perception's workspace to it")
        out = self.network.act(heightmap, instruction)
        if not (np.isfinite(out.pick_logits).all() and np.isfinite(out.place_logits).all()):
            raise RefusedError(Reason.INTERNAL_ERROR, "the policy's output is not finite (NaN or infinite weights, or "
                          "an input it cannot read); not moving")
        action = action_from_pixels(heightmap, out.pick_pixel, out.place_pixel, out.rotation)
        return Decision(action, out.pick_pixel, out.place_pixel, out.pick_confidence, out.place_confidence,
                        out.pick_logits, out.place_logits[out.rotation_bin])


class OraclePolicy:
    """The simulator's scripted expert: it reads true object poses, so it exists only in simulation.

    ``ask(instruction)`` is how it is reached (policy_node: the ``sim/oracle`` service); it returns the
    expert's decision or raises :class:`RefusedError`. The heightmap is not used: the expert needs none.
    """

    label = ORACLE_LABEL

    def __init__(self, ask: Callable[[str], Decision]) -> None:
        self._ask = ask

    def decide(self, heightmap: Heightmap, instruction: str) -> Decision:
        return self._ask(instruction)


def oracle_decision(action: PickPlace, workspace: Workspace) -> Decision:
    """An expert's pick-and-place as a Decision: the pixels its points fall in, taken with certainty."""
    pick, place = (tuple(int(v) for v in workspace.xyz_to_pix(xyz)) for xyz in (action.pick_xyz, action.place_xyz))
    return Decision(action, pick, place, 1.0, 1.0)


def accept(decision: Decision, min_confidence: float, observed: np.ndarray | None = None) -> Decision:
    """The decision, if the arm may act on it: confident enough, with probabilities that are probabilities
    (a NaN compares False with everything, so each check is written to fail on one), and, given the
    heightmap's ``observed`` mask, picking and placing where a camera saw: an unseen cell's height is a guess."""
    for name in ("pick_confidence", "place_confidence"):
        value = getattr(decision, name)
        if not 0.0 <= value <= 1.0:
            raise RefusedError(Reason.INTERNAL_ERROR, f"the policy's {name} is {value}, not a probability; "
                               "not moving")
    confidence = decision.confidence
    if not confidence >= min_confidence:
        raise RefusedError(Reason.LOW_CONFIDENCE, f"confidence {confidence:.2g} is below min_confidence "
                      f"{min_confidence:g}; not moving")
    if observed is not None:
        for what, (row, col) in (("pick", decision.pick_pixel), ("place", decision.place_pixel)):
            inside = 0 <= row < observed.shape[0] and 0 <= col < observed.shape[1]
            if not inside or not observed[row, col]:
                raise RefusedError(Reason.UNOBSERVED, f"the {what} at pixel ({row}, {col}) is a cell no camera saw: "
                                   "its height is unknown; not moving")
    return decision
