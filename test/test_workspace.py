import numpy as np
import pytest

from cliport_ros.perception.workspace import Workspace


def test_ravens_defaults_give_the_reference_grid():
    assert Workspace().shape == (320, 160)


def test_pixel_centres_round_trip_through_xyz():
    ws = Workspace()
    rows, cols = np.meshgrid(np.arange(ws.shape[0]), np.arange(ws.shape[1]), indexing="ij")
    pix = np.stack([rows, cols], axis=-1)
    assert np.array_equal(ws.xyz_to_pix(ws.pix_to_xyz(pix)), pix)


def test_xyz_round_trips_within_half_a_pixel():
    ws = Workspace()
    rng = np.random.default_rng(0)
    xyz = rng.uniform([ws.x_min, ws.y_min, 0], [ws.x_max, ws.y_max, 0], size=(1000, 3))
    back = ws.pix_to_xyz(ws.xyz_to_pix(xyz))
    assert np.abs(back[:, :2] - xyz[:, :2]).max() <= ws.pixel_size / 2 + 1e-12


def test_pixel_axes_follow_the_ravens_convention():
    ws = Workspace()
    assert tuple(ws.xyz_to_pix([ws.x_min, ws.y_min, 0])) == (0, 0)
    # +x moves along columns, +y along rows
    assert tuple(ws.xyz_to_pix([ws.x_min + 10.5 * ws.pixel_size, ws.y_min + 3.5 * ws.pixel_size, 0])) == (3, 10)


def test_pix_to_xyz_reads_height_from_the_map():
    ws = Workspace()
    height = np.zeros(ws.shape, np.float32)
    height[5, 7] = 0.04
    assert ws.pix_to_xyz(np.array([5, 7]), height)[2] == pytest.approx(0.04)


def test_contains_checks_every_bound():
    ws = Workspace()
    inside = [0.5, 0.0, 0.1]
    assert ws.contains(np.array(inside))
    for axis, value in ((0, 0.8), (1, -0.6), (2, 0.3), (2, -0.01)):
        point = np.array(inside)
        point[axis] = value
        assert not ws.contains(point)


@pytest.mark.parametrize(
    "kwargs, field",
    [({"x_min": 1.0}, "x_min"), ({"pixel_size": 0.0}, "pixel_size"), ({"pixel_size": 0.003}, "x extent")],
)
def test_bad_workspace_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        Workspace(**kwargs)
