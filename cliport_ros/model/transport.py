"""The place network: key features of the whole heightmap correlated with query features of
rotated crops around the pick, giving logits over (rotation, row, col)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from cliport_ros.model.clip_backbone import FrozenCLIP
from cliport_ros.model.config import ModelConfig
from cliport_ros.model.correlation import correlate_fft
from cliport_ros.model.two_stream import TwoStreamNet


def rotation_angles(n: int) -> torch.Tensor:
    """Rotation of bin r: r * 2 pi / n radians, counter-clockwise about +z (x = columns, y = rows)."""
    return torch.arange(n, dtype=torch.float32) * (2 * math.pi / n)


def rotated_crops(image: torch.Tensor, centre: torch.Tensor, size: int, n_rotations: int) -> torch.Tensor:
    """Crops (B * R, C, size, size) around ``centre`` (B, 2) as (row, col), sampled on grids turned by each bin.

    Crop pixel (i, j) has offset d = (j - size/2, i - size/2) in (x = col, y = row) from the
    centre pixel, and reads the image at centre + R(theta_r) d (bilinear, zeros outside): bin 0
    is the plain crop ``image[r - s/2 : r + s/2, c - s/2 : c + s/2]``, as in the reference.
    """
    b, _, h, w = image.shape
    angles = rotation_angles(n_rotations).to(image.device)
    offsets = torch.arange(size, dtype=torch.float32, device=image.device) - size // 2
    dy, dx = torch.meshgrid(offsets, offsets, indexing="ij")  # (size, size)
    cos, sin = torch.cos(angles)[:, None, None], torch.sin(angles)[:, None, None]
    x = dx * cos - dy * sin  # (R, size, size) offsets in columns
    y = dx * sin + dy * cos  # ... in rows
    centre = centre.to(image.device, torch.float32)
    cols = centre[:, 1, None, None, None] + 0.5 + x  # pixel centres are at +0.5
    rows = centre[:, 0, None, None, None] + 0.5 + y
    grid = torch.stack([cols / w * 2 - 1, rows / h * 2 - 1], dim=-1)  # (B, R, size, size, 2)
    grid = grid.reshape(b * n_rotations, size, size, 2).to(image.dtype)
    source = image.repeat_interleave(n_rotations, dim=0)
    return F.grid_sample(source, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def turn_width(crop: int, multiple: int = 16) -> int:
    """Side of a crop that still covers a ``crop`` x ``crop`` square turned by any angle, rounded up to a
    ``multiple`` of the spatial stream's 1/16 encoder so its decoder comes back to the same size."""
    return multiple * math.ceil(crop * math.sqrt(2) / multiple)


class PlaceNet(nn.Module):
    """rgbd (B, 4, H, W), pick pixels (B, 2), sentence -> place logits (B, R, H, W), all in network pixels.

    ``cfg.query == "rotated_crops"`` (the reference): the query network runs on R crops around the
    pick, each sampled on a grid turned by its bin. ``"turned"``: it runs once on a wider crop and
    its output features are sampled on the R turned grids instead (1/R of the query's cost).
    """

    def __init__(self, cfg: ModelConfig, clip: FrozenCLIP | None, text_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.crop = cfg.net_crop
        self.pad = self.crop // 2
        self.key = TwoStreamNet(cfg, clip, text_dim, out_dim=cfg.kernel_dim, fusion="conv")
        self.query = TwoStreamNet(cfg, clip, text_dim, out_dim=cfg.kernel_dim, fusion="conv")

    @property
    def turned(self) -> bool:
        return self.cfg.query == "turned"

    def pad_input(self, rgbd: torch.Tensor) -> torch.Tensor:
        p = self.pad
        return F.pad(rgbd, (p, p, p, p))

    def crops(self, padded: torch.Tensor, pick: torch.Tensor) -> torch.Tensor:
        """The query's input around ``pick`` (B, 2) (row, col): (B * R, 4, k, k), or (B, 4, K, K) when turned."""
        if self.turned:
            return rotated_crops(padded, pick + self.pad, turn_width(self.crop), 1)
        return rotated_crops(padded, pick + self.pad, self.crop, self.cfg.n_rotations)

    def forward(self, padded: torch.Tensor, key_clip: list[torch.Tensor] | None, crops: torch.Tensor,
                crop_clip: list[torch.Tensor] | None, text: torch.Tensor | None) -> torch.Tensor:
        """padded (B, 4, H + 2p, W + 2p); crops from :meth:`crops`; CLIP features of each."""
        b, r = padded.shape[0], self.cfg.n_rotations
        key = self.key(padded, key_clip, text)
        if self.turned:
            wide = self.query(crops, crop_clip, text)  # (B, C, K, K), the pick at pixel K // 2
            centre = torch.full((b, 2), float(wide.shape[-1] // 2), device=wide.device)
            query = rotated_crops(wide, centre, self.crop, r)
        else:
            query = self.query(crops, crop_clip, text.repeat_interleave(r, dim=0) if text is not None else None)
        kernels = query.reshape(b, r, *query.shape[1:])
        out = correlate_fft(key, kernels, padding=self.pad)  # (B, R, Hp + 1, Wp + 1)
        out = F.interpolate(out, size=padded.shape[-2:], mode="bilinear", align_corners=False)
        return out[:, :, self.pad : -self.pad, self.pad : -self.pad]
