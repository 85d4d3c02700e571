"""The network's CPU inference path: oneDNN for every convolution, same numbers as PyTorch's choice."""
from __future__ import annotations

import torch
from torch.profiler import ProfilerActivity, profile

from itermask3d.networks import OneDnnConv3d, build_network, pytorch_dispatch
from itermask3d.profiles import get_profile


def _model_and_input() -> tuple[torch.nn.Module, torch.Tensor]:
    torch.manual_seed(3)
    model = build_network(get_profile("tiny")).to(memory_format=torch.channels_last_3d).eval()
    inputs = torch.randn(1, 2, 48, 48, 48)
    return model, inputs


def _kernels(model: torch.nn.Module, inputs: torch.Tensor) -> set[str]:
    with profile(activities=[ProfilerActivity.CPU]) as run:
        model(inputs)
    return {event.name for event in run.events()
            if ("conv" in event.name and "forward" in event.name) or event.name == "aten::mkldnn_convolution"}


def test_every_convolution_is_the_onednn_one():
    model, _ = _model_and_input()
    convolutions = [m for m in model.modules() if isinstance(m, torch.nn.Conv3d)]
    assert convolutions and all(type(m) is OneDnnConv3d for m in convolutions)


def test_inference_matches_pytorchs_own_kernels_and_avoids_the_slow_one():
    model, inputs = _model_and_input()
    with torch.inference_mode():
        ours = model(inputs)
        used = _kernels(model, inputs)
        with pytorch_dispatch():
            reference = model(inputs)
            theirs = _kernels(model, inputs)
    # the tiny network's 4-channel levels fall under PyTorch's batch-1 rule, as the fast profile's do
    assert "aten::slow_conv3d_forward" in theirs
    assert "aten::slow_conv3d_forward" not in used
    assert torch.allclose(ours, reference, rtol=1e-4, atol=1e-5)
