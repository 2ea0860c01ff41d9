"""Random SE(2) perturbation of a heightmap and its pick/place labels (as the reference trains)."""

from __future__ import annotations

import math

import cv2
import numpy as np


def se2_matrix(shape: tuple[int, int], angle: float, shift: tuple[float, float]) -> np.ndarray:
    """2x3 affine map of (col, row) pixel coordinates: rotate ``angle`` about the centre, then shift (cols, rows)."""
    rows, cols = shape
    centre = ((cols - 1) / 2, (rows - 1) / 2)
    m = cv2.getRotationMatrix2D(centre, math.degrees(angle), 1.0)
    m[:, 2] += shift
    return m


def transform_pixels(m: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """(N, 2) (row, col) -> (N, 2) (row, col) under the affine ``m`` of (col, row) coordinates, rounded."""
    xy = np.stack([pixels[:, 1], pixels[:, 0], np.ones(len(pixels))], axis=1) @ m.T
    return np.round(xy[:, ::-1]).astype(np.int64)


def perturb(color: np.ndarray, height: np.ndarray, pixels: np.ndarray, rng: np.random.Generator,
            max_shift: float = 0.25, tries: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Rotate by a random angle and shift (up to ``max_shift`` of each side); keep every label pixel inside.

    Returns colour, height, the moved (row, col) pixels and the rotation applied (radians). The
    place rotation label (place yaw - pick yaw) does not change: both ends turn together.
    """
    rows, cols = height.shape
    for _ in range(tries):
        angle = float(rng.uniform(0, 2 * math.pi))
        shift = (float(rng.uniform(-max_shift, max_shift) * cols), float(rng.uniform(-max_shift, max_shift) * rows))
        m = se2_matrix((rows, cols), angle, shift)
        moved = transform_pixels(m, pixels)
        if np.all((moved >= 0) & (moved < [rows, cols])):
            break
    else:
        return color, height, pixels, 0.0
    size = (cols, rows)
    new_color = cv2.warpAffine(color, m, size, flags=cv2.INTER_LINEAR, borderValue=0)
    new_height = cv2.warpAffine(height, m, size, flags=cv2.INTER_NEAREST, borderValue=0)
    return new_color, new_height, moved, angle
