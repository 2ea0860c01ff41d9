"""Launch files: `launch` is not installable here, so check what they name exists; build them where it is."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAUNCH_FILES = sorted((REPO / "launch").glob("*.launch.py"))
INSTALLED_PROGRAMS = set(re.findall(r"scripts/(\w+)", (REPO / "CMakeLists.txt").read_text()))


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
    for node in _calls(tree, "Node"):
        assert _keyword(node, "package") == "cliport_ros"
        executable = _keyword(node, "executable")
        assert executable in INSTALLED_PROGRAMS, f"{executable} is not installed by CMakeLists.txt"
        assert (REPO / "scripts" / executable).is_file()
    declared = set()
    for arg in _calls(tree, "DeclareLaunchArgument"):
        assert _keyword(arg, "description"), "every launch argument needs a description"
        declared.add(arg.args[0].value)
    for used in _calls(tree, "LaunchConfiguration"):
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
