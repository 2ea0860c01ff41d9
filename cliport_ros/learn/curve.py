"""The learning curve of a run: validation score against samples seen, as a picture.

``cliport train`` appends one point per validation to ``<run>/curve.jsonl``
and redraws ``<run>/curve.png`` from it.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT, MARGIN = 640, 400, 56


def read_curve(path: str | Path) -> list[dict]:
    """The points of a ``curve.jsonl`` (step, samples, minutes, score), in order."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def draw_curve(points: list[dict], title: str) -> np.ndarray:
    """(HEIGHT, WIDTH, 3) uint8 RGB: score (0-100) against samples seen, one dot per validation."""
    img = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    x0, y0, x1, y1 = MARGIN, HEIGHT - MARGIN, WIDTH - 20, 48
    most = max([p["samples"] for p in points] + [1])

    def at(samples: float, score: float) -> tuple[int, int]:
        return int(x0 + (x1 - x0) * samples / most), int(y0 - (y0 - y1) * score / 100)

    black, grey, blue = (0, 0, 0), (200, 200, 200), (30, 90, 200)
    for score in range(0, 101, 20):
        y = at(0, score)[1]
        cv2.line(img, (x0, y), (x1, y), grey, 1)
        cv2.putText(img, str(score), (x0 - 34, y + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, black, 1, cv2.LINE_AA)
    for k in range(5):
        samples = most * k / 4
        x = at(samples, 0)[0]
        cv2.putText(img, f"{samples:,.0f}", (x - 18, y0 + 20), cv2.FONT_HERSHEY_SIMPLEX, 0.45, black, 1, cv2.LINE_AA)
    cv2.rectangle(img, (x0, y1), (x1, y0), black, 1)
    xy = [at(p["samples"], p["score"]) for p in points]
    if len(xy) > 1:
        cv2.polylines(img, [np.array(xy, np.int32)], False, blue, 2, cv2.LINE_AA)
    for (x, y), p in zip(xy, points, strict=True):
        cv2.circle(img, (x, y), 4, blue, -1, cv2.LINE_AA)
        cv2.putText(img, f"{p['score']:.0f}", (x - 8, y - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.4, blue, 1, cv2.LINE_AA)
    cv2.putText(img, title, (x0, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, black, 1, cv2.LINE_AA)
    cv2.putText(img, "training samples seen", (WIDTH // 2 - 80, HEIGHT - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.5, black,
                1, cv2.LINE_AA)
    return img


def save_curve(run_dir: str | Path, title: str) -> Path:
    """Draw ``run_dir/curve.jsonl`` into ``run_dir/curve.png``."""
    from cliport_ros.perception.visualize import save_rgb

    run_dir = Path(run_dir)
    out = run_dir / "curve.png"
    save_rgb(str(out), draw_curve(read_curve(run_dir / "curve.jsonl"), title))
    return out
