"""The perception demo: synthetic RGB-D cameras -> perception_node -> Heightmap, over DDS.

Two nodes in one process talk only through DDS topics: a camera node
publishing the Ravens three-camera layout as a camera driver would, and
perception_node. The demo prints what the heightmap shows and saves a picture.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor

from cliport_ros import topics
from cliport_ros.app.config import PerceptionDemoConfig
from cliport_ros.msg import Heightmap as HeightmapMsg
from cliport_ros.nodes.perception_node import PerceptionNode, parameter_overrides
from cliport_ros.perception.config import load_perception_config
from cliport_ros.perception.synthetic import demo_scene, render
from cliport_ros.perception.visualize import heightmap_figure, save_rgb
from cliport_ros.ros.camera_publisher import CameraPublisher
from cliport_ros.ros.conversions import heightmap_from_msg
from cliport_ros.ros.qos import LATCHED
from cliport_ros.ros.ros_env import isolate_dds


def run(cfg: PerceptionDemoConfig) -> int:
    domain = isolate_dds()
    pconfig = load_perception_config(cfg.config)
    scene = demo_scene()
    views = [render(c.to_camera(), scene) for c in pconfig.cameras]
    received: list[HeightmapMsg] = []
    with rclpy.init(domain_id=domain):
        perception = PerceptionNode(parameter_overrides=parameter_overrides(pconfig))
        cameras_node = rclpy.create_node("demo_cameras")
        publisher = CameraPublisher(cameras_node, pconfig.cameras)
        cameras_node.create_subscription(HeightmapMsg, topics.HEIGHTMAP, received.append, LATCHED)
        executor = SingleThreadedExecutor()
        executor.add_node(perception)
        executor.add_node(cameras_node)
        deadline = time.monotonic() + cfg.timeout
        # Publish until the heightmap comes back: DDS discovery takes a moment.
        while not received and time.monotonic() < deadline:
            publisher.publish(views, cameras_node.get_clock().now().to_msg())
            end = time.monotonic() + 0.3
            while not received and time.monotonic() < end:
                executor.spin_once(timeout_sec=0.05)
        executor.shutdown()
    if not received:
        print(f"no heightmap within {cfg.timeout:.0f} s")
        return 1
    msg = received[0]
    heightmap = heightmap_from_msg(msg)
    ws = heightmap.workspace
    print(f"heightmap from {', '.join(msg.cameras)} over DDS (domain {domain}): "
          f"{ws.shape[0]}x{ws.shape[1]} cells of {ws.pixel_size * 1000:.3f} mm in '{msg.header.frame_id}', "
          f"{heightmap.observed.mean() * 100:.1f}% observed")
    print("| object | true top (m) | measured (m) | colour |")
    print("|---|---|---|---|")
    for box in scene.boxes:
        row, col = ws.xyz_to_pix(np.asarray(box.center))
        print(f"| box at ({box.center[0]:.2f}, {box.center[1]:.2f}) | {box.top:.3f} "
              f"| {heightmap.height[row, col]:.3f} | {tuple(int(v) for v in heightmap.color[row, col])} |")
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_rgb(str(out), heightmap_figure(heightmap, [v.rgb for v in views]))
    print(f"saved {out}")
    return 0
