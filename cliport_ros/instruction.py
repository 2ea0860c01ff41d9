"""What counts as an instruction a policy may act on; anything else is refused before it is seen."""

from __future__ import annotations

import re

WORD = re.compile(r"[^\W\d_]{2,}")  # two or more letters, any alphabet


class InstructionError(ValueError):
    """An instruction no policy should act on; the message says why."""


def check_instruction(text: str, max_length: int = 200) -> str:
    """The instruction with whitespace collapsed, or InstructionError if it is empty, too long or not words.

    The policies read language, not commands: a sentence needs words, and
    control characters or a very long text are refused rather than guessed at.
    """
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        raise InstructionError("the instruction contains control characters")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InstructionError("the instruction is empty")
    if len(cleaned) > max_length:
        raise InstructionError(f"the instruction has {len(cleaned)} characters; the limit is {max_length}")
    if not WORD.search(cleaned):
        raise InstructionError(f"'{cleaned}' has no words in it")
    return cleaned


def same_instruction(a: str, b: str) -> bool:
    """Equal up to case, spacing and a final full stop: how a typed instruction is matched to a scene's goal."""
    def norm(text: str) -> str:
        return " ".join(text.lower().split()).rstrip(".")

    return norm(a) == norm(b)
