"""Typed model configuration: presets and the paper's ablations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

STREAMS = ("two_stream", "transporter_only", "clip_only")
TEXT_ENCODERS = ("clip", "minilm")


@dataclass(frozen=True)
class ModelConfig:
    """Widths and options of the pick (attention) and place (transport) networks.

    ``spatial_widths``: Transporter ResNet encoder widths (stem, then 4 stride-2 stages to 1/16).
    ``decoder_widths``: the 6 decoder stages of both streams, where lateral fusion happens.
    """

    preset: str = "full"
    streams: str = "two_stream"
    text_encoder: str = "clip"
    clip_weights: str = "openai"
    spatial_widths: tuple[int, ...] = (64, 64, 128, 256, 512, 1024)
    decoder_widths: tuple[int, ...] = (512, 256, 128, 64, 32, 16)
    semantic_bottleneck: int = 1024
    lean_semantic: bool = False  # 1x1 bottleneck and narrow up-blocks (small preset)
    n_rotations: int = 36
    crop_size: int = 64
    kernel_dim: int = 3  # channels of the transport key/query features
    in_shape: tuple[int, int] = (320, 160)  # heightmap rows, cols
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.streams not in STREAMS:
            raise ValueError(f"ModelConfig: streams={self.streams!r} must be one of {STREAMS}")
        if self.text_encoder not in TEXT_ENCODERS:
            raise ValueError(f"ModelConfig: text_encoder={self.text_encoder!r} must be one of {TEXT_ENCODERS}")
        if len(self.spatial_widths) != 6 or len(self.decoder_widths) != 6:
            raise ValueError("ModelConfig: spatial_widths and decoder_widths need 6 entries each")
        if self.crop_size % 2 or self.crop_size < 8:
            raise ValueError(f"ModelConfig: crop_size={self.crop_size} must be even and >= 8")
        if self.streams != "transporter_only" and (self.crop_size // 2) % 32:
            raise ValueError(f"ModelConfig: crop_size={self.crop_size} must be a multiple of 64 with CLIP image "
                             "features (the pick reuses the padded scene's CLIP cells, 32 px wide)")
        if self.n_rotations < 1:
            raise ValueError(f"ModelConfig: n_rotations={self.n_rotations} must be >= 1")

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS = {
    "full": ModelConfig(preset="full"),
    "small": ModelConfig(
        preset="small",
        spatial_widths=(16, 16, 32, 64, 128, 256),
        decoder_widths=(128, 64, 32, 16, 16, 16),
        semantic_bottleneck=128,
        lean_semantic=True,
    ),
    # Smoke tests only (DDP, CLI plumbing): the architecture at a few channels, far too narrow to learn a task.
    "tiny": ModelConfig(
        preset="tiny",
        spatial_widths=(8, 8, 8, 16, 16, 16),
        decoder_widths=(16, 16, 8, 8, 8, 8),
        semantic_bottleneck=16,
        lean_semantic=True,
    ),
}


def preset(name: str, **overrides) -> ModelConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {sorted(PRESETS)}")
    return replace(PRESETS[name], **overrides)
