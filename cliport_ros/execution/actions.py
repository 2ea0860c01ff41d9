"""The action every policy (oracle or learned) outputs and every executor (sim or real) carries out."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def wrap_angle(angle: float) -> float:
    """Angle in radians wrapped to (-pi, pi]."""
    wrapped = math.remainder(angle, 2 * math.pi)
    return math.pi if wrapped == -math.pi else wrapped


@dataclass(frozen=True)
class PickPlace:
    """Pick at ``pick_xyz`` with the tool turned ``pick_yaw``; place at ``place_xyz`` turned ``place_yaw``.

    Positions are metres in the robot base frame: where the tool tip touches
    the object (pick) and where that same point of the object should end up
    (place). Yaws are radians about +z; the object turns by
    ``place_yaw - pick_yaw`` on the way.
    """

    pick_xyz: tuple[float, float, float]
    place_xyz: tuple[float, float, float]
    pick_yaw: float = 0.0
    place_yaw: float = 0.0

    def __post_init__(self) -> None:
        for name in ("pick_xyz", "place_xyz"):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != (3,) or not np.isfinite(value).all():
                raise ValueError(f"PickPlace: {name}={getattr(self, name)} must be 3 finite numbers")
        for name in ("pick_yaw", "place_yaw"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"PickPlace: {name} must be finite")

    @property
    def rotation(self) -> float:
        """Rotation of the object about +z from pick to place, radians in (-pi, pi]."""
        return wrap_angle(self.place_yaw - self.pick_yaw)


def action_from_pixels(heightmap, pick_pixel: tuple[int, int], place_pixel: tuple[int, int],
                       rotation: float) -> PickPlace:
    """A heightmap decision -> a PickPlace in the base frame.

    The pick point is the surface seen at the pick pixel. The place point is
    the surface at the place pixel raised by the picked object's height (the
    picked point's height above the table), so the tool approaches from above
    whatever it will set the object on.
    """
    ws = heightmap.workspace
    pick = ws.pix_to_xyz(np.asarray(pick_pixel), heightmap.height)
    place = ws.pix_to_xyz(np.asarray(place_pixel), heightmap.height)
    place[2] += pick[2] - ws.z_min
    return PickPlace(tuple(float(v) for v in pick), tuple(float(v) for v in place), 0.0, wrap_angle(rotation))
