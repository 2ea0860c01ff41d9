"""Joint trajectories as arrays: sampling them in time (what a joint trajectory controller does)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class JointTrajectory:
    """Waypoints ``positions`` (N, J) in radians reached at ``times`` (N,) seconds from the start."""

    joint_names: tuple[str, ...]
    times: np.ndarray
    positions: np.ndarray

    def __post_init__(self) -> None:
        times = np.asarray(self.times, dtype=float)
        positions = np.asarray(self.positions, dtype=float)
        if times.ndim != 1 or len(times) == 0:
            raise ValueError("a trajectory needs at least one point")
        if positions.shape != (len(times), len(self.joint_names)):
            raise ValueError(f"positions have shape {positions.shape}, expected {(len(times), len(self.joint_names))}")
        if np.any(np.diff(times) <= 0) or times[0] < 0:
            raise ValueError("time_from_start must be non-negative and strictly increasing")
        if not np.isfinite(positions).all():
            raise ValueError("positions must be finite")

    @property
    def duration(self) -> float:
        return float(self.times[-1])

    def sample(self, t: float, start: np.ndarray) -> np.ndarray:
        """Joint positions at ``t`` s, moving linearly from ``start`` (the state when it began)."""
        times = np.concatenate([[0.0], np.asarray(self.times, dtype=float)])
        positions = np.vstack([np.asarray(start, dtype=float), np.asarray(self.positions, dtype=float)])
        return np.array([np.interp(t, times, positions[:, j]) for j in range(positions.shape[1])])

    def reordered(self, names: list[str]) -> JointTrajectory:
        """The same trajectory with joints in ``names`` order; every joint must be present."""
        missing = set(names) - set(self.joint_names)
        if missing:
            raise ValueError(f"trajectory lacks joints {sorted(missing)}; it names {list(self.joint_names)}")
        index = [self.joint_names.index(n) for n in names]
        return JointTrajectory(tuple(names), self.times, np.asarray(self.positions)[:, index])
