from pathlib import Path

import pytest

from cliport_ros.perception.config import config_dir, load_perception_config, perception_config_from_params

SHIPPED = sorted(p.name for p in config_dir().glob("cameras_*.yaml"))


def test_shipped_camera_layouts_exist():
    assert {"cameras_ravens.yaml", "cameras_realsense_d435.yaml"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_layout_loads_and_looks_at_the_workspace(name):
    config = load_perception_config(name)
    for cam in config.cameras:
        assert cam.color_topic and cam.depth_topic and cam.info_topic
        forward = cam.pose.rotation[:, 2]
        assert forward[2] < -0.5, f"{cam.name} does not look down at the table"


def test_ravens_layout_matches_the_reference():
    config = load_perception_config("cameras_ravens.yaml")
    assert [c.name for c in config.cameras] == ["front", "left", "right"]
    assert [c.position for c in config.cameras] == [(1.0, 0.0, 0.75), (0.0, 0.5, 0.75), (0.0, -0.5, 0.75)]
    assert all((c.width, c.height, c.fx, c.fy, c.cx, c.cy) == (640, 480, 450, 450, 320, 240) for c in config.cameras)
    assert config.workspace.shape == (320, 160)


def test_unknown_field_is_named():
    with pytest.raises(ValueError, match="colour_topic"):
        perception_config_from_params({"cameras": ["a"], "a": {"colour_topic": "/x"}})


def test_no_cameras_is_refused():
    with pytest.raises(ValueError, match="cameras"):
        perception_config_from_params({"cameras": []})


def test_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no config file"):
        load_perception_config(tmp_path / "nope.yaml")
