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


class TemplateError(ValueError):
    """An instruction template that does not fit the task's goal fields; the message says how."""


FIELD = re.compile(r"\{(\w+)\}")


def template_fields(template: str) -> list[str]:
    """The placeholder names of a template, in order, each once: ``"put the {pick} blocks"`` -> ``["pick"]``."""
    return list(dict.fromkeys(FIELD.findall(template)))


def parse_fields(template: str, sentence: str) -> dict[str, str]:
    """The goal fields of ``sentence`` written from ``template`` (a repeated field must repeat its value).

    Raises TemplateError if the sentence does not follow the template.
    """
    pattern, seen, pos = [], set(), 0
    for match in FIELD.finditer(template):
        pattern.append(re.escape(template[pos : match.start()]))
        name = match.group(1)
        pattern.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
        seen.add(name)
        pos = match.end()
    pattern.append(re.escape(template[pos:]))
    found = re.fullmatch("".join(pattern), sentence)
    if found is None:
        raise TemplateError(f"'{sentence}' does not follow the template '{template}'")
    return found.groupdict()


def load_templates(path: str, fields: list[str]) -> list[str]:
    """Instruction templates from a text file (one a line; blank lines and ``#`` comments skipped).

    Every placeholder must be one of the task's ``fields``; a line naming another is an error.
    """
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    templates = [line for line in lines if line and not line.startswith("#")]
    if not templates:
        raise TemplateError(f"{path} holds no instruction templates")
    for template in templates:
        unknown = [name for name in template_fields(template) if name not in fields]
        if unknown:
            raise TemplateError(f"{path}: '{template}' names {unknown}; this task's fields are {fields}")
    return templates


def rephrase(sentence: str, task_template: str, template: str) -> str:
    """``sentence`` (written from ``task_template``) said the way ``template`` says it, with the same fields."""
    return template.format(**parse_fields(task_template, sentence))
