"""Joint trajectories as arrays: sampling them in time (what a joint trajectory controller does)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Trajectory:
    """Waypoints ``positions`` (N, J) in radians reached at ``times`` (N,) seconds from the start.

    ``velocities`` (N, J) rad/s, when given, are the joint velocities at the
    waypoints, so a follower interpolates with cubic Hermite splines (as
    ros2_control's joint trajectory controller does) instead of straight lines.
    """

    joint_names: tuple[str, ...]
    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray | None = None

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
        if self.velocities is not None:
            velocities = np.asarray(self.velocities, dtype=float)
            if velocities.shape != positions.shape or not np.isfinite(velocities).all():
                raise ValueError(f"velocities must be finite with the positions' shape {positions.shape}, "
                                 f"got {velocities.shape}")

    @property
    def duration(self) -> float:
        return float(self.times[-1])

    def sample(self, t: float, start: np.ndarray) -> np.ndarray:
        """Joint positions at ``t`` s from ``start`` (the state when it began, at rest if velocities are given).

        Linear between waypoints, or cubic Hermite when velocities are given;
        ``start`` before 0 and the last waypoint after the end.
        """
        times = np.concatenate([[0.0], np.asarray(self.times, dtype=float)])
        positions = np.vstack([np.asarray(start, dtype=float), np.asarray(self.positions, dtype=float)])
        if self.velocities is None or t <= 0 or t >= times[-1]:
            return np.array([np.interp(t, times, positions[:, j]) for j in range(positions.shape[1])])
        velocities = np.vstack([np.zeros(positions.shape[1]), np.asarray(self.velocities, dtype=float)])
        k = int(np.searchsorted(times, t, side="right")) - 1
        h = times[k + 1] - times[k]
        s = (t - times[k]) / h
        return ((2 * s**3 - 3 * s**2 + 1) * positions[k] + (s**3 - 2 * s**2 + s) * h * velocities[k]
                + (-2 * s**3 + 3 * s**2) * positions[k + 1] + (s**3 - s**2) * h * velocities[k + 1])

    def reordered(self, names: list[str]) -> Trajectory:
        """The same trajectory with joints in ``names`` order; every joint must be present."""
        missing = set(names) - set(self.joint_names)
        if missing:
            raise ValueError(f"trajectory lacks joints {sorted(missing)}; it names {list(self.joint_names)}")
        index = [self.joint_names.index(n) for n in names]
        velocities = None if self.velocities is None else np.asarray(self.velocities)[:, index]
        return Trajectory(tuple(names), self.times, np.asarray(self.positions)[:, index], velocities)
