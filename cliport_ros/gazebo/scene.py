"""``cliport export-scene``: one bundled task scene (task, seed) as Gazebo files.

The scene is built by the task itself in the PyBullet simulator (so it is the scene the task's seed
gives everywhere else), then every body - the table too - is written as an SDF model from PyBullet's own
shape data: boxes, cylinders, spheres and capsules as such, meshes (the kit shapes) as one convex OBJ per
piece, each with its colour, mass, inertia and friction. Out come, in one folder:

    world.sdf         the world (cliport_ros.gazebo.world) including every model at its pose
    models/<name>/    model.config + model.sdf (+ meshes/); graspable objects are object_<k>
    robot.urdf        the arm for Gazebo, one DetachableJoint per graspable object
    gripper_bridge.yaml  ros_gz_bridge entries for the contact sensors and each object's attach/detach
    scene.yaml        task, seed, arm, the instruction and the graspable objects, for the launch file

Frames: PyBullet reports a body's pose as its inertial frame's; every body the tasks build keeps the
inertial frame at the body origin, which is checked, so the model link frame is that pose.
"""

from __future__ import annotations

import logging
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybullet
import yaml
from scipy.spatial import ConvexHull

from cliport_ros.execution.arms import arm_profile
from cliport_ros.gazebo.description import OBJECT_LINK, gazebo_urdf
from cliport_ros.gazebo.gripper import gripper_bridge
from cliport_ros.gazebo.markup import sdf_pose, sub, to_text
from cliport_ros.gazebo.world import SDF_VERSION, Include, world_sdf
from cliport_ros.sim.config import SimConfig
from cliport_ros.sim.scene import TabletopSim
from cliport_ros.sim.tasks import make_task

log = logging.getLogger(__name__)

TABLE = "table"


def object_name(k: int) -> str:
    return f"object_{k}"


@dataclass(frozen=True)
class ExportedScene:
    directory: Path
    world: Path
    robot: Path
    bridge: Path
    manifest: Path
    objects: tuple[str, ...]  # graspable models: the gripper's slots
    instruction: str


def _geometry(parent: ET.Element, kind: int, dims, mesh_uri: str | None) -> bool:
    """Write ``<geometry>`` for a PyBullet shape; False for a shape SDF cannot say."""
    geometry = sub(parent, "geometry")
    if kind == pybullet.GEOM_BOX:
        sub(sub(geometry, "box"), "size", " ".join(f"{d:.6g}" for d in dims[:3]))
    elif kind == pybullet.GEOM_SPHERE:
        sub(sub(geometry, "sphere"), "radius", f"{dims[0]:.6g}")
    elif kind in (pybullet.GEOM_CYLINDER, pybullet.GEOM_CAPSULE):  # dims: (length, radius)
        shape = sub(geometry, "cylinder" if kind == pybullet.GEOM_CYLINDER else "capsule")
        sub(shape, "radius", f"{dims[1]:.6g}")
        sub(shape, "length", f"{dims[0]:.6g}")
    elif kind == pybullet.GEOM_MESH and mesh_uri:
        mesh = sub(geometry, "mesh")
        sub(mesh, "uri", mesh_uri)
        sub(mesh, "scale", " ".join(f"{d:.6g}" for d in dims[:3]))
    else:
        parent.remove(geometry)
        return False
    return True


def _write_hull(vertices: np.ndarray, path: Path) -> None:
    """A convex piece as an OBJ of its hull's triangles, outward-facing."""
    hull = ConvexHull(vertices)
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    for tri, eq in zip(hull.simplices, hull.equations, strict=True):
        a, b, c = vertices[tri]
        if np.dot(np.cross(b - a, c - a), eq[:3]) < 0:
            tri = tri[[0, 2, 1]]
        lines.append("f " + " ".join(str(i + 1) for i in tri))
    path.write_text("\n".join(lines) + "\n")


def body_model(bullet, body: int, name: str, directory: Path) -> None:
    """Write ``directory/<name>/`` (model.config, model.sdf, meshes/) for one PyBullet body."""
    mass, friction, inertia, inertial_xyz, inertial_quat = (bullet.getDynamicsInfo(body, -1)[k] for k in range(5))
    if np.linalg.norm(inertial_xyz) > 1e-9 or abs(abs(inertial_quat[3]) - 1) > 1e-9:
        raise ValueError(f"body {body} ({name}) has its inertial frame off its origin; not exported")
    folder = directory / name
    folder.mkdir(parents=True, exist_ok=True)
    visuals = [v for v in bullet.getVisualShapeData(body) if v[1] == -1]
    try:
        collisions = list(bullet.getCollisionShapeData(body, -1))
    except pybullet.error:  # no collision shape; or PyBullet cannot report it (separating-piles' blocks)
        collisions = None
    if collisions is None and mass > 0:
        collisions = [(body, -1, v[2], v[3], v[4], v[5], v[6]) for v in visuals]  # a dynamic body collides
    rgba = visuals[0][7] if visuals else (0.5, 0.5, 0.5, 1.0)

    meshes: list[str] = []
    for k, shape in enumerate(collisions or []):
        if shape[2] == pybullet.GEOM_MESH:
            vertices = np.asarray(bullet.getMeshData(body, -1, collisionShapeIndex=k)[1], dtype=float)
            (folder / "meshes").mkdir(exist_ok=True)
            _write_hull(vertices, folder / "meshes" / f"piece_{k}.obj")
            meshes.append(f"model://{name}/meshes/piece_{k}.obj")
        else:
            meshes.append("")

    sdf = ET.Element("sdf", version=SDF_VERSION)
    model = sub(sdf, "model", name=name)
    sub(model, "static", "true" if mass == 0 else "false")
    link = sub(model, "link", name=OBJECT_LINK)
    if mass > 0:
        inertial = sub(link, "inertial")
        sub(inertial, "mass", f"{mass:.6g}")
        moments = sub(inertial, "inertia")
        for key, value in zip(("ixx", "iyy", "izz"), inertia, strict=True):
            sub(moments, key, f"{value:.6g}")
        for key in ("ixy", "ixz", "iyz"):
            sub(moments, key, "0")
    for k, shape in enumerate(collisions or []):
        collision = sub(link, "collision", name=f"collision_{k}")
        sub(collision, "pose", sdf_pose(shape[5], shape[6]))
        if not _geometry(collision, shape[2], shape[3], meshes[k]):
            raise ValueError(f"body {body} ({name}): PyBullet shape type {shape[2]} has no SDF geometry")
        sub(sub(sub(sub(collision, "surface"), "friction"), "ode"), "mu", f"{friction:.6g}")
    # A mesh body's visual is its collision pieces (PyBullet does not hand out visual mesh data).
    shapes = [(c[2], c[3], c[5], c[6], m) for c, m in zip(collisions, meshes, strict=True)] if any(meshes) else \
        [(v[2], v[3], v[5], v[6], None) for v in visuals]
    for k, (kind, dims, xyz, quat, uri) in enumerate(shapes):
        visual = sub(link, "visual", name=f"visual_{k}")
        sub(visual, "pose", sdf_pose(xyz, quat))
        if not _geometry(visual, kind, dims, uri):
            raise ValueError(f"body {body} ({name}): PyBullet shape type {kind} has no SDF geometry")
        material = sub(visual, "material")
        colour = " ".join(f"{c:.4g}" for c in rgba)
        sub(material, "ambient", colour)
        sub(material, "diffuse", colour)
    (folder / "model.sdf").write_text(to_text(sdf))
    config = ET.Element("model")
    sub(config, "name", name)
    sub(config, "version", "1.0")
    sub(config, "sdf", "model.sdf", version=SDF_VERSION)
    sub(config, "description", "exported by cliport export-scene from the PyBullet task scene")
    (folder / "model.config").write_text(to_text(config))


def _object_constraints(bullet, bodies: set[int]) -> list[int]:
    """Constraints that join scene bodies (a rope's beads); the arm's own (finger gear, grasp) are not."""
    ids = [bullet.getConstraintUniqueId(i) for i in range(bullet.getNumConstraints())]
    return [c for c in ids if {bullet.getConstraintInfo(c)[0], bullet.getConstraintInfo(c)[2]} <= bodies]


def export_scene(task: str, seed: int, arm: str, directory: str | Path, controllers_yaml: str | Path,
                 cameras: str = "cameras_ravens.yaml") -> ExportedScene:
    """Build ``task``'s scene for ``seed`` in PyBullet and write it as Gazebo files under ``directory``;
    ``task`` "" gives the empty table."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    the_task = make_task(task) if task else None
    if the_task is not None and the_task.tool is not None:
        raise ValueError(f"{task} needs the {the_task.tool} tool; the Gazebo arms carry only their own "
                         f"gripper (suction cup or hand)")
    profile = arm_profile(arm)
    sim = TabletopSim(SimConfig(arm=arm, cameras=cameras))
    try:
        if the_task is not None:
            the_task.reset(sim, seed)
        bullet = sim.bullet
        joined = _object_constraints(bullet, set(sim.objects))
        if joined:
            raise ValueError(f"{task}'s scene joins bodies with {len(joined)} constraints (a rope); exporting "
                             f"them as Gazebo joints is not supported")
        models = directory / "models"
        if models.exists():
            shutil.rmtree(models)
        names = {sim.table: TABLE} | {body: object_name(k) for k, body in enumerate(sim.objects)}
        includes = []
        for body, name in names.items():
            body_model(bullet, body, name, models)
            xyz, quat = bullet.getBasePositionAndOrientation(body)
            includes.append(Include(name, f"model://{name}", sdf_pose(xyz, quat)))
        graspable = tuple(names[b] for b in sim.objects if b in sim.graspable)
        instruction = the_task.language(sim) if the_task is not None else ""
        perception = sim.perception
    finally:
        sim.close()
    world = directory / "world.sdf"
    world.write_text(world_sdf(perception, includes))
    robot = directory / "robot.urdf"
    robot.write_text(gazebo_urdf(profile, controllers_yaml, graspable))
    bridge = directory / "gripper_bridge.yaml"
    bridge.write_text(yaml.safe_dump(gripper_bridge(profile.contact_links, graspable), sort_keys=False))
    manifest = directory / "scene.yaml"
    manifest.write_text(yaml.safe_dump({"task": task, "seed": seed, "arm": arm, "instruction": instruction,
                                        "objects": list(graspable), "world": world.name, "robot": robot.name,
                                        "bridge": bridge.name, "models": models.name}, sort_keys=False))
    log.info("%s seed %d: %d models (%d graspable) in %s", task, seed, len(includes), len(graspable), directory)
    return ExportedScene(directory, world, robot, bridge, manifest, graspable, instruction)
