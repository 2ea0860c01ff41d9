"""Which heightmap a decision may be made on: the newest, if it is young and shows the scene as it is now.

After a motion the scene has changed, so a heightmap taken before the motion
ended shows the past; the gate waits (a little) for one taken after. A
heightmap stamped in the future means the clocks disagree (a camera host
out of sync, or ``use_sim_time`` with no ``/clock``): its age cannot be
judged, so it is refused too. Times are seconds on one clock, passed in as
``now`` so that ROS time, simulated time or a test's clock all serve.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cliport_ros.decision.policy import Reason, RefusedError
from cliport_ros.perception.heightmap import Heightmap

T = TypeVar("T")


@dataclass(frozen=True)
class GateConfig:
    """Bounds on the heightmap a decision is made on."""

    max_heightmap_age: float = 5.0  # s between the heightmap's stamp and the decision
    heightmap_wait: float = 5.0  # s to wait for a heightmap taken after the last motion ended
    max_clock_skew: float = 1.0  # s a stamp may lie ahead of this clock before the clocks count as disagreeing
    # Fewest workspace cells a camera must have seen: all-invalid depth gives a blank map that reads as an
    # empty table. Low, because one real camera leaves much of a rectangular workspace unseen.
    min_observed: float = 0.05

    def __post_init__(self) -> None:
        for name in ("max_heightmap_age", "heightmap_wait", "max_clock_skew"):
            value = getattr(self, name)
            if not value >= 0.0 or value == float("inf"):
                raise ValueError(f"GateConfig: {name}={value} must be a finite number >= 0")
        if not 0.0 <= self.min_observed <= 1.0:
            raise ValueError(f"GateConfig: min_observed={self.min_observed} must lie in [0, 1]")


class HeightmapGate(Generic[T]):
    """Holds the newest heightmap (any payload ``T`` with its stamp) and hands it out only when fresh.

    ``offer`` is called from the subscription's thread, ``fresh`` from the request's: the condition
    variable lets a request wait for the next heightmap without polling.
    """

    def __init__(self, cfg: GateConfig, now: Callable[[], float]) -> None:
        self.cfg = cfg
        self._now = now
        self._cond = threading.Condition()
        self._newest: tuple[float, T] | None = None
        self._motion_ended = float("-inf")

    @property
    def has_heightmap(self) -> bool:
        return self._newest is not None

    def offer(self, stamp: float, heightmap: T) -> None:
        with self._cond:
            self._newest = (stamp, heightmap)
            self._cond.notify_all()

    def motion_ended(self, when: float | None = None) -> None:
        """The arm moved and stopped at ``when`` (default: now); older heightmaps show the past."""
        with self._cond:
            self._motion_ended = self._now() if when is None else when

    def _problem(self) -> RefusedError | None:
        if self._newest is None:
            return RefusedError(Reason.NO_HEIGHTMAP, "no heightmap received yet: is perception_node running?")
        stamp = self._newest[0]
        if stamp <= self._motion_ended:
            return RefusedError(Reason.STALE_HEIGHTMAP, "no heightmap taken since the last motion ended; the scene "
                           "has changed since the newest one")
        age = self._now() - stamp
        if age < -self.cfg.max_clock_skew:
            return RefusedError(Reason.STALE_HEIGHTMAP, f"the newest heightmap is stamped {-age:.1f} s in the future: "
                           "its clock and this node's disagree (use_sim_time without /clock?)")
        if age > self.cfg.max_heightmap_age:
            return RefusedError(Reason.STALE_HEIGHTMAP, f"the newest heightmap is {age:.1f} s old "
                           f"(max_heightmap_age {self.cfg.max_heightmap_age:g} s)")
        return None

    def fresh(self) -> tuple[float, T]:
        """(stamp, heightmap) of the newest fresh heightmap, waiting up to ``heightmap_wait`` for one;
        raises :class:`RefusedError` saying what is wrong with the newest one otherwise."""
        deadline = time.monotonic() + self.cfg.heightmap_wait
        with self._cond:
            while (problem := self._problem()) is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise problem
                self._cond.wait(timeout=min(0.1, left))  # re-checks age too: the clock moves on its own
            assert self._newest is not None
            return self._newest


def check_observed(heightmap: Heightmap, min_observed: float) -> Heightmap:
    """The heightmap, if cameras saw at least ``min_observed`` of its cells; a decision on less is a guess."""
    seen = float(heightmap.observed.mean())
    if not seen >= min_observed:
        raise RefusedError(Reason.STALE_HEIGHTMAP, f"the cameras saw {100 * seen:.1f} % of the workspace (min_observed "
                           f"{100 * min_observed:g} %): no valid depth, or the cameras look elsewhere")
    return heightmap
