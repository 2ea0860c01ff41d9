"""A camera's pose from one RGB-D frame of the table it looks at: the table plane, then the base offset.

The depth fixes three of the six degrees of freedom: the camera's height
above the table and its tilt (:func:`fit_table_plane`, RANSAC). The other
three (where over the table the camera is, and which way it faces) are not
in a view of a flat table; they come from the user (:func:`pose_from_offset`)
or from an ArUco marker lying on the table at a known pose
(:func:`pose_from_marker`, which reads the marker's corners on the fitted
plane, so both halves agree).

Frames: the camera's optical frame C (z forward, x right, y down); the table
frame T, origin on the table below the camera, z up, x along the image's top
edge direction projected onto the table ("where the camera faces"); the
robot base frame B, whose z axis is taken to be perpendicular to the table
(a base standing on it or parallel to it) with the table at ``table_z``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cliport_ros.perception.camera import Extrinsics, Intrinsics, PerceptionError
from cliport_ros.perception.heightmap import RGBDView


class CalibrationError(PerceptionError):
    """A frame the calibration cannot use; the message says what was (not) found."""


@dataclass(frozen=True)
class Plane:
    """A plane in the camera's optical frame: ``normal . p + distance = 0``, the unit normal pointing from the
    plane toward the camera, ``distance`` (m) the camera's height above it. ``support``: the fraction of the
    frame's valid depth pixels within the inlier threshold of it."""

    normal: np.ndarray
    distance: float
    support: float

    def residuals(self, points: np.ndarray) -> np.ndarray:
        """Signed distances (m) of points (N, 3) above the plane, toward the camera."""
        return points @ self.normal + self.distance


MIN_BAND = 0.001  # m: the final refit's narrowest inlier band, for depth with (almost) no noise


@dataclass(frozen=True)
class TableFit:
    """The table plane found in a frame, the roughly horizontal planes seen (nearest first, the table's RANSAC
    fit among them), and the table's residuals over the ``inliers`` within ``band`` (m) of it."""

    table: Plane
    planes: tuple[Plane, ...]
    inliers: int
    band: float
    rms: float
    median_abs: float
    max_abs: float


def _fit_plane(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares plane through points (N, 3): unit normal toward the origin (the camera), distance."""
    centroid = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - centroid, full_matrices=False)
    normal = vt[-1]
    if normal @ centroid > 0:
        normal = -normal
    return normal, float(-normal @ centroid)


def _horizontal(normals: np.ndarray, max_tilt: float) -> np.ndarray:
    """Which normals (K, 3) could be the table's for a camera looking down at it at most ``max_tilt`` rad off
    vertical with its image roughly upright (the image's top edge away from the table, not below it): a wall
    ahead of a tilted camera is as far off its axis as the table, but faces the image's bottom."""
    return (-normals[:, 2] >= np.cos(max_tilt)) & (normals[:, 1] <= 0.1)


def fit_table_plane(points: np.ndarray, rng: np.random.Generator, threshold: float = 0.01,
                    min_support: float = 0.1, max_tilt_deg: float = 75.0, max_planes: int = 4,
                    hypotheses: int = 256, sample: int = 20000) -> TableFit:
    """The table in a frame's points (N, 3) in the optical frame (NaN rows ignored).

    Sequential RANSAC finds up to ``max_planes`` roughly horizontal planes (largest first; each one's inliers
    removed before the next is sought), each refit by least squares on its inliers. The table is the nearest
    of them with at least ``min_support`` of the valid points: the floor around a table often has more
    points, and a box top on it fewer. Hypotheses are scored ``hypotheses`` at a time on a ``sample`` of the
    points, as one matrix product.
    """
    valid = points[np.isfinite(points).all(axis=1)].astype(np.float64)
    total = len(valid)
    if total < 3:
        raise CalibrationError("the frame has fewer than 3 valid depth pixels")
    scored = valid[rng.choice(total, min(sample, total), replace=False)]
    max_tilt = np.radians(max_tilt_deg)
    planes: list[Plane] = []
    remaining = valid
    for _ in range(max_planes):
        if len(scored) < 3 or len(remaining) < min_support * total:
            break
        triples = scored[rng.integers(0, len(scored), (hypotheses, 3))]
        normals = np.cross(triples[:, 1] - triples[:, 0], triples[:, 2] - triples[:, 0])
        lengths = np.linalg.norm(normals, axis=1)
        ok = lengths > 1e-9
        normals = normals[ok] / lengths[ok, None]
        distances = -np.einsum("kd,kd->k", normals, triples[ok, 0])
        flip = distances < 0  # orient every normal toward the camera
        normals[flip], distances[flip] = -normals[flip], -distances[flip]
        keep = _horizontal(normals, max_tilt)
        if not keep.any():
            break
        normals, distances = normals[keep], distances[keep]
        counts = (np.abs(scored @ normals.T + distances) < threshold).sum(axis=0)
        normal, distance = normals[counts.argmax()], float(distances[counts.argmax()])
        for _ in range(3):  # refit on the inliers; they move a little as the plane does
            near = np.abs(remaining @ normal + distance) < threshold
            if near.sum() < 3:
                break
            normal, distance = _fit_plane(remaining[near])
        if not _horizontal(normal[None], max_tilt)[0]:
            break
        inlier = np.abs(valid @ normal + distance) < threshold
        planes.append(Plane(normal, distance, float(inlier.mean())))
        remaining = remaining[np.abs(remaining @ normal + distance) >= threshold]
        scored = scored[np.abs(scored @ normal + distance) >= threshold]
    planes.sort(key=lambda p: p.distance)
    tables = [p for p in planes if p.support >= min_support]
    if not tables:
        found = ", ".join(f"{p.distance:.3f} m away with {100 * p.support:.1f} %" for p in planes) or "none"
        raise CalibrationError(f"no roughly horizontal plane (at most {max_tilt_deg:g} deg off the camera's axis, "
                               f"image upright) holds {100 * min_support:g} % of the valid depth pixels; found: "
                               f"{found}. Is the table in view, and the threshold ({threshold} m) above the depth "
                               "noise?")
    table, band = tables[0], threshold
    # The RANSAC band also holds what is nearly on the table: the bottom centimetre of every box on it, the
    # top of the table's own edge, mixed pixels there. They tilt a least-squares fit (2 mm at a 64 degree
    # view, measured), so the plane is refit on the points within 3 sigma of it (sigma from the median
    # absolute residual, robust to them), which at real depth noise is a few millimetres.
    for _ in range(3):
        r = table.residuals(valid)
        near = np.abs(r) < band
        band = min(threshold, max(3 * 1.4826 * float(np.median(np.abs(r[near]))), MIN_BAND))
        normal, distance = _fit_plane(valid[np.abs(r) < band])
        table = Plane(normal, distance, table.support)
    r = table.residuals(valid)
    r = r[np.abs(r) < band]
    return TableFit(table, tuple(planes), len(r), band, float(np.sqrt(np.mean(r**2))),
                    float(np.median(np.abs(r))), float(np.abs(r).max()))


def view_points(view: RGBDView) -> np.ndarray:
    """A view's depth as points (H*W, 3) in its optical frame, NaN where invalid."""
    intr = view.camera.intrinsics
    u, v = np.meshgrid(np.arange(intr.width), np.arange(intr.height))
    z = view.depth.astype(np.float64)
    return np.stack([(u - intr.cx) / intr.fx * z, (v - intr.cy) / intr.fy * z, z], axis=-1).reshape(-1, 3)


def table_from_camera(plane: Plane) -> tuple[np.ndarray, np.ndarray]:
    """(R_TC, p_TC): the camera's rotation and position in the table frame. x_T is the image's up (-y_C)
    projected onto the table, which is well defined for any camera looking down at less than 90 degrees."""
    z_t = plane.normal
    up = np.array([0.0, -1.0, 0.0])
    x_t = up - (up @ z_t) * z_t
    if np.linalg.norm(x_t) < 1e-6:
        raise CalibrationError("the camera looks along the table: its heading is undefined")
    x_t /= np.linalg.norm(x_t)
    r_ct = np.stack([x_t, np.cross(z_t, x_t), z_t], axis=1)  # table axes in camera coordinates
    return r_ct.T, np.array([0.0, 0.0, plane.distance])


def _rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def pose_from_offset(plane: Plane, camera_x: float, camera_y: float, camera_yaw: float,
                     table_z: float = 0.0) -> Extrinsics:
    """The camera's optical-frame pose in the base frame, given where it is over the table (``camera_x``,
    ``camera_y``: its optical centre's, m) and which way it faces (``camera_yaw``: the direction, rad
    counter-clockwise from base +x, in which the image's top edge points on the table)."""
    from scipy.spatial.transform import Rotation

    r_tc, p_tc = table_from_camera(plane)
    r_bc = _rot_z(camera_yaw) @ r_tc
    position = (float(camera_x), float(camera_y), float(table_z + p_tc[2]))
    return Extrinsics(position, tuple(float(v) for v in Rotation.from_matrix(r_bc).as_quat()))


ARUCO_DICTIONARIES = ("DICT_4X4_50", "DICT_4X4_100", "DICT_5X5_50", "DICT_5X5_100", "DICT_6X6_50", "DICT_6X6_250",
                      "DICT_ARUCO_ORIGINAL", "DICT_APRILTAG_36h11")


def detect_marker(rgb: np.ndarray, marker_id: int, dictionary: str = "DICT_4X4_50") -> np.ndarray:
    """Sub-pixel image corners (4, 2) of ArUco marker ``marker_id`` in an RGB image: top-left, top-right,
    bottom-right, bottom-left of the printed marker (OpenCV's order)."""
    if dictionary not in ARUCO_DICTIONARIES:
        raise CalibrationError(f"unknown ArUco dictionary {dictionary!r}; known: {ARUCO_DICTIONARIES}")
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary)), params)
    corners, ids, _ = detector.detectMarkers(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    found = [] if ids is None else [int(i) for i in ids.reshape(-1)]
    if marker_id not in found:
        raise CalibrationError(f"no ArUco marker {marker_id} ({dictionary}) in the colour image; found "
                               f"{found or 'none'}")
    return corners[found.index(marker_id)].reshape(4, 2).astype(np.float64)


@dataclass(frozen=True)
class MarkerFit:
    """Where the marker lies in the table frame (centre, m; yaw of its x axis, rad), how far its corners on
    the fitted plane lie from a square of the given size (RMS, m), and its side as measured (m)."""

    center: np.ndarray
    yaw: float
    rms: float
    measured_size: float


def locate_marker(corners: np.ndarray, intrinsics: Intrinsics, plane: Plane, size: float) -> MarkerFit:
    """The marker's image corners (4, 2) cast onto the table plane, as a 2-D rigid fit of the known square."""
    rays = np.column_stack([(corners[:, 0] - intrinsics.cx) / intrinsics.fx,
                            (corners[:, 1] - intrinsics.cy) / intrinsics.fy, np.ones(4)])
    on_plane = rays * (-plane.distance / (rays @ plane.normal))[:, None]
    r_tc, p_tc = table_from_camera(plane)
    q = (on_plane @ r_tc.T + p_tc)[:, :2]
    model = size / 2 * np.array([[-1.0, 1.0], [1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])  # TL, TR, BR, BL
    # Kabsch in 2-D: the rotation and shift that carry the model square onto the measured corners.
    qc, mc = q.mean(axis=0), model.mean(axis=0)
    h = (model - mc).T @ (q - qc)
    yaw = float(np.arctan2(h[0, 1] - h[1, 0], h[0, 0] + h[1, 1]))
    rot = _rot_z(yaw)[:2, :2]
    fitted = (model - mc) @ rot.T + qc
    sides = np.linalg.norm(q - np.roll(q, -1, axis=0), axis=1)
    return MarkerFit(qc, yaw, float(np.sqrt(np.mean(np.sum((q - fitted) ** 2, axis=1)))), float(sides.mean()))


def offset_from_marker(marker: MarkerFit, marker_x: float, marker_y: float,
                       marker_yaw: float) -> tuple[float, float, float]:
    """(camera_x, camera_y, camera_yaw) for :func:`pose_from_offset`, from the marker's known base-frame pose
    (its centre, m, and the yaw of its x axis, rad) and where it lies in the table frame."""
    yaw = marker_yaw - marker.yaw  # table frame -> base frame
    camera_xy = np.array([marker_x, marker_y]) - _rot_z(yaw)[:2, :2] @ marker.center
    return float(camera_xy[0]), float(camera_xy[1]), float(yaw)


def tilt_deg(plane: Plane) -> float:
    """How far the camera's optical axis is from pointing straight down at the table, degrees."""
    return float(np.degrees(np.arccos(np.clip(-plane.normal[2], -1.0, 1.0))))
