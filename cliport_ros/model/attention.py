"""The pick network: one affordance map over the heightmap."""

from __future__ import annotations

import torch
from torch import nn

from cliport_ros.model.clip_backbone import FrozenCLIP
from cliport_ros.model.config import ModelConfig
from cliport_ros.model.two_stream import TwoStreamNet


class PickNet(nn.Module):
    """rgbd (B, 4, H, W), CLIP features of its colour, sentence -> pick logits (B, H * W)."""

    def __init__(self, cfg: ModelConfig, clip: FrozenCLIP | None, text_dim: int) -> None:
        super().__init__()
        self.net = TwoStreamNet(cfg, clip, text_dim, out_dim=1, fusion="add")

    def forward(self, rgbd: torch.Tensor, clip_features: list[torch.Tensor] | None,
                text: torch.Tensor | None) -> torch.Tensor:
        return self.net(rgbd, clip_features, text).flatten(1)
