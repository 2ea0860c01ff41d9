import numpy as np
import pytest

from cliport_ros.perception.camera import Camera, Extrinsics, Intrinsics, PerceptionError, decode_depth
from cliport_ros.perception.synthetic import look_at_pose


def test_16uc1_is_millimetres_and_zero_is_invalid():
    depth = decode_depth(np.array([[0, 1000], [1234, 65535]], np.uint16), "16UC1")
    assert np.isnan(depth[0, 0])
    assert depth[0, 1] == pytest.approx(1.0)
    assert depth[1, 0] == pytest.approx(1.234)


def test_32fc1_is_metres_and_nan_zero_inf_are_invalid():
    depth = decode_depth(np.array([[np.nan, 0.0], [np.inf, 0.75]], np.float32), "32FC1")
    assert np.isnan(depth[:, 0]).all() and np.isnan(depth[0, 1])
    assert depth[1, 1] == pytest.approx(0.75)


@pytest.mark.parametrize(
    "raw, encoding", [(np.zeros((2, 2), np.uint8), "mono8"), (np.zeros((2, 2), np.float32), "16UC1")]
)
def test_unknown_or_mismatched_depth_is_refused(raw, encoding):
    with pytest.raises(PerceptionError):
        decode_depth(raw, encoding)


def test_intrinsics_from_row_major_k():
    intr = Intrinsics.from_k(640, 480, [450, 0, 320, 0, 451, 240, 0, 0, 1])
    assert (intr.fx, intr.fy, intr.cx, intr.cy) == (450, 451, 320, 240)


def test_zero_focal_length_is_refused():
    with pytest.raises(PerceptionError, match="focal"):
        Intrinsics.from_k(640, 480, [0] * 9)


def test_non_unit_quaternion_is_refused():
    with pytest.raises(PerceptionError, match="unit quaternion"):
        Extrinsics((0, 0, 0), (0, 0, 0, 2))


def test_backprojected_pixel_lands_where_the_camera_looks():
    eye, target = (1.0, 0.0, 0.75), (0.5, 0.0, 0.0)
    intr = Intrinsics(64, 48, 40.0, 40.0, 32.0, 24.0)
    cam = Camera("c", intr, look_at_pose(eye, target))
    distance = np.linalg.norm(np.subtract(target, eye))
    depth = np.full((48, 64), distance, np.float32)
    centre = cam.backproject(depth)[24, 32]
    assert np.allclose(centre, target, atol=1e-5)
    # image right is the camera's +x: looking along -x from x=1, right is +y
    assert cam.backproject(depth)[24, 40][1] > 0
    # image down is towards the camera's feet: looking down-forward, down is closer to the eye in x
    assert cam.backproject(depth)[30, 32][0] > centre[0]
