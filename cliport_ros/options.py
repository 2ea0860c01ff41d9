"""Command-line flags generated from a config dataclass, so a default and its help are written once.

A field declared with :func:`option` carries its help (and choices); :func:`add_options` turns every field
into ``--field-name`` or a positional argument (a ``bool`` defaulting to True becomes ``--no-field-name``, one
defaulting to False ``--field-name``; a field without default is a required flag), and :func:`from_options` builds the
dataclass back from the parsed arguments, so its ``__post_init__`` names any bad value.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

C = TypeVar("C")


def option(default: Any = dataclasses.MISSING, help: str = "", choices: Sequence[Any] | None = None) -> Any:
    """A dataclass field with the help text (and allowed values) of its command-line flag."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices})


def add_options(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = (),
                positional: tuple[str, ...] = ()) -> None:
    """A flag per field of ``cls`` but those in ``skip``; those in ``positional`` are positional arguments."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text, choices = f.metadata.get("help", ""), f.metadata.get("choices")
        kind = hints[f.name]
        if f.name in positional:
            parser.add_argument(f.name, type=kind, choices=choices, help=help_text)
            continue
        if kind is bool:
            if f.default is True:
                parser.add_argument("--no-" + f.name.replace("_", "-"), dest=f.name, action="store_false",
                                    help=f"turn off: {help_text}")
            else:
                parser.add_argument(flag, dest=f.name, action="store_true", help=help_text)
            continue
        if f.default is dataclasses.MISSING:
            parser.add_argument(flag, dest=f.name, type=kind, required=True, choices=choices, help=help_text)
        else:
            parser.add_argument(flag, dest=f.name, type=kind, default=f.default, choices=choices,
                                help=f"{help_text} (default {f.default!r})" if help_text else None)


def from_options(cls: type[C], args: argparse.Namespace, **given: Any) -> C:
    """The dataclass from parsed flags (``given`` fills or replaces fields)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    return cls(**{**values, **given})
