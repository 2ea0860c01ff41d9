"""Message <-> numpy conversions, built directly, no spinning."""

import numpy as np
import pytest
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from cliport_ros.perception.camera import Intrinsics, PerceptionError
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.images import depth_from_image, image_to_array, intrinsics_from_camera_info, rgb_from_image
from cliport_ros.perception.workspace import Workspace
from cliport_ros.ros.camera_publisher import encode_depth
from cliport_ros.ros.conversions import (
    array_to_image,
    camera_info_from_intrinsics,
    heightmap_from_msg,
    heightmap_to_msg,
)


def test_rgb8_round_trip():
    rgb = np.random.default_rng(0).integers(0, 255, (4, 5, 3), dtype=np.uint8)
    assert np.array_equal(rgb_from_image(array_to_image(rgb, "rgb8")), rgb)


def test_bgr8_is_returned_as_rgb():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0] = 255
    msg = array_to_image(rgb[..., ::-1], "bgr8")
    assert np.array_equal(rgb_from_image(msg), rgb)


def test_row_padding_in_step_is_skipped():
    depth = np.arange(6, dtype=np.uint16).reshape(2, 3)
    msg = array_to_image(depth, "16UC1")
    padded = b"".join(bytes(msg.data[r * 6 : (r + 1) * 6]) + b"\xff\xff" for r in range(2))
    msg.step, msg.data = 8, padded
    assert np.array_equal(image_to_array(msg), depth)


def test_big_endian_depth_is_decoded():
    depth = np.array([[1000, 2000]], dtype=np.uint16)
    msg = Image(height=1, width=2, encoding="16UC1", is_bigendian=1, step=4)
    msg.data = depth.astype(">u2").tobytes()
    assert np.allclose(depth_from_image(msg), [[1.0, 2.0]])


@pytest.mark.parametrize("encoding", ["16UC1", "32FC1"])
def test_depth_encodings_agree(encoding):
    metres = np.array([[0.5, np.nan], [1.25, 0.75]], np.float32)
    decoded = depth_from_image(array_to_image(encode_depth(metres, encoding), encoding))
    assert np.allclose(decoded, metres, atol=5e-4, equal_nan=True)


def test_unknown_encodings_are_refused():
    with pytest.raises(PerceptionError, match="encoding"):
        depth_from_image(Image(height=1, width=1, encoding="mono8", step=1, data=b"\x00"))
    with pytest.raises(PerceptionError, match="encoding"):
        rgb_from_image(array_to_image(np.zeros((1, 1), np.uint16), "16UC1"))
    with pytest.raises(PerceptionError, match="encoding"):
        image_to_array(Image(height=1, width=1, encoding="yuv422", step=2, data=b"\x00\x00"))


def test_truncated_data_is_refused():
    msg = array_to_image(np.zeros((4, 4), np.uint16), "16UC1")
    msg.data = bytes(msg.data[:-2])
    with pytest.raises(PerceptionError, match="bytes"):
        image_to_array(msg)


def test_camera_info_round_trip_and_uncalibrated_refusal():
    intr = Intrinsics(640, 480, 450.0, 451.0, 320.0, 240.0)
    assert intrinsics_from_camera_info(camera_info_from_intrinsics(intr, Header())) == intr
    with pytest.raises(PerceptionError, match="uncalibrated"):
        intrinsics_from_camera_info(CameraInfo(width=640, height=480))


def test_heightmap_message_round_trip():
    ws = Workspace()
    rng = np.random.default_rng(1)
    seen = rng.random(ws.shape) > 0.3
    hm = Heightmap(
        rng.integers(0, 255, (*ws.shape, 3), dtype=np.uint8), rng.random(ws.shape, dtype=np.float32) * 0.2, ws, seen
    )
    msg = heightmap_to_msg(hm, Header(frame_id="base_link"), ["front"])
    back = heightmap_from_msg(msg)
    assert back.workspace == ws
    assert np.array_equal(back.color, hm.color) and np.array_equal(back.height, hm.height)
    assert np.array_equal(back.observed, seen)  # the mask, not a guess from colour and height
    assert msg.height.encoding == "32FC1" and msg.color.encoding == "rgb8" and msg.observed.encoding == "mono8"
    assert list(msg.cameras) == ["front"]


def test_a_heightmap_message_without_a_mask_falls_back_to_what_is_not_black_at_zero():
    ws = Workspace()
    color = np.zeros((*ws.shape, 3), np.uint8)
    color[:10] = 200
    msg = heightmap_to_msg(Heightmap(color, np.zeros(ws.shape, np.float32), ws), Header(), [])
    msg.observed = type(msg.observed)()  # as a publisher that predates the mask sends it
    back = heightmap_from_msg(msg)
    assert back.seen is None and back.observed[:10].all() and not back.observed[10:].any()


def test_heightmap_message_with_inconsistent_grid_is_refused():
    ws = Workspace()
    hm = Heightmap(np.zeros((*ws.shape, 3), np.uint8), np.zeros(ws.shape, np.float32), ws)
    msg = heightmap_to_msg(hm, Header(), [])
    msg.pixel_size = 0.00625
    with pytest.raises(PerceptionError, match="grid"):
        heightmap_from_msg(msg)
