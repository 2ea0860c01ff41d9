"""Fusion against analytic scenes: heights within 2 mm, positions within one pixel."""

import numpy as np
import pytest

from cliport_ros.perception.camera import PerceptionError
from cliport_ros.perception.heightmap import RGBDView, fuse
from cliport_ros.perception.synthetic import Box, Scene, render, top_down_camera

from conftest import BLOCK, TALL_BOX

HEIGHT_TOL = 0.002


def ravens_views(ravens, scene):
    return [render(c.to_camera(), scene) for c in ravens.cameras]


def footprint_error_px(heightmap, box: Box) -> int:
    """Largest distance, in pixels, between the measured and true footprint edges of ``box``."""
    ws = heightmap.workspace
    lo = ws.xyz_to_pix(np.subtract(box.center, np.divide(box.size, 2)))
    hi = ws.xyz_to_pix(np.add(box.center, np.divide(box.size, 2)))
    near = np.zeros(ws.shape, bool)
    near[max(lo[0] - 5, 0) : hi[0] + 6, max(lo[1] - 5, 0) : hi[1] + 6] = True
    rows, cols = np.nonzero(near & (heightmap.height > box.top / 2))
    measured = np.array([rows.min(), cols.min(), rows.max(), cols.max()])
    expected = np.array([lo[0], lo[1], hi[0], hi[1]])
    return int(np.abs(measured - expected).max())


def test_plane_at_known_height_one_camera(ravens):
    view = render(top_down_camera(height=1.0, size=640), Scene(table_z=0.05))
    heightmap = fuse([view], ravens.workspace)
    seen = heightmap.observed
    assert seen.mean() > 0.9
    assert np.abs(heightmap.height[seen] - 0.05).max() < HEIGHT_TOL


def test_plane_at_known_height_three_cameras(ravens):
    heightmap = fuse(ravens_views(ravens, Scene(table_z=0.03)), ravens.workspace)
    assert heightmap.observed.all()
    assert np.abs(heightmap.height - 0.03).max() < HEIGHT_TOL


@pytest.mark.parametrize("box", [BLOCK, TALL_BOX], ids=["block", "tall_box"])
def test_box_one_camera(ravens, box):
    view = render(top_down_camera(height=1.0, size=640), Scene(boxes=(box,)))
    heightmap = fuse([view], ravens.workspace)
    row, col = ravens.workspace.xyz_to_pix(np.asarray(box.center))
    assert heightmap.height[row, col] == pytest.approx(box.top, abs=HEIGHT_TOL)
    assert footprint_error_px(heightmap, box) <= 1
    assert tuple(heightmap.color[row, col]) == box.color


def test_boxes_three_cameras(ravens, two_box_scene):
    heightmap = fuse(ravens_views(ravens, two_box_scene), ravens.workspace)
    for box in two_box_scene.boxes:
        row, col = ravens.workspace.xyz_to_pix(np.asarray(box.center))
        assert heightmap.height[row, col] == pytest.approx(box.top, abs=HEIGHT_TOL)
        assert footprint_error_px(heightmap, box) <= 1
        assert tuple(heightmap.color[row, col]) == box.color
    # away from the boxes the table reads 0
    assert heightmap.height[10, 10] == pytest.approx(0.0, abs=HEIGHT_TOL)


def test_16uc1_quantisation_stays_within_tolerance(ravens, two_box_scene):
    views = []
    for view in ravens_views(ravens, two_box_scene):
        mm = np.nan_to_num(np.round(view.depth * 1000), nan=0)
        views.append(RGBDView(view.camera, view.rgb, np.where(mm > 0, mm / 1000, np.nan).astype(np.float32)))
    heightmap = fuse(views, ravens.workspace)
    row, col = ravens.workspace.xyz_to_pix(np.asarray(TALL_BOX.center))
    assert heightmap.height[row, col] == pytest.approx(TALL_BOX.top, abs=HEIGHT_TOL)


def test_invalid_depth_leaves_cells_unseen_not_zero_height_objects(ravens):
    view = render(top_down_camera(size=640), Scene(boxes=(BLOCK,)))
    blank = RGBDView(view.camera, view.rgb, np.full_like(view.depth, np.nan))
    heightmap = fuse([blank], ravens.workspace)
    assert not heightmap.observed.any()


def test_colour_is_averaged_over_views_that_saw_the_cell(ravens):
    view = render(top_down_camera(size=640), Scene(table_color=(100, 100, 100)))
    other = RGBDView(view.camera, np.full_like(view.rgb, 200), view.depth)
    heightmap = fuse([view, other], ravens.workspace)
    assert tuple(heightmap.color[160, 80]) == (150, 150, 150)


def test_mismatched_view_is_refused(ravens):
    view = render(top_down_camera(size=64), Scene())
    with pytest.raises(PerceptionError, match="depth"):
        RGBDView(view.camera, view.rgb, view.depth[:-1])
    with pytest.raises(PerceptionError):
        fuse([], ravens.workspace)
