"""Launch files: `launch` is not installable here, so check what they name exists; build them where it is."""

from __future__ import annotations

import ast
import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAUNCH_FILES = sorted((REPO / "launch").glob("*.launch.py"))
INSTALLED_PROGRAMS = set(re.findall(r"scripts/(\w+)", (REPO / "CMakeLists.txt").read_text()))
DEPENDENCIES = {e.text for e in ET.parse(REPO / "package.xml").getroot() if e.tag in ("depend", "exec_depend")}


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        n for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == name
    ]


def _keyword(call: ast.Call, key: str):
    for kw in call.keywords:
        if kw.arg == key and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return None


def test_there_are_launch_files():
    assert LAUNCH_FILES


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_names_real_executables_and_configs(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    assert any(isinstance(n, ast.FunctionDef) and n.name == "generate_launch_description" for n in tree.body)
    # Values computed from the stack description (sim.launch.py) are checked on the description itself.
    for node in _calls(tree, "Node"):
        package = _keyword(node, "package")
        assert package == "cliport_ros" or package in DEPENDENCIES, f"{package} is not a dependency in package.xml"
        executable = _keyword(node, "executable")
        if package == "cliport_ros" and executable is not None:
            assert executable in INSTALLED_PROGRAMS, f"{executable} is not installed by CMakeLists.txt"
            assert (REPO / "scripts" / executable).is_file()
    declared = set()
    for arg in _calls(tree, "DeclareLaunchArgument"):
        if isinstance(arg.args[0], ast.Constant):
            assert _keyword(arg, "description"), "every launch argument needs a description"
            declared.add(arg.args[0].value)
    for used in _calls(tree, "LaunchConfiguration"):
        if isinstance(used.args[0], ast.Constant):
            assert used.args[0].value in declared, f"LaunchConfiguration({used.args[0].value!r}) is never declared"
    yaml_names = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and str(n.value).endswith(".yaml")}
    for name in yaml_names:
        assert (REPO / "config" / name).is_file(), f"{name} is not in config/"


@pytest.mark.skipif(importlib.util.find_spec("launch_ros") is None, reason="launch_ros needs a ROS install")
@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_description_builds(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem.replace(".", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.generate_launch_description().entities


def test_the_stack_description_names_installed_nodes_existing_configs_and_real_parameters():
    from cliport_ros.app.stack import SIM_ARGUMENTS, SIM_NODES

    for node, params_file in SIM_NODES.items():
        assert node in INSTALLED_PROGRAMS and (REPO / "config" / params_file).is_file()
    for name, argument in SIM_ARGUMENTS.items():
        assert argument.description, f"stack argument {name} needs a description"
        for node, _ in argument.sets:
            assert node in SIM_NODES


def test_a_stack_argument_sets_every_parameter_it_names_and_an_unknown_one_is_refused():
    from cliport_ros.app.stack import argument_overrides

    assert argument_overrides({"arm": "franka", "policy": "shipped"}) == {
        "sim_node": {"arm": "franka"}, "executor_node": {"arm": "franka"}, "policy_node": {"policy": "shipped"}}
    with pytest.raises(ValueError, match="unknown stack arguments"):
        argument_overrides({"camera": "d435"})


def test_cliport_up_offers_the_launch_files_arguments():
    from cliport_ros.app.stack import SIM_ARGUMENTS
    from cliport_ros.cli import build_parser

    args = build_parser().parse_args(["up", "--arm", "franka", "--real-time-factor", "2"])
    assert args.arm == "franka" and args.real_time_factor == 2.0
    assert {name: getattr(build_parser().parse_args(["up"]), name) for name in SIM_ARGUMENTS} == {
        name: argument.default for name, argument in SIM_ARGUMENTS.items()}
