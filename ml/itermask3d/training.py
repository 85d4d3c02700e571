"""Training the reconstruction network on normal volumes (the spec's masked in-filling).

Per sample: a random spec mask m, x_in = (1 - m) x + m n with n ~ N(0, 1), network input
[x_in, h], MSE against x over the whole volume (optionally with the masked voxels weighted
more, ``masked_weight``; 1 is the spec's); Adam (lr then lr/10 for the last fifth),
mixed precision (bfloat16) on CUDA, optional random 90-degree rotations. Writes a resumable training
checkpoint, the weights + metadata json, and a loss log (csv; always the plain MSE).
"""
from __future__ import annotations

import csv
import functools
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from .checkpoints import (code_version, hardware_description, load_state, read_metadata, resolve_device,
                          save_weights)
from .data import folder_source, synthetic_source
from .networks import build_network, count_parameters, mixed_precision_dtype
from .preprocessing import DEFAULT_SCALING, check_scaling
from .profiles import get_profile
from .samples import TrainingSamples, noise_filled_inputs


@dataclass
class TrainConfig:
    """Training options. data: "synthetic" or a folder of normal NIfTI scans;
    out: weights path (.pt); steps: optimisation steps; batch: volumes per step;
    lr / late_lr: Adam learning rate before / during the last ``late_fraction`` of steps (or of
    ``max_seconds``, a wall-clock budget after which training stops early);
    pool_size / refresh_every: volume pool size and steps between pool refreshes (with workers, each
    keeps pool_size / workers volumes and refreshes as often, so generation keeps pace with a GPU);
    workers: DataLoader worker processes that generate samples beside the training (0: in this one);
    rot90_probability: chance of a random 90-degree rotation of a sample (before cropping);
    crop: train on random crops of this size (None: the profile's, ``Profile.train_crop``);
    whole_grid: train on the whole grid instead of crops (what inference sees; affordable on a GPU);
    init_from: weights to start from when not resuming (e.g. another sequence's model);
    scaling: intensity scaling of the inputs (preprocessing.SCALINGS), recorded in the metadata;
    masked_weight: weight of a masked voxel's squared error against 1 for every other voxel (1: the
    spec's plain MSE; see ``reconstruction_loss``)."""

    profile: str = "fast"
    sequence: str = "t1"
    data: str = "synthetic"
    out: str = "weights.pt"
    steps: int = 1000
    batch: int = 2
    lr: float = 1e-3
    late_lr: float = 1e-4
    late_fraction: float = 0.2
    seed: int = 0
    device: str = "auto"
    pool_size: int = 24
    refresh_every: int = 4
    workers: int = 0
    rot90_probability: float = 0.1
    crop: tuple[int, int, int] | None = None
    whole_grid: bool = False
    init_from: str | None = None
    checkpoint_every: int = 100
    max_seconds: float | None = None
    resume: bool = True
    scaling: str = DEFAULT_SCALING
    masked_weight: float = 1.0


def reconstruction_loss(prediction: torch.Tensor, targets: torch.Tensor, masks: torch.Tensor,
                        masked_weight: float = 1.0) -> torch.Tensor:
    """Mean squared error over the whole volume, each masked voxel counted ``masked_weight`` times.

    prediction, targets, masks: (B, 1, I, J, K). With weight 1 this is the spec's plain MSE. A
    small mask leaves most of the plain loss to copying the unmasked voxels; a weight above 1 keeps
    the in-filling, what the refinement thresholds, in charge of the gradient."""
    squared = (prediction.float() - targets) ** 2
    if masked_weight == 1.0:
        return torch.mean(squared)
    weights = 1.0 + (masked_weight - 1.0) * masks
    return torch.sum(weights * squared) / torch.sum(weights)


def _checkpoint_path(out: Path) -> Path:
    return out.with_suffix(".ckpt")


def train(config: TrainConfig, show_progress: bool = True) -> dict:
    """Run training as configured; returns the metadata written next to the weights."""
    profile = get_profile(config.profile)
    device = resolve_device(config.device)
    out = Path(config.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    log_path = out.with_name(out.stem + "_loss.csv")
    torch.manual_seed(config.seed)
    # channels-last 3D layout: about 1.5x faster convolutions on CPU (oneDNN) in our tests.
    memory_format = torch.channels_last_3d
    model = build_network(profile).to(device, memory_format=memory_format)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    # bfloat16 needs no loss scaling: it has float32's range (networks.mixed_precision_dtype)
    precision = mixed_precision_dtype(device)
    step, seconds_before = 0, 0.0
    ckpt_path = _checkpoint_path(out)
    if config.resume and ckpt_path.exists():
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        step, seconds_before = int(state["step"]), float(state["seconds"])
    else:
        if log_path.exists():
            log_path.unlink()
        if config.init_from:
            model.load_state_dict(load_state(Path(config.init_from)))
    data_seed = config.seed + 104729 * step  # a resumed run draws new volumes and masks
    if config.data == "synthetic":
        make_source = functools.partial(synthetic_source, profile, config.sequence, scaling=config.scaling)
        description = f"synthetic normal {config.sequence} brains from the MNI152 2009 template (itermask3d.synthetic)"
    else:
        make_source = functools.partial(folder_source, Path(config.data), profile, config.sequence,
                                        scaling=config.scaling)
        description = f"normal {config.sequence} scans from {config.data}"
    crop = None if config.whole_grid else tuple(config.crop) if config.crop else profile.train_crop
    samples = TrainingSamples(make_source, config.pool_size, config.refresh_every * config.batch,
                              profile.mask_grid_factors, config.rot90_probability, crop, data_seed)
    batches = iter(DataLoader(samples, batch_size=config.batch, num_workers=config.workers,
                              pin_memory=device.type == "cuda", prefetch_factor=4 if config.workers else None))
    noise = torch.Generator(device=device).manual_seed(data_seed)
    start = time.time()
    recent: list[float] = []
    new_log = not log_path.exists()
    with open(log_path, "a", newline="") as log_file:
        writer = csv.writer(log_file)
        if new_log:
            writer.writerow(["step", "loss", "lr", "seconds"])
        bar = tqdm(total=config.steps, initial=step, disable=not show_progress,
                   desc=f"train {profile.name}/{config.sequence}")
        model.train()
        try:
            while step < config.steps:
                elapsed = seconds_before + time.time() - start
                late = step >= (1.0 - config.late_fraction) * config.steps or (
                    config.max_seconds is not None and elapsed >= (1.0 - config.late_fraction) * config.max_seconds)
                lr = config.late_lr if late else config.lr
                for group in optimiser.param_groups:
                    group["lr"] = lr
                x, h, mask = (t.to(device, non_blocking=True) for t in next(batches))
                inputs = noise_filled_inputs(x, h, mask, noise).contiguous(memory_format=memory_format)
                targets, masks = x[:, None], mask[:, None].float()
                optimiser.zero_grad(set_to_none=True)
                with torch.autocast(device.type, dtype=precision, enabled=precision is not None):
                    prediction = model(inputs)
                loss = reconstruction_loss(prediction, targets, masks, config.masked_weight)
                loss.backward()
                optimiser.step()
                step += 1
                # the log keeps the plain MSE, so that runs with other masked weights compare
                value = float(loss.detach()) if config.masked_weight == 1.0 else float(
                    torch.mean((prediction.detach().float() - targets) ** 2))
                recent = (recent + [value])[-50:]
                elapsed = seconds_before + time.time() - start
                writer.writerow([step, f"{value:.6f}", lr, f"{elapsed:.1f}"])
                bar.update(1)
                bar.set_postfix(loss=f"{np.mean(recent):.5f}")
                if step % config.checkpoint_every == 0 and step < config.steps:
                    log_file.flush()
                    _save(model, optimiser, out, config, step, elapsed, recent, description, device, final=False)
                if config.max_seconds is not None and elapsed >= config.max_seconds:
                    break
        except KeyboardInterrupt:
            # keep what was learnt since the last checkpoint; `--resume` continues from here
            bar.close()
            elapsed = seconds_before + time.time() - start
            _save(model, optimiser, out, config, step, elapsed, recent, description, device, final=False)
            raise
        bar.close()
    elapsed = seconds_before + time.time() - start
    return _save(model, optimiser, out, config, step, elapsed, recent, description, device, final=True)


def _save(model, optimiser, out: Path, config: TrainConfig, step: int, elapsed: float, recent: list[float],
          description: str, device: torch.device, final: bool) -> dict:
    """Write the resumable checkpoint and the weights + metadata (kept current during training)."""
    torch.save({"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                "step": step, "seconds": elapsed, "config": asdict(config)}, _checkpoint_path(out))
    profile = get_profile(config.profile)
    previous = read_metadata(out)
    metadata = {
        "name": f"itermask3d-{profile.name}-{config.sequence}",
        "profile": profile.name, "sequence": config.sequence,
        "data": description, "initialised_from": config.init_from,
        "steps": step, "planned_steps": config.steps, "batch": config.batch,
        "finished": final, "seconds": round(elapsed, 1), "hardware": hardware_description(device),
        "parameters": count_parameters(model), "code_version": code_version(),
        "torch": torch.__version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "metrics": {"train_loss_last50": float(np.mean(recent)) if recent else None},
        "config": asdict(config),
        "preprocessing": {"scaling": config.scaling},
    }
    for kept in ("inference", "evaluation"):  # written by calibration/evaluation, not by training
        if kept in previous:
            metadata[kept] = previous[kept]
    save_weights(model, out, metadata)
    return metadata


def train_entry(profile: str, sequence: str, data: str, out: Path, steps: int, batch: int = 2,
                lr: float = 1e-3, seed: int = 0, device: str = "auto", resume: bool = True,
                max_minutes: float | None = None, pool_size: int = 24, init_from: Path | None = None,
                scaling: str = DEFAULT_SCALING, masked_weight: float = 1.0, workers: int = 0,
                whole_grid: bool = False) -> dict:
    """``itermask3d train``: validate options, train, return the metadata."""
    get_profile(profile)
    if data != "synthetic" and not Path(data).is_dir():
        raise ValueError(f"training data must be 'synthetic' or an existing folder, not {data!r}")
    if init_from is not None and not Path(init_from).is_file():
        raise ValueError(f"--init weights not found: {init_from}")
    if steps < 1 or batch < 1:
        raise ValueError("steps and batch must be positive")
    check_scaling(scaling)
    if workers < 0:
        raise ValueError(f"--workers must be 0 (generate in this process) or more, not {workers}")
    if not masked_weight >= 1.0:
        raise ValueError(f"--masked-weight must be at least 1 (1 is the spec's plain MSE), not {masked_weight}")
    config = TrainConfig(profile=profile, sequence=sequence, data=str(data), out=str(out), steps=steps,
                         batch=batch, lr=lr, late_lr=lr / 10.0, seed=seed, device=device, resume=resume,
                         max_seconds=None if max_minutes is None else 60.0 * max_minutes,
                         pool_size=pool_size, init_from=None if init_from is None else str(init_from),
                         scaling=scaling, masked_weight=masked_weight, workers=workers, whole_grid=whole_grid)
    return train(config)
