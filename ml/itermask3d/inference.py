"""Test-time iterative mask refinement (the spec's two phases).

``iterative_mask_refinement`` is written against a ``reconstruct(mask) -> volume`` callable,
so the algorithm can be tested without a network; ``NetworkReconstructor`` is that callable
for a trained model (fresh N(0, 1) noise on every pass, from a seeded generator).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from .threshold import choose_threshold, forced_fraction_mask, has_converged

ProgressFn = Callable[[float, str], None]


SCHEDULES = ("spec", "coarse-fine", "fine-tail", "uniform2", "uniform4")
# fine-tail: where its 0.1 % steps start. The synthetic lesions of 1 cm and more fill 0.05-1.5 % of
# the brain, so on the spec's 1 % steps their rise shows in the last one or two points only.
FINE_TAIL_FROM = 96
FINE_TAIL_STEP = 0.1


def search_schedule(schedule: str | int) -> list[float]:
    """Search steps i (percent of the brain unmasked), always ending at 100.

    "spec" (or 1): 1, 2, ..., 100, the spec's 100-step search. "uniformN" (or N): N, 2N, ...
    "coarse-fine": 10, 20, ..., 80 while normal tissue is being unmasked, then 82, 84, ..., 90,
    then 91, ..., 100 where the thresholds shoot up (23 steps).
    "fine-tail": the spec's 1, ..., 96, then 96.1, 96.2, ..., 100 (136 steps), so that a lesion
    filling a fraction of one percent of the brain shows as a rise over several points.
    """
    if schedule in ("spec", 1):
        return list(range(1, 101))
    if schedule == "fine-tail":
        count = int(round((100 - FINE_TAIL_FROM) / FINE_TAIL_STEP))
        return list(range(1, FINE_TAIL_FROM + 1)) + [round(FINE_TAIL_FROM + FINE_TAIL_STEP * k, 6)
                                                      for k in range(1, count + 1)]
    if schedule == "coarse-fine":
        return list(range(10, 81, 10)) + list(range(82, 91, 2)) + list(range(91, 101))
    if isinstance(schedule, str) and schedule.startswith("uniform"):
        schedule = int(schedule[len("uniform"):])
    if isinstance(schedule, int) and 1 <= schedule <= 50:
        return list(range(schedule, 100, schedule)) + [100]
    raise ValueError(f"unknown search schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")


class NetworkReconstructor:
    """reconstruct(mask) for one prepared volume.

    model: the network (eval mode is set here); x, h: (I, J, K) float32; device: torch
    device; seed: seeds the noise generator (a CPU generator, so results do not depend on
    the device's RNG); precision: the autocast type of the passes (None: float32;
    ``networks.mixed_precision_dtype``), whatever the device.
    """

    def __init__(self, model: torch.nn.Module, x: np.ndarray, h: np.ndarray, device: torch.device,
                 seed: int = 0, precision: torch.dtype | None = None) -> None:
        self.model = model.eval()
        self.device = device
        self.x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
        self.h = torch.from_numpy(np.ascontiguousarray(h, dtype=np.float32)).to(device)
        self.generator = torch.Generator().manual_seed(int(seed))
        self.precision = precision
        self.passes = 0

    def __call__(self, mask: np.ndarray) -> np.ndarray:
        noise = torch.randn(self.x.shape, generator=self.generator).to(self.device)
        m = torch.from_numpy(np.ascontiguousarray(mask)).to(self.device)
        x_in = torch.where(m, noise, self.x)
        inputs = torch.stack([x_in, self.h])[None]
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=self.precision,
                                                    enabled=self.precision is not None):
            out = self.model(inputs)
        self.passes += 1
        return out[0, 0].float().cpu().numpy()


@dataclass
class RefinementResult:
    """reconstruction, error: (I, J, K) float32 (error = (x - r)^2 inside the brain, 0 outside);
    mask: (I, J, K) bool final anomaly mask [error > T]; threshold: T; passes: network passes;
    search_steps / search_thresholds: (i, t_i); search_fractions: masked brain fraction used
    at each search step; k_star, method, r2: how T was chosen; refine_sizes: |m| per phase-2 pass;
    initial_mean_error: mean brain error of the first pass, the whole brain masked."""

    reconstruction: np.ndarray
    error: np.ndarray
    mask: np.ndarray
    threshold: float
    passes: int
    search_steps: list[float]
    search_thresholds: list[float]
    search_fractions: list[float]
    k_star: float | None
    method: str
    r2: float
    refine_sizes: list[int] = field(default_factory=list)
    initial_mean_error: float = float("nan")


def anomaly_error(x: np.ndarray, r: np.ndarray, brain: np.ndarray,
                  error_scale: np.ndarray | None = None) -> np.ndarray:
    """The error map both phases threshold: (x - r)^2 inside the brain, 0 outside; (I, J, K) float32.

    error_scale: None for the spec's plain squared error, or an (I, J, K) map >= 1 of how much larger
    than typical a normal scan's error is at each voxel (``normative``); the squared error is divided
    by it, so that regions every normal brain reconstructs poorly do not outrank a lesion."""
    error = (x - r) ** 2 * brain
    if error_scale is not None:
        error = error / error_scale
    return error.astype(np.float32)


@dataclass
class SearchResult:
    """Phase 1 output: search steps i, thresholds t_i, masked fractions, network passes, and the
    mean brain error of the first pass (whole brain masked)."""

    steps: list[float]
    thresholds: list[float]
    fractions: list[float]
    passes: int
    initial_mean_error: float = float("nan")


def threshold_search(reconstruct: Callable[[np.ndarray], np.ndarray], x: np.ndarray, brain: np.ndarray,
                     schedule: str | int = "spec", report: Callable[[int, str], None] | None = None,
                     error_scale: np.ndarray | None = None) -> SearchResult:
    """Phase 1: m_0 = brain; at each step i mask exactly (1 - 0.01 i) B voxels with the largest
    previous error and record t_i. x (I, J, K) float32, brain (I, J, K) bool; error_scale: see
    ``anomaly_error``."""
    brain_count = int(brain.sum())
    steps_i = search_schedule(schedule)
    passes = 1
    error = anomaly_error(x, reconstruct(brain.copy()), brain, error_scale)
    initial_mean_error = float(error[brain].mean())
    steps, thresholds, fractions = [], [], []
    for i in steps_i:
        mask, t = forced_fraction_mask(error, brain, 1.0 - 0.01 * i)
        steps.append(i)
        thresholds.append(t)
        fractions.append(float(mask.sum()) / brain_count)
        if i == steps_i[-1]:
            break  # e_100 would never be used: no pass needed
        error = anomaly_error(x, reconstruct(mask), brain, error_scale)
        passes += 1
        if report is not None:
            report(passes, "threshold search")
    return SearchResult(steps, thresholds, fractions, passes, initial_mean_error)


def shrink_to_convergence(reconstruct: Callable[[np.ndarray], np.ndarray], x: np.ndarray, brain: np.ndarray,
                          threshold: float, max_passes: int = 30, tolerance: float = 0.01,
                          report: Callable[[int, str], None] | None = None, passes_before: int = 0,
                          error_scale: np.ndarray | None = None):
    """Phase 2: from m = brain, reconstruct, m_new = [e > T], until |m| shrinks by < tolerance
    (e as in ``anomaly_error``).

    Returns (reconstruction, error, final mask, passes, mask sizes per pass)."""
    if max_passes < 1:
        raise ValueError(f"phase 2 needs at least one pass, not max_passes={max_passes}")
    mask = brain.copy()
    sizes: list[int] = []
    passes = 0
    for _ in range(max_passes):
        reconstruction = reconstruct(mask)
        passes += 1
        error = anomaly_error(x, reconstruction, brain, error_scale)
        new_mask = (error > threshold) & brain
        sizes.append(int(new_mask.sum()))
        if report is not None:
            report(passes_before + passes, "refining mask")
        if has_converged(int(mask.sum()), int(new_mask.sum()), tolerance):
            break
        mask = new_mask
    return reconstruction, error, new_mask, passes, sizes


def iterative_mask_refinement(
    reconstruct: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    brain: np.ndarray,
    gamma: float,
    schedule: str | int = "spec",
    max_refine_passes: int = 30,
    tolerance: float = 0.01,
    ceiling: float | None = None,
    progress: ProgressFn | None = None,
    progress_span: tuple[float, float] = (0.0, 1.0),
    error_scale: np.ndarray | None = None,
    rise_gamma: float | None = None,
    rise_late_steps: int = 1,
) -> RefinementResult:
    """Run phase 1 (threshold search) and phase 2 (shrink to convergence).

    reconstruct: mask (I, J, K) bool -> reconstruction (I, J, K); x: normalised volume;
    brain: brain mask; gamma: derivative threshold; schedule: see ``search_schedule``;
    error_scale: None (the spec's squared error) or the normative map (``anomaly_error``);
    rise_gamma: None (the spec's rule) or the second test of ``threshold.choose_threshold``, which may
    move k* earlier where the spec's k* is one of the last ``rise_late_steps`` steps.
    """
    brain = np.asarray(brain, dtype=bool)
    if not brain.any():
        raise ValueError("empty brain mask")
    lo, hi = progress_span
    total_guess = len(search_schedule(schedule)) + 8

    def report(done: int, stage: str) -> None:
        if progress is not None:
            progress(lo + (hi - lo) * min(done / total_guess, 0.99), stage)

    if error_scale is not None and error_scale.shape != brain.shape:
        raise ValueError(f"error scale of shape {error_scale.shape} for a volume of shape {brain.shape}")
    search = threshold_search(reconstruct, x, brain, schedule, report, error_scale)
    choice = choose_threshold(search.steps, search.thresholds, gamma, ceiling, rise_gamma, rise_late_steps)
    reconstruction, error, mask, refine_passes, sizes = shrink_to_convergence(
        reconstruct, x, brain, choice.threshold, max_refine_passes, tolerance, report, search.passes, error_scale)
    return RefinementResult(
        reconstruction=reconstruction, error=error, mask=mask, threshold=choice.threshold,
        passes=search.passes + refine_passes, search_steps=search.steps, search_thresholds=search.thresholds,
        search_fractions=search.fractions, k_star=choice.k_star, method=choice.method, r2=choice.r2,
        refine_sizes=sizes, initial_mean_error=search.initial_mean_error,
    )
