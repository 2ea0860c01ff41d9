"""Building blocks shared by both streams: Transporter residual blocks, U-Net up-blocks, fusion layers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvBlock(nn.Module):
    """Bottleneck residual block with a projection shortcut (Transporter's ConvBlock)."""

    def __init__(self, in_ch: int, filters: tuple[int, int, int], stride: int = 1, final_relu: bool = True) -> None:
        super().__init__()
        f1, f2, f3 = filters
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, f1, 1, bias=False), nn.BatchNorm2d(f1), nn.ReLU(True),
            nn.Conv2d(f1, f2, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(f2), nn.ReLU(True),
            nn.Conv2d(f2, f3, 1, bias=False), nn.BatchNorm2d(f3),
        )
        self.shortcut = nn.Sequential(nn.Conv2d(in_ch, f3, 1, stride=stride, bias=False), nn.BatchNorm2d(f3))
        self.final_relu = final_relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x) + self.shortcut(x)
        return F.relu(out) if self.final_relu else out


class IdentityBlock(nn.Module):
    """Bottleneck residual block with an identity shortcut (Transporter's IdentityBlock)."""

    def __init__(self, ch: int, filters: tuple[int, int, int], final_relu: bool = True) -> None:
        super().__init__()
        f1, f2, f3 = filters
        self.body = nn.Sequential(
            nn.Conv2d(ch, f1, 1, bias=False), nn.BatchNorm2d(f1), nn.ReLU(True),
            nn.Conv2d(f1, f2, 3, padding=1, bias=False), nn.BatchNorm2d(f2), nn.ReLU(True),
            nn.Conv2d(f2, f3, 1, bias=False), nn.BatchNorm2d(f3),
        )
        self.final_relu = final_relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x) + x
        return F.relu(out) if self.final_relu else out


def res_stage(in_ch: int, out_ch: int, stride: int = 1, upsample: bool = False) -> nn.Sequential:
    """ConvBlock + IdentityBlock, optionally followed by x2 bilinear upsampling."""
    layers: list[nn.Module] = [ConvBlock(in_ch, (out_ch,) * 3, stride), IdentityBlock(out_ch, (out_ch,) * 3)]
    if upsample:
        layers.append(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
    return nn.Sequential(*layers)


class Up(nn.Module):
    """U-Net up-block: upsample x2, concatenate the skip, two 3x3 convs (``mid`` channels between them)."""

    def __init__(self, in_ch: int, out_ch: int, mid: int | None = None) -> None:
        super().__init__()
        mid = mid or in_ch // 2
        self.conv = nn.Sequential(
            nn.Conv2d(in_ch, mid, 3, padding=1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(True),
            nn.Conv2d(mid, out_ch, 3, padding=1, bias=False), nn.BatchNorm2d(out_ch), nn.ReLU(True),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([skip, x], dim=1))


class LateralFusion(nn.Module):
    """Spatial -> semantic lateral connection: concatenate, ReLU, 1x1 conv back to the semantic width."""

    def __init__(self, semantic_ch: int, spatial_ch: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.ReLU(True), nn.Conv2d(semantic_ch + spatial_ch, semantic_ch, 1, bias=False))

    def forward(self, semantic: torch.Tensor, spatial: torch.Tensor) -> torch.Tensor:
        if spatial.shape[-2:] != semantic.shape[-2:]:
            spatial = F.interpolate(spatial, size=semantic.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([semantic, spatial], dim=1))


class LanguageFusion(nn.Module):
    """Multiply features by a projection of the sentence embedding, tiled over the image (FusionMult)."""

    def __init__(self, text_dim: int, channels: int) -> None:
        super().__init__()
        self.proj = nn.Linear(text_dim, channels)

    def forward(self, x: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        return x * self.proj(text)[:, :, None, None].to(x.dtype)
