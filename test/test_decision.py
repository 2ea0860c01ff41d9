"""Deciding without ROS: the heightmap gate, the checks a decision passes, the learned and oracle policies,
and that the shipped YAMLs state only deliberate overrides of the node configs."""

from __future__ import annotations

import dataclasses
import math
import threading
import time

import numpy as np
import pytest
import torch
import yaml

from cliport_ros.decision.config import PolicyNodeConfig
from cliport_ros.decision.gate import GateConfig, HeightmapGate
from cliport_ros.decision.policy import Decision, LearnedPolicy, OraclePolicy, Reason, RefusedError, accept
from cliport_ros.execution.actions import PickPlace
from cliport_ros.execution.collision import ClearanceConfig
from cliport_ros.execution.config import ExecutorNodeConfig
from cliport_ros.execution.planner import PlannerConfig
from cliport_ros.perception.config import CameraConfig, PerceptionConfig, config_dir
from cliport_ros.perception.workspace import Workspace
from cliport_ros.sim.config import SimNodeConfig

from conftest import random_heightmap, tiny_transporter


class Clock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def gate(clock: Clock, **cfg) -> HeightmapGate[str]:
    return HeightmapGate(GateConfig(**{"heightmap_wait": 0.05, **cfg}), clock)


def refusal(call) -> RefusedError:
    with pytest.raises(RefusedError) as info:
        call()
    return info.value


# -- the gate -------------------------------------------------------------------------------------------
def test_gate_without_a_heightmap_refuses_after_waiting():
    started = time.monotonic()
    err = refusal(gate(Clock()).fresh)
    assert err.reason is Reason.NO_HEIGHTMAP and "perception_node" in str(err)
    assert time.monotonic() - started >= 0.05


def test_gate_hands_out_a_young_heightmap():
    clock = Clock()
    g = gate(clock)
    g.offer(99.0, "map")
    assert g.fresh() == (99.0, "map")


def test_gate_refuses_a_heightmap_older_than_max_age():
    clock = Clock()
    g = gate(clock, max_heightmap_age=2.0)
    g.offer(97.0, "old map")
    err = refusal(g.fresh)
    assert err.reason is Reason.STALE_HEIGHTMAP and "3.0 s old" in str(err)


def test_gate_refuses_a_heightmap_stamped_in_the_future():
    g = gate(Clock(0.0))  # use_sim_time with no /clock: the node's clock reads 0
    g.offer(1_700_000_000.0, "map")
    err = refusal(g.fresh)
    assert err.reason is Reason.STALE_HEIGHTMAP and "future" in str(err)


def test_gate_refuses_the_heightmap_taken_before_the_last_motion_ended():
    clock = Clock()
    g = gate(clock)
    g.offer(99.5, "before")
    g.motion_ended(99.8)
    err = refusal(g.fresh)
    assert err.reason is Reason.STALE_HEIGHTMAP and "since the last motion" in str(err)


def test_gate_waits_for_the_first_heightmap_taken_after_the_motion():
    clock = Clock()
    g = gate(clock, heightmap_wait=10.0)
    g.offer(99.5, "before")
    g.motion_ended(99.8)
    threading.Timer(0.05, g.offer, (99.9, "after")).start()
    started = time.monotonic()
    assert g.fresh() == (99.9, "after")
    assert time.monotonic() - started < 5.0  # woken by the offer, not by the 10 s deadline


def test_a_heightmap_the_cameras_barely_saw_is_refused():
    from cliport_ros.decision.gate import check_observed
    from cliport_ros.perception.heightmap import Heightmap

    heightmap = random_heightmap()
    assert check_observed(heightmap, 0.05) is heightmap
    blank = Heightmap(np.zeros_like(heightmap.color), np.zeros_like(heightmap.height), heightmap.workspace)
    err = refusal(lambda: check_observed(blank, 0.05))
    assert err.reason is Reason.STALE_HEIGHTMAP and "saw 0.0 %" in str(err)


@pytest.mark.parametrize("field", ["max_heightmap_age", "heightmap_wait", "max_clock_skew"])
@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf])
def test_gate_config_names_a_bad_bound(field, value):
    with pytest.raises(ValueError, match=field):
        GateConfig(**{field: value})


# -- what a decision must pass --------------------------------------------------------------------------
def decision(pick_confidence: float = 0.9, place_confidence: float = 0.8) -> Decision:
    return Decision(PickPlace((0.5, 0.0, 0.02), (0.6, 0.1, 0.02)), (10, 5), (40, 20), pick_confidence,
                    place_confidence)


def test_accept_lets_a_confident_decision_through():
    d = decision()
    assert accept(d, 0.5) is d and d.confidence == 0.8


def test_accept_refuses_a_decision_below_min_confidence():
    err = refusal(lambda: accept(decision(place_confidence=0.004), 0.01))
    assert err.reason is Reason.LOW_CONFIDENCE and "0.004" in str(err)


def test_accept_refuses_a_pick_or_place_where_no_camera_saw():
    observed = np.ones((64, 32), bool)
    assert accept(decision(), 0.5, observed) == decision()
    observed[40, 20] = False  # the place cell
    err = refusal(lambda: accept(decision(), 0.5, observed))
    assert err.reason is Reason.UNOBSERVED and "place at pixel (40, 20)" in str(err)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_accept_refuses_a_non_finite_confidence(bad):
    err = refusal(lambda: accept(decision(pick_confidence=bad), 0.0))
    assert err.reason is Reason.INTERNAL_ERROR


# -- the policies ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny() -> LearnedPolicy:
    return LearnedPolicy(tiny_transporter(), "tiny")


def test_learned_policy_decides_in_its_workspace(tiny):
    heightmap = random_heightmap()
    d = tiny.decide(heightmap, "put the red block in the green bowl")
    rows, cols = heightmap.workspace.shape
    assert 0 <= d.pick_pixel[0] < rows and 0 <= d.pick_pixel[1] < cols
    assert heightmap.workspace.contains(np.array(d.action.pick_xyz)[None])[0]
    assert d.pick_map.shape == (rows, cols) and d.place_map.shape == (rows, cols)
    assert 0 < d.pick_confidence <= 1 and 0 < d.place_confidence <= 1


def test_learned_policy_refuses_a_heightmap_of_another_size(tiny):
    err = refusal(lambda: tiny.decide(random_heightmap(Workspace()), "put the red block in the green bowl"))
    assert err.reason is Reason.INTERNAL_ERROR and "64x32" in str(err)


def test_learned_policy_with_nan_weights_refuses_instead_of_choosing_pixel_zero():
    network = tiny_transporter()
    with torch.no_grad():
        next(p for p in network.pick.parameters() if p.requires_grad).fill_(math.nan)
    err = refusal(lambda: LearnedPolicy(network, "nan").decide(random_heightmap(), "put the red block in a bowl"))
    assert err.reason is Reason.INTERNAL_ERROR and "not finite" in str(err)


def test_oracle_policy_answers_what_it_is_asked_and_passes_refusals_on():
    asked = []

    def ask(instruction: str) -> Decision:
        asked.append(instruction)
        if "nothing" in instruction:
            raise RefusedError(Reason.INVALID_INSTRUCTION, "oracle: no such goal")
        return decision()

    oracle = OraclePolicy(ask)
    assert oracle.decide(random_heightmap(), "put the red block in the green bowl") == decision()
    assert refusal(lambda: oracle.decide(random_heightmap(), "move nothing")).reason is Reason.INVALID_INSTRUCTION
    assert asked == ["put the red block in the green bowl", "move nothing"]
    assert "not a learned policy" in oracle.label


def test_every_refusal_reason_is_an_instruct_outcome_code():
    from cliport_ros.srv import Instruct

    codes = {getattr(Instruct.Response, r.name) for r in Reason}
    assert len(codes) == len(Reason) and Instruct.Response.OK not in codes


def test_the_instruct_action_and_the_executor_speak_the_instruct_services_codes():
    from cliport_ros.action import Instruct as InstructAction
    from cliport_ros.srv import ExecutePickPlace, Instruct

    def codes(cls) -> dict[str, int]:
        return {n: getattr(cls, n) for n in dir(cls) if n.isupper() and isinstance(getattr(cls, n), int)}

    service = codes(Instruct.Response)
    assert codes(InstructAction.Result) == service and "CANCELLED" in service
    executor = codes(ExecutePickPlace.Response)
    assert executor.items() <= service.items()  # passed on unchanged


def test_policy_node_config_names_a_bad_value():
    with pytest.raises(ValueError, match="min_confidence"):
        PolicyNodeConfig(min_confidence=1.5)
    with pytest.raises(ValueError, match="execute_timeout"):
        PolicyNodeConfig(execute_timeout=0.0)
    with pytest.raises(ValueError, match="heightmap_wait"):
        PolicyNodeConfig(heightmap_wait=-1.0)


# -- the YAMLs state only what differs from a node's defaults -------------------------------------------
# Nodes whose parameters are dataclasses: parameter-name prefix -> the dataclass its fields belong to.
NODE_CONFIGS = {
    "sim_node": {"": SimNodeConfig},
    "policy_node": {"": PolicyNodeConfig},
    "executor_node": {"": ExecutorNodeConfig, "workspace.": Workspace, "planner.": PlannerConfig,
                      "clearance.": ClearanceConfig},
}
STACK_YAMLS = ("sim.yaml", "ur5.yaml", "franka.yaml")


def flatten(section: dict, prefix: str = "") -> dict[str, object]:
    """Nested YAML mappings -> ROS parameter names (``planner: {velocity_scale: ..}`` -> ``planner.velocity_scale``)."""
    flat: dict[str, object] = {}
    for key, value in section.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = tuple(value) if isinstance(value, list) else value
    return flat


CAMERA_YAMLS = tuple(sorted(p.name for p in config_dir().glob("cameras_*.yaml")))  # perception_node's, "/**"


def yaml_overrides() -> list[tuple[str, str, str, object]]:
    rows = []
    for file in STACK_YAMLS + CAMERA_YAMLS:
        for node, section in (yaml.safe_load((config_dir() / file).read_text()) or {}).items():
            node = "perception_node" if file in CAMERA_YAMLS else node
            if node in NODE_CONFIGS or node == "perception_node":
                rows += [(file, node, k, v) for k, v in flatten(section.get("ros__parameters") or {}).items()]
    return rows


def defaults_of(node: str, file: str) -> dict[str, object]:
    configs = NODE_CONFIGS.get(node, {})
    if node == "perception_node":  # its cameras are named in the file, each a CameraConfig
        cameras = yaml.safe_load((config_dir() / file).read_text())["/**"]["ros__parameters"]["cameras"]
        configs = {"": PerceptionConfig, "workspace.": Workspace, **{f"{c}.": CameraConfig for c in cameras}}
    return {prefix + f.name: f.default for prefix, cls in configs.items() for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING}


def test_yaml_sets_only_fields_of_the_node_config_and_only_to_other_values_than_the_default():
    problems = []
    for file, node, key, value in yaml_overrides():
        defaults = defaults_of(node, file)
        if key not in defaults:
            problems.append(f"{file}: {node}.{key} is no field of {node}'s configuration")
        elif value == defaults[key]:
            problems.append(f"{file}: {node}.{key}: {value!r} is the default; say it once, in the dataclass")
    assert not problems, "\n".join(problems)


def test_yaml_override_check_sees_the_real_arm_files():
    rows = yaml_overrides()
    assert ("ur5.yaml", "policy_node", "max_heightmap_age", 2.0) in rows
    assert ("franka.yaml", "executor_node", "planner.velocity_scale", 0.25) in rows
    assert ("cameras_realsense_d435.yaml", "perception_node", "d435.fx", 615.0) in rows
