"""One two-stream network: spatial (Transporter) + semantic (CLIP) streams and their output fusion."""

from __future__ import annotations

import torch
from torch import nn

from cliport_ros.model.clip_backbone import FrozenCLIP
from cliport_ros.model.config import ModelConfig
from cliport_ros.model.streams import SemanticStream, SpatialStream


class TwoStreamNet(nn.Module):
    """rgbd (B, 4, H, W) + sentence features -> (B, out_dim, H, W).

    ``fusion``: "add" (pick) or "conv" (place: concatenate, ReLU, 1x1 conv).
    The ablations drop a stream: transporter_only has no semantic stream (and
    no language), clip_only no spatial stream.
    """

    def __init__(self, cfg: ModelConfig, clip: FrozenCLIP | None, text_dim: int, out_dim: int, fusion: str) -> None:
        super().__init__()
        self.streams = cfg.streams
        self.spatial = (
            SpatialStream(cfg.spatial_widths, cfg.decoder_widths, out_dim) if cfg.streams != "clip_only" else None
        )
        self.semantic = None
        if cfg.streams != "transporter_only":
            if clip is None:
                raise ValueError(f"streams={cfg.streams!r} needs the CLIP backbone")
            lateral = cfg.decoder_widths if cfg.streams == "two_stream" else None
            self.semantic = SemanticStream(FrozenCLIP.image_dims, text_dim, cfg.semantic_bottleneck,
                                           cfg.decoder_widths, out_dim, lateral, lean=cfg.lean_semantic)
        self.fusion = fusion
        if fusion == "conv" and cfg.streams == "two_stream":
            self.fuse = nn.Sequential(nn.ReLU(True), nn.Conv2d(2 * out_dim, out_dim, 1, bias=False))
        elif fusion not in ("add", "conv"):
            raise ValueError(f"unknown output fusion {fusion!r}")

    def forward(self, rgbd: torch.Tensor, clip_features: list[torch.Tensor] | None,
                text: torch.Tensor | None) -> torch.Tensor:
        size = rgbd.shape[-2:]
        spatial, lateral = self.spatial(rgbd) if self.spatial is not None else (None, None)
        if self.semantic is None:
            return spatial
        semantic = self.semantic(clip_features, text, lateral, size)
        if spatial is None:
            return semantic
        if self.fusion == "add":
            return spatial + semantic
        return self.fuse(torch.cat([spatial, semantic], dim=1))
