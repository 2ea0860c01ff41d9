"""A decision is executed only in the executor's terms: its frame, and the workspace the heightmap covered."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cliport_ros.execution.frames import check_decision_frame
from cliport_ros.execution.planner import PlanError
from cliport_ros.perception.workspace import Workspace

WS = Workspace()


def test_a_decision_from_a_heightmap_of_the_same_frame_and_bounds_passes():
    check_decision_frame("base_link", "base_link", WS, "base_link", Workspace())
    check_decision_frame("base_link", "base_link", WS)  # no heightmap seen yet: the frame alone is checked


@pytest.mark.parametrize("decision, heightmap, match", [("world", "base_link", "decision is in frame 'world'"),
                                                         ("base_link", "camera_link", "heightmap is in frame")])
def test_another_frame_is_refused(decision, heightmap, match):
    with pytest.raises(PlanError, match=match) as info:
        check_decision_frame(decision, "base_link", WS, heightmap, WS)
    assert info.value.reason == "outside_workspace"


def test_a_heightmap_over_other_bounds_is_refused_naming_both():
    other = replace(WS, x_min=0.3)
    with pytest.raises(PlanError, match=r"x \[0.3, 0.75\].*x \[0.25, 0.75\]"):
        check_decision_frame("base_link", "base_link", WS, "base_link", other)
