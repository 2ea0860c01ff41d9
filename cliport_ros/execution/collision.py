"""Checking a plan before it moves: the arm's collision geometry against the table and the heightmap.

The arm's links are the collision shapes of its URDF (Pinocchio's geometry
model; meshes as their convex hulls), the scene is the table (a half-space
below ``z_min``) and what the heightmap shows (a ``coal`` height field over
the workspace), and the held object is a cylinder hanging below the tool as
tall as the pick point is above the table. Every segment is sampled in joint
space at most ``joint_step`` apart and each sample is checked with coal at
``margin`` (its security margin):

- on the way to and from the scene (approach, carry, home), every moving link
  and the held object must clear the table and the heightmap;
- on segments marked ``touches`` — the descents and lifts, where the tool is
  meant to touch what it picks, pushes or sets down (the planner's floors keep
  it off the table), and a carry kept low on purpose (a rope dragged 2 cm
  up) — the tool's contact links and the held object are exempt, but not the
  rest of the arm (a wrist that would hit a tall neighbour).

Cells no camera saw are unknown, not empty: each takes the tallest observed
height within ``unseen_reach`` of it, so an occlusion shadow behind an object
counts as more of that object.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import coal
import cv2
import numpy as np
import pinocchio as pin

from cliport_ros.execution.arms import ArmProfile
from cliport_ros.execution.planner import PlanError, Segment
from cliport_ros.perception.heightmap import Heightmap


@dataclass(frozen=True)
class ClearanceConfig:
    """How far the arm keeps from the scene, and how finely a plan is checked. Metres and radians."""

    margin: float = 0.01  # between any checked shape and the table or the heightmap
    joint_step: float = 0.02  # largest joint change between two checked configurations
    held_radius: float = 0.025  # the held object, modelled as a cylinder below the tool
    unseen_reach: float = 0.03  # an unseen cell is as tall as the tallest seen one this close

    def __post_init__(self) -> None:
        for name in ("margin", "unseen_reach"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"ClearanceConfig: {name}={getattr(self, name)} must lie in [0, 1) m")
        for name in ("joint_step", "held_radius"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"ClearanceConfig: {name}={getattr(self, name)} must lie in (0, 1)")


class SceneChecker:
    """One arm's collision model, checked against the table and one heightmap at a time."""

    def __init__(self, profile: ArmProfile, joint_names: tuple[str, ...], config: ClearanceConfig,
                 urdf: str | None = None) -> None:
        """``joint_names``: the arm joints the plan's trajectories name (``ArmKinematics.joint_names``);
        every other joint (fingers) is locked at zero."""
        urdf = urdf or profile.urdf
        full = pin.buildModelFromUrdf(urdf)
        geometry = pin.buildGeomFromUrdf(full, urdf, pin.COLLISION, package_dirs=[str(Path(urdf).parent)])
        locked = [full.getJointId(n) for n in list(full.names)[1:] if n not in joint_names]
        if locked:
            self.model, geometry = pin.buildReducedModel(full, geometry, locked, pin.neutral(full))
        else:
            self.model = full
        if tuple(self.model.names)[1:] != tuple(joint_names):
            raise ValueError(f"{urdf}: joints {list(self.model.names)[1:]} are not the plan's {list(joint_names)}")
        for obj in geometry.geometryObjects:
            if isinstance(obj.geometry, coal.BVHModelBase):  # coal collides height fields with convex shapes
                obj.geometry.buildConvexRepresentation(False)
                obj.geometry = obj.geometry.convex
        self.geometry = geometry
        self.data = self.model.createData()
        self.geometry_data = pin.GeometryData(geometry)
        self.config = config
        self.profile = profile
        frame = [self.model.frames[obj.parentFrame].name for obj in geometry.geometryObjects]
        self._names = [f.removesuffix("_0") for f in frame]
        moving = [obj.parentJoint != 0 for obj in geometry.geometryObjects]  # the base stands on the table
        tool = [name in profile.contact_links for name in frame]
        self._checked = [i for i, m in enumerate(moving) if m]
        self._tool = {i for i, t in enumerate(tool) if t}
        self._tool_frame = self.model.getFrameId(profile.tool_link)
        self._table = coal.Halfspace(np.array([0.0, 0.0, 1.0]), 0.0)
        self._table_pose = coal.Transform3s()
        self._field: coal.HeightFieldOBBRSS | None = None
        self._field_pose = coal.Transform3s()

    def set_table(self, z_min: float) -> None:
        """The table alone at ``z_min``, for a plan with no heightmap to check it against (the oracle)."""
        self._field = None
        self._table_pose = coal.Transform3s(np.eye(3), np.array([0.0, 0.0, z_min]))

    def set_scene(self, heightmap: Heightmap) -> None:
        """The table at the heightmap's ``z_min`` and the surface it shows (unseen cells as unknown)."""
        ws = heightmap.workspace
        # Heights at grid points with the surface between them: take each point as the tallest of its
        # neighbours, so no edge is cut down to a slope.
        height = cv2.dilate(known_heights(heightmap, self.config.unseen_reach), np.ones((3, 3), np.uint8))
        height = height.astype(np.float64)
        rows, cols = height.shape
        # coal's row 0 is at +y, its columns run along +x; the heightmap's rows run along +y.
        self._field = coal.HeightFieldOBBRSS((cols - 1) * ws.pixel_size, (rows - 1) * ws.pixel_size,
                                             np.ascontiguousarray(height[::-1]), 0.0)
        centre = np.array([(ws.x_min + ws.x_max) / 2, (ws.y_min + ws.y_max) / 2, ws.z_min])
        self._field_pose = coal.Transform3s(np.eye(3), centre)
        self._table_pose = coal.Transform3s(np.eye(3), np.array([0.0, 0.0, ws.z_min]))

    def check(self, segments: list[Segment], start: np.ndarray, held_height: float) -> None:
        """Raise PlanError("collision") naming the first segment, shape and place that comes within ``margin``
        of the table or the heightmap; ``held_height``: how far the held object hangs below the tool."""
        held = coal.Cylinder(self.config.held_radius, max(held_height, 1e-3))
        previous = np.asarray(start, dtype=float)
        for segment in segments:
            points = np.vstack([previous[None], np.asarray(segment.trajectory.positions)])
            holding, transit = segment.holding, not segment.touches
            for q in _densified(points, self.config.joint_step):
                hit = self._collides(q, held if holding else None, held_height, exempt_tool=not transit)
                if hit is not None:
                    shape, what, where = hit
                    raise PlanError("collision", f"{segment.name} would bring the {shape} within "
                                    f"{self.config.margin * 100:.0f} cm of {what} at "
                                    f"({where[0]:.3f}, {where[1]:.3f}, {where[2]:.3f})")
            previous = points[-1]

    def _collides(self, q: np.ndarray, held: coal.Cylinder | None, held_height: float,
                  exempt_tool: bool) -> tuple[str, str, np.ndarray] | None:
        """The first (shape, what it hits, where) at joints ``q``; the tool and the held object are left out
        when ``exempt_tool`` (a descent or lift, where they are meant to touch)."""
        pin.updateGeometryPlacements(self.model, self.data, self.geometry, self.geometry_data, q)
        shapes = [(self._names[i], self.geometry.geometryObjects[i].geometry, self.geometry_data.oMg[i])
                  for i in self._checked if not (exempt_tool and i in self._tool)]
        if held is not None and not exempt_tool:
            tool = pin.updateFramePlacement(self.model, self.data, self._tool_frame)
            # The tool's z points down: the object's axis runs from the tip to held_height below it.
            shapes.append(("held object", held, tool * pin.SE3(np.eye(3), np.array([0.0, 0.0, held_height / 2]))))
        request = coal.CollisionRequest()
        request.security_margin = self.config.margin
        scene = [("the table", self._table, self._table_pose)]
        if self._field is not None:
            scene.append(("what the heightmap shows", self._field, self._field_pose))
        for name, shape, placement in shapes:
            pose = coal.Transform3s(placement.rotation, placement.translation)
            for what, obstacle, obstacle_pose in scene:
                result = coal.CollisionResult()
                if coal.collide(shape, pose, obstacle, obstacle_pose, request, result):
                    return name, what, obstacle_pose.transform(result.getContact(0).pos)  # reported in its frame
        return None


def known_heights(heightmap: Heightmap, unseen_reach: float) -> np.ndarray:
    """Heights (rows, cols) float32 with every cell no camera saw as tall as the tallest seen cell within
    ``unseen_reach`` metres (table height where none is): what the check assumes may stand there."""
    height = np.nan_to_num(np.asarray(heightmap.height, dtype=np.float32), nan=0.0)
    seen = heightmap.observed
    if seen.all():
        return height
    reach = max(1, round(unseen_reach / heightmap.workspace.pixel_size))
    nearby = cv2.dilate(np.where(seen, height, 0.0).astype(np.float32), np.ones((2 * reach + 1,) * 2, np.uint8))
    return np.where(seen, height, nearby)


def held_height(pick_z: float, profile: ArmProfile, z_min: float) -> float:
    """How far a picked object hangs below the tool: from the grip point (fingers grip ``grasp_depth`` below
    the top, a suction cup at the top) down to the table."""
    depth = profile.grasp_depth if profile.gripper == "fingers" else 0.0
    return max(pick_z - depth - z_min, 0.0)


def _densified(points: np.ndarray, step: float) -> np.ndarray:
    """The joint polyline ``points`` (K, J) resampled so that no joint moves more than ``step`` between rows."""
    out = [points[:1]]
    for a, b in itertools.pairwise(points):
        n = max(1, math.ceil(float(np.abs(b - a).max()) / step))
        out.append(a + (b - a) * (np.arange(1, n + 1) / n)[:, None])
    return np.vstack(out)
