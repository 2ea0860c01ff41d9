"""Cross-correlation of rotated query kernels over the key feature map.

``F.conv2d`` computes exactly this, but on CPU a 36 x C x 64 x 64 kernel over
a contiguous NCHW key is very slow (tens of seconds); the FFT version
computes the same numbers (to float rounding) in a fraction of a second.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def correlate_conv(key: torch.Tensor, kernels: torch.Tensor, padding: int) -> torch.Tensor:
    """Reference: key (1, C, H, W), kernels (R, C, k, k) -> (1, R, H + 2p - k + 1, W + 2p - k + 1)."""
    return F.conv2d(key, kernels, padding=padding)


def correlate_fft(key: torch.Tensor, kernels: torch.Tensor, padding: int) -> torch.Tensor:
    """Same result as :func:`correlate_conv`, computed with real FFTs, for a batch at once.

    key (B, C, H, W); kernels (R, C, kh, kw) shared by the batch, or (B, R, C, kh, kw), one set per
    item -> (B, R, H + 2p - kh + 1, W + 2p - kw + 1). Correlation is convolution with the flipped
    kernel; the channel sum is taken in the frequency domain, so only B x R inverse transforms are needed.
    """
    if kernels.dim() == 4:
        kernels = kernels[None]
    key = F.pad(key, (padding, padding, padding, padding))
    h, w = key.shape[-2:]
    kh, kw = kernels.shape[-2:]
    out_h, out_w = h - kh + 1, w - kw + 1
    fft_h, fft_w = h, w  # linear correlation fits: the valid part never wraps around
    key_f = torch.fft.rfft2(key.float(), s=(fft_h, fft_w))[:, None]  # (B, 1, C, fh, fw')
    kernel_f = torch.fft.rfft2(kernels.float().flip(-2, -1), s=(fft_h, fft_w))  # (B or 1, R, C, fh, fw')
    product = (key_f * kernel_f).sum(dim=2)  # (B, R, fh, fw')
    full = torch.fft.irfft2(product, s=(fft_h, fft_w))
    return full[:, :, kh - 1 : kh - 1 + out_h, kw - 1 : kw - 1 + out_w].to(kernels.dtype)
