"""The two streams of one CLIPort network: Transporter ResNet (spatial) and CLIP decoder (semantic)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cliport_ros.model.blocks import ConvBlock, IdentityBlock, LanguageFusion, LateralFusion, Up, res_stage

# Ravens/Transporter input normalisation of the heightmap stream.
COLOR_MEAN, COLOR_STD = 0.18877631, 0.07276466
DEPTH_MEAN, DEPTH_STD = 0.00509261, 0.00903967


class SpatialStream(nn.Module):
    """Transporter ResNet on RGB + height x3: encoder to 1/16, decoder back up in 6 stages.

    Returns the output map and the 6 decoder features used for lateral fusion.
    """

    def __init__(self, widths: tuple[int, ...], decoder: tuple[int, ...], out_dim: int) -> None:
        super().__init__()
        stem, *enc = widths
        self.stem = nn.Sequential(nn.Conv2d(6, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem), nn.ReLU(True))
        chans = [stem, *enc]
        self.encoder = nn.ModuleList(
            [res_stage(chans[0], chans[1], stride=1)]
            + [res_stage(chans[i], chans[i + 1], stride=2) for i in range(1, len(chans) - 1)]
        )  # strides 1, 2, 2, 2, 2 -> 1/16
        dec_in = [chans[-1], *decoder[:-1]]
        # Four x2 upsamplings (1/16 -> 1/1), then two stages at full resolution.
        self.decoder = nn.ModuleList(
            [res_stage(dec_in[i], decoder[i], upsample=i < 4) for i in range(len(decoder))]
        )
        self.head = nn.Sequential(
            ConvBlock(decoder[-1], (16, 16, out_dim), final_relu=False),
            IdentityBlock(out_dim, (16, 16, out_dim), final_relu=False),
        )

    @staticmethod
    def normalise(rgbd: torch.Tensor) -> torch.Tensor:
        """(B, 4, H, W) rgb in [0, 1] + height in m -> the 6-channel Transporter input."""
        rgb = (rgbd[:, :3] - COLOR_MEAN) / COLOR_STD
        height = (rgbd[:, 3:4] - DEPTH_MEAN) / DEPTH_STD
        return torch.cat([rgb, height, height, height], dim=1)

    def forward(self, rgbd: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.stem(self.normalise(rgbd))
        for stage in self.encoder:
            x = stage(x)
        lateral = []
        for stage in self.decoder:
            x = stage(x)
            lateral.append(x)
        return self.head(x), lateral


class SemanticStream(nn.Module):
    """Decoder over frozen CLIP features with language fusion at 3 stages and lateral fusion at 6.

    With ``lateral_widths`` None it is the CLIP-only ablation (no spatial stream).
    """

    def __init__(self, image_dims: tuple[int, ...], text_dim: int, bottleneck: int,
                 decoder: tuple[int, ...], out_dim: int, lateral_widths: tuple[int, ...] | None,
                 lean: bool = False) -> None:
        """``lean`` (the small preset): 1x1 bottleneck conv and narrow up-blocks, so the
        2048-channel CLIP features do not dominate the trainable parameters."""
        super().__init__()
        d1, d2, d3, d4, d5, d6 = decoder
        k = 1 if lean else 3
        self.conv1 = nn.Sequential(nn.Conv2d(image_dims[3], bottleneck, k, padding=k // 2, bias=False), nn.ReLU(True))
        self.lang = nn.ModuleList([LanguageFusion(text_dim, bottleneck), LanguageFusion(text_dim, d1),
                                   LanguageFusion(text_dim, d2)])
        ins = (bottleneck + image_dims[2], d1 + image_dims[1], d2 + image_dims[0])
        self.up = nn.ModuleList([Up(i, o, mid=o if lean else None) for i, o in zip(ins, (d1, d2, d3), strict=True)])
        self.tail = nn.ModuleList([res_stage(d3, d4, upsample=True), res_stage(d4, d5, upsample=True),
                                   res_stage(d5, d6, upsample=False)])
        self.lateral = (
            nn.ModuleList([LateralFusion(s, p) for s, p in zip(decoder, lateral_widths, strict=True)])
            if lateral_widths is not None else None
        )
        self.head = nn.Conv2d(d6, out_dim, 1)

    def forward(self, clip_features: list[torch.Tensor], text: torch.Tensor,
                lateral: list[torch.Tensor] | None, out_size: tuple[int, int]) -> torch.Tensor:
        """CLIP features (1/4 .. 1/32), sentence (B, text_dim), the spatial stream's 6 decoder features."""

        def fuse(k: int, x: torch.Tensor) -> torch.Tensor:
            return self.lateral[k](x, lateral[k]) if self.lateral is not None else x

        f1, f2, f3, f4 = (f.float() for f in clip_features)
        x = self.conv1(f4)
        for k, skip in enumerate((f3, f2, f1)):
            x = fuse(k, self.up[k](self.lang[k](x, text), skip))
        for k, stage in enumerate(self.tail):
            x = fuse(3 + k, stage(x))
        return F.interpolate(self.head(x), size=out_size, mode="bilinear", align_corners=False)
