"""ROS message <-> numpy conversions, in one place and tested without spinning.

Imports message types but never rclpy: building and reading messages needs
no running ROS graph.
"""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from cliport_ros.msg import Heightmap as HeightmapMsg
from cliport_ros.perception.camera import DEPTH_ENCODINGS, Intrinsics, PerceptionError, decode_depth
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.workspace import Workspace

# encoding -> (numpy dtype, channels)
_ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "16UC1": (np.dtype(np.uint16), 1),
    "32FC1": (np.dtype(np.float32), 1),
}
COLOR_ENCODINGS = ("rgb8", "bgr8")


def stamp_to_seconds(stamp: Time) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def image_to_array(msg: Image) -> np.ndarray:
    """Image -> (H, W) or (H, W, C) array in native byte order, honouring ``step`` padding."""
    if msg.encoding not in _ENCODINGS:
        raise PerceptionError(f"unsupported image encoding {msg.encoding!r}; expected one of {sorted(_ENCODINGS)}")
    dtype, channels = _ENCODINGS[msg.encoding]
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


def rgb_from_image(msg: Image) -> np.ndarray:
    """A colour Image (rgb8 or bgr8) -> (H, W, 3) uint8 RGB."""
    if msg.encoding not in COLOR_ENCODINGS:
        raise PerceptionError(f"colour image has encoding {msg.encoding!r}; expected one of {COLOR_ENCODINGS}")
    rgb = image_to_array(msg)
    return np.ascontiguousarray(rgb[..., ::-1]) if msg.encoding == "bgr8" else rgb


def depth_from_image(msg: Image) -> np.ndarray:
    """A depth Image (16UC1 mm or 32FC1 m) -> (H, W) float32 metres, NaN where invalid."""
    if msg.encoding not in DEPTH_ENCODINGS:
        raise PerceptionError(f"depth image has encoding {msg.encoding!r}; expected one of {DEPTH_ENCODINGS}")
    return decode_depth(image_to_array(msg), msg.encoding)


def intrinsics_from_camera_info(msg: CameraInfo) -> Intrinsics:
    """CameraInfo -> Intrinsics; an all-zero K (uncalibrated) is refused."""
    if not any(msg.k):
        raise PerceptionError("camera_info has an all-zero K: the camera is uncalibrated")
    return Intrinsics.from_k(msg.width, msg.height, msg.k)


def camera_info_from_intrinsics(intr: Intrinsics, header: Header) -> CameraInfo:
    msg = CameraInfo(header=header, width=intr.width, height=intr.height, distortion_model="plumb_bob")
    msg.k = intr.k.reshape(-1).tolist()
    msg.d = [0.0] * 5
    msg.r = np.eye(3).reshape(-1).tolist()
    msg.p = np.hstack([intr.k, np.zeros((3, 1))]).reshape(-1).tolist()
    return msg


def array_to_image(array: np.ndarray, encoding: str, header: Header | None = None) -> Image:
    """(H, W[, C]) array -> Image with a tight ``step`` and little-endian data."""
    if encoding not in _ENCODINGS:
        raise ValueError(f"unsupported image encoding {encoding!r}; expected one of {sorted(_ENCODINGS)}")
    dtype, channels = _ENCODINGS[encoding]
    array = np.ascontiguousarray(array, dtype=dtype.newbyteorder("<"))
    if array.shape[2:] != ((channels,) if channels > 1 else ()):
        raise ValueError(f"array of shape {array.shape} does not fit encoding {encoding!r}")
    msg = Image(header=header or Header(), height=array.shape[0], width=array.shape[1], encoding=encoding)
    msg.is_bigendian = 0
    msg.step = array.shape[1] * channels * dtype.itemsize
    msg.data = array.tobytes()
    return msg


def heightmap_to_msg(heightmap: Heightmap, header: Header, cameras: list[str]) -> HeightmapMsg:
    ws = heightmap.workspace
    return HeightmapMsg(
        header=header,
        color=array_to_image(heightmap.color, "rgb8", header),
        height=array_to_image(heightmap.height, "32FC1", header),
        x_min=ws.x_min,
        x_max=ws.x_max,
        y_min=ws.y_min,
        y_max=ws.y_max,
        z_min=ws.z_min,
        z_max=ws.z_max,
        pixel_size=ws.pixel_size,
        cameras=list(cameras),
    )


def heightmap_from_msg(msg: HeightmapMsg) -> Heightmap:
    """Heightmap message -> core Heightmap; refuses images that disagree with the bounds."""
    ws = Workspace(msg.x_min, msg.x_max, msg.y_min, msg.y_max, msg.z_min, msg.z_max, msg.pixel_size)
    color = rgb_from_image(msg.color)
    if msg.height.encoding != "32FC1":
        raise PerceptionError(f"heightmap height has encoding {msg.height.encoding!r}; expected '32FC1'")
    height = image_to_array(msg.height)
    if color.shape[:2] != ws.shape or height.shape != ws.shape:
        raise PerceptionError(
            f"heightmap images {color.shape[:2]} / {height.shape} do not match the bounds' grid {ws.shape}"
        )
    return Heightmap(color, height, ws)
