"""3D residual U-Net of the spec, built from MONAI blocks.

Input (N, 2, I, J, K): channel 0 the masked, noise-filled volume, channel 1 the
high-frequency channel h. Output (N, 1, I, J, K): the reconstructed volume (linear).
I, J, K must be divisible by 2 ** len(channels).
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import torch
from monai.networks.blocks import Convolution, ResidualUnit, UpSample
from torch import nn

from .profiles import Profile


class OneDnnConv3d(nn.Conv3d):
    """An nn.Conv3d that runs oneDNN (mkldnn) whenever no gradient is needed on a CPU.

    PyTorch's CPU dispatcher sends a batch-1 convolution whose N * C * D * H is at most 20480 to
    its im2col fallback, a rule tuned for 2D images: in the ``fast`` network that is 17 of the 24
    convolutions of an inference pass (the 2- to 16-channel inputs), each 4-12x slower than
    oneDNN (``scripts/time_network_passes.py``). Training (batch >= 2, gradients) is unaffected.
    Results agree with PyTorch's own choice to float32 rounding (``tests/ml/test_network.py``);
    ``pytorch_dispatch()`` restores that choice, to compare.
    """

    enabled = True

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if (OneDnnConv3d.enabled and input.device.type == "cpu" and input.dtype == torch.float32
                and not torch.is_grad_enabled() and not torch.is_autocast_enabled("cpu")
                and self.padding_mode == "zeros"
                and not isinstance(self.padding, str)
                and torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled):
            return torch.ops.aten.mkldnn_convolution(input, weight, bias, list(self.padding), list(self.stride),
                                                     list(self.dilation), self.groups)
        return super()._conv_forward(input, weight, bias)


@contextlib.contextmanager
def pytorch_dispatch() -> Iterator[None]:
    """Within the block, ``OneDnnConv3d`` leaves the choice of kernel to PyTorch (timing, tests)."""
    OneDnnConv3d.enabled = False
    try:
        yield
    finally:
        OneDnnConv3d.enabled = True


def mixed_precision_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast type for the network on ``device``: bfloat16 on a CUDA GPU that has it, else None
    (float32). Not float16: its range ends at 65504, and the shipped FLAIR model's first decoder
    convolution reaches about 1.2e5 on a normal brain, so float16 turned every training loss on a GPU
    into NaN (session 26) and would do the same to inference. bfloat16 keeps float32's range."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


class ResidualUNet3D(nn.Module):
    """Encoder: stride-2 residual units (two sub-units, batch norm, dropout) per width in
    ``channels``; a stride-1 residual bottleneck; decoder: nearest upsampling x2, concatenation
    with the encoder feature of the same scale (the input itself at full scale), two 3x3x3
    convolutions (widths ``decoder_channels``, default the encoder widths reversed); a final
    linear 1x1x1 convolution.
    """

    def __init__(
        self,
        channels: Sequence[int] = (16, 32, 64, 128),
        bottleneck: int = 256,
        dropout: float = 0.2,
        decoder_channels: Sequence[int] | None = None,
        in_channels: int = 2,
        out_channels: int = 1,
    ) -> None:
        super().__init__()
        self.channels = tuple(int(c) for c in channels)
        norm, act = "BATCH", "PRELU"
        self.encoder = nn.ModuleList()
        previous = in_channels
        for width in self.channels:
            self.encoder.append(
                ResidualUnit(3, previous, width, strides=2, kernel_size=3, subunits=2,
                             norm=norm, act=act, dropout=dropout)
            )
            previous = width
        self.bottleneck = ResidualUnit(3, previous, bottleneck, strides=1, kernel_size=3,
                                       subunits=2, norm=norm, act=act, dropout=dropout)
        # Skip features, deepest first: encoder outputs at 1/8, 1/4, 1/2, then the input.
        skips = list(reversed(self.channels[:-1])) + [in_channels]
        widths = list(decoder_channels) if decoder_channels else list(reversed(self.channels))
        if len(widths) != len(self.channels):
            raise ValueError("decoder_channels needs one width per encoder level")
        self.upsample = UpSample(3, scale_factor=2, mode="nontrainable", interp_mode="nearest",
                                 align_corners=None)
        self.decoder = nn.ModuleList()
        previous = bottleneck
        for skip, width in zip(skips, widths):
            self.decoder.append(nn.Sequential(
                Convolution(3, previous + skip, width, kernel_size=3, norm=norm, act=act, dropout=dropout),
                Convolution(3, width, width, kernel_size=3, norm=norm, act=act, dropout=dropout),
            ))
            previous = width
        self.head = Convolution(3, previous, out_channels, kernel_size=1, conv_only=True)
        for module in self.modules():
            if type(module) is nn.Conv3d:  # MONAI builds plain ones; same parameters, faster CPU inference
                module.__class__ = OneDnnConv3d

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """inputs (N, 2, I, J, K) -> reconstruction (N, 1, I, J, K)."""
        features = [inputs]
        hidden = inputs
        for stage in self.encoder:
            hidden = stage(hidden)
            features.append(hidden)
        hidden = self.bottleneck(hidden)
        skips = list(reversed(features[:-1]))
        for stage, skip in zip(self.decoder, skips):
            hidden = self.upsample(hidden)
            hidden = stage(torch.cat([hidden, skip], dim=1))
        return self.head(hidden)


def build_network(profile: Profile) -> ResidualUNet3D:
    """The network for ``profile`` (random initialisation)."""
    return ResidualUNet3D(profile.channels, profile.bottleneck, profile.dropout,
                          decoder_channels=profile.decoder_channels)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
