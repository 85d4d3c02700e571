"""Time the network's passes, the unit of inference cost (a case takes about 30-120 of them).

For each profile: a pass over the whole grid as inference runs it (eval mode, channels-last, the
autocast type of ``networks.mixed_precision_dtype``: bfloat16 on CUDA), median of ``--repeats`` after
two warm-ups, and the peak GPU memory on CUDA. On a CPU also the same pass with PyTorch's own choice
of convolution kernels (``networks.pytorch_dispatch``), which inference no longer uses.
Writes a JSON report; the weights are random, which does not change the time.

    .venv/bin/python scripts/time_network_passes.py --device cpu --profiles fast --out passes.json
    python3 scripts/time_network_passes.py --device cuda --profiles fast,paper --out $OUT/passes.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from itermask3d.checkpoints import hardware_description, resolve_device
from itermask3d.networks import build_network, count_parameters, mixed_precision_dtype, pytorch_dispatch
from itermask3d.profiles import get_profile


def _median_seconds(model: torch.nn.Module, inputs: torch.Tensor, repeats: int,
                    precision: torch.dtype | None) -> float:
    seconds = []
    with torch.inference_mode(), torch.autocast(inputs.device.type, dtype=precision, enabled=precision is not None):
        for i in range(repeats + 2):
            began = time.perf_counter()
            model(inputs)
            if inputs.device.type == "cuda":
                torch.cuda.synchronize(inputs.device)
            if i >= 2:
                seconds.append(time.perf_counter() - began)
    return round(statistics.median(seconds), 5)


def time_passes(profile_name: str, device: torch.device, repeats: int) -> dict:
    """Seconds per inference pass of ``profile_name``'s network on ``device`` (median of ``repeats``)."""
    profile = get_profile(profile_name)
    model = build_network(profile).to(device, memory_format=torch.channels_last_3d).eval()
    inputs = torch.randn(1, 2, *profile.shape, device=device).contiguous(memory_format=torch.channels_last_3d)
    precision = mixed_precision_dtype(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    report = {"profile": profile_name, "grid": list(profile.shape), "parameters": count_parameters(model),
              "precision": str(precision or torch.float32).replace("torch.", ""),
              "seconds_per_pass": _median_seconds(model, inputs, repeats, precision), "repeats": repeats}
    if device.type == "cpu":
        with pytorch_dispatch():
            report["seconds_per_pass_pytorch_dispatch"] = _median_seconds(model, inputs, repeats, precision)
    if device.type == "cuda":
        report["peak_memory_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--profiles", default="fast", help="comma-separated, e.g. fast,paper")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    device = resolve_device(args.device)
    results = [time_passes(name.strip(), device, args.repeats) for name in args.profiles.split(",") if name.strip()]
    report = {"device": hardware_description(device), "torch": torch.__version__, "passes": results}
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
