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


def depth_to_rgb(depth: np.ndarray, near: float, far: float) -> np.ndarray:
    """Depth (H, W) metres -> RGB with the turbo colour map over ``near``-``far``; invalid (NaN) black."""
    scaled = np.clip((np.nan_to_num(depth, nan=far) - near) / (far - near), 0, 1)
    rgb = cv2.applyColorMap((scaled * 255).astype(np.uint8), cv2.COLORMAP_TURBO)[..., ::-1].copy()
    rgb[~np.isfinite(depth)] = 0
    return rgb


def _labelled(img: np.ndarray, text: str) -> np.ndarray:
    band = np.full((22, img.shape[1], 3), 255, np.uint8)
    cv2.putText(band, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([band, img], axis=0)


def depth_model_figure(rows: Sequence[tuple[str, Heightmap, Sequence[np.ndarray]]], scale: int = 2) -> np.ndarray:
    """RGB figure, one labelled row per (label, heightmap, camera depth images): the depth images (turbo,
    invalid black) then the heightmap's colour | height, unseen cells shown black in both, so that the
    artefacts of a depth model and what the filters left of them show side by side."""
    panels = []
    for label, heightmap, depths in rows:
        ws = heightmap.workspace
        finite = np.concatenate([d[np.isfinite(d)] for d in depths]) if depths else np.zeros(1)
        near, far = (np.percentile(finite, [1, 99]) if finite.size > 1 else (0.0, 1.0))
        thumbs = [cv2.resize(depth_to_rgb(d, near, far), (heightmap.height.shape[0] * scale * d.shape[1]
                                                            // d.shape[0], heightmap.height.shape[0] * scale),
                             interpolation=cv2.INTER_NEAREST) for d in depths]
        height = height_to_rgb(heightmap.height, ws.z_max - ws.z_min).copy()
        color = heightmap.color.copy()
        height[~heightmap.observed] = 0
        color[~heightmap.observed] = 0
        maps = [np.repeat(np.repeat(m, scale, 0), scale, 1) for m in (color, height)]
        gap = np.full((maps[0].shape[0], 8, 3), 255, np.uint8)
        parts = [p for img in [*thumbs, *maps] for p in (img, gap)][:-1]
        unseen = 100 * (1 - heightmap.observed.mean())
        panels.append(_labelled(np.concatenate(parts, axis=1), f"{label}: {unseen:.1f}% of cells unseen"))
    width = max(p.shape[1] for p in panels)
    padded = [np.pad(p, ((0, 8), (0, width - p.shape[1]), (0, 0)), constant_values=255) for p in panels]
    return np.concatenate(padded, axis=0)


def save_rgb(path: str, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), rgb[..., ::-1]):
        raise OSError(f"could not write image {path}")


def _heat(logits: np.ndarray) -> np.ndarray:
    """Logits (rows, cols) -> weights in [0, 1]: the softmax scaled so its peak is 1."""
    z = np.asarray(logits, dtype=np.float64)
    p = np.exp(z - z.max())
    return p / p.max()


def _overlay(color: np.ndarray, logits: np.ndarray | None) -> np.ndarray:
    if logits is None:
        return color.copy()
    heat = _heat(logits)
    jet = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    alpha = (0.15 + 0.7 * np.sqrt(heat))[..., None]
    return (color * (1 - alpha) + jet * alpha).astype(np.uint8)


def affordance_figure(heightmap: Heightmap, pick_pixel: Sequence[int], place_pixel: Sequence[int],
                      rotation: float, pick_logits: np.ndarray | None = None,
                      place_logits: np.ndarray | None = None, scale: int = 2) -> np.ndarray:
    """RGB figure: pick affordance | place affordance (at the chosen rotation) over the colormap.

    Without logits (a scripted policy) only the choices are drawn: a circle
    at the pick, and at the place a circle with a tick showing the rotation
    from pick to place (counter-clockwise seen from above).
    """
    panels = []
    for logits, pixel, tick in ((pick_logits, pick_pixel, None), (place_logits, place_pixel, rotation)):
        img = _overlay(heightmap.color, logits)
        img = np.ascontiguousarray(np.repeat(np.repeat(img, scale, 0), scale, 1))
        centre = (int((pixel[1] + 0.5) * scale), int((pixel[0] + 0.5) * scale))  # (x = col, y = row)
        cv2.circle(img, centre, 5 * scale, (255, 255, 255), 2)
        if tick is not None:
            # x right and y down on screen (a mirror of the view from above): ccw on the table is cw here.
            end = (int(centre[0] + 12 * scale * np.cos(tick)), int(centre[1] + 12 * scale * np.sin(tick)))
            cv2.line(img, centre, end, (255, 255, 255), 2)
        panels.append(img)
    gap = np.full((panels[0].shape[0], 8, 3), 255, np.uint8)
    return np.concatenate([panels[0], gap, panels[1]], axis=1)
