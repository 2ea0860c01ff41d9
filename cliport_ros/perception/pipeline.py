"""What perception_node does with camera messages, without ROS: sync, check, decode, fuse.

perception_node feeds it the messages rclpy delivers; ``cliport replay``
feeds it the messages ``rosbags`` reads from a recording, in the order they
were recorded. Both therefore match sets, check them, reuse each camera's
ray grid and fuse exactly alike. Messages are duck-typed ``sensor_msgs``
``Image`` / ``CameraInfo`` (see cliport_ros/perception/images.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from cliport_ros.perception.camera import Camera, Extrinsics, PerceptionError
from cliport_ros.perception.config import CameraConfig, PerceptionConfig, fuse_views
from cliport_ros.perception.filters import median_of_sets
from cliport_ros.perception.heightmap import Heightmap, RGBDView, view_pool
from cliport_ros.perception.images import (
    depth_from_image,
    intrinsics_from_camera_info,
    rgb_from_image,
    stamp_to_seconds,
)
from cliport_ros.perception.sync import ApproximateSync

IMAGE_KINDS = ("color", "depth")
# (camera config, its colour message) -> the camera's pose in the base frame at that message's time
PoseLookup = Callable[[CameraConfig, Any], Extrinsics]


class PerceptionPipeline:
    """Per-camera camera_info, approximate time sync of every camera's colour and depth, and fusion.

    :meth:`add_image` returns a matched set (``{(camera, kind): message}``) once every stream has one within
    ``sync_slop``; :meth:`views` checks and decodes it and :meth:`fuse` makes the heightmap, each raising
    :class:`PerceptionError` that says why a set cannot be used: a set is used whole or not at all.
    """

    def __init__(self, config: PerceptionConfig) -> None:
        self.config = config
        self.camera_infos: dict[str, Any] = {}  # latest per camera; intrinsics rarely change
        self._cameras: dict[str, Camera] = {}  # per camera, the last calibration and its rays
        self._history: deque[Heightmap] = deque(maxlen=config.temporal_sets)  # the last fused maps
        self._sync = ApproximateSync([(c.name, kind) for c in config.cameras for kind in IMAGE_KINDS],
                                     slop=config.sync_slop)

    def add_info(self, camera: str, msg: Any) -> None:
        self.camera_infos[camera] = msg

    def add_image(self, camera: str, kind: str, msg: Any) -> dict[tuple[str, str], Any] | None:
        """Buffer a colour or depth message; the matched set it completes, if any."""
        return self._sync.add((camera, kind), stamp_to_seconds(msg.header.stamp), msg)

    def views(self, matched: dict[tuple[str, str], Any], pose: PoseLookup | None = None) -> list[RGBDView]:
        """The set's views in config order; ``pose`` (e.g. from tf) overrides the configured camera poses.
        Decoded one camera per thread (``view_pool``), as they are then fused."""
        def view(cam: CameraConfig) -> RGBDView:
            return self._view(cam, matched[(cam.name, "color")], matched[(cam.name, "depth")], pose)

        return list(view_pool().map(view, self.config.cameras))

    def fuse(self, views: list[RGBDView]) -> Heightmap:
        """The heightmap perception publishes for ``views``; a blank one is refused (it would read as an empty
        table). With ``temporal_sets`` N > 1 it is the median of this set's map and the N - 1 fused before
        it (:func:`~cliport_ros.perception.filters.median_of_sets`); a refused set does not count."""
        heightmap = fuse_views(views, self.config)
        if not heightmap.observed.any():
            raise PerceptionError("no camera saw any point of the workspace (all depth invalid, or out of view)")
        if self.config.temporal_sets == 1:
            return heightmap
        self._history.append(heightmap)
        height, color, seen = median_of_sets(np.stack([h.height for h in self._history]),
                                             np.stack([h.color for h in self._history]),
                                             np.stack([h.observed for h in self._history]))
        return Heightmap(color, height, heightmap.workspace, seen)

    @staticmethod
    def oldest_stamp(matched: dict[tuple[str, str], Any]) -> Any:
        """The set's oldest header stamp: the time the heightmap shows the scene at, at the latest."""
        return min((m.header.stamp for m in matched.values()), key=stamp_to_seconds)

    def _view(self, cam: CameraConfig, color: Any, depth: Any, pose: PoseLookup | None) -> RGBDView:
        """Check one camera's colour/depth/info agree, then decode them into a view."""
        info = self.camera_infos.get(cam.name)
        if info is None:
            raise PerceptionError(f"camera {cam.name!r}: no camera_info received on {cam.info_topic}")
        sizes = {"colour": (color.width, color.height), "depth": (depth.width, depth.height),
                 "camera_info": (info.width, info.height)}
        if len(set(sizes.values())) != 1:
            raise PerceptionError(f"camera {cam.name!r}: image sizes disagree: {sizes}")
        camera = cam.to_camera(intrinsics=intrinsics_from_camera_info(info),
                               pose=pose(cam, color) if pose is not None else None)
        cached = self._cameras.get(cam.name)
        if cached is not None and (cached.intrinsics, cached.pose) == (camera.intrinsics, camera.pose):
            camera = cached  # its ray grid is already computed: rebuilt only when the calibration changes
        else:
            self._cameras[cam.name] = camera
        return RGBDView(camera, rgb_from_image(color), depth_from_image(depth))
