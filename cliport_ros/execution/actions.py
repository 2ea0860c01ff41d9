"""The action every policy (oracle or learned) outputs and every executor (sim or real) carries out."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def wrap_angle(angle: float, period: float = 2 * math.pi) -> float:
    """``angle`` (radians) wrapped to (-period/2, period/2]: the smallest turn equivalent to it when turns of
    ``period`` look alike (2 pi for any object, pi for a two-finger grasp, 2 pi / n for an n-fold symmetry)."""
    wrapped = math.remainder(float(angle), period)
    return period / 2 if wrapped == -period / 2 else wrapped


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


# The Ravens push, shared by the simulator and the executor so both push alike.
PUSH_HEIGHT = 0.003  # the spatula's lower edge (its tool frame) stays this high above the table, metres
PUSH_BEHIND = 0.02  # the blade comes down this far behind the start point (the reference's 2 cm), metres
PUSH_SHORT = 0.05  # and stops this far short of the end point (the reference's 5 cm), metres
PUSH_SPEED = 0.3  # fraction of the usual joint speed while pushing (the reference's 0.003 of 0.01 m per step)


@dataclass(frozen=True)
class PushStroke:
    """The spatula comes down at ``first``, moves ``length`` metres along ``direction`` (a unit vector in
    the table plane, (3,)) and goes up again; ``yaw`` is the tool's yaw throughout."""

    first: np.ndarray
    direction: np.ndarray
    length: float
    yaw: float

    @property
    def last(self) -> np.ndarray:
        return self.first + self.length * self.direction


def push_stroke(action: PickPlace, tool_yaw: float, table_z: float = 0.0) -> PushStroke:
    """A push from ``action.pick_xyz`` towards ``action.place_xyz`` (only x and y count).

    The blade, square to the direction of travel, comes down ``PUSH_BEHIND``
    behind the start point, so it gets behind what lies there, and stops
    ``PUSH_SHORT`` short of the end, so what it pushes ends near the end
    point (a push shorter than that only sets the blade down and lifts it).
    Tool x (the blade's normal) points along the push; either face of the
    flat blade pushes alike, so of the two such yaws this takes the one
    nearer ``tool_yaw`` and spares the wrist a half turn. Raises ValueError
    when start and end coincide (no direction to push in).
    """
    start = np.asarray(action.pick_xyz, dtype=float)[:2]
    end = np.asarray(action.place_xyz, dtype=float)[:2]
    distance = float(np.linalg.norm(end - start))
    if distance < 1e-3:
        raise ValueError(f"a push from ({start[0]:.3f}, {start[1]:.3f}) to ({end[0]:.3f}, {end[1]:.3f}) has "
                         "no direction: its start and end are less than 1 mm apart")
    direction = (end - start) / distance
    yaw = math.atan2(direction[1], direction[0])
    yaw += math.pi * round(math.remainder(tool_yaw - yaw, 2 * math.pi) / math.pi)
    first = np.array([*(start - PUSH_BEHIND * direction), table_z + PUSH_HEIGHT])
    return PushStroke(first, np.array([*direction, 0.0]), max(distance + PUSH_BEHIND - PUSH_SHORT, 0.0), yaw)
