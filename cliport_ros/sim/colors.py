"""Object colours (RGB in [0, 1]) and the reference's train / evaluation colour splits."""

from __future__ import annotations

COLORS: dict[str, tuple[float, float, float]] = {
    "blue": (78 / 255, 121 / 255, 167 / 255),
    "red": (255 / 255, 87 / 255, 89 / 255),
    "green": (89 / 255, 169 / 255, 79 / 255),
    "orange": (242 / 255, 142 / 255, 43 / 255),
    "yellow": (237 / 255, 201 / 255, 72 / 255),
    "purple": (176 / 255, 122 / 255, 161 / 255),
    "pink": (255 / 255, 157 / 255, 167 / 255),
    "cyan": (118 / 255, 183 / 255, 178 / 255),
    "brown": (156 / 255, 117 / 255, 95 / 255),
    "white": (255 / 255, 255 / 255, 255 / 255),
    "gray": (186 / 255, 176 / 255, 172 / 255),
}

# Light, middle and dark brown: the zones of the pyramid and Hanoi stands.
STAND_BROWNS = ((0.80, 0.66, 0.52), (0.61, 0.46, 0.37), (0.42, 0.30, 0.22))

TRAIN_COLORS = ("blue", "red", "green", "yellow", "brown", "gray", "cyan")
EVAL_COLORS = ("blue", "red", "green", "orange", "purple", "pink", "white")

SPLITS = ("train", "val", "test")


def colors_for(split: str, unseen: bool) -> tuple[str, ...]:
    """Colour names a task may draw from: seen-colour tasks always use the training colours."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return EVAL_COLORS if unseen and split != "train" else TRAIN_COLORS
