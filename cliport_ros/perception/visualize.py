"""Pictures of heightmaps, for people rather than programs."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from cliport_ros.perception.heightmap import Heightmap


def height_to_rgb(height: np.ndarray, z_range: float) -> np.ndarray:
    """Height (rows, cols) metres -> (rows, cols, 3) uint8 RGB with the viridis colour map."""
    scaled = np.clip(height / z_range, 0, 1)
    bgr = cv2.applyColorMap((scaled * 255).astype(np.uint8), cv2.COLORMAP_VIRIDIS)
    return bgr[..., ::-1]


def heightmap_figure(heightmap: Heightmap, views: Sequence[np.ndarray] = (), scale: int = 2) -> np.ndarray:
    """RGB figure: the camera views (if any) on top; colormap | heightmap below, upscaled ``scale``x.

    The heightmap is drawn as stored: rows (+y) down, columns (+x) right.
    """
    ws = heightmap.workspace
    color = np.repeat(np.repeat(heightmap.color, scale, 0), scale, 1)
    height = np.repeat(np.repeat(height_to_rgb(heightmap.height, ws.z_max - ws.z_min), scale, 0), scale, 1)
    bottom = np.concatenate([color, np.full((color.shape[0], 8, 3), 255, np.uint8), height], axis=1)
    if not views:
        return bottom
    thumb_h = 180
    thumbs = [cv2.resize(v, (int(v.shape[1] * thumb_h / v.shape[0]), thumb_h)) for v in views]
    top = np.concatenate(thumbs, axis=1)
    width = max(top.shape[1], bottom.shape[1])

    def pad(img: np.ndarray) -> np.ndarray:
        return np.pad(img, ((0, 0), (0, width - img.shape[1]), (0, 0)), constant_values=255)

    return np.concatenate([pad(top), np.full((8, width, 3), 255, np.uint8), pad(bottom)], axis=0)


def save_rgb(path: str, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), rgb[..., ::-1]):
        raise OSError(f"could not write image {path}")
