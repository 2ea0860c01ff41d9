"""Shared builders for the test suite: scenes, configs and an rclpy harness."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from cliport_ros.nodes.ros_env import isolate_dds
from cliport_ros.perception.config import PerceptionConfig, load_perception_config
from cliport_ros.perception.synthetic import Box, Scene

# Before any rclpy.init: DDS stays on loopback, on a domain of this run's own.
DOMAIN_ID = isolate_dds()

BLOCK = Box(center=(0.45, 0.10, 0.02), size=(0.04, 0.04, 0.04), color=(220, 40, 40))
TALL_BOX = Box(center=(0.60, -0.20, 0.05), size=(0.10, 0.06, 0.10), color=(40, 160, 60))


@pytest.fixture(scope="session")
def ravens() -> PerceptionConfig:
    return load_perception_config("cameras_ravens.yaml")


@pytest.fixture
def two_box_scene() -> Scene:
    return Scene(boxes=(BLOCK, TALL_BOX))


def spin_until(executor, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Spin ``executor`` until ``predicate()`` holds or ``timeout`` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        executor.spin_once(timeout_sec=0.05)
    return True


@pytest.fixture
def ros_context() -> Iterator[object]:
    """A private rclpy context on this run's domain, shut down afterwards."""
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context, domain_id=DOMAIN_ID)
    try:
        yield context
    finally:
        context.try_shutdown()
