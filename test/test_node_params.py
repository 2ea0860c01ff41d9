"""Every parameter the shipped YAMLs set is one its node declares, and reaches the configuration the node
runs with (no silent typos, no value read and dropped)."""

from __future__ import annotations

import pytest
import yaml
from rclpy.parameter import Parameter, parameter_dict_from_yaml_file

from cliport_ros.nodes.executor_node import ExecutorNode
from cliport_ros.nodes.policy_node import PolicyNode
from cliport_ros.nodes.sim_node import SimNode
from cliport_ros.perception.config import config_dir

NODES = {"sim_node": SimNode, "policy_node": PolicyNode, "executor_node": ExecutorNode}
# Where a node keeps the configuration a parameter prefix fills: "" -> node.cfg, "planner." -> node.planner, ...
CONFIG_ATTRIBUTES = {"": "cfg", "workspace": "workspace", "planner": "planner", "clearance": "clearance"}
CASES = [(f, n) for f in ("sim.yaml", "ur5.yaml", "franka.yaml")
         for n in (yaml.safe_load((config_dir() / f).read_text()) or {}) if n in NODES]


def test_the_real_arm_yamls_configure_the_policy_and_executor():
    assert {("ur5.yaml", "policy_node"), ("ur5.yaml", "executor_node"), ("franka.yaml", "executor_node")} <= set(CASES)


@pytest.mark.parametrize("file, node_name", CASES, ids=[f"{f}:{n}" for f, n in CASES])
def test_yaml_parameters_are_declared_and_applied(ros_context, file, node_name):
    values = parameter_dict_from_yaml_file(str(config_dir() / file), target_nodes=[node_name])
    overrides = [Parameter.from_parameter_msg(msg) for msg in values.values()]
    node = NODES[node_name](context=ros_context, parameter_overrides=overrides)
    try:
        undeclared = [name for name in values if not node.has_parameter(name)]
        assert not undeclared, f"{file} sets parameters {node_name} does not declare: {undeclared}"
        for p in overrides:
            prefix, _, field = p.name.rpartition(".")
            config = getattr(node, CONFIG_ATTRIBUTES.get(prefix, ""), None)
            if config is None:
                continue  # sim_node reads plain parameters: declared (checked above) is all there is to see
            value = getattr(config, field)
            assert (list(value) if isinstance(value, tuple) else value) == p.value, f"{node_name}.{p.name}"
    finally:
        node.destroy_node()
