"""The frozen CLIP RN50, built once and shared by every stream (the reference holds three copies).

Weights: ``openai`` (open_clip's download/cache), a local checkpoint file,
or ``random:<seed>`` — deterministic random weights for machines that cannot
download any; useless for language grounding, loudly flagged, but enough to
exercise and benchmark the architecture. A fingerprint of the weights goes
into every checkpoint so a policy never runs on frozen weights it was not
trained with.
"""

from __future__ import annotations

import hashlib
import itertools
import logging

import open_clip
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

log = logging.getLogger(__name__)

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def fingerprint(module: nn.Module) -> str:
    """sha256 over every parameter and buffer (names, shapes and values), first 16 hex digits."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().to(torch.float32).cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


class FrozenCLIP(nn.Module):
    """CLIP RN50: image features before attention pooling (plus the intermediate maps), sentence features."""

    text_dim = 1024
    image_dims = (256, 512, 1024, 2048)  # layer1..layer4 channels ...
    strides = (4, 8, 16, 32)  # ... at these strides

    def __init__(self, weights: str = "openai") -> None:
        super().__init__()
        self.weights = weights
        if weights.startswith("random:"):
            seed = int(weights.split(":", 1)[1])
            log.warning("CLIP weights are RANDOM (seed %d): language and image grounding will not work; "
                        "use clip_weights=openai or a local file for real policies", seed)
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                model = open_clip.create_model("RN50", pretrained=None)
        elif weights == "openai":
            model = open_clip.create_model("RN50", pretrained="openai")
        else:
            model = open_clip.create_model("RN50", pretrained=weights)
        model.eval().requires_grad_(False)
        self.visual = model.visual
        self.text_model = model  # encode_text lives on the full model
        del model.visual  # keep one copy of the image tower
        self.tokenizer = open_clip.get_tokenizer("RN50")
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)
        self.fingerprint = fingerprint(self)  # of the weights as published, before folding
        fold_batchnorm(self.visual)
        self._text_cache: dict[str, torch.Tensor] = {}  # frozen: a sentence always encodes the same

    def train(self, mode: bool = True) -> FrozenCLIP:
        return super().train(False)  # frozen: BatchNorm statistics never change

    @torch.no_grad()
    def encode_image(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        """rgb (B, 3, H, W) in [0, 1] -> [layer1 (1/4), layer2 (1/8), layer3 (1/16), layer4 (1/32)] features."""
        v = self.visual
        x = (rgb - self.mean) / self.std
        x = x.to(v.conv1.weight.dtype)
        x = v.act1(v.bn1(v.conv1(x)))
        x = v.act2(v.bn2(v.conv2(x)))
        x = v.act3(v.bn3(v.conv3(x)))
        x = v.avgpool(x)
        features = []
        for layer in (v.layer1, v.layer2, v.layer3, v.layer4):
            x = layer(x)
            features.append(x)
        return features

    @classmethod
    def centre(cls, features: list[torch.Tensor], margin: int) -> list[torch.Tensor]:
        """Features of an image padded by ``margin`` px on every side -> the features over the unpadded part.

        Exact cells only: ``margin`` must be a multiple of the coarsest stride, so every level's
        grid lines up with the unpadded image.
        """
        if margin % cls.strides[-1]:
            raise ValueError(f"margin {margin} px is not a multiple of CLIP's {cls.strides[-1]} px stride")
        out = []
        for f, stride in zip(features, cls.strides, strict=True):
            m = margin // stride
            out.append(f[..., m : f.shape[-2] - m, m : f.shape[-1] - m] if m else f)
        return out

    @torch.no_grad()
    def encode_text(self, sentences: list[str]) -> torch.Tensor:
        """Sentences -> (B, 1024) CLIP sentence features; each distinct sentence is encoded once."""
        new = sorted({s for s in sentences if s not in self._text_cache})
        if new:
            if len(self._text_cache) > 4096:
                self._text_cache.clear()
            tokens = self.tokenizer(new).to(self.mean.device)
            for sentence, feature in zip(new, self.text_model.encode_text(tokens).float(), strict=True):
                self._text_cache[sentence] = feature
        return torch.stack([self._text_cache[s] for s in sentences])


def fold_batchnorm(module: nn.Module) -> None:
    """Fold each eval-mode BatchNorm into the convolution before it, in place.

    For frozen weights only: the outputs are the same to float rounding (relative
    error ~1e-7), and every BatchNorm pass over the activations disappears.
    """
    for child in module.children():
        fold_batchnorm(child)
    names = list(module._modules)
    for conv_name, bn_name in itertools.pairwise(names):
        conv, bn = module._modules[conv_name], module._modules[bn_name]
        if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
            module._modules[conv_name] = fuse_conv_bn_eval(conv.eval(), bn.eval())
            module._modules[bn_name] = nn.Identity()
