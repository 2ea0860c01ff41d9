"""A D435-like depth model shared by the tests and the simulator, and temporal fusion in perception's pipeline."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cliport_ros.perception.depth_model import RealSenseDepth, like_a_real_camera
from cliport_ros.perception.filters import median_of_sets
from cliport_ros.perception.pipeline import PerceptionPipeline
from cliport_ros.perception.synthetic import Box, Scene, oblique_camera, render, top_down_camera

TABLE = Scene()
BOX = Box((0.5, 0.0, 0.03), (0.06, 0.06, 0.06))


def valid_fraction(view) -> float:
    return float(np.isfinite(view.depth).mean())


# -- the depth model -------------------------------------------------------------------------------------------
def test_depth_noise_grows_with_the_square_of_range():
    errors = []
    for height in (0.5, 1.0):
        clean = render(top_down_camera(height=height), TABLE)
        real = like_a_real_camera(clean, np.random.default_rng(0))
        ok = np.isfinite(real.depth)
        errors.append(float(np.std(real.depth[ok] - clean.depth[ok])))
    assert errors[1] / errors[0] == pytest.approx(4.0, rel=0.15)
    assert errors[1] == pytest.approx(RealSenseDepth().noise_at_1m, rel=0.15)


def test_fewer_pixels_are_valid_at_range_and_at_grazing_angles():
    near, far = (like_a_real_camera(render(top_down_camera(height=h), TABLE), np.random.default_rng(0))
                 for h in (0.5, 1.0))
    assert valid_fraction(near) > valid_fraction(far) + 0.02
    facing, grazing = (like_a_real_camera(render(oblique_camera(distance=0.6, tilt_deg=tilt), TABLE),
                                          np.random.default_rng(0)) for tilt in (20.0, 75.0))
    # Off the image centre the 75 degree view meets the table at 65-85 degrees: most of those matches fail.
    assert valid_fraction(grazing) < valid_fraction(facing) - 0.2


def test_mixed_pixels_appear_at_depth_edges_only():
    camera = oblique_camera(distance=0.7, tilt_deg=45.0)
    clean = render(camera, Scene(boxes=(BOX,)))
    real = like_a_real_camera(clean, np.random.default_rng(0), noise_at_1m=0.0)  # no noise: changes are mixing
    changed = np.isfinite(real.depth) & (np.abs(real.depth - clean.depth) > 1e-4)
    import cv2

    jump = cv2.dilate(clean.depth, np.ones((3, 3), np.uint8)) - cv2.erode(clean.depth, np.ones((3, 3), np.uint8))
    at_edge = jump > RealSenseDepth().edge_jump
    assert changed.sum() > 100  # the box's outline
    assert not (changed & ~at_edge).any()


def test_a_lower_resolution_depth_stream_leaves_regular_stripes():
    clean = render(top_down_camera(height=0.5), TABLE)
    real = like_a_real_camera(clean, np.random.default_rng(0), depth_resolution=0.5, dropout_at_1m=0.0)
    assert valid_fraction(real) == pytest.approx(0.25, abs=0.01)
    rows, cols = np.isfinite(real.depth).any(axis=1), np.isfinite(real.depth).any(axis=0)
    assert (rows[1:] != rows[:-1]).all() and (cols[1:] != cols[:-1]).all()  # every other row and column


def test_a_seed_gives_the_same_frames_and_colour_is_untouched():
    clean = render(oblique_camera(), Scene(boxes=(BOX,)))
    a, b = (like_a_real_camera(clean, np.random.default_rng(7)) for _ in range(2))
    c = like_a_real_camera(clean, np.random.default_rng(8))
    assert np.array_equal(a.depth, b.depth, equal_nan=True)
    assert not np.array_equal(a.depth, c.depth, equal_nan=True)
    assert a.rgb is clean.rgb


def test_a_bad_model_parameter_is_named():
    with pytest.raises(ValueError, match="depth_resolution"):
        RealSenseDepth(depth_resolution=0.0)
    with pytest.raises(ValueError, match="grazing_deg"):
        RealSenseDepth(grazing_deg=(80.0, 70.0))


# -- temporal fusion ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def one_camera(ravens):
    return replace(ravens, cameras=ravens.cameras[:1])


def fused_sets(config, scenes, seed: int = 0):
    """What the pipeline publishes for each scene in turn, each seen through fresh D435-like noise."""
    pipeline = PerceptionPipeline(config)
    rng = np.random.default_rng(seed)
    cameras = [c.to_camera() for c in config.cameras]
    return [pipeline.fuse([like_a_real_camera(render(cam, scene), rng) for cam in cameras]) for scene in scenes]


def test_the_median_of_five_sets_cuts_the_noise_of_a_static_scene(one_camera):
    # A table raised 5 cm: its noise is not clipped at the workspace floor.
    raised = Scene(table_z=0.05)
    single = fused_sets(one_camera, [raised] * 5)[-1]
    fused = fused_sets(replace(one_camera, temporal_sets=5), [raised] * 5)[-1]
    both = single.observed & fused.observed
    assert both.mean() > 0.3
    assert np.std(single.height[both]) / np.std(fused.height[both]) > 1.5
    assert np.abs(np.median(fused.height[both]) - 0.05) < 0.001


def test_a_moved_block_shows_once_most_of_the_last_sets_see_it(one_camera):
    n = 5
    before, after = Box((0.45, 0.0, 0.02), (0.04, 0.04, 0.04)), Box((0.6, 0.1, 0.02), (0.04, 0.04, 0.04))
    maps = fused_sets(replace(one_camera, temporal_sets=n), [Scene(boxes=(before,))] * n + [Scene(boxes=(after,))] * n)
    ws = one_camera.workspace
    old, new = (tuple(ws.xyz_to_pix(np.asarray(b.center))) for b in (before, after))
    shown = [(float(m.height[old]), float(m.height[new])) for m in maps[n:]]
    # Sets 1 and 2 after the move are outvoted by the older ones; from set 3 (a majority of 5) the map shows it.
    for k, (at_old, at_new) in enumerate(shown, start=1):
        moved = k >= n // 2 + 1
        assert (at_old < 0.01 and abs(at_new - 0.04) < 0.005) if moved else (abs(at_old - 0.04) < 0.005
                                                                             and at_new < 0.01), k


def test_median_of_sets_takes_a_measured_height_and_its_colour_and_keeps_what_any_set_saw():
    heights = np.array([[[0.04, 0.0]], [[0.0, 0.0]], [[0.04, 0.0]], [[0.0, 0.0]]], np.float32)  # (4 sets, 1, 2)
    colors = np.zeros((4, 1, 2, 3), np.uint8)
    colors[[0, 2], 0, 0] = (200, 0, 0)
    seens = np.array([[[True, False]], [[True, False]], [[True, False]], [[True, True]]])
    height, color, seen = median_of_sets(heights, colors, seens)
    assert height[0, 0] == 0.0 and tuple(color[0, 0]) == (0, 0, 0)  # 2 of 4 sets: the lower one, not 2 cm
    assert seen.all()  # the second cell: seen by one set only, still observed
    heights[3, 0, 0] = 0.04
    height, color, _ = median_of_sets(heights, colors, seens)
    assert height[0, 0] == pytest.approx(0.04)  # 3 of 4 now


def test_temporal_sets_is_checked(ravens):
    with pytest.raises(ValueError, match="temporal_sets"):
        replace(ravens, temporal_sets=0)


# -- the simulator's realistic-depth mode --------------------------------------------------------------------------
BLOCKS = (((0.40, -0.15), (1, 0, 0)), ((0.55, 0.10), (0, 0.7, 0)), ((0.65, -0.05), (0, 0, 1)),
          ((0.45, 0.30), (1, 1, 0)))


def block_scene(sim, seed: int = 0):
    sim.reset(noise_seed=seed)
    for xy, rgb in BLOCKS:
        sim.add_box((0.04, 0.04, 0.04), (*xy, 0.02), 0.0, rgb)
    sim.settle(0.2)


@pytest.fixture(scope="module")
def realistic_sim():
    from cliport_ros.sim.config import SimConfig
    from cliport_ros.sim.scene import TabletopSim

    sim = TabletopSim(SimConfig(depth_model="realsense"))
    yield sim
    sim.close()


def test_ideal_is_the_default_and_renders_exact_depth():
    from cliport_ros.sim.config import SimConfig
    from cliport_ros.sim.scene import TabletopSim

    assert SimConfig().depth_model == "ideal"
    sim = TabletopSim()
    try:
        block_scene(sim)
        camera = sim.perception.cameras[0]
        assert sim.depth_model is None
        assert np.array_equal(sim.render(camera).depth, sim.render_exact(camera).depth, equal_nan=True)
    finally:
        sim.close()


def test_realistic_mode_changes_depth_as_the_model_does_and_a_seed_repeats_it(realistic_sim):
    camera = realistic_sim.perception.cameras[0]
    block_scene(realistic_sim, seed=3)
    exact, first = realistic_sim.render_exact(camera), realistic_sim.render(camera)
    block_scene(realistic_sim, seed=3)
    again = realistic_sim.render(camera)
    block_scene(realistic_sim, seed=4)
    other = realistic_sim.render(camera)
    assert np.array_equal(first.rgb, exact.rgb)  # colour is the colour stream's: untouched
    assert valid_fraction(first) < valid_fraction(exact) - 0.01
    ok = np.isfinite(first.depth) & np.isfinite(exact.depth)
    error = np.abs(first.depth - exact.depth)[ok]
    assert 0.0005 < np.median(error) < 0.005  # D435-like noise at ~1 m, not exact and not wild
    assert np.array_equal(first.depth, again.depth, equal_nan=True)
    assert not np.array_equal(first.depth, other.depth, equal_nan=True)


def test_realistic_sim_maps_have_whole_block_tops_with_the_real_camera_filters(realistic_sim):
    from cliport_ros.perception.config import PerceptionConfig

    assert realistic_sim.perception.flying_pixel_threshold == PerceptionConfig.flying_pixel_threshold > 0
    block_scene(realistic_sim)
    heightmap = realistic_sim.heightmap()
    ws = heightmap.workspace
    cols, rows = np.meshgrid(ws.x_min + (np.arange(ws.shape[1]) + 0.5) * ws.pixel_size,
                             ws.y_min + (np.arange(ws.shape[0]) + 0.5) * ws.pixel_size)
    top = np.zeros(ws.shape, bool)  # a block's top, one cell in from its edge
    for (x, y), _ in BLOCKS:
        top |= (np.abs(cols - x) < 0.02 - ws.pixel_size) & (np.abs(rows - y) < 0.02 - ws.pixel_size)
    right = heightmap.observed & (np.abs(heightmap.height - 0.04) < 0.01)
    assert (top & ~right).sum() / top.sum() <= 0.02  # the acceptance: <= 2 % holes on object tops
    # The highest of a cell's noisy points wins, so tops read a few mm high at ~1 m, but not more.
    assert np.median(np.abs(heightmap.height[top] - 0.04)) < 0.004
    far = np.ones(ws.shape, bool)
    for (x, y), _ in BLOCKS:
        far &= (np.abs(cols - x) > 0.04) | (np.abs(rows - y) > 0.04)
    table = far & heightmap.observed
    assert table.mean() > 0.5 and np.percentile(heightmap.height[table], 99.9) < 0.01
    # What the filters removed: fused as the exact-depth layout fuses, the same frames streak the table.
    from cliport_ros.perception.config import fuse_views, load_perception_config

    unfiltered = fuse_views(realistic_sim.observe(), load_perception_config(realistic_sim.config.cameras))
    assert (unfiltered.height[far & unfiltered.observed] > 0.01).sum() > 50


def test_an_unknown_depth_model_is_refused_naming_the_known_ones():
    from cliport_ros.sim.config import SimConfig

    with pytest.raises(ValueError, match=r"depth_model='kinect'.*'ideal', 'realsense'"):
        SimConfig(depth_model="kinect")


def test_collect_takes_the_depth_model_flag():
    from cliport_ros.cli import build_parser
    from cliport_ros.options import from_options
    from cliport_ros.sim.config import CollectConfig

    args = build_parser().parse_args(["collect", "--task", "align-rope", "--n", "2", "--depth-model", "realsense"])
    assert from_options(CollectConfig, args).depth_model == "realsense"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["collect", "--task", "align-rope", "--n", "2", "--depth-model", "kinect"])


def test_the_bench_feeds_the_pipeline_messages_that_decode_to_its_frames(ravens):
    from cliport_ros.bench import perception as bench
    from cliport_ros.bench.config import PerceptionBenchConfig
    from cliport_ros.perception.camera import decode_depth
    from cliport_ros.perception.config import fuse_views
    from cliport_ros.perception.heightmap import RGBDView

    paths = bench.paths(PerceptionBenchConfig())
    assert [p.reuse_cameras for p in paths] == [False, True, True, True]
    assert paths[0].config == paths[2].config and paths[2].config.flying_pixel_threshold > 0
    config = paths[2].config
    frames = bench._frames(config, seed=0)
    pipeline = PerceptionPipeline(config)
    bench._one_set(pipeline, frames, bench._messages(frames, stamp_ns=10**8))
    matched = None
    for camera, kind, msg in bench._messages(frames, stamp_ns=2 * 10**8):
        matched = pipeline.add_image(camera, kind, msg)
    published = pipeline.fuse(pipeline.views(matched))
    direct = fuse_views([RGBDView(c.to_camera(), f["color"][0], decode_depth(f["depth"][0], "16UC1"))
                         for c, f in zip(config.cameras, frames, strict=True)], config)
    assert np.array_equal(published.height, direct.height) and np.array_equal(published.color, direct.color)
    assert pipeline._cameras[config.cameras[0].name] is pipeline.views(matched)[0].camera  # built once, reused
