"""perception_node: synchronised RGB-D from N cameras -> fused ``cliport_ros/Heightmap``.

Subscribes per camera to colour, depth and camera_info (sensor-data QoS),
matches colour and depth of all cameras in time, fuses them and publishes
``heightmap`` (transient-local, depth 1, so a late policy still gets the
latest) and a colour preview ``heightmap/color``. A set with any bad frame is
dropped whole, with a throttled warning saying why: the map never mixes good
and bad views. Matching, checks and fusion are the ROS-free
PerceptionPipeline's (cliport_ros/perception/pipeline.py), which
``cliport replay`` runs on recorded bags.
"""

from __future__ import annotations

from functools import partial

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from cliport_ros import topics
from cliport_ros.msg import Heightmap as HeightmapMsg
from cliport_ros.perception.camera import Extrinsics, PerceptionError
from cliport_ros.perception.config import CameraConfig, PerceptionConfig
from cliport_ros.perception.pipeline import PerceptionPipeline
from cliport_ros.perception.workspace import Workspace
from cliport_ros.ros.conversions import heightmap_to_msg
from cliport_ros.ros.params import declare_dataclass
from cliport_ros.ros.qos import LATCHED


class PerceptionNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("perception_node", **kwargs)
        names = self.declare_parameter("cameras", ["front", "left", "right"]).value
        cameras = tuple(
            CameraConfig(name=n, **declare_dataclass(self, CameraConfig, f"{n}.", skip=("name",))) for n in names
        )
        workspace = Workspace(**declare_dataclass(self, Workspace, "workspace."))
        self.config = PerceptionConfig(
            cameras=cameras, workspace=workspace,
            **declare_dataclass(self, PerceptionConfig, skip=("cameras", "workspace")),
        )
        self._tf_buffer = self._make_tf_buffer() if self.config.pose_source == "tf" else None
        self.pipeline = PerceptionPipeline(self.config)  # the sync, checks and fusion `cliport replay` runs too
        self.dropped_sets = 0
        self.last_drop_reason = ""
        self.published_sets = 0

        for cam in cameras:
            self.create_subscription(Image, cam.color_topic, partial(self._on_image, cam.name, "color"),
                                     qos_profile_sensor_data)
            self.create_subscription(Image, cam.depth_topic, partial(self._on_image, cam.name, "depth"),
                                     qos_profile_sensor_data)
            self.create_subscription(CameraInfo, cam.info_topic, partial(self._on_info, cam.name),
                                     qos_profile_sensor_data)
        self._heightmap_pub = self.create_publisher(HeightmapMsg, topics.HEIGHTMAP, LATCHED)
        self._preview_pub = self.create_publisher(Image, topics.HEIGHTMAP_PREVIEW, LATCHED)
        self.get_logger().info(
            f"fusing {', '.join(names)} into a {workspace.shape[0]}x{workspace.shape[1]} heightmap "
            f"in '{self.config.base_frame}' (poses from {self.config.pose_source})"
        )

    def _make_tf_buffer(self):
        try:
            import tf2_ros
        except ImportError as err:
            raise RuntimeError("pose_source is 'tf' but tf2_ros is not installed; use pose_source: config") from err
        buffer = tf2_ros.Buffer()
        self._tf_listener = tf2_ros.TransformListener(buffer, self)
        return buffer

    @property
    def camera_infos(self) -> dict[str, CameraInfo]:
        return self.pipeline.camera_infos

    def _on_info(self, camera: str, msg: CameraInfo) -> None:
        self.pipeline.add_info(camera, msg)

    def _on_image(self, camera: str, kind: str, msg: Image) -> None:
        matched = self.pipeline.add_image(camera, kind, msg)
        if matched is not None:
            self._fuse_and_publish(matched)

    def _fuse_and_publish(self, matched: dict) -> None:
        try:
            views = self.pipeline.views(matched, self._lookup_pose if self._tf_buffer is not None else None)
            heightmap = self.pipeline.fuse(views)
        except PerceptionError as err:
            self.dropped_sets += 1
            self.last_drop_reason = str(err)
            self.get_logger().warning(f"dropped a frame set: {err}", throttle_duration_sec=2.0)
            return
        header = Header(stamp=self.pipeline.oldest_stamp(matched), frame_id=self.config.base_frame)
        msg = heightmap_to_msg(heightmap, header, [c.name for c in self.config.cameras])
        self._heightmap_pub.publish(msg)
        self._preview_pub.publish(msg.color)
        self.published_sets += 1

    def _lookup_pose(self, cam: CameraConfig, color: Image) -> Extrinsics:
        frame = color.header.frame_id or cam.frame_id
        try:
            tf = self._tf_buffer.lookup_transform(self.config.base_frame, frame, color.header.stamp)
        except Exception as err:  # tf2 raises several unrelated exception types
            raise PerceptionError(
                f"camera {cam.name!r}: no transform {self.config.base_frame} <- {frame}: {err}"
            ) from err
        t, q = tf.transform.translation, tf.transform.rotation
        return Extrinsics((t.x, t.y, t.z), (q.x, q.y, q.z, q.w))


def parameter_overrides(config: PerceptionConfig) -> list[Parameter]:
    """``config`` as parameter overrides: what ``--params-file`` gives the node, for in-process use."""
    params = [
        Parameter("base_frame", value=config.base_frame),
        Parameter("cameras", value=[c.name for c in config.cameras]),
        Parameter("sync_slop", value=float(config.sync_slop)),
        Parameter("pose_source", value=config.pose_source),
        Parameter("floor_tolerance", value=float(config.floor_tolerance)),
        Parameter("flying_pixel_threshold", value=float(config.flying_pixel_threshold)),
        Parameter("fill_holes", value=int(config.fill_holes)),
        Parameter("temporal_sets", value=int(config.temporal_sets)),
    ]
    for name in ("x_min", "x_max", "y_min", "y_max", "z_min", "z_max", "pixel_size"):
        params.append(Parameter(f"workspace.{name}", value=float(getattr(config.workspace, name))))
    for cam in config.cameras:
        for key in ("color_topic", "depth_topic", "info_topic", "frame_id"):
            params.append(Parameter(f"{cam.name}.{key}", value=getattr(cam, key)))
        params.append(Parameter(f"{cam.name}.position", value=[float(v) for v in cam.position]))
        params.append(Parameter(f"{cam.name}.orientation", value=[float(v) for v in cam.orientation]))
    return params


def main(args: list[str] | None = None) -> None:
    try:
        with rclpy.init(args=args):
            rclpy.spin(PerceptionNode())
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == "__main__":
    main()
