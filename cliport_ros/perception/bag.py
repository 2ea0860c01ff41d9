"""Recorded camera topics from a ROS 2 bag, and perception run over them as perception_node would.

A bag is read with ``rosbags`` (pure Python: no ROS install needed), either
the directory ``ros2 bag record`` writes or one of its ``.db3`` (sqlite3) or
``.mcap`` files. :func:`replay` feeds its messages in recorded order through
the node's own :class:`~cliport_ros.perception.pipeline.PerceptionPipeline`,
so a set is matched, checked, dropped or fused exactly as it was live.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from cliport_ros.perception.camera import PerceptionError
from cliport_ros.perception.config import CameraConfig, PerceptionConfig
from cliport_ros.perception.heightmap import Heightmap, RGBDView
from cliport_ros.perception.images import stamp_to_seconds
from cliport_ros.perception.pipeline import PerceptionPipeline

IMAGE = "sensor_msgs/msg/Image"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
STREAM_TYPES = {"color": IMAGE, "depth": IMAGE, "info": CAMERA_INFO}  # each camera's topics, as CameraConfig names


class BagError(ValueError):
    """A bag that cannot be replayed: missing, unreadable or corrupt, or without the configured topics."""


def _topic(cam: CameraConfig, kind: str) -> str:
    return getattr(cam, f"{kind}_topic")


class CameraBag:
    """The configured cameras' colour, depth and camera_info messages in a bag, in recorded order.

    Use as a context manager; opening checks that every topic is there with the right type, and a bag
    that cannot be read (or a message that cannot be decoded) raises :class:`BagError` naming the bag.
    """

    def __init__(self, path: str | Path, cameras: Sequence[CameraConfig]) -> None:
        self.path = Path(path)
        self.cameras = tuple(cameras)
        self._streams = {_topic(cam, kind): (cam.name, kind) for cam in self.cameras for kind in STREAM_TYPES}
        self._reader: Any = None
        self._connections: list[Any] = []

    def __enter__(self) -> CameraBag:
        from rosbags.highlevel import AnyReader
        from rosbags.typesys import Stores, get_typestore

        if not self.path.exists():
            raise BagError(f"no bag at {self.path}")
        if self.path.is_dir() and not (self.path / "metadata.yaml").is_file():
            raise BagError(f"{self.path}: a folder without metadata.yaml is not a ROS 2 bag; give the folder "
                           "`ros2 bag record` wrote, or one of its .db3 or .mcap files")
        if self.path.is_file() and self.path.suffix not in (".db3", ".mcap"):
            raise BagError(f"{self.path}: not a ROS 2 bag (a directory from `ros2 bag record`, or a .db3 or .mcap "
                           "file)")
        # Bags recorded before Iron carry no message definitions; Image and CameraInfo have not changed since.
        try:
            reader = AnyReader([self.path], default_typestore=get_typestore(Stores.ROS2_HUMBLE))
            reader.open()
        except Exception as err:  # rosbags and its storage back ends raise many unrelated types on bad bytes
            raise BagError(f"cannot read bag {self.path}: {err or type(err).__name__}") from err
        self._reader = reader
        try:
            self._check_topics()
        except BagError:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _check_topics(self) -> None:
        found = {c.topic: c.msgtype for c in self._reader.connections}
        missing = [f"{topic} ({name} {kind})" for topic, (name, kind) in self._streams.items() if topic not in found]
        if missing:
            listing = "\n  ".join(f"{t} [{m}]" for t, m in sorted(found.items())) or "(none)"
            raise BagError(f"bag {self.path} lacks the configured camera topic(s) {', '.join(missing)}; "
                           f"it has:\n  {listing}\n(topics come from the camera config's *_topic entries)")
        wrong = [f"{topic} is {found[topic]}, expected {STREAM_TYPES[kind]}"
                 for topic, (_, kind) in self._streams.items() if found[topic] != STREAM_TYPES[kind]]
        if wrong:
            raise BagError(f"bag {self.path}: " + "; ".join(wrong))
        self._connections = [c for c in self._reader.connections if c.topic in self._streams]

    @property
    def set_count(self) -> int:
        """How many frame sets the bag can hold at most: the fewest messages on any image topic."""
        counts: dict[str, int] = {}
        for c in self._connections:
            counts[c.topic] = counts.get(c.topic, 0) + c.msgcount
        return min(counts[_topic(cam, kind)] for cam in self.cameras for kind in ("color", "depth"))

    def messages(self) -> Iterator[tuple[str, str, Any]]:
        """(camera name, "color" | "depth" | "info", message) in the order they were recorded."""
        if self._reader is None:
            raise BagError("CameraBag.messages() outside its `with` block")
        position = "its first message"
        try:
            for connection, _, raw in self._reader.messages(connections=self._connections):
                position = f"a message on {connection.topic}"
                yield (*self._streams[connection.topic], self._reader.deserialize(raw, connection.msgtype))
        except Exception as err:  # as in __enter__: a truncated or corrupt bag fails in many ways
            raise BagError(f"bag {self.path} is corrupt at {position}: {err or type(err).__name__}") from err


@dataclass(frozen=True)
class ReplayedSet:
    """One matched frame set of a bag: what perception made of it, or why it was dropped.

    ``index`` counts matched sets from 0; ``stamp`` is the set's oldest header stamp (s).
    """

    index: int
    stamp: float
    views: list[RGBDView] | None = None
    heightmap: Heightmap | None = None
    error: str = ""


def view_sets(bag: CameraBag, config: PerceptionConfig) -> Iterator[ReplayedSet]:
    """Every matched set in ``bag`` as perception_node's pipeline matches, checks and decodes it (poses from
    ``config``), in order, without fusing: each with its views, or with the reason the node would drop it
    (no camera_info yet, sizes disagree, a bad encoding)."""
    yield from _sets(bag, PerceptionPipeline(config), fuse=False)


def replay(bag: CameraBag, config: PerceptionConfig) -> Iterator[ReplayedSet]:
    """Every matched set in ``bag`` through perception_node's pipeline, fused as the node would publish it.

    A set the node would drop (as :func:`view_sets`, or one in which no camera saw the workspace) is yielded
    with its reason, as the node logs it, and replay goes on with the next.
    """
    yield from _sets(bag, PerceptionPipeline(config), fuse=True)


def _sets(bag: CameraBag, pipeline: PerceptionPipeline, fuse: bool) -> Iterator[ReplayedSet]:
    index = 0
    for camera, kind, msg in bag.messages():
        if kind == "info":
            pipeline.add_info(camera, msg)
            continue
        matched = pipeline.add_image(camera, kind, msg)
        if matched is None:
            continue
        stamp = stamp_to_seconds(pipeline.oldest_stamp(matched))
        try:
            views = pipeline.views(matched)
            yield ReplayedSet(index, stamp, views, pipeline.fuse(views) if fuse else None)
        except PerceptionError as err:
            yield ReplayedSet(index, stamp, error=str(err))
        index += 1
