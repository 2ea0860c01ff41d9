"""Typed camera-layout and perception config, read from ``config/*.yaml``.

The YAML files use the ``ros__parameters`` layout so that the same file
configures the ROS nodes (``--params-file``) and the ROS-free code (sim,
benchmarks, tests) through :func:`load_perception_config`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from cliport_ros.perception.camera import Camera, Extrinsics, Intrinsics
from cliport_ros.perception.heightmap import Heightmap, RGBDView, fuse
from cliport_ros.perception.workspace import Workspace


def config_dir() -> Path:
    """The shipped ``config/``: the source tree's when running from it, else the installed share."""
    source = Path(__file__).resolve().parents[2] / "config"
    if source.is_dir():
        return source
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("cliport_ros")) / "config"
    except (ImportError, LookupError) as err:
        raise FileNotFoundError("cannot find cliport_ros's config/ (not in a source tree or ROS install)") from err


@dataclass(frozen=True)
class CameraConfig:
    """One camera: its ROS topics and optical-frame pose in the base frame.

    Intrinsics here describe the simulated camera; on a real robot perception
    takes them from ``camera_info`` and these are ignored.
    """

    name: str
    color_topic: str = ""
    depth_topic: str = ""
    info_topic: str = ""
    frame_id: str = ""
    position: tuple[float, ...] = (0.0, 0.0, 0.0)
    orientation: tuple[float, ...] = (0.0, 0.0, 0.0, 1.0)
    width: int = 640
    height: int = 480
    fx: float = 450.0
    fy: float = 450.0
    cx: float = 320.0
    cy: float = 240.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("CameraConfig: name must not be empty")
        Extrinsics(tuple(self.position), tuple(self.orientation))  # validates, names the bad field

    @property
    def pose(self) -> Extrinsics:
        return Extrinsics(tuple(self.position), tuple(self.orientation))

    @property
    def intrinsics(self) -> Intrinsics:
        return Intrinsics(self.width, self.height, self.fx, self.fy, self.cx, self.cy)

    def to_camera(self, intrinsics: Intrinsics | None = None, pose: Extrinsics | None = None) -> Camera:
        """A :class:`Camera`, with intrinsics (from camera_info) or pose (from tf) overriding config."""
        return Camera(self.name, intrinsics or self.intrinsics, pose or self.pose)


POSE_SOURCES = ("config", "tf")


@dataclass(frozen=True)
class PerceptionConfig:
    """What perception_node needs: frames, cameras, workspace grid and sync tolerance."""

    base_frame: str = "base_link"
    cameras: tuple[CameraConfig, ...] = ()
    workspace: Workspace = field(default_factory=Workspace)
    sync_slop: float = 0.02
    pose_source: str = "config"
    floor_tolerance: float = 0.005
    # A real camera's artefacts (cliport_ros/perception/filters.py): 0 turns a filter off.
    flying_pixel_threshold: float = 0.01  # m behind the nearest neighbour at which a pixel counts as mixed
    fill_holes: int = 1  # cells: unseen gaps up to twice this wide, enclosed by seen cells, are filled
    # Published: per cell the median over the last N fused sets that saw it (1: off). Less noise, but a
    # change in the scene shows only once most of them see it (from the N // 2 + 1-th set after it).
    temporal_sets: int = 1

    def __post_init__(self) -> None:
        if not self.cameras:
            raise ValueError("PerceptionConfig: cameras must name at least one camera")
        names = [c.name for c in self.cameras]
        if len(set(names)) != len(names):
            raise ValueError(f"PerceptionConfig: camera names must be unique, got {names}")
        if self.sync_slop <= 0:
            raise ValueError(f"PerceptionConfig: sync_slop={self.sync_slop} must be > 0")
        if self.floor_tolerance < 0:
            raise ValueError(f"PerceptionConfig: floor_tolerance={self.floor_tolerance} must be >= 0")
        if not 0 <= self.flying_pixel_threshold < float("inf"):
            raise ValueError(f"PerceptionConfig: flying_pixel_threshold={self.flying_pixel_threshold} must be >= 0 "
                             "(0: off)")
        if not 0 <= self.fill_holes <= 5:
            raise ValueError(f"PerceptionConfig: fill_holes={self.fill_holes} must be 0 (off) to 5 cells")
        if not 1 <= self.temporal_sets <= 10:
            raise ValueError(f"PerceptionConfig: temporal_sets={self.temporal_sets} must be 1 (off) to 10 sets")
        if self.pose_source not in POSE_SOURCES:
            raise ValueError(f"PerceptionConfig: pose_source={self.pose_source!r} must be one of {POSE_SOURCES}")


def with_real_camera_filters(config: PerceptionConfig) -> PerceptionConfig:
    """``config`` with the filters a real camera needs at PerceptionConfig's defaults (a layout for exact
    simulated depth turns them off)."""
    defaults = {f.name: f.default for f in fields(PerceptionConfig)}
    return replace(config, flying_pixel_threshold=defaults["flying_pixel_threshold"],
                   fill_holes=defaults["fill_holes"])


def _pick(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` that are fields of dataclass ``cls``; unknown keys are an error."""
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def perception_config_from_params(params: dict[str, Any]) -> PerceptionConfig:
    """Build from a (nested) ``ros__parameters`` dict."""
    params = dict(params)
    names = params.pop("cameras", [])
    cameras = tuple(CameraConfig(name=n, **_pick(CameraConfig, params.pop(n, {}))) for n in names)
    workspace = Workspace(**_pick(Workspace, params.pop("workspace", {})))
    return PerceptionConfig(cameras=cameras, workspace=workspace, **_pick(PerceptionConfig, params))


def find_config(path: str | Path) -> Path:
    """``path`` if it is a file, else the shipped ``config/`` file of that name."""
    path = Path(path)
    if not path.is_file():
        candidate = config_dir() / path
        if not candidate.is_file():
            raise FileNotFoundError(f"no config file {path} (looked here and in {candidate.parent})")
        path = candidate
    return path


def _parameters(path: Path, doc: Any) -> dict[str, Any]:
    """The ``ros__parameters`` dict of a loaded YAML document (``/**:`` or ``<node>:``), itself, not a copy."""
    for node_params in (doc or {}).values():
        if isinstance(node_params, dict) and "ros__parameters" in node_params:
            return node_params["ros__parameters"]
    raise ValueError(f"{path}: no '<node>: ros__parameters:' section")


def load_perception_config(path: str | Path) -> PerceptionConfig:
    """Read a perception YAML (``/**: ros__parameters:`` or ``<node>: ros__parameters:``)."""
    path = find_config(path)
    return perception_config_from_params(_parameters(path, yaml.safe_load(path.read_text())))


def write_camera_calibration(source: str | Path, target: str | Path, camera: str, pose: Extrinsics,
                             intrinsics: Intrinsics, comment: str = "") -> Path:
    """Write the perception YAML ``source`` to ``target`` with ``camera``'s pose and intrinsics replaced
    (every other entry as it was; ``comment`` lines on top), and check that it loads."""
    source = find_config(source)
    doc = yaml.safe_load(source.read_text())
    params = _parameters(source, doc)
    if camera not in params.get("cameras", []):
        raise ValueError(f"{source}: no camera {camera!r}; its cameras: {params.get('cameras', [])}")
    entry = params.setdefault(camera, {})
    entry["position"] = [round(float(v), 6) for v in pose.position]
    entry["orientation"] = [round(float(v), 9) for v in pose.orientation]
    entry.update(width=intrinsics.width, height=intrinsics.height, fx=round(intrinsics.fx, 4),
                 fy=round(intrinsics.fy, 4), cx=round(intrinsics.cx, 4), cy=round(intrinsics.cy, 4))
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(header + yaml.safe_dump(doc, sort_keys=False, default_flow_style=None))
    load_perception_config(target)
    return target


def fuse_views(views: Sequence[RGBDView], config: PerceptionConfig) -> Heightmap:
    """The heightmap perception makes of ``views`` with ``config``'s workspace and filters: what
    perception_node publishes, the simulator observes and ``cliport bench perception`` times."""
    return fuse(views, config.workspace, config.floor_tolerance, config.flying_pixel_threshold, config.fill_holes)
