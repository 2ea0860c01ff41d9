"""The simulated tabletop: physics, objects, cameras, and the arm with its end effector."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import pybullet
from pybullet_utils.bullet_client import BulletClient

from cliport_ros.execution.arms import arm_profile
from cliport_ros.perception.config import (
    CameraConfig,
    PerceptionConfig,
    fuse_views,
    load_perception_config,
    with_real_camera_filters,
)
from cliport_ros.perception.depth_model import RealSenseDepth
from cliport_ros.perception.heightmap import Heightmap, RGBDView
from cliport_ros.sim.config import SimConfig
from cliport_ros.sim.robots import Arm

log = logging.getLogger(__name__)

NEAR, FAR = 0.01, 10.0  # camera clipping planes, metres


class TabletopSim:
    """One PyBullet world: a table, one arm at the origin, objects, and the configured cameras."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.perception: PerceptionConfig = load_perception_config(self.config.cameras)
        # A realistic camera's maps are made as perception_node makes a real camera's: with its filters on.
        self.depth_model = RealSenseDepth() if self.config.depth_model == "realsense" else None
        if self.depth_model is not None:
            self.perception = with_real_camera_filters(self.perception)
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
        """Render one camera as the configured depth model has it (drawing its artefacts from the generator
        the task's seed set in :meth:`reset`, so a seed gives the same frames)."""
        view = self.render_exact(camera)
        return view if self.depth_model is None else self.depth_model.apply(view, self._noise)

    def render_exact(self, camera: CameraConfig) -> RGBDView:
        """Render one camera: rgb uint8 and exact optical depth in metres (NaN beyond the far plane)."""
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
        depth[depth >= FAR * 0.999] = np.nan
        return RGBDView(camera.to_camera(), rgb, depth)

    def observe(self) -> list[RGBDView]:
        return [self.render(c) for c in self.perception.cameras]

    def heightmap(self, views: Sequence[RGBDView] | None = None) -> Heightmap:
        views = self.observe() if views is None else views
        return fuse_views(views, self.perception)

    # -- the end effector (the arm moves by plans: sim/motion.py) ---------------------------------------
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
