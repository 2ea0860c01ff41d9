"""Flat kit shapes (the reference's 20 kitting shapes: letters, polygons, a ring, ...) as PyBullet bodies.

The reference loads these from meshes (ravens ``kitting/*.obj``) that this
package does not ship; here each outline is the union of a few convex
polygons, extruded to ``HEIGHT``. A single polygon becomes one convex mesh;
a concave outline becomes a compound of one convex hull per polygon, which
PyBullet builds from a multi-object OBJ file (its compound-array call takes
no vertex lists), written once to a cache folder.

Frames: a shape's polygons are in its body frame (metres, x/y in the table
plane), with the origin at the outline's area centroid and z = 0 at
mid-height. A body's pose is that frame's pose.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from cliport_ros.execution.actions import PickPlace, wrap_angle
from cliport_ros.execution.arms import TOOL_DOWN
from cliport_ros.sim.colors import SPLITS
from cliport_ros.sim.scene import TabletopSim

HEIGHT = 0.02  # thickness of every shape, metres
MARKER_HEIGHT = 0.001  # thickness of a kit's slot marker, metres
PICK_MARGIN = 0.005  # the pick point is at least this far inside the outline, metres
MAX_PIECES = 15  # PyBullet allows 16 shapes per compound; more crashes the process
CM = 0.01
CACHE = Path(tempfile.gettempdir()) / "cliport_ros_shapes"

Polygon = np.ndarray  # k x 2, counter-clockwise, metres


@dataclass(frozen=True, eq=False)
class Shape:
    """One flat shape: its name in instructions, its outline and its rotational symmetry.

    ``symmetry`` is the smallest rotation (rad) that maps the outline onto
    itself, as the reference lists it; 0 means every rotation does (circle,
    ring), so its yaw never matters.
    """

    name: str  # as instructions say it: "letter T shape", "star"
    pieces: tuple[Polygon, ...]  # convex polygons whose union is the outline, body frame
    symmetry: float
    pick_point: np.ndarray  # xy on the top face, body frame: the centroid if the outline covers it with margin
    radius: float  # largest distance of the outline from the origin, metres

    def contains(self, xy: np.ndarray) -> np.ndarray:
        """Whether each of the n x 2 points (body frame) lies in the outline."""
        return np.any([_inside(piece, xy) for piece in self.pieces], axis=0)


def _inside(polygon: Polygon, xy: np.ndarray) -> np.ndarray:
    edges = np.roll(polygon, -1, axis=0) - polygon
    rel = xy[:, None, :] - polygon[None, :, :]
    cross = edges[None, :, 0] * rel[..., 1] - edges[None, :, 1] * rel[..., 0]
    return np.all(cross >= 0, axis=1)


# Outline builders: they take centimetres (the scale the outlines are drawn at) and return metres.
def _polygon(points) -> Polygon:
    """A counter-clockwise polygon in metres from points in centimetres."""
    polygon = np.asarray(points, dtype=float) * CM
    x, y = polygon[:, 0], polygon[:, 1]
    area = np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)
    return polygon if area > 0 else polygon[::-1].copy()


def rect(u0: float, u1: float, v0: float, v1: float) -> Polygon:
    """An axis-aligned rectangle."""
    return _polygon([(u0, v0), (u1, v0), (u1, v1), (u0, v1)])


def bar(start: Sequence[float], end: Sequence[float], width: float) -> Polygon:
    """A rectangle of ``width`` from ``start`` to ``end`` (the ends cut square)."""
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    along = (end - start) / np.linalg.norm(end - start)
    side = np.array([-along[1], along[0]]) * width / 2
    return _polygon([start - side, end - side, end + side, start + side])


def regular(n: int, radius: float, centre: Sequence[float] = (0.0, 0.0), phase: float = math.pi / 2) -> Polygon:
    """A regular ``n``-gon of circumradius ``radius`` with a vertex at angle ``phase`` (rad)."""
    angles = phase + 2 * math.pi * np.arange(n) / n
    return _polygon(np.stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)], axis=1))


def sector(inner: float, outer: float, start: float, end: float, centre: Sequence[float] = (0.0, 0.0),
           arc_points: int = 3) -> Polygon:
    """A piece of a ring between angles ``start`` and ``end`` (degrees, under 180 apart): convex, with a
    straight inner edge."""
    angles = np.radians(np.linspace(start, end, arc_points))
    outer_arc = [(centre[0] + outer * math.cos(a), centre[1] + outer * math.sin(a)) for a in angles]
    inner_ends = [(centre[0] + inner * math.cos(a), centre[1] + inner * math.sin(a)) for a in angles[[-1, 0]]]
    return _polygon(outer_arc + inner_ends)


def ring(inner: float, outer: float, start: float, end: float, pieces: int) -> list[Polygon]:
    """``pieces`` sectors covering the ring from ``start`` to ``end`` degrees."""
    edges = np.linspace(start, end, pieces + 1)
    return [sector(inner, outer, a, b) for a, b in itertools.pairwise(edges)]


def make_shape(name: str, pieces: Sequence[Polygon], symmetry: float) -> Shape:
    """A Shape from its polygons in any frame: moved so the area centroid is the origin; pick point found."""
    if not 1 <= len(pieces) <= MAX_PIECES:
        raise ValueError(f"shape {name!r} has {len(pieces)} pieces; 1 to {MAX_PIECES} allowed")
    pieces = [np.asarray(p, dtype=float) for p in pieces]
    grid = _grid(np.concatenate(pieces))
    inside = np.any([_inside(p, grid) for p in pieces], axis=0)
    centroid = grid[inside].mean(axis=0)
    pieces = tuple(p - centroid for p in pieces)
    grid = grid - centroid
    # A point qualifies when a circle of PICK_MARGIN around it is inside the outline too.
    ring_angles = np.linspace(0, 2 * math.pi, 16, endpoint=False)
    offsets = PICK_MARGIN * np.stack([np.cos(ring_angles), np.sin(ring_angles)], axis=1)
    candidates = np.vstack([[0.0, 0.0], grid[inside]])
    ok = np.ones(len(candidates), dtype=bool)
    for offset in np.vstack([[0.0, 0.0], offsets]):
        ok &= np.any([_inside(p, candidates + offset) for p in pieces], axis=0)
    if not ok.any():
        raise ValueError(f"shape {name!r} has no point {PICK_MARGIN} m inside its outline")
    good = candidates[ok]
    pick = good[np.argmin(np.linalg.norm(good, axis=1))]
    radius = float(max(np.linalg.norm(p, axis=1).max() for p in pieces))
    return Shape(name, pieces, symmetry, pick, radius)


def _grid(points: np.ndarray, step: float = 0.0005) -> np.ndarray:
    lo, hi = points.min(axis=0), points.max(axis=0)
    xs, ys = np.arange(lo[0], hi[0] + step, step), np.arange(lo[1], hi[1] + step, step)
    return np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)


def _heart() -> list[Polygon]:
    half = 3.0 / math.sqrt(2)  # a 3 cm square turned 45 degrees, and two discs on its upper sides
    return [regular(4, half, phase=-math.pi / 2), regular(20, 1.5, (half / 2, half / 2)),
            regular(20, 1.5, (-half / 2, half / 2))]


def _star(outer: float = 2.8, inner: float = 1.3) -> list[Polygon]:
    """A pentagon between the notches and one triangle per point."""
    tips = [(outer * math.cos(a), outer * math.sin(a)) for a in math.pi / 2 + 2 * math.pi * np.arange(5) / 5]
    notch_angles = math.pi / 2 + math.pi / 5 + 2 * math.pi * np.arange(5) / 5
    notches = [(inner * math.cos(a), inner * math.sin(a)) for a in notch_angles]
    return [_polygon(notches), *(_polygon([tips[k], notches[k - 1], notches[k]]) for k in range(5))]


# The reference's 20 shapes, in its order (index = its mesh number); sizes in centimetres, about 5 cm across.
SHAPES: tuple[Shape, ...] = (
    make_shape("letter R shape", [rect(-2.0, -1.0, -2.5, 2.5), rect(-1.0, 0.4, 1.6, 2.5), rect(-1.0, 0.4, -0.2, 0.7),
                                  *ring(0.45, 1.35, -90, 90, 2), bar((-0.2, 0.0), (1.6, -2.5), 1.0)], 2 * math.pi),
    make_shape("letter A shape", [bar((-2.1, -2.5), (-0.3, 2.4), 1.1), bar((2.1, -2.5), (0.3, 2.4), 1.1),
                                  rect(-1.3, 1.3, -1.0, -0.1)], 2 * math.pi),
    make_shape("triangle", [regular(3, 2.9)], 2 * math.pi / 3),
    make_shape("square", [rect(-2.1, 2.1, -2.1, 2.1)], math.pi / 2),
    make_shape("plus", [rect(-2.4, 2.4, -0.8, 0.8), rect(-0.8, 0.8, -2.4, 2.4)], math.pi / 2),
    make_shape("letter T shape", [rect(-2.2, 2.2, 1.4, 2.5), rect(-0.55, 0.55, -2.5, 1.4)], 2 * math.pi),
    make_shape("diamond", [_polygon([(2.8, 0), (0, 1.8), (-2.8, 0), (0, -1.8)])], math.pi),
    make_shape("pentagon", [regular(5, 2.6)], 2 * math.pi / 5),
    make_shape("rectangle", [rect(-2.7, 2.7, -1.4, 1.4)], math.pi),
    make_shape("flower", [regular(16, 1.1), *(regular(16, 1.1, (1.5 * math.cos(a), 1.5 * math.sin(a)))
                                             for a in (0, math.pi / 2, math.pi, 3 * math.pi / 2))], math.pi / 2),
    make_shape("star", _star(), 2 * math.pi / 5),
    make_shape("circle", [regular(24, 2.3)], 0.0),
    make_shape("letter G shape", [*ring(1.4, 2.5, 40, 360, 8), rect(0.3, 2.45, -0.55, 0.45)], 2 * math.pi),
    make_shape("letter V shape", [bar((-2.1, 2.5), (-0.25, -2.5), 1.1), bar((2.1, 2.5), (0.25, -2.5), 1.1)],
               2 * math.pi),
    make_shape("letter E shape", [rect(-1.9, -0.9, -2.5, 2.5), rect(-0.9, 1.9, 1.5, 2.5), rect(-0.9, 1.6, -0.5, 0.5),
                                  rect(-0.9, 1.9, -2.5, -1.5)], 2 * math.pi),
    make_shape("letter L shape", [rect(-1.6, -0.5, -2.5, 2.5), rect(-0.5, 1.6, -2.5, -1.4)], 2 * math.pi),
    make_shape("ring", ring(1.4, 2.6, 0, 360, 12), 0.0),
    make_shape("hexagon", [regular(6, 2.6)], 2 * math.pi / 6),
    make_shape("heart", _heart(), 2 * math.pi),
    make_shape("letter M shape", [rect(-2.3, -1.3, -2.5, 2.5), rect(1.3, 2.3, -2.5, 2.5),
                                  bar((-1.7, 2.3), (0.0, -0.7), 1.0), bar((1.7, 2.3), (0.0, -0.7), 1.0)], 2 * math.pi),
)

# The reference's shape split: meshes 0-13 train, 14-19 validation and test.
TRAIN_SHAPES = tuple(range(14))
TEST_SHAPES = tuple(range(14, 20))


def shapes_for(split: str) -> tuple[int, ...]:
    """Indices into SHAPES a task may draw from in ``split``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return TRAIN_SHAPES if split == "train" else TEST_SHAPES


# -- bodies ---------------------------------------------------------------------------------------
def add_shape(sim: TabletopSim, shape: Shape, xy: Sequence[float], yaw: float, rgb: Sequence[float],
              mass: float = 0.05) -> int:
    """A graspable shape lying on the table at ``xy`` turned ``yaw``; returns the body id."""
    b = sim.bullet
    collision = _collision_shape(b, shape)
    visual = _visual_shape(b, shape, HEIGHT, rgb)
    body = b.createMultiBody(mass, collision, visual, basePosition=[*xy[:2], HEIGHT / 2],
                             baseOrientation=b.getQuaternionFromEuler([0, 0, yaw]))
    # A shape at rest may sleep: its convex pieces against the table cost several times a box's contacts
    # every physics step. Contact with the tool or a moving body wakes it.
    b.changeDynamics(body, -1, lateralFriction=0.6, spinningFriction=0.001, rollingFriction=0.0001,
                     activationState=b.ACTIVATION_STATE_ENABLE_SLEEPING)
    return sim._register(body, graspable=True)


def add_marker(sim: TabletopSim, shape: Shape, xyz: Sequence[float], yaw: float, rgb: Sequence[float]) -> int:
    """A thin visual-only copy of ``shape`` (a kit's slot), its bottom at ``xyz``; nothing collides with it."""
    b = sim.bullet
    visual = _visual_shape(b, shape, MARKER_HEIGHT, rgb)
    body = b.createMultiBody(0, -1, visual, basePosition=[xyz[0], xyz[1], xyz[2] + MARKER_HEIGHT / 2],
                             baseOrientation=b.getQuaternionFromEuler([0, 0, yaw]))
    return sim._register(body, graspable=False)


def _prism(polygon: Polygon, height: float) -> np.ndarray:
    """Vertices (2k x 3) of ``polygon`` extruded from -height/2 to +height/2."""
    k = len(polygon)
    return np.vstack([np.column_stack([polygon, np.full(k, -height / 2)]),
                      np.column_stack([polygon, np.full(k, height / 2)])])


def _collision_shape(bullet, shape: Shape) -> int:
    if len(shape.pieces) == 1:
        return bullet.createCollisionShape(bullet.GEOM_MESH, vertices=_prism(shape.pieces[0], HEIGHT).tolist())
    # One object per piece: PyBullet makes each object of an OBJ file its own convex hull.
    lines, first = [], 1
    for k, piece in enumerate(shape.pieces):
        lines.append(f"o piece{k}")
        lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in _prism(piece, HEIGHT)]
        n = len(piece)
        bottom, top = [first + i for i in range(n)], [first + n + i for i in range(n)]
        lines.append("f " + " ".join(map(str, bottom[::-1])))
        lines.append("f " + " ".join(map(str, top)))
        lines += [f"f {bottom[i]} {bottom[(i + 1) % n]} {top[(i + 1) % n]} {top[i]}" for i in range(n)]
        first += 2 * n
    text = "\n".join(lines) + "\n"
    path = CACHE / f"{shape.name.replace(' ', '_')}-{hashlib.sha1(text.encode()).hexdigest()[:12]}.obj"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        # write-then-rename: parallel workers never read a half-written file
        fd, tmp = tempfile.mkstemp(dir=CACHE, suffix=".obj")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    return bullet.createCollisionShape(bullet.GEOM_MESH, fileName=str(path))


def _visual_shape(bullet, shape: Shape, height: float, rgb: Sequence[float]) -> int:
    """One flat-shaded triangle mesh of every piece's prism (faces keep their own vertices for sharp normals)."""
    vertices, normals, indices = [], [], []

    def face(points: np.ndarray, normal: Sequence[float]) -> None:
        start = len(vertices)
        vertices.extend(points.tolist())
        normals.extend([list(normal)] * len(points))
        indices.extend(i for k in range(1, len(points) - 1) for i in (start, start + k, start + k + 1))

    for piece in shape.pieces:
        prism = _prism(piece, height)
        k = len(piece)
        face(prism[k:], (0, 0, 1))
        face(prism[:k][::-1], (0, 0, -1))
        for i in range(k):
            j = (i + 1) % k
            edge = piece[j] - piece[i]
            face(prism[[i, j, k + j, k + i]], (edge[1] / np.linalg.norm(edge), -edge[0] / np.linalg.norm(edge), 0))
    return bullet.createVisualShape(bullet.GEOM_MESH, vertices=vertices, indices=indices, normals=normals,
                                    rgbaColor=[*rgb, 1])


# -- moving a shape ----------------------------------------------------------------------------------
def rotation(yaw: float) -> np.ndarray:
    return np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])


def move_shape(shape: Shape, pos: np.ndarray, yaw: float, top: float, target_xyz: Sequence[float],
               target_yaw: float, tool_yaw: float = 0.0) -> PickPlace:
    """The suction pick-and-place that puts a shape lying at (``pos``, ``yaw``) with its top face at z = ``top``
    at (``target_xyz``, ``target_yaw``) (body-frame poses, base frame, metres and radians).

    The tool takes the shape at its pick point and turns it by ``target_yaw - yaw`` wrapped to (-pi, pi],
    half before and half after ``tool_yaw`` (suction may grip at any yaw): centred on the tool's rest yaw,
    the wrist never turns more than a quarter turn from rest, far from its joint limits. The place point is
    where the pick point ends up, at the target's height plus the pick point's height above the centre.
    """
    turn = wrap_angle(target_yaw - yaw)
    pick_xy = np.asarray(pos[:2]) + rotation(yaw) @ shape.pick_point
    place_xy = np.asarray(target_xyz[:2]) + rotation(yaw + turn) @ shape.pick_point
    place_z = float(target_xyz[2]) + top - float(pos[2])
    return PickPlace((*map(float, pick_xy), top), (*map(float, place_xy), place_z),
                     pick_yaw=tool_yaw - turn / 2, place_yaw=tool_yaw + turn / 2)


def tool_yaw(sim: TabletopSim) -> float:
    """The yaw (rad, about +z) of the arm's tool now, read as the yaw of a tool pointing down."""
    orientation = sim.bullet.getLinkState(sim.arm.body, sim.arm.tool, computeForwardKinematics=True)[5]
    return float((Rotation.from_quat(orientation) * TOOL_DOWN.inv()).as_euler("zyx")[0])
