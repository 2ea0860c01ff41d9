"""Publish RGB-D views as a ROS camera driver does: colour, depth and camera_info per camera.

Shared by the simulator, the perception demo and the tests, so that each
speaks to perception_node exactly as realsense-ros would.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from builtin_interfaces.msg import Time
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from cliport_ros.perception.config import CameraConfig
from cliport_ros.perception.heightmap import RGBDView
from cliport_ros.ros.conversions import array_to_image, camera_info_from_intrinsics


def encode_depth(depth_m: np.ndarray, encoding: str) -> np.ndarray:
    """Metres with NaN invalid -> raw ``16UC1`` millimetres (0 invalid) or ``32FC1`` metres."""
    if encoding == "16UC1":
        mm = np.nan_to_num(np.round(depth_m * 1000.0), nan=0.0)
        return np.clip(mm, 0, 65535).astype(np.uint16)
    if encoding == "32FC1":
        return depth_m.astype(np.float32)
    raise ValueError(f"unknown depth encoding {encoding!r}")


class CameraPublisher:
    """Publishers for a set of cameras on an existing node."""

    def __init__(self, node: Node, cameras: Sequence[CameraConfig], depth_encoding: str = "16UC1") -> None:
        self.cameras = {c.name: c for c in cameras}
        self.depth_encoding = depth_encoding
        qos = qos_profile_sensor_data
        self._pubs = {
            c.name: (
                node.create_publisher(Image, c.color_topic, qos),
                node.create_publisher(Image, c.depth_topic, qos),
                node.create_publisher(CameraInfo, c.info_topic, qos),
            )
            for c in cameras
        }

    def messages(self, views: Sequence[RGBDView], stamp: Time) -> dict[str, tuple[CameraInfo, Image, Image]]:
        """The (camera_info, colour, depth) messages a driver would send for ``views`` at ``stamp``."""
        out = {}
        for view in views:
            cam = self.cameras[view.camera.name]
            header = Header(stamp=stamp, frame_id=cam.frame_id)
            raw_depth = encode_depth(view.depth, self.depth_encoding)
            out[cam.name] = (
                camera_info_from_intrinsics(view.camera.intrinsics, header),
                array_to_image(view.rgb, "rgb8", header),
                array_to_image(raw_depth, self.depth_encoding, header),
            )
        return out

    def send(self, messages: dict[str, tuple[CameraInfo, Image, Image]], with_info: bool = True) -> None:
        """Publish per camera: camera_info first, as drivers do, then colour and depth."""
        for name, (info, color, depth) in messages.items():
            color_pub, depth_pub, info_pub = self._pubs[name]
            if with_info:
                info_pub.publish(info)
            color_pub.publish(color)
            depth_pub.publish(depth)

    def send_infos(self, infos: dict[str, CameraInfo]) -> None:
        """Publish camera_info alone, e.g. ahead of the first images."""
        for name, info in infos.items():
            self._pubs[name][2].publish(info)

    def publish(self, views: Sequence[RGBDView], stamp: Time) -> None:
        """Publish one frame of each view with ``stamp``."""
        self.send(self.messages(views, stamp))

    def matched(self) -> bool:
        """Whether every topic has at least one subscriber (DDS discovery has finished)."""
        return all(pub.get_subscription_count() > 0 for pubs in self._pubs.values() for pub in pubs)
