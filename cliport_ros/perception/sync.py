"""Approximate time synchronisation of N streams (colour, depth, info per camera).

``message_filters`` is not available as a PyPI wheel, so this is a small
re-implementation of its ApproximateTime idea: a set is released only when
every stream has a message within ``slop`` seconds of the others, and each
message is used at most once. Pure Python, so it is tested without ROS.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence
from typing import Any


class ApproximateSync:
    """Buffers the last ``queue_size`` messages per stream and releases matched sets."""

    def __init__(self, streams: Sequence[Hashable], slop: float, queue_size: int = 5) -> None:
        if not streams:
            raise ValueError("ApproximateSync needs at least one stream")
        if slop <= 0:
            raise ValueError(f"slop={slop} must be > 0")
        self.slop = slop
        self._queues: dict[Hashable, deque[tuple[float, Any]]] = {
            s: deque(maxlen=queue_size) for s in streams
        }

    def add(self, stream: Hashable, stamp: float, msg: Any) -> dict[Hashable, Any] | None:
        """Add a message; return {stream: message} when a complete matched set exists.

        The set is anchored on the new message: each other stream contributes
        its message nearest in time, and the whole set must span <= slop.
        """
        if stream not in self._queues:
            raise KeyError(f"unknown stream {stream!r}")
        self._queues[stream].append((stamp, msg))
        chosen: dict[Hashable, tuple[float, Any]] = {}
        for name, queue in self._queues.items():
            if not queue:
                return None
            chosen[name] = min(queue, key=lambda item: abs(item[0] - stamp))
        stamps = [s for s, _ in chosen.values()]
        if max(stamps) - min(stamps) > self.slop:
            return None
        for name, (used, _) in chosen.items():  # consume the set and everything older
            queue = self._queues[name]
            while queue and queue[0][0] <= used:
                queue.popleft()
        return {name: msg for name, (_, msg) in chosen.items()}
