"""CLIPortPolicy: pick and place networks around one shared frozen CLIP; ``act`` for inference,
``forward`` for training (returns loss and metrics)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cliport_ros.execution.actions import wrap_angle
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

    def _scene_clip(self, rgbd: torch.Tensor, padded: torch.Tensor
                    ) -> tuple[list[torch.Tensor] | None, list[torch.Tensor] | None]:
        """CLIP features for the pick and for the place key, from one trunk pass over the padded heightmap
        when the padding is a whole number of CLIP's coarsest cells (else a second pass over ``rgbd``).

        The pick's are the unpadded part of the key's: the pick's CLIP sees the scene with a
        black margin, as the reference's pick does (it pads to a square).
        """
        key = self._clip(padded)
        if key is None:
            return None, None
        if self.place.pad % FrozenCLIP.strides[-1]:
            return self._clip(rgbd), key
        return FrozenCLIP.centre(key, self.place.pad), key

    def shrink(self, rgbd: torch.Tensor) -> torch.Tensor:
        """Heightmap pixels -> network pixels: colour averaged, height the maximum of each cell."""
        k = self.cfg.downsample
        if k == 1:
            return rgbd
        return torch.cat([F.avg_pool2d(rgbd[:, :3], k), F.max_pool2d(rgbd[:, 3:], k)], dim=1)

    def grow(self, logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """(B, C, h, w) network-pixel logits -> (B, C, H, W) at heightmap pixels (bilinear)."""
        if logits.shape[-2:] == size:
            return logits
        return F.interpolate(logits, size=size, mode="bilinear", align_corners=False)

    def net_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, 2) heightmap pixels -> the same cells' centres in network pixels (fractional)."""
        k = self.cfg.downsample
        return (pixels.float() + 0.5) / k - 0.5

    def pick_logits(self, rgbd: torch.Tensor, text: torch.Tensor | None
                    ) -> tuple[torch.Tensor, list[torch.Tensor] | None, torch.Tensor]:
        """rgbd (B, 4, H, W) -> pick logits (B, H, W), and what the place net reuses: the key's CLIP
        features and the padded scene, both in network pixels."""
        small = self.shrink(rgbd)
        padded = self.place.pad_input(small)
        pick_clip, key_clip = self._scene_clip(small, padded)
        logits = self.pick(small, pick_clip, text).reshape(small.shape[0], 1, *small.shape[-2:])
        return self.grow(logits, rgbd.shape[-2:])[:, 0], key_clip, padded

    def place_logits(self, padded: torch.Tensor, key_clip: list[torch.Tensor] | None, pick: torch.Tensor,
                     text: torch.Tensor | None, size: tuple[int, int]) -> torch.Tensor:
        """Place logits (B, R, H, W) at heightmap pixels, given the pick (B, 2) in heightmap pixels."""
        crops = self.place.crops(padded, self.net_pixels(pick))
        return self.grow(self.place(padded, key_clip, crops, self._clip(crops), text), size)

    def logits(self, rgbd: torch.Tensor, pick: torch.Tensor, text: torch.Tensor | None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """rgbd (B, 4, H, W); pick (B, 2) pixels where the place net crops -> pick (B, H*W), place (B, R, H, W)."""
        pick_logits, key_clip, padded = self.pick_logits(rgbd, text)
        place_logits = self.place_logits(padded, key_clip, pick, text, rgbd.shape[-2:])
        return pick_logits.flatten(1), place_logits

    def forward(self, batch: dict[str, torch.Tensor | list[str]]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Cross-entropy over all pick pixels and over all (rotation, pixel) place cells.

        The metrics stay (detached) tensors: reading them is a host sync, left to whoever shows them.
        """
        rgbd, pick, place, rot = batch["rgbd"], batch["pick_pixel"], batch["place_pixel"], batch["rotation_bin"]
        text = self.encode_text(list(batch["language"]))
        pick_logits, place_logits = self.logits(rgbd, pick, text)
        b, _, h, w = place_logits.shape
        pick_target = pick[:, 0] * w + pick[:, 1]
        place_target = (rot * h + place[:, 0]) * w + place[:, 1]
        pick_loss = F.cross_entropy(pick_logits, pick_target)
        place_loss = F.cross_entropy(place_logits.reshape(b, -1), place_target)
        metrics = {"pick_loss": pick_loss.detach(), "place_loss": place_loss.detach()}
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
        pick_map, key_clip, padded = self.pick_logits(rgbd, text)
        pick_logits = pick_map[0].flatten().float()
        pick_prob = torch.softmax(pick_logits, 0)
        index = int(pick_prob.argmax())
        h, w = rgbd.shape[-2:]
        pick_pixel = (index // w, index % w)
        times["pick"] = time.perf_counter() - t
        t = time.perf_counter()
        pick = torch.tensor([pick_pixel], device=rgbd.device)
        place_logits = self.place_logits(padded, key_clip, pick, text, (h, w))[0].float()
        place_prob = torch.softmax(place_logits.flatten(), 0)
        index = int(place_prob.argmax())
        r, rest = divmod(index, h * w)
        place_pixel = (rest // w, rest % w)
        times["place"] = time.perf_counter() - t
        times["total"] = time.perf_counter() - start
        angle = float(rotation_angles(self.cfg.n_rotations)[r])
        return Decision(
            pick_pixel=pick_pixel, place_pixel=place_pixel, rotation_bin=r,
            rotation=wrap_angle(angle),
            pick_confidence=float(pick_prob.max()), place_confidence=float(place_prob.max()),
            pick_logits=pick_logits.reshape(h, w).cpu().numpy(), place_logits=place_logits.cpu().numpy(),
            seconds=times,
        )


def count_parameters(module: nn.Module) -> tuple[int, int]:
    """(total, trainable) parameter counts."""
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return total, trainable
