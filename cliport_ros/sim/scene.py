"""The simulated tabletop: physics, objects, cameras and the arm's motion primitives."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pybullet
from pybullet_utils.bullet_client import BulletClient

from cliport_ros.execution.actions import PUSH_SPEED, PickPlace, push_stroke
from cliport_ros.execution.arms import arm_profile, tool_down_quaternion
from cliport_ros.perception.config import CameraConfig, PerceptionConfig, fuse_views, load_perception_config
from cliport_ros.perception.heightmap import Heightmap, RGBDView
from cliport_ros.sim.robots import Arm

log = logging.getLogger(__name__)

NEAR, FAR = 0.01, 10.0  # camera clipping planes, metres
APPROACH_HEIGHT = 0.15  # tool moves between objects this high above the pick/place point
DESCEND_STEP = 0.02  # metres per straight segment while feeling for contact
PUSH_STEP = 0.01  # metres per straight segment of a push


@dataclass(frozen=True)
class SimConfig:
    """Simulator settings."""

    arm: str = "ur5"
    cameras: str = "cameras_ravens.yaml"
    physics_hz: int = 480
    depth_noise: float = 0.0  # std of Gaussian depth noise, metres

    def __post_init__(self) -> None:
        arm_profile(self.arm)
        if self.physics_hz < 60:
            raise ValueError(f"SimConfig: physics_hz={self.physics_hz} must be >= 60")
        if self.depth_noise < 0:
            raise ValueError(f"SimConfig: depth_noise={self.depth_noise} must be >= 0")


class TabletopSim:
    """One PyBullet world: a table, one arm at the origin, objects, and the configured cameras."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.perception: PerceptionConfig = load_perception_config(self.config.cameras)
        self.bullet = BulletClient(connection_mode=pybullet.DIRECT)
        self.objects: list[int] = []
        self.graspable: set[int] = set()
        self.arm: Arm
        self._noise = np.random.default_rng(0)
        self.reset()

    @property
    def dt(self) -> float:
        return 1.0 / self.config.physics_hz

    def close(self) -> None:
        self.bullet.disconnect()

    def reset(self, noise_seed: int = 0, tool: str | None = None) -> None:
        """An empty table and the arm at home, with its own end effector or ``tool`` (``arm_profile``) mounted."""
        b = self.bullet
        b.resetSimulation()
        b.setGravity(0, 0, -9.81)
        b.setTimeStep(self.dt)
        b.setPhysicsEngineParameter(numSolverIterations=50)
        table = b.createCollisionShape(b.GEOM_BOX, halfExtents=[1.0, 1.0, 0.05])
        table_visual = b.createVisualShape(b.GEOM_BOX, halfExtents=[1.0, 1.0, 0.05], rgbaColor=[0.28, 0.28, 0.3, 1])
        self.table = b.createMultiBody(0, table, table_visual, basePosition=[0.5, 0, -0.05])
        b.changeDynamics(self.table, -1, lateralFriction=0.6)
        self.arm = Arm(b, arm_profile(self.config.arm, tool))
        self._couple_fingers()
        self.objects = []
        self.graspable = set()
        self._noise = np.random.default_rng(noise_seed)

    def _couple_fingers(self) -> None:
        """Make the two fingers move as one, mirrored, as the real Franka hand's single drive does.

        The URDF says so with a ``mimic`` tag, which PyBullet ignores: left to
        two independent motors, the finger that touches first shoves the object
        against the other, and it ends up held centimetres off the tool centre.
        """
        if len(self.arm.fingers) != 2:
            return
        b = self.bullet
        first, second = self.arm.fingers
        gear = b.createConstraint(self.arm.body, first, self.arm.body, second, b.JOINT_GEAR, [0, 1, 0], [0, 0, 0],
                                  [0, 0, 0])
        b.changeConstraint(gear, gearRatio=-1, erp=0.1, maxForce=50)

    # -- objects ----------------------------------------------------------------------------------
    def add_box(self, size: Sequence[float], xyz: Sequence[float], yaw: float, rgb: Sequence[float],
                mass: float = 0.05, graspable: bool = True) -> int:
        """A box of full ``size`` (m) centred at ``xyz``, turned ``yaw`` about z; mass 0 makes it fixed."""
        b = self.bullet
        half = [s / 2 for s in size]
        shape = b.createCollisionShape(b.GEOM_BOX, halfExtents=half)
        visual = b.createVisualShape(b.GEOM_BOX, halfExtents=half, rgbaColor=[*rgb, 1])
        body = b.createMultiBody(mass, shape, visual, basePosition=list(xyz),
                                 baseOrientation=b.getQuaternionFromEuler([0, 0, yaw]))
        b.changeDynamics(body, -1, lateralFriction=0.6, spinningFriction=0.001, rollingFriction=0.0001)
        return self._register(body, graspable)

    def add_bowl(self, xyz: Sequence[float], rgb: Sequence[float], diameter: float = 0.12,
                 height: float = 0.03, walls: int = 12) -> int:
        """A fixed round bowl: a thin floor and ``walls`` boxes around its rim."""
        if walls + 1 > 16:  # PyBullet's compound-shape limit; more crashes the process
            raise ValueError(f"a bowl can have at most 15 walls, got {walls}")
        b = self.bullet
        radius = diameter / 2
        thickness = 0.006
        wall_width = 2 * math.pi * radius / walls * 1.1
        # A round floor (cylinder) and box walls; every shape needs every argument in the array calls.
        types = [b.GEOM_CYLINDER]
        extents, radii, lengths = [[0, 0, 0]], [radius - thickness], [0.005]
        positions, orientations = [[0, 0, 0.0025]], [[0, 0, 0, 1]]
        for k in range(walls):
            angle = 2 * math.pi * k / walls
            types.append(b.GEOM_BOX)
            extents.append([thickness / 2, wall_width / 2, height / 2])
            radii.append(0.0)
            lengths.append(0.0)
            r = radius - thickness / 2
            positions.append([r * math.cos(angle), r * math.sin(angle), height / 2])
            orientations.append(b.getQuaternionFromEuler([0, 0, angle]))
        shape = b.createCollisionShapeArray(types, radii=radii, halfExtents=extents, lengths=lengths,
                                            collisionFramePositions=positions,
                                            collisionFrameOrientations=orientations)
        visual = b.createVisualShapeArray(types, radii=radii, halfExtents=extents, lengths=lengths,
                                          visualFramePositions=positions, visualFrameOrientations=orientations)
        body = b.createMultiBody(0, shape, visual, basePosition=list(xyz))
        b.changeVisualShape(body, -1, rgbaColor=[*rgb, 1])
        return self._register(body, graspable=False)

    def add_container(self, size: Sequence[float], xyz: Sequence[float], yaw: float, rgb: Sequence[float],
                      thickness: float = 0.004) -> int:
        """A fixed open box of outer ``size`` (m): a floor and four walls, each ``thickness`` thick.

        ``xyz`` is the centre of its underside (on the table at z = 0), as for
        ``add_bowl``; the floor's top is at ``xyz[2] + thickness``.
        """
        b = self.bullet
        sx, sy, sz = size
        if min(sx, sy) <= 2 * thickness or sz <= thickness:
            raise ValueError(f"a container of size {tuple(size)} has no room inside walls {thickness} m thick")
        extents = [[sx / 2, sy / 2, thickness / 2],
                   [sx / 2, thickness / 2, sz / 2], [sx / 2, thickness / 2, sz / 2],
                   [thickness / 2, sy / 2, sz / 2], [thickness / 2, sy / 2, sz / 2]]
        positions = [[0, 0, thickness / 2],
                     [0, -(sy - thickness) / 2, sz / 2], [0, (sy - thickness) / 2, sz / 2],
                     [-(sx - thickness) / 2, 0, sz / 2], [(sx - thickness) / 2, 0, sz / 2]]
        types = [b.GEOM_BOX] * len(extents)
        shape = b.createCollisionShapeArray(types, halfExtents=extents, collisionFramePositions=positions)
        visual = b.createVisualShapeArray(types, halfExtents=extents, visualFramePositions=positions)
        body = b.createMultiBody(0, shape, visual, basePosition=list(xyz),
                                 baseOrientation=b.getQuaternionFromEuler([0, 0, yaw]))
        b.changeVisualShape(body, -1, rgbaColor=[*rgb, 1])
        return self._register(body, graspable=False)

    def _register(self, body: int, graspable: bool) -> int:
        self.objects.append(body)
        if graspable:
            self.graspable.add(body)
        return body

    def pose(self, body: int) -> tuple[np.ndarray, float]:
        """Position (m) and yaw (rad) of a body."""
        pos, orn = self.bullet.getBasePositionAndOrientation(body)
        return np.array(pos), float(self.bullet.getEulerFromQuaternion(orn)[2])

    def settle(self, seconds: float = 0.5) -> None:
        for _ in range(int(seconds * self.config.physics_hz)):
            self.bullet.stepSimulation()

    # -- cameras ----------------------------------------------------------------------------------
    def render(self, camera: CameraConfig) -> RGBDView:
        """Render one camera: rgb uint8 and optical depth in metres (NaN beyond the far plane)."""
        if abs(camera.cx - camera.width / 2) > 0.5 or abs(camera.cy - camera.height / 2) > 0.5:
            raise ValueError(f"camera {camera.name!r}: the simulator renders only centred principal points")
        b = self.bullet
        rot = camera.pose.rotation
        eye = np.asarray(camera.position)
        view = b.computeViewMatrix(eye.tolist(), (eye + rot[:, 2]).tolist(), (-rot[:, 1]).tolist())
        fov_y = math.degrees(2 * math.atan(camera.height / 2 / camera.fy))
        proj = b.computeProjectionMatrixFOV(fov_y, camera.width / camera.height, NEAR, FAR)
        _, _, rgba, zbuffer, _ = b.getCameraImage(
            camera.width, camera.height, view, proj, shadow=1,
            flags=b.ER_NO_SEGMENTATION_MASK, renderer=b.ER_TINY_RENDERER,
        )
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(camera.height, camera.width, 4)[..., :3].copy()
        zbuffer = np.asarray(zbuffer, dtype=np.float32).reshape(camera.height, camera.width)
        depth = (FAR * NEAR / (FAR - (FAR - NEAR) * zbuffer)).astype(np.float32)
        if self.config.depth_noise > 0:
            depth += self._noise.normal(0, self.config.depth_noise, depth.shape).astype(np.float32)
        depth[depth >= FAR * 0.999] = np.nan
        return RGBDView(camera.to_camera(), rgb, depth)

    def observe(self) -> list[RGBDView]:
        return [self.render(c) for c in self.perception.cameras]

    def heightmap(self, views: Sequence[RGBDView] | None = None) -> Heightmap:
        views = self.observe() if views is None else views
        return fuse_views(views, self.perception)

    # -- motion -----------------------------------------------------------------------------------
    def move_joints(self, target: Sequence[float], timeout: float = 5.0, stop_on_contact: bool = False,
                    speed: float = 1.0) -> bool:
        """Drive the joints to ``target`` at ``speed`` x the arm's speed limit; False on timeout.

        ``timeout`` (s) is for full speed; a slower motion gets proportionally
        longer. With ``stop_on_contact`` the motion ends early (True) as soon
        as the tool or what it holds touches something.
        """
        target = np.asarray(target, dtype=float)
        step = self.arm.profile.max_joint_speed * speed * self.dt
        for _ in range(int(timeout / speed * self.config.physics_hz)):
            current = self.arm.joint_positions()
            error = target - current
            if np.abs(error).max() < 1e-2:
                return True
            if stop_on_contact and self.arm.contacts():
                self.arm.command(current)
                return True
            norm = np.linalg.norm(error)
            self.arm.command(current + error * min(1.0, step / norm))
            self.bullet.stepSimulation()
        log.debug("move_joints timed out, error %s", target - self.arm.joint_positions())
        return False

    def move_tool(self, xyz: Sequence[float], yaw: float, timeout: float = 5.0, stop_on_contact: bool = False,
                  speed: float = 1.0) -> bool:
        return self.move_joints(self.arm.ik(xyz, tool_down_quaternion(yaw)), timeout, stop_on_contact, speed)

    def _descend_until_contact(self, xyz: np.ndarray, yaw: float, floor: float) -> bool:
        """Lower the tool from ``xyz`` until it (or what it holds) touches something, or reaches ``floor``.

        Short straight segments (each solved by IK) keep the path vertical;
        each stops the moment contact is made.
        """
        target = xyz.copy()
        while not self.arm.contacts():
            if target[2] <= floor:
                return False
            target[2] = max(target[2] - DESCEND_STEP, floor)
            if not self.move_tool(target, yaw, timeout=2.0, stop_on_contact=True):
                return False
        return True

    def go_home(self) -> bool:
        return self.move_joints(self.arm.profile.home)

    def grip(self) -> bool:
        """Switch suction on, or close the fingers; True when an object is held."""
        if self.arm.fingers:
            self.arm.close_fingers()
            self.settle(0.3)
        return self.arm.attach(self.graspable)

    def release(self) -> None:
        self.arm.detach()
        if self.arm.fingers:
            self.settle(0.2)

    def execute(self, action: PickPlace, carry_height: float = APPROACH_HEIGHT, carry_speed: float = 1.0) -> bool:
        """Pick-and-place as the Ravens primitive does it; True when an object was carried and set down.

        Suction feels down for the object's top; fingers go ``grasp_depth``
        below it (stopping early if they land on something) and close. The
        held object is lifted ``carry_height`` above the pick point and carried
        at ``carry_speed`` x the joint speed limit to as high above the place
        point: a rope is dragged low and slowly, as the reference's align-rope does.
        """
        pick = np.asarray(action.pick_xyz, dtype=float)
        place = np.asarray(action.place_xyz, dtype=float)
        up = np.array([0.0, 0.0, APPROACH_HEIGHT])
        carry = np.array([0.0, 0.0, carry_height])
        ok = self.move_tool(pick + up, action.pick_yaw)
        if self.arm.fingers:
            grasp = pick - np.array([0.0, 0.0, self.arm.profile.grasp_depth])
            ok = ok and self.move_tool(grasp, action.pick_yaw, stop_on_contact=True)
        else:
            ok = ok and self._descend_until_contact(pick + up, action.pick_yaw, floor=pick[2] - 0.03)
        if not ok or not self.grip():
            self.release()
            self.move_tool(pick + up, action.pick_yaw)
            self.go_home()
            return False
        held = self.arm.held
        moved = (self.move_tool(pick + carry, action.pick_yaw, speed=carry_speed)
                 and self.move_tool(place + carry, action.place_yaw, speed=carry_speed))
        touched = moved and self._descend_until_contact(place + carry, action.place_yaw, floor=place[2] - 0.03)
        self.release()
        self.move_tool(place + up, action.place_yaw)
        self.go_home()
        self.settle(0.2)
        return bool(held is not None and touched)

    def push(self, action: PickPlace) -> bool:
        """Push with the spatula in a straight line from ``pick_xyz`` towards ``place_xyz`` (the Ravens push,
        ``push_stroke``): down behind the start, along the table in ``PUSH_STEP`` segments at
        ``PUSH_SPEED``, then up and home. True when the whole stroke was carried out."""
        try:
            stroke = push_stroke(action, self.arm.tool_yaw())
        except ValueError:
            return False
        up = np.array([0.0, 0.0, APPROACH_HEIGHT])
        ok = self.move_tool(stroke.first + up, stroke.yaw) and self.move_tool(stroke.first, stroke.yaw)
        for k in range(1, math.ceil(stroke.length / PUSH_STEP) + 1):
            if not ok:
                break
            ok = self.move_tool(stroke.first + min(k * PUSH_STEP, stroke.length) * stroke.direction, stroke.yaw,
                                speed=PUSH_SPEED)
        self.move_tool(self.arm.tool_position() + up, stroke.yaw)
        self.go_home()
        self.settle(0.2)
        return ok
