"""What a real depth camera needs before and after fusion, and a simulated one does not.

- Flying pixels: at a depth edge a real camera reports depths between the
  near and the far surface ("mixed" pixels); fused as if real they leave
  streaks of false height behind every object. :func:`reject_flying_pixels`
  drops every pixel lying more than a threshold behind the nearest point in
  its neighbourhood, which removes the mixed pixels (and the far side's first
  pixels, which other views and the hole filling cover) and keeps the near
  surface whole.
- Holes: at range a camera's pixels land sparser than the grid, leaving
  stripes of unseen cells on object tops. :func:`fill_small_holes` fills
  unseen cells enclosed by seen ones (a morphological closing of the seen
  mask), each with the median of its seen neighbours when they agree (one
  surface), and never across a larger unseen region such as an occlusion
  shadow, nor between an object's edge and the table.

- Noise: a static scene seen over several synchronised sets.
  :func:`median_of_sets` takes, per cell, the median height over the sets
  that saw it, which cuts the noise of a cell and drops a one-set outlier.

All are vectorised opencv / numpy operations on frames or maps.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np


def reject_flying_pixels(depth: np.ndarray, threshold: float, window: int = 5) -> np.ndarray:
    """``depth`` (H, W) metres, NaN invalid, with every pixel more than ``threshold`` m behind the nearest
    valid pixel of its ``window`` x ``window`` neighbourhood set to NaN: mixed pixels in a depth jump, and
    the far side's first pixels (which other views or the hole filling cover). ``threshold`` 0 returns it
    unchanged. A surface seen so steeply that its depth grows by more than ``threshold`` over half the window
    loses pixels too: keep ``threshold`` above that (1 cm: a table 60 degrees off the view axis, 5 mm pixels)."""
    if threshold <= 0:
        return depth
    depth = np.asarray(depth, dtype=np.float32)
    near = np.fmin(depth, np.float32(np.inf))  # invalid (NaN) pixels are never the nearest
    behind = cv2.erode(near, np.ones((window, window), np.uint8), dst=near, borderType=cv2.BORDER_REPLICATE)
    np.subtract(depth, behind, out=behind)
    with np.errstate(invalid="ignore"):  # NaN (invalid) stays NaN, and is never flying
        return np.where(behind > np.float32(threshold), np.float32(np.nan), depth)


def fill_small_holes(height: np.ndarray, color: np.ndarray, seen: np.ndarray, radius: int = 1,
                     max_spread: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(height, color, seen) with the unseen cells that a closing of ``seen`` by a (2r+1)^2 square encloses
    filled with the median height of their seen neighbours within ``radius`` cells (and the colour of the
    neighbour nearest that height), where those neighbours lie within ``max_spread`` m of each other: one
    surface. ``radius`` 0 returns them unchanged."""
    if radius <= 0:
        return height, color, seen
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    closed = cv2.morphologyEx(seen.astype(np.uint8), cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_CONSTANT,
                              borderValue=0).astype(bool)
    rr, cc = np.nonzero(closed & ~seen)
    if len(rr) == 0:
        return height, color, seen
    # For each hole, its (2r+1)^2 neighbours' heights (NaN where unseen or off the map); the hole takes the
    # median of the seen ones, and the colour of the neighbour nearest it: a stripe across an object's top
    # is filled with the top, a notch at the edge of an occlusion shadow with what surrounds it mostly.
    unseen_nan = np.where(seen, height, np.float32(np.nan)).astype(np.float32, copy=False)
    padded_h = cv2.copyMakeBorder(unseen_nan, radius, radius, radius, radius, cv2.BORDER_CONSTANT, value=float("nan"))
    offsets = np.arange(-radius, radius + 1)
    dr, dc = np.meshgrid(offsets, offsets, indexing="ij")
    nr, nc = rr[None] + radius + dr.reshape(-1, 1), cc[None] + radius + dc.reshape(-1, 1)
    neighbour_h = padded_h[nr, nc]
    # Only inside one surface: where the seen neighbours disagree (an object's edge against the table) the
    # hole is left unseen rather than given a height nobody measured.
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: holes with no seen neighbour
        spread = np.nanmax(neighbour_h, axis=0) - np.nanmin(neighbour_h, axis=0)
    fill = np.isfinite(spread) & (spread <= max_spread)
    median = np.zeros(len(rr), np.float32)
    # np.nanmedian, by a sort (NaN sorts last) and the middle of each column's seen values: far faster here.
    ordered = np.sort(neighbour_h[:, fill], axis=0)
    n_seen, column = np.isfinite(ordered).sum(axis=0), np.arange(ordered.shape[1])
    median[fill] = (ordered[(n_seen - 1) // 2, column] + ordered[n_seen // 2, column]) / np.float32(2)
    best = np.argmin(np.where(np.isfinite(neighbour_h), np.abs(neighbour_h - median), np.inf), axis=0)
    best_h = median
    src_r, src_c = nr[best, np.arange(len(rr))] - radius, nc[best, np.arange(len(rr))] - radius
    height, color, seen = height.copy(), color.copy(), seen.copy()
    height[rr[fill], cc[fill]] = best_h[fill]
    color[rr[fill], cc[fill]] = color[src_r[fill], src_c[fill]]
    seen[rr[fill], cc[fill]] = True
    return height, color, seen


def median_of_sets(heights: np.ndarray, colors: np.ndarray, seens: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                        np.ndarray]:
    """(height, color, seen) of N maps stacked as (N, rows, cols[, 3]): per cell the lower median of the
    heights of the sets that saw it, with the colour of the set that measured it; seen where any set saw
    the cell. The lower median is always a height some set measured (never the mean of a block's top and
    the table), and a change shows once more than half the sets that see the cell show it."""
    n = len(heights)
    shape = heights.shape[1:]
    ranked = np.where(seens, heights, np.float32(np.inf)).reshape(n, -1)  # unseen rank after every seen height
    n_seen = seens.reshape(n, -1).sum(axis=0)
    # Each set's rank per cell (ties by set order, as a stable sort would), one comparison per pair of sets:
    # for a handful of sets that is several times faster than sorting along the short axis.
    rank = np.zeros(ranked.shape, np.int16)
    for i in range(n):
        for j in range(i + 1, n):
            below = ranked[j] < ranked[i]
            rank[i] += below
            rank[j] += ~below
    middle = (np.maximum(n_seen, 1) - 1) // 2
    median_set = np.zeros(ranked.shape[1], np.intp)
    for i in range(1, n):  # exactly one set holds each rank
        median_set += i * (rank[i] == middle)
    pick = median_set * ranked.shape[1] + np.arange(ranked.shape[1])
    seen = n_seen > 0
    height = np.where(seen, np.take(heights.reshape(-1), pick), np.float32(0)).astype(np.float32)
    color = np.take(colors.reshape(-1, 3), pick, axis=0)
    color[~seen] = 0
    return height.reshape(shape), color.reshape(*shape, 3), seen.reshape(shape)
