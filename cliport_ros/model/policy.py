"""CLIPortPolicy: pick and place networks around one shared frozen CLIP; ``act`` for inference,
``forward`` for training (returns loss and metrics)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cliport_ros.model.attention import PickNet
from cliport_ros.model.clip_backbone import FrozenCLIP
from cliport_ros.model.config import ModelConfig
from cliport_ros.model.text_encoder import MiniLMText
from cliport_ros.model.transport import PlaceNet, rotation_angles
from cliport_ros.perception.heightmap import Heightmap

FROZEN_PREFIXES = ("clip.", "text.")  # pretrained, never trained, never stored in checkpoints


@dataclass(frozen=True)
class Decision:
    """One pick-and-place decision in heightmap pixels, with its confidences and timing."""

    pick_pixel: tuple[int, int]
    place_pixel: tuple[int, int]
    rotation_bin: int
    rotation: float  # radians, object rotation from pick to place
    pick_confidence: float
    place_confidence: float
    pick_logits: np.ndarray  # (H, W)
    place_logits: np.ndarray  # (R, H, W)
    seconds: dict[str, float]


def heightmap_tensor(color: np.ndarray, height: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 + (H, W) metres -> (1, 4, H, W) float: rgb in [0, 1], height in metres."""
    rgb = torch.from_numpy(np.ascontiguousarray(color)).permute(2, 0, 1).float() / 255.0
    h = torch.from_numpy(np.ascontiguousarray(height, dtype=np.float32))[None]
    return torch.cat([rgb, h], dim=0)[None]


class CLIPortPolicy(nn.Module):
    def __init__(self, cfg: ModelConfig, clip: FrozenCLIP | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        uses_language = cfg.streams != "transporter_only"
        needs_clip = uses_language  # image features, and the sentence feature unless MiniLM replaces it
        if needs_clip and clip is None:
            clip = FrozenCLIP(cfg.clip_weights)
        self.clip = clip  # registered once, shared by all four streams
        self.text = MiniLMText() if uses_language and cfg.text_encoder == "minilm" else None
        text_dim = MiniLMText.dim if self.text is not None else FrozenCLIP.text_dim
        self.pick = PickNet(cfg, clip, text_dim)
        self.place = PlaceNet(cfg, clip, text_dim)

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict().items() if not k.startswith(FROZEN_PREFIXES)}

    def uses_clip_image(self) -> bool:
        return self.cfg.streams != "transporter_only"

    def encode_text(self, sentences: list[str]) -> torch.Tensor | None:
        if self.cfg.streams == "transporter_only":
            return None
        return (self.text or self.clip).encode_text(sentences)

    def _clip(self, rgbd: torch.Tensor) -> list[torch.Tensor] | None:
        return self.clip.encode_image(rgbd[:, :3]) if self.uses_clip_image() else None

    def _scene_clip(self, padded: torch.Tensor) -> tuple[list[torch.Tensor] | None, list[torch.Tensor] | None]:
        """CLIP features for the pick and for the place key from one trunk pass over the padded heightmap.

        The pick's are the unpadded part of the key's: the pick's CLIP sees the scene with a
        black margin, as the reference's pick does (it pads to a square).
        """
        key = self._clip(padded)
        return (FrozenCLIP.centre(key, self.place.pad) if key is not None else None), key

    def logits(self, rgbd: torch.Tensor, pick: torch.Tensor, text: torch.Tensor | None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """rgbd (B, 4, H, W); pick (B, 2) pixels where the place net crops -> pick (B, H*W), place (B, R, H, W)."""
        padded = self.place.pad_input(rgbd)
        pick_clip, key_clip = self._scene_clip(padded)
        pick_logits = self.pick(rgbd, pick_clip, text)
        crops = self.place.crops(padded, pick)
        place_logits = self.place(padded, key_clip, crops, self._clip(crops), text)
        return pick_logits, place_logits

    def forward(self, batch: dict[str, torch.Tensor | list[str]]) -> tuple[torch.Tensor, dict[str, float]]:
        """Cross-entropy over all pick pixels and over all (rotation, pixel) place cells."""
        rgbd, pick, place, rot = batch["rgbd"], batch["pick_pixel"], batch["place_pixel"], batch["rotation_bin"]
        text = self.encode_text(list(batch["language"]))
        pick_logits, place_logits = self.logits(rgbd, pick, text)
        b, _, h, w = place_logits.shape
        pick_target = pick[:, 0] * w + pick[:, 1]
        place_target = (rot * h + place[:, 0]) * w + place[:, 1]
        pick_loss = F.cross_entropy(pick_logits, pick_target)
        place_loss = F.cross_entropy(place_logits.reshape(b, -1), place_target)
        metrics = {"pick_loss": pick_loss.item(), "place_loss": place_loss.item()}
        return pick_loss + place_loss, metrics

    @torch.inference_mode()
    def act(self, heightmap: Heightmap, instruction: str) -> Decision:
        """Predict on one heightmap. Pick first, then place given the predicted pick (eval mode)."""
        self.eval()
        times = {}
        start = time.perf_counter()
        rgbd = heightmap_tensor(heightmap.color, heightmap.height).to(next(self.parameters()).device)
        text = self.encode_text([instruction])  # once per decision, shared by pick and place
        times["text"] = time.perf_counter() - start
        t = time.perf_counter()
        padded = self.place.pad_input(rgbd)
        pick_clip, key_clip = self._scene_clip(padded)
        pick_logits = self.pick(rgbd, pick_clip, text)[0].float()
        pick_prob = torch.softmax(pick_logits, 0)
        index = int(pick_prob.argmax())
        h, w = rgbd.shape[-2:]
        pick_pixel = (index // w, index % w)
        times["pick"] = time.perf_counter() - t
        t = time.perf_counter()
        crops = self.place.crops(padded, torch.tensor([pick_pixel]))
        place_logits = self.place(padded, key_clip, crops, self._clip(crops), text)[0].float()
        place_prob = torch.softmax(place_logits.flatten(), 0)
        index = int(place_prob.argmax())
        r, rest = divmod(index, h * w)
        place_pixel = (rest // w, rest % w)
        times["place"] = time.perf_counter() - t
        times["total"] = time.perf_counter() - start
        angle = float(rotation_angles(self.cfg.n_rotations)[r])
        return Decision(
            pick_pixel=pick_pixel, place_pixel=place_pixel, rotation_bin=r,
            rotation=float(np.remainder(angle + np.pi, 2 * np.pi) - np.pi),
            pick_confidence=float(pick_prob.max()), place_confidence=float(place_prob.max()),
            pick_logits=pick_logits.reshape(h, w).cpu().numpy(), place_logits=place_logits.cpu().numpy(),
            seconds=times,
        )


def count_parameters(module: nn.Module) -> tuple[int, int]:
    """(total, trainable) parameter counts."""
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return total, trainable
