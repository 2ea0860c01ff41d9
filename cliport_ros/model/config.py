"""Typed model configuration: presets and the paper's ablations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from cliport_ros.perception.workspace import Workspace

STREAMS = ("two_stream", "transporter_only", "clip_only")
TEXT_ENCODERS = ("clip", "minilm")
# How the place net's query sees the R rotations: the reference runs the query network on R rotated
# crops; "turned" runs it once on a crop wide enough to turn, and turns its output features R times
# (exact only for a rotation-equivariant network; a named departure that costs 1/R of the query).
QUERY_MODES = ("rotated_crops", "turned")


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
    in_shape: tuple[int, int] = Workspace().shape  # heightmap rows, cols
    # The networks run on the heightmap pooled by this factor (colour averaged, height the maximum) and
    # their logits are upsampled back to heightmap pixels, so labels and decisions keep full resolution.
    downsample: int = 1
    query: str = "rotated_crops"
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.streams not in STREAMS:
            raise ValueError(f"ModelConfig: streams={self.streams!r} must be one of {STREAMS}")
        if self.text_encoder not in TEXT_ENCODERS:
            raise ValueError(f"ModelConfig: text_encoder={self.text_encoder!r} must be one of {TEXT_ENCODERS}")
        if len(self.spatial_widths) != 6 or len(self.decoder_widths) != 6:
            raise ValueError("ModelConfig: spatial_widths and decoder_widths need 6 entries each")
        if self.downsample not in (1, 2):
            raise ValueError(f"ModelConfig: downsample={self.downsample} must be 1 or 2")
        if self.query not in QUERY_MODES:
            raise ValueError(f"ModelConfig: query={self.query!r} must be one of {QUERY_MODES}")
        if any(n % self.downsample for n in self.in_shape):
            raise ValueError(f"ModelConfig: in_shape={self.in_shape} must be divisible by downsample={self.downsample}")
        if self.crop_size % (2 * self.downsample) or self.crop_size // self.downsample < 8:
            raise ValueError(f"ModelConfig: crop_size={self.crop_size} must be a multiple of 2 x downsample "
                             f"and at least 8 network pixels")
        # The spatial stream's encoder halves four times and its decoder doubles back: every grid it sees
        # (the scene, the padded scene, the crops) must be a multiple of 16 network pixels.
        if any(n % 16 for n in self.net_shape) or self.net_crop % 16:
            raise ValueError(f"ModelConfig: in_shape={self.in_shape} and crop_size={self.crop_size} over "
                             f"downsample={self.downsample} must be multiples of 16 network pixels")
        if self.n_rotations < 1:
            raise ValueError(f"ModelConfig: n_rotations={self.n_rotations} must be >= 1")

    @property
    def net_shape(self) -> tuple[int, int]:
        """Rows and columns of the grid the networks see."""
        return (self.in_shape[0] // self.downsample, self.in_shape[1] // self.downsample)

    @property
    def net_crop(self) -> int:
        """The query crop in network pixels."""
        return self.crop_size // self.downsample

    def to_dict(self) -> dict:
        return asdict(self)


_SMALL = ModelConfig(
    preset="small",
    spatial_widths=(16, 16, 32, 64, 128, 256),
    decoder_widths=(128, 64, 32, 16, 16, 16),
    semantic_bottleneck=128,
    lean_semantic=True,
)

PRESETS = {
    "full": ModelConfig(preset="full"),
    "small": _SMALL,
    # Trainable on a 2-core CPU (the shipped checkpoint): the small widths at half resolution (6.25 mm
    # cells) and the query computed once and turned. Departs from the reference in those two ways only.
    "cpu": replace(_SMALL, preset="cpu", downsample=2, query="turned"),
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
