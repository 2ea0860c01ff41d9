"""Declare a node's parameters from typed config dataclasses (STYLE rule 5)."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from rclpy.node import Node


def declare_dataclass(node: Node, cls: type, prefix: str = "", skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Declare ``<prefix><field>`` for each field of ``cls`` with its default; return the values.

    The result is keyword arguments for ``cls``: the dataclass's own
    ``__post_init__`` then names any bad value. Fields in ``skip`` (nested
    configs, required values without defaults) are left to the caller.
    """
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            raise TypeError(f"{cls.__name__}.{f.name} has no default; pass it in skip")
        if hints[f.name] is float:
            default = float(default)  # so that YAML "1.0" and a default of 1 agree on DOUBLE
        if isinstance(default, tuple):
            default = list(default)
        value = node.declare_parameter(f"{prefix}{f.name}", default).value
        values[f.name] = tuple(value) if isinstance(value, list) else value
    return values


C = typing.TypeVar("C")


def read_config(node: Node, cls: type[C], prefix: str = "") -> C:
    """Declare every field of the dataclass ``cls`` as a parameter and build it from their values: the node's
    defaults are the dataclass's, and its ``__post_init__`` names a bad value before anything starts."""
    return cls(**declare_dataclass(node, cls, prefix))
