"""Fusion against analytic scenes: heights within 2 mm, positions within one pixel."""

import numpy as np
import pytest

from cliport_ros.perception.camera import PerceptionError
from cliport_ros.perception.config import PerceptionConfig
from cliport_ros.perception.heightmap import Heightmap, RGBDView, fuse
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


# -- a real camera's artefacts: a D435-like view 0.7 m away, 45 degrees off vertical ------------------
REAL_SCENE = Scene(boxes=(Box((0.45, -0.08, 0.02), (0.04, 0.04, 0.04)),
                          Box((0.55, 0.06, 0.03), (0.05, 0.05, 0.06), (40, 160, 60)),
                          Box((0.50, -0.20, 0.025), (0.08, 0.06, 0.05), (50, 80, 220))))


def truth(workspace, scene):
    """(true height, cells of object tops at least one cell inside their edge, cells' distance in cells from
    the nearest object footprint: 0 inside)."""
    import cv2

    rows, cols = workspace.shape
    xs, ys = np.meshgrid(workspace.x_min + (np.arange(cols) + 0.5) * workspace.pixel_size,
                         workspace.y_min + (np.arange(rows) + 0.5) * workspace.pixel_size)
    height = np.zeros(workspace.shape)
    inner, footprint = np.zeros(workspace.shape, bool), np.zeros(workspace.shape, bool)
    for box in scene.boxes:
        half = np.asarray(box.size[:2]) / 2
        inside = (abs(xs - box.center[0]) <= half[0]) & (abs(ys - box.center[1]) <= half[1])
        footprint |= inside
        height[inside] = np.maximum(height[inside], box.top)
        inner |= (abs(xs - box.center[0]) <= half[0] - workspace.pixel_size) & \
                 (abs(ys - box.center[1]) <= half[1] - workspace.pixel_size)
    distance = cv2.distanceTransform((~footprint).astype(np.uint8), cv2.DIST_C, 3)
    return height, inner, distance


def real_view():
    from cliport_ros.perception.depth_model import like_a_real_camera
    from cliport_ros.perception.synthetic import oblique_camera

    return like_a_real_camera(render(oblique_camera(distance=0.7, tilt_deg=45.0), REAL_SCENE),
                              np.random.default_rng(0))


def artefacts(heightmap):
    true, inner, distance = truth(heightmap.workspace, REAL_SCENE)
    seen = heightmap.observed
    holes = (inner & ~(seen & (np.abs(heightmap.height - true) < 0.01))).sum() / inner.sum()
    false_beyond_two = int((seen & (distance > 2) & (heightmap.height > 0.01)).sum())
    table = seen & (distance > 2)
    return holes, false_beyond_two, float(np.abs(heightmap.height[table]).max())


def test_a_real_cameras_mixed_pixels_leave_false_heights_without_the_filters(ravens):
    _, false_cells, _ = artefacts(fuse([real_view()], ravens.workspace, 0.01))
    assert false_cells > 50  # the streaks the filters exist for


def test_with_the_filters_object_tops_are_whole_and_no_streak_leaves_an_edge(ravens):
    cfg = PerceptionConfig(cameras=ravens.cameras)  # the real-camera defaults
    heightmap = fuse([real_view()], ravens.workspace, 0.01, cfg.flying_pixel_threshold, cfg.fill_holes)
    holes, false_cells, table_error = artefacts(heightmap)
    assert holes <= 0.02
    assert false_cells == 0  # nothing more than 1 cm high beyond two cells of an object
    assert table_error <= 0.005


def test_unseen_cells_are_marked_and_not_mistaken_for_table(ravens):
    view = real_view()
    heightmap = fuse([view], ravens.workspace, 0.01, 0.01, 1)
    _, _, distance = truth(ravens.workspace, REAL_SCENE)
    # The camera looks from -x: behind the tallest box (+x side) lies its shadow, height 0 and unseen.
    shadow = ~heightmap.observed & (distance > 2)
    assert 0.05 < shadow.mean() < 0.6
    assert (heightmap.height[shadow] == 0).all() and not heightmap.observed[shadow].any()
    seen_black = Heightmap(np.zeros_like(heightmap.color), np.zeros_like(heightmap.height), heightmap.workspace,
                           np.ones_like(heightmap.observed))
    assert seen_black.observed.all()  # a seen black cell at height 0 is seen: the mask says so, not the colour


def test_hole_filling_fills_a_stripe_on_a_top_but_not_an_edge_against_the_table():
    from cliport_ros.perception.filters import fill_small_holes

    height = np.zeros((20, 20), np.float32)
    height[5:15, 5:15] = 0.04  # a box top
    seen = np.ones_like(height, bool)
    seen[5:15, 9] = False  # a stripe across the top the camera's pixels missed
    seen[3:5, 16:18] = False  # a 2x2 hole in the table
    seen[10, 14:16] = False  # a notch at the top's edge: top on one side, table on the other
    color = np.full((20, 20, 3), 100, np.uint8)
    h, _, s = fill_small_holes(height, color, seen, radius=1)
    assert s[6:14, 9].all() and np.allclose(h[6:14, 9], 0.04)
    assert s[3:5, 16:18].all() and np.allclose(h[3:5, 16:18], 0.0)
    assert not s[10, 14:16].any()  # its neighbours disagree: left unseen, not given a height
