"""ROS message <-> numpy conversions, in one place and tested without spinning.

Imports message types but never rclpy: building and reading messages needs
no running ROS graph. Reading an image's or camera_info's fields needs not
even the types, so that half lives in cliport_ros/perception/images.py, which
bag replay shares.
"""

from __future__ import annotations

import math

import numpy as np
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point, Pose, Quaternion
from scipy.spatial.transform import Rotation
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from cliport_ros.decision.policy import Decision
from cliport_ros.execution.actions import PickPlace
from cliport_ros.execution.trajectory import Trajectory
from cliport_ros.msg import Heightmap as HeightmapMsg
from cliport_ros.msg import PickPlace as PickPlaceMsg
from cliport_ros.perception.camera import Intrinsics, PerceptionError
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.images import ENCODINGS, image_to_array, rgb_from_image, stamp_to_seconds
from cliport_ros.perception.workspace import Workspace


def camera_info_from_intrinsics(intr: Intrinsics, header: Header) -> CameraInfo:
    msg = CameraInfo(header=header, width=intr.width, height=intr.height, distortion_model="plumb_bob")
    msg.k = intr.k.reshape(-1).tolist()
    msg.d = [0.0] * 5
    msg.r = np.eye(3).reshape(-1).tolist()
    msg.p = np.hstack([intr.k, np.zeros((3, 1))]).reshape(-1).tolist()
    return msg


def array_to_image(array: np.ndarray, encoding: str, header: Header | None = None) -> Image:
    """(H, W[, C]) array -> Image with a tight ``step`` and little-endian data."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unsupported image encoding {encoding!r}; expected one of {sorted(ENCODINGS)}")
    dtype, channels = ENCODINGS[encoding]
    array = np.ascontiguousarray(array, dtype=dtype.newbyteorder("<"))
    if array.shape[2:] != ((channels,) if channels > 1 else ()):
        raise ValueError(f"array of shape {array.shape} does not fit encoding {encoding!r}")
    msg = Image(header=header or Header(), height=array.shape[0], width=array.shape[1], encoding=encoding)
    msg.is_bigendian = 0
    msg.step = array.shape[1] * channels * dtype.itemsize
    msg.data = array.tobytes()
    return msg


def heightmap_to_msg(heightmap: Heightmap, header: Header, cameras: list[str]) -> HeightmapMsg:
    ws = heightmap.workspace
    return HeightmapMsg(
        header=header,
        color=array_to_image(heightmap.color, "rgb8", header),
        height=array_to_image(heightmap.height, "32FC1", header),
        observed=array_to_image(heightmap.observed.astype(np.uint8) * 255, "mono8", header),
        x_min=ws.x_min,
        x_max=ws.x_max,
        y_min=ws.y_min,
        y_max=ws.y_max,
        z_min=ws.z_min,
        z_max=ws.z_max,
        pixel_size=ws.pixel_size,
        cameras=list(cameras),
    )


def heightmap_from_msg(msg: HeightmapMsg) -> Heightmap:
    """Heightmap message -> core Heightmap; refuses images that disagree with the bounds."""
    ws = Workspace(msg.x_min, msg.x_max, msg.y_min, msg.y_max, msg.z_min, msg.z_max, msg.pixel_size)
    color = rgb_from_image(msg.color)
    if msg.height.encoding != "32FC1":
        raise PerceptionError(f"heightmap height has encoding {msg.height.encoding!r}; expected '32FC1'")
    height = image_to_array(msg.height)
    if color.shape[:2] != ws.shape or height.shape != ws.shape:
        raise PerceptionError(
            f"heightmap images {color.shape[:2]} / {height.shape} do not match the bounds' grid {ws.shape}"
        )
    seen = None
    if msg.observed.data:
        if msg.observed.encoding != "mono8":
            raise PerceptionError(f"heightmap observed mask has encoding {msg.observed.encoding!r}; expected 'mono8'")
        seen = image_to_array(msg.observed) > 0
        if seen.shape != ws.shape:
            raise PerceptionError(f"heightmap observed mask {seen.shape} does not match the bounds' grid {ws.shape}")
    return Heightmap(color, height, ws, seen)


def yaw_quaternion(yaw: float) -> Quaternion:
    """Rotation by ``yaw`` radians about +z."""
    return Quaternion(z=math.sin(yaw / 2), w=math.cos(yaw / 2))


def quaternion_yaw(q: Quaternion) -> float:
    """Yaw (rad) of a quaternion; refuses one that is not a rotation about z alone."""
    rot = Rotation.from_quat([q.x, q.y, q.z, q.w])
    tilt = np.degrees(np.arccos(np.clip(rot.apply([0.0, 0.0, 1.0])[2], -1.0, 1.0)))
    if tilt > 1.0:
        raise ValueError(f"orientation tilts the tool {tilt:.1f} degrees; only rotations about +z are supported")
    return float(rot.as_euler("zyx")[0])


def pick_place_to_msg(action: PickPlace, header: Header, pick_pixel: tuple[int, int], place_pixel: tuple[int, int],
                      pick_confidence: float, place_confidence: float, instruction: str) -> PickPlaceMsg:
    def pose(xyz: tuple[float, float, float], yaw: float) -> Pose:
        return Pose(position=Point(x=xyz[0], y=xyz[1], z=xyz[2]), orientation=yaw_quaternion(yaw))

    return PickPlaceMsg(
        header=header, pick=pose(action.pick_xyz, action.pick_yaw), place=pose(action.place_xyz, action.place_yaw),
        pick_row=int(pick_pixel[0]), pick_col=int(pick_pixel[1]),
        place_row=int(place_pixel[0]), place_col=int(place_pixel[1]),
        place_rotation=action.rotation, pick_confidence=float(pick_confidence),
        place_confidence=float(place_confidence), instruction=instruction,
    )


def pick_place_from_msg(msg: PickPlaceMsg) -> PickPlace:
    """PickPlace message -> core PickPlace (ValueError for non-finite values or tilted orientations)."""
    def xyz(pose: Pose) -> tuple[float, float, float]:
        return (pose.position.x, pose.position.y, pose.position.z)

    return PickPlace(xyz(msg.pick), xyz(msg.place), quaternion_yaw(msg.pick.orientation),
                     quaternion_yaw(msg.place.orientation))


def decision_to_msg(decision: Decision, header: Header, instruction: str) -> PickPlaceMsg:
    """A policy's decision as the message the executor and RViz read (header: the heightmap's)."""
    return pick_place_to_msg(decision.action, header, decision.pick_pixel, decision.place_pixel,
                             decision.pick_confidence, decision.place_confidence, instruction)


def decision_from_msg(msg: PickPlaceMsg) -> Decision:
    """PickPlace message -> Decision (no maps: a message carries none); ValueError as pick_place_from_msg."""
    return Decision(pick_place_from_msg(msg), (msg.pick_row, msg.pick_col), (msg.place_row, msg.place_col),
                    float(msg.pick_confidence), float(msg.place_confidence))


def trajectory_from_msg(msg: JointTrajectory) -> Trajectory:
    times = [stamp_to_seconds(p.time_from_start) for p in msg.points]
    return Trajectory(tuple(msg.joint_names), np.array(times), np.array([list(p.positions) for p in msg.points]))


def trajectory_to_msg(trajectory: Trajectory, header: Header) -> JointTrajectory:
    msg = JointTrajectory(header=header, joint_names=list(trajectory.joint_names))
    velocities = trajectory.velocities
    for k, (t, q) in enumerate(zip(trajectory.times, trajectory.positions, strict=True)):
        point = JointTrajectoryPoint(positions=[float(v) for v in q])
        if velocities is not None:
            point.velocities = [float(v) for v in velocities[k]]
        sec, nanosec = divmod(round(float(t) * 1e9), 1_000_000_000)
        point.time_from_start = Duration(sec=sec, nanosec=nanosec)
        msg.points.append(point)
    return msg
