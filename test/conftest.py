"""Shared builders for the test suite: scenes, configs and an rclpy harness."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cliport_ros.perception.config import PerceptionConfig, load_perception_config
from cliport_ros.perception.synthetic import Box, Scene
from cliport_ros.perception.workspace import Workspace
from cliport_ros.ros.ros_env import clean_dead_shared_memory, isolate_dds

# Before any rclpy.init: DDS stays on loopback, on a domain of this run's own.
DOMAIN_ID = isolate_dds()

# control_msgs' FollowJointTrajectory, built by tools/setup.sh for tests only (control_msgs is not on PyPI).
CONTROL_MSGS_PREFIX = Path(__file__).resolve().parent.parent / "build" / "test_interfaces" / "install"


def with_control_msgs(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) for a subprocess that can import control_msgs, as on a ROS install."""
    import os
    import sys

    env = dict(os.environ if env is None else env)
    site = CONTROL_MSGS_PREFIX / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert site.is_dir(), f"{site} is missing: run tools/setup.sh"
    for name, path in (("PYTHONPATH", site), ("LD_LIBRARY_PATH", CONTROL_MSGS_PREFIX / "lib"),
                       ("AMENT_PREFIX_PATH", CONTROL_MSGS_PREFIX)):
        env[name] = f"{path}{os.pathsep}{env[name]}" if env.get(name) else str(path)
    return env

BLOCK = Box(center=(0.45, 0.10, 0.02), size=(0.04, 0.04, 0.04), color=(220, 40, 40))
TALL_BOX = Box(center=(0.60, -0.20, 0.05), size=(0.10, 0.06, 0.10), color=(40, 160, 60))

# The tiny model tests train and run: a 64 x 32 cell workspace, and networks a few thousand weights wide.
SMALL_WS = Workspace(0.25, 0.35, -0.1, 0.1, 0.0, 0.28, 0.003125)
TINY_WIDTHS = dict(spatial_widths=(8, 8, 8, 16, 16, 16), decoder_widths=(16, 16, 8, 8, 8, 8), semantic_bottleneck=16)
# Transporter streams only: no CLIP pass, so it is quick enough to train in a test.
TINY_TRANSPORTER = dict(in_shape=SMALL_WS.shape, crop_size=32, n_rotations=8, streams="transporter_only",
                        clip_weights="random:0", **TINY_WIDTHS)


def random_heightmap(workspace: Workspace = SMALL_WS, seed: int = 0):
    """Random colours and heights up to 5 cm: an input no policy has seen."""
    import numpy as np

    from cliport_ros.perception.heightmap import Heightmap

    rng = np.random.default_rng(seed)
    return Heightmap(rng.integers(0, 255, (*workspace.shape, 3), dtype=np.uint8),
                     (rng.random(workspace.shape) * 0.05).astype(np.float32), workspace)


def tiny_transporter(seed: int = 0):
    """An untrained transporter-only CLIPortPolicy on SMALL_WS."""
    import torch

    from cliport_ros.model.config import preset
    from cliport_ros.model.policy import CLIPortPolicy

    torch.manual_seed(seed)
    return CLIPortPolicy(preset("small", **TINY_TRANSPORTER))


def write_camera_bag(path, cameras, frame_sets, storage: str = "sqlite3", depth_encoding: str = "16UC1",
                     info_from: tuple[str, ...] | None = None, start_sec: int = 100):
    """A ROS 2 bag at ``path`` (a directory, as ``ros2 bag record`` makes) of ``frame_sets`` (lists of
    RGBDViews, one per camera of ``cameras``, the sets 0.1 s apart): per camera camera_info, colour and depth,
    the CDR bytes rclpy would send. Only the cameras named in ``info_from`` (default all) send camera_info.
    ``storage``: "sqlite3" or "mcap". Returns the bag's one storage file (.db3 or .mcap)."""
    from builtin_interfaces.msg import Time
    from rclpy.serialization import serialize_message
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore
    from std_msgs.msg import Header

    from cliport_ros.ros.camera_publisher import encode_depth
    from cliport_ros.ros.conversions import array_to_image, camera_info_from_intrinsics

    typestore = get_typestore(Stores.ROS2_HUMBLE)
    plugin = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}[storage]
    by_name = {c.name: c for c in cameras}
    with Writer(path, version=9, storage_plugin=plugin) as writer:
        connections = {}
        for cam in cameras:
            for topic, msgtype in ((cam.info_topic, "sensor_msgs/msg/CameraInfo"), (cam.color_topic,
                                   "sensor_msgs/msg/Image"), (cam.depth_topic, "sensor_msgs/msg/Image")):
                connections[topic] = writer.add_connection(topic, msgtype, typestore=typestore)
        for k, views in enumerate(frame_sets):
            stamp_ns = start_sec * 10**9 + k * 10**8
            for view in views:
                cam = by_name[view.camera.name]
                header = Header(stamp=Time(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9), frame_id=cam.frame_id)
                messages = [(cam.color_topic, array_to_image(view.rgb, "rgb8", header)),
                            (cam.depth_topic, array_to_image(encode_depth(view.depth, depth_encoding),
                                                             depth_encoding, header))]
                if info_from is None or cam.name in info_from:
                    messages.insert(0, (cam.info_topic, camera_info_from_intrinsics(view.camera.intrinsics, header)))
                for i, (topic, msg) in enumerate(messages):  # received a little after the stamp, in this order
                    writer.write(connections[topic], stamp_ns + 10**6 * (i + 1), serialize_message(msg))
    suffix = {"sqlite3": ".db3", "mcap": ".mcap"}[storage]
    (storage_file,) = path.glob(f"*{suffix}")
    return storage_file


@pytest.fixture(scope="session")
def ravens() -> PerceptionConfig:
    return load_perception_config("cameras_ravens.yaml")


@pytest.fixture
def two_box_scene() -> Scene:
    return Scene(boxes=(BLOCK, TALL_BOX))


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


def serve_gripper(node, holds: bool = True):
    """A gripper on ``node``'s ``gripper/set`` (std_srvs/SetBool) that answers at once: gripping holds something
    (``holds``), releasing succeeds; the executor checks that one is there before it moves."""
    from std_srvs.srv import SetBool

    def answer(request, response):
        response.success = holds if request.data else True
        return response

    return node.create_service(SetBool, "gripper/set", answer)


class Spinning:
    """Nodes spun on a MultiThreadedExecutor thread of their own, as their main() spins them; ``close`` stops
    the executor and destroys the nodes."""

    def __init__(self, context, *nodes, threads: int = 3) -> None:
        import threading

        from rclpy.executors import MultiThreadedExecutor

        self.nodes = list(nodes)
        self.executor = MultiThreadedExecutor(num_threads=threads, context=context)
        for node in self.nodes:
            self.executor.add_node(node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.executor.shutdown()
        for node in self.nodes:
            node.destroy_node()


@pytest.fixture
def closing() -> Iterator[Callable]:
    """``closing(thing)`` returns ``thing`` and closes it (``thing.close()``) when the test ends, last first."""
    things: list = []

    def register(thing):
        things.append(thing)
        return thing

    yield register
    for thing in reversed(things):
        thing.close()


# -- Fast DDS shared memory: the tests SIGKILL nodes, whose segments would otherwise stay in RAM ------------------
SHM_CLEAN: dict[str, str] = {}


def pytest_sessionstart(session):
    SHM_CLEAN["before the tests"] = clean_dead_shared_memory()


def pytest_sessionfinish(session):
    SHM_CLEAN["after them"] = clean_dead_shared_memory()


# -- the fault-injection summary: every test marked @pytest.mark.fault(kind, expect) is one row -----------------
FAULTS: dict[str, tuple[str, str, str]] = {}  # nodeid -> (fault, what must happen, outcome)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    marker = item.get_closest_marker("fault")
    if marker is not None and (report.when == "call" or report.failed or report.skipped):
        FAULTS[item.nodeid] = (marker.args[0], marker.kwargs.get("expect", ""), report.outcome)


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line("Fast DDS shared memory of dead processes: " +
                                "; ".join(f"{when}: {what}" for when, what in SHM_CLEAN.items()))
    if not FAULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("faults injected")
    write("| fault | what must happen | test | outcome |")
    write("|---|---|---|---|")
    for nodeid, (fault, expect, outcome) in sorted(FAULTS.items(), key=lambda kv: kv[1][0]):
        write(f"| {fault} | {expect} | {nodeid.split('::')[-1]} | {outcome} |")
