"""The tabletop workspace and its pixel grid: the one definition of both.

Pixel convention (the Ravens one, also documented in msg/Heightmap.msg):
pixel ``(row, col)`` covers ``x in [x_min + col*pix, x_min + (col+1)*pix)`` and
``y in [y_min + row*pix, y_min + (row+1)*pix)``; rows run along +y, columns
along +x. Heights are metres above ``z_min``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Workspace:
    """Axis-aligned box in the robot base frame (metres) and its cell size.

    Defaults are the Ravens/CLIPort workspace: a 0.5 x 1.0 m table area in
    front of the robot, 0.28 m tall, at 3.125 mm per pixel -> 320 x 160 cells.
    """

    x_min: float = 0.25
    x_max: float = 0.75
    y_min: float = -0.5
    y_max: float = 0.5
    z_min: float = 0.0
    z_max: float = 0.28
    pixel_size: float = 0.003125

    def __post_init__(self) -> None:
        for lo, hi in (("x_min", "x_max"), ("y_min", "y_max"), ("z_min", "z_max")):
            if not getattr(self, lo) < getattr(self, hi):
                raise ValueError(f"Workspace: {lo}={getattr(self, lo)} must be < {hi}={getattr(self, hi)}")
        if not self.pixel_size > 0:
            raise ValueError(f"Workspace: pixel_size={self.pixel_size} must be > 0")
        for name, extent in (("x", self.x_max - self.x_min), ("y", self.y_max - self.y_min)):
            cells = extent / self.pixel_size
            if abs(cells - round(cells)) > 1e-6:
                raise ValueError(
                    f"Workspace: the {name} extent {extent:g} m is not a whole number of "
                    f"pixel_size={self.pixel_size:g} m cells"
                )

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the heightmap: rows along y, columns along x."""
        rows = round((self.y_max - self.y_min) / self.pixel_size)
        cols = round((self.x_max - self.x_min) / self.pixel_size)
        return rows, cols

    def contains(self, xyz: np.ndarray) -> np.ndarray:
        """Boolean mask, shape (...), of points (..., 3) inside the box (z bounds inclusive)."""
        xyz = np.asarray(xyz)
        return (
            (xyz[..., 0] >= self.x_min)
            & (xyz[..., 0] < self.x_max)
            & (xyz[..., 1] >= self.y_min)
            & (xyz[..., 1] < self.y_max)
            & (xyz[..., 2] >= self.z_min)
            & (xyz[..., 2] <= self.z_max)
        )

    def xyz_to_pix(self, xyz: np.ndarray) -> np.ndarray:
        """Points (..., 3) or (..., 2) in metres -> integer pixels (..., 2) as (row, col).

        Points outside the workspace map to pixels outside the grid; check
        with :meth:`contains` first where that matters.
        """
        xyz = np.asarray(xyz, dtype=np.float64)
        col = np.floor((xyz[..., 0] - self.x_min) / self.pixel_size)
        row = np.floor((xyz[..., 1] - self.y_min) / self.pixel_size)
        return np.stack([row, col], axis=-1).astype(np.int64)

    def pix_to_xyz(self, pix: np.ndarray, height: np.ndarray | None = None) -> np.ndarray:
        """Pixels (..., 2) as (row, col) -> cell centres (..., 3) in metres.

        ``height`` is a heightmap (rows, cols) in metres above z_min; without
        it, z is z_min. Pixel centres round-trip exactly through xyz_to_pix.
        """
        pix = np.asarray(pix)
        row = pix[..., 0]
        col = pix[..., 1]
        x = self.x_min + (col + 0.5) * self.pixel_size
        y = self.y_min + (row + 0.5) * self.pixel_size
        if height is None:
            z = np.full(np.shape(x), self.z_min, dtype=np.float64)
        else:
            z = self.z_min + np.asarray(height, dtype=np.float64)[row, col]
        return np.stack([x, y, z], axis=-1)
