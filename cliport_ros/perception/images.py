"""Reading ``sensor_msgs/Image`` and ``CameraInfo`` fields into numpy, without ROS.

These functions only read a message's fields (``width``, ``height``,
``encoding``, ``step``, ``data``, ``k``, ``header.stamp``), so the same code
decodes what rclpy delivers to perception_node and what ``rosbags`` reads
from a recorded bag (``cliport replay``): one decoding for both. Building
rclpy messages needs ROS and lives in ``cliport_ros/ros/conversions.py``;
:func:`image_message` and :func:`camera_info_message` build ``rosbags``'
types (the same fields, no ROS) for ``cliport bench perception``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from cliport_ros.perception.camera import DEPTH_ENCODINGS, Intrinsics, PerceptionError, decode_depth

# encoding -> (numpy dtype, channels)
ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "16UC1": (np.dtype(np.uint16), 1),
    "32FC1": (np.dtype(np.float32), 1),
    "mono8": (np.dtype(np.uint8), 1),
}
COLOR_ENCODINGS = ("rgb8", "bgr8")


def stamp_to_seconds(stamp: Any) -> float:
    """A ``builtin_interfaces/Time`` (or ``Duration``) -> seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


def image_to_array(msg: Any) -> np.ndarray:
    """Image -> (H, W) or (H, W, C) array in native byte order, honouring ``step`` padding."""
    if msg.encoding not in ENCODINGS:
        raise PerceptionError(f"unsupported image encoding {msg.encoding!r}; expected one of {sorted(ENCODINGS)}")
    dtype, channels = ENCODINGS[msg.encoding]
    row_bytes = msg.width * channels * dtype.itemsize
    if msg.height == 0 or msg.width == 0:
        raise PerceptionError(f"empty {msg.encoding} image ({msg.width}x{msg.height})")
    if msg.step < row_bytes or len(msg.data) < msg.step * msg.height:
        raise PerceptionError(
            f"{msg.encoding} image {msg.width}x{msg.height} needs step >= {row_bytes} and "
            f"{row_bytes * msg.height} bytes; got step {msg.step}, {len(msg.data)} bytes"
        )
    raw = np.frombuffer(msg.data, dtype=np.uint8, count=msg.step * msg.height).reshape(msg.height, msg.step)
    pixels = raw[:, :row_bytes].copy().view(dtype.newbyteorder(">" if msg.is_bigendian else "<"))
    pixels = pixels.astype(dtype, copy=False)
    return pixels.reshape(msg.height, msg.width, channels) if channels > 1 else pixels


def rgb_from_image(msg: Any) -> np.ndarray:
    """A colour Image (rgb8 or bgr8) -> (H, W, 3) uint8 RGB."""
    if msg.encoding not in COLOR_ENCODINGS:
        raise PerceptionError(f"colour image has encoding {msg.encoding!r}; expected one of {COLOR_ENCODINGS}")
    rgb = image_to_array(msg)
    return np.ascontiguousarray(rgb[..., ::-1]) if msg.encoding == "bgr8" else rgb


def depth_from_image(msg: Any) -> np.ndarray:
    """A depth Image (16UC1 mm or 32FC1 m) -> (H, W) float32 metres, NaN where invalid."""
    if msg.encoding not in DEPTH_ENCODINGS:
        raise PerceptionError(f"depth image has encoding {msg.encoding!r}; expected one of {DEPTH_ENCODINGS}")
    return decode_depth(image_to_array(msg), msg.encoding)


def intrinsics_from_camera_info(msg: Any) -> Intrinsics:
    """CameraInfo -> Intrinsics; an all-zero K (uncalibrated) is refused."""
    if not any(msg.k):
        raise PerceptionError("camera_info has an all-zero K: the camera is uncalibrated")
    return Intrinsics.from_k(msg.width, msg.height, msg.k)


@cache
def _rosbags_types() -> Any:
    from rosbags.typesys import Stores, get_typestore

    return get_typestore(Stores.ROS2_HUMBLE).types


def _header(types: Any, frame_id: str, stamp_ns: int) -> Any:
    stamp = types["builtin_interfaces/msg/Time"](sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9)
    return types["std_msgs/msg/Header"](stamp=stamp, frame_id=frame_id)


def image_message(array: np.ndarray, encoding: str, frame_id: str = "", stamp_ns: int = 0) -> Any:
    """(H, W[, C]) array -> a ``sensor_msgs/Image`` (rosbags' type) with a tight ``step``, little-endian."""
    dtype, channels = ENCODINGS[encoding]
    array = np.ascontiguousarray(array, dtype=dtype.newbyteorder("<"))
    types = _rosbags_types()
    return types["sensor_msgs/msg/Image"](
        header=_header(types, frame_id, stamp_ns), height=array.shape[0], width=array.shape[1], encoding=encoding,
        is_bigendian=0, step=array.shape[1] * channels * dtype.itemsize, data=array.reshape(-1).view(np.uint8))


def camera_info_message(intr: Intrinsics, frame_id: str = "", stamp_ns: int = 0) -> Any:
    """Intrinsics -> a ``sensor_msgs/CameraInfo`` (rosbags' type), no distortion."""
    types = _rosbags_types()
    return types["sensor_msgs/msg/CameraInfo"](
        header=_header(types, frame_id, stamp_ns), height=intr.height, width=intr.width,
        distortion_model="plumb_bob", d=np.zeros(5), k=intr.k.reshape(-1), r=np.eye(3).reshape(-1),
        p=np.hstack([intr.k, np.zeros((3, 1))]).reshape(-1), binning_x=0, binning_y=0,
        roi=types["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))
