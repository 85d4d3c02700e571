"""The network's CPU inference path (oneDNN for every convolution, same numbers as PyTorch's choice)
and its mixed precision on a GPU."""
from __future__ import annotations

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from itermask3d.checkpoints import default_weights_path, load_state
from itermask3d.data import synthetic_source
from itermask3d.inference import NetworkReconstructor
from itermask3d.networks import OneDnnConv3d, build_network, mixed_precision_dtype, pytorch_dispatch
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


def test_mixed_precision_is_bfloat16_on_a_gpu_that_has_it_else_float32(monkeypatch):
    assert mixed_precision_dtype(torch.device("cpu")) is None
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)  # no GPU here
    assert mixed_precision_dtype(torch.device("cuda")) is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    assert mixed_precision_dtype(torch.device("cuda")) is None


def test_shipped_flair_model_stays_finite_in_the_gpus_mixed_precision(monkeypatch):
    """float16 turned the shipped FLAIR model's activations into inf (its first decoder convolution
    exceeds 65504); the mixed precision chosen for a GPU, run here through the CPU's autocast, must
    reconstruct a normal FLAIR brain as float32 does."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    gpu_precision = mixed_precision_dtype(torch.device("cuda"))
    profile = get_profile("fast")
    model = build_network(profile).to(memory_format=torch.channels_last_3d)
    model.load_state_dict(load_state(default_weights_path("fast", "flair")))
    x, h, brain = next(synthetic_source(profile, "flair", seed=0))
    mask = np.zeros_like(brain)
    mask[40:56, 40:56, 40:56] = brain[40:56, 40:56, 40:56]
    cpu = torch.device("cpu")
    reference = NetworkReconstructor(model, x, h, cpu, seed=1)(mask)
    mixed = NetworkReconstructor(model, x, h, cpu, seed=1, precision=gpu_precision)(mask)
    assert mixed.dtype == np.float32 and np.isfinite(mixed).all()
    assert float(np.abs(mixed - reference)[brain].mean()) < 0.01  # intensities span about 0..1
