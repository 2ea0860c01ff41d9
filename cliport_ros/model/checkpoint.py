"""Checkpoints: trainable weights, the full config and a fingerprint of the frozen CLIP weights.

The frozen CLIP (about 100 M parameters) is never stored: a checkpoint is
loaded against CLIP weights the user supplies, and refuses to load if their
fingerprint differs from the one it was trained with.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from cliport_ros.model.clip_backbone import FrozenCLIP
from cliport_ros.model.config import ModelConfig
from cliport_ros.model.policy import FROZEN_PREFIXES, CLIPortPolicy

FORMAT = "cliport_ros.checkpoint/1"

# The checkpoint that ships with the package (package data beside this module), and the name that asks for it.
SHIPPED = Path(__file__).resolve().parent.parent / "checkpoints" / "put-block-in-bowl-cpu.pt"
SHIPPED_NAME = "shipped"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; the message says why."""


def save_checkpoint(path: str | Path, policy: CLIPortPolicy, meta: dict[str, Any] | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "config": policy.cfg.to_dict(),
        "clip_weights": policy.clip.weights if policy.clip is not None else None,
        "clip_fingerprint": policy.clip.fingerprint if policy.clip is not None else None,
        "text_fingerprint": policy.text.fingerprint if policy.text is not None else None,
        "state_dict": {k: v.cpu() for k, v in policy.trainable_state_dict().items()},  # loads on any machine
        "meta": dict(meta or {}),
    }
    tmp = path.with_suffix(path.suffix + ".part")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def export_checkpoint(source: str | Path, target: str | Path, meta: dict[str, Any] | None = None) -> Path:
    """Copy a training checkpoint for shipping: floating-point weights stored as fp16 (half the size), the
    optimiser state dropped; loading casts them back into the fp32 network."""
    payload = read_checkpoint(source)
    payload["state_dict"] = {k: v.half() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}
    payload["meta"] = {k: v for k, v in payload["meta"].items() if k != "optimiser"} | dict(meta or {})
    payload["meta"]["storage"] = "fp16"
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    torch.save(payload, tmp)
    tmp.replace(target)
    return target


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The raw payload, with every way a file can be unusable turned into a CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError) as err:
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): {err}") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} checkpoint")
    bad = [k for k, v in payload.get("state_dict", {}).items()
           if isinstance(v, torch.Tensor) and v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{path} holds non-finite weights (NaN or inf) in {len(bad)} tensors, e.g. {bad[:3]}: "
                              "a diverged run; a policy from it would act on garbage")
    return payload


def resolve_policy(source: str) -> str:
    """A policy source as a path: ``shipped`` names the packaged checkpoint; anything else is returned as is."""
    return str(SHIPPED) if source == SHIPPED_NAME else source


def trained_tasks(payload: dict[str, Any]) -> list[str]:
    """The tasks a checkpoint was trained on (from its training config; empty if it does not say)."""
    config = payload.get("meta", {}).get("config", {})
    tasks = config.get("tasks") or ([config["task"]] if config.get("task") else [])
    return list(tasks)


def describe(payload: dict[str, Any], path: str | Path) -> str:
    """One line naming a checkpoint for people: what it is, what it learned from, which frozen weights it needs."""
    config = payload.get("meta", {}).get("config", {})
    parts = [f"{payload['config'].get('preset', '?')} preset"]
    tasks = trained_tasks(payload)
    if tasks:
        parts.append(f"trained on {', '.join(tasks)}" + (f" ({config['demos']} demos)" if "demos" in config else ""))
    if payload.get("clip_weights"):
        parts.append(f"CLIP image weights {payload['clip_weights']}")
    if payload.get("text_fingerprint"):
        parts.append("MiniLM sentences")
    return f"checkpoint {path} (learned: {'; '.join(parts)})"


def config_from_dict(values: dict[str, Any]) -> ModelConfig:
    return ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def load_checkpoint(path: str | Path, clip: FrozenCLIP | None = None) -> CLIPortPolicy:
    """Rebuild the policy; the CLIP weights (given, or built from the checkpoint's source) must match."""
    return policy_from_payload(read_checkpoint(path), path, clip)


def policy_from_payload(payload: dict[str, Any], path: str | Path, clip: FrozenCLIP | None = None) -> CLIPortPolicy:
    """The policy in a payload from :func:`read_checkpoint` (``path`` only names it in errors)."""
    cfg = config_from_dict(payload["config"])
    expected = payload["clip_fingerprint"]
    if expected is not None:
        clip = clip or FrozenCLIP(payload["clip_weights"])
        if clip.fingerprint != expected:
            raise CheckpointError(
                f"{path} was trained with CLIP weights '{payload['clip_weights']}' (fingerprint {expected}); "
                f"the loaded CLIP weights '{clip.weights}' have fingerprint {clip.fingerprint}"
            )
    policy = CLIPortPolicy(cfg, clip=clip)
    expected_text = payload.get("text_fingerprint")
    if expected_text is not None and policy.text.fingerprint != expected_text:
        raise CheckpointError(f"{path} was trained with text encoder weights of fingerprint {expected_text}; "
                              f"the installed {policy.text.weights} has {policy.text.fingerprint}")
    missing, unexpected = policy.load_state_dict(payload["state_dict"], strict=False)
    missing = [k for k in missing if not k.startswith(FROZEN_PREFIXES)]
    if missing or unexpected:
        raise CheckpointError(f"{path} does not fit its own config: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return policy.eval()
