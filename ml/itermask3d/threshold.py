"""Subject-specific threshold of the spec: forced-fraction masks, tangent fit, fallback, k*.

Step i of the search keeps exactly round((1 - 0.01 i) B) brain voxels masked (those with
the largest errors); t_i is the largest error left unmasked. The curve t(i) is fitted with
a * tan(b * i); k* is the first step whose derivative exceeds gamma, T = t_{k*}.

Optionally (ours, not the spec's) a second look with ``rise_gamma`` where the spec's test finds
nothing before the last step (T would be the largest error: nothing flagged): the first step
whose smoothed difference on the curve *without its last point* exceeds ``rise_gamma``. The
last t is the scan's single largest error; its jump dominates the derivative of the last steps
on normal and lesion scans alike, so gamma must sit above it, and a large lesion whose errors
rise over several steps stays under gamma. Without that point a normal scan's curve stays flat
to the end while such a lesion's rises. ``rise_late_steps`` widens the second look to a spec step
among the last few: the spec's smoothed derivative at steps 98 and 99 averages in the jump to the
last point, so it can fire there on that jump alone, after a lesion's rise has begun. The rise test
only ever moves k* earlier.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

R2_MINIMUM = 0.85
R2_POINTS_UP_TO = 80
SMOOTHING_WIDTH = 5  # moving-average width (in steps of 1 %) of the fallback derivative


def forced_fraction_mask(error: np.ndarray, brain: np.ndarray, keep_fraction: float) -> tuple[np.ndarray, float]:
    """Mask exactly round(keep_fraction * B) brain voxels with the largest error.

    error: (I, J, K) float; brain: (I, J, K) bool; keep_fraction in [0, 1].
    Returns (mask (I, J, K) bool, t) with t the largest error among unmasked brain voxels
    (so that, without ties, the mask equals [error > t] within the brain).
    """
    flat_index = np.flatnonzero(brain)
    values = error.ravel()[flat_index]
    n = len(values)
    count = int(round(keep_fraction * n))
    mask = np.zeros(error.size, dtype=bool)
    if count >= n:
        mask[flat_index] = True
        return mask.reshape(error.shape), float(values.min())
    if count == 0:
        return mask.reshape(error.shape), float(values.max())
    # A partial sort (O(B), the search calls this 100 times) instead of a full one; ties at the
    # boundary go to the lowest voxel indices, as a stable sort by decreasing error would give them.
    ascending = np.partition(values, (n - 1 - count, n - count))
    threshold, smallest_kept = float(ascending[n - 1 - count]), ascending[n - count]
    chosen = values > smallest_kept
    tied = np.flatnonzero(values == smallest_kept)[: count - int(chosen.sum())]
    chosen[tied] = True
    mask[flat_index[chosen]] = True
    return mask.reshape(error.shape), threshold


def tangent(i: np.ndarray, a: float, b: float) -> np.ndarray:
    """t(i) = a * tan(b * i)."""
    return a * np.tan(b * i)


def tangent_derivative(i: np.ndarray, a: float, b: float) -> np.ndarray:
    """dt/di = a * b / cos(b * i)^2."""
    return a * b / np.cos(b * i) ** 2


@dataclass
class TangentFit:
    a: float
    b: float
    r2: float
    ok: bool


def fit_tangent(steps: np.ndarray, thresholds: np.ndarray, ceiling: float | None = None) -> TangentFit:
    """Least-squares fit of a * tan(b * i), optionally only on points with t <= ceiling. R^2 is
    measured on the points with i <= 80; the fit is ``ok`` when R^2 >= 0.85.

    Initial guess a = 1, b = 0.01, as in the spec. b is bounded so that b * i stays below pi / 2,
    where tan has its pole (0.0157 when the search reaches i = 100); were the search ever longer
    than 141 steps, b would start just inside that bound instead."""
    steps = np.asarray(steps, dtype=float)
    thresholds = np.asarray(thresholds, dtype=float)
    use = np.ones(len(steps), dtype=bool) if ceiling is None else thresholds <= ceiling
    b_max = 0.999 * np.pi / (2.0 * steps.max())  # keep b * i below pi / 2 on the whole range
    try:
        (a, b), _ = curve_fit(tangent, steps[use], thresholds[use], p0=(1.0, min(0.01, 0.9 * b_max)),
                              bounds=([0.0, 1e-8], [np.inf, b_max]), maxfev=5000)
    except (RuntimeError, ValueError):
        return TangentFit(float("nan"), float("nan"), float("-inf"), False)
    early = steps <= R2_POINTS_UP_TO
    residual = thresholds[early] - tangent(steps[early], a, b)
    total = np.sum((thresholds[early] - thresholds[early].mean()) ** 2)
    r2 = float(1.0 - np.sum(residual**2) / total) if total > 0 else float("-inf")
    return TangentFit(float(a), float(b), r2, bool(r2 >= R2_MINIMUM))


def smoothed_differences(steps: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Fallback derivative (per step of 1 %): finite differences (t_i - t_{i-1}) / (i - i_prev),
    smoothed by a centred moving average. The spec's width 5 is +-2 steps of 1 %; where the
    schedule is finer than 1 % (``fine-tail``), the window shrinks with it to +-2 of its steps, so
    that a rise over a few fine steps is not averaged away. On coarser schedules fewer points fall
    in the +-2 % window. Same length as ``steps`` (the first point uses the first difference)."""
    steps = np.asarray(steps, dtype=float)
    thresholds = np.asarray(thresholds, dtype=float)
    if len(steps) < 2:
        return np.zeros_like(thresholds)
    spacing = np.diff(steps)
    diff = np.diff(thresholds) / spacing
    diff = np.concatenate([diff[:1], diff])
    local_step = np.minimum(np.concatenate([spacing[:1], spacing]), 1.0)
    half = (SMOOTHING_WIDTH // 2) * local_step + 1e-9  # the margin keeps 96.2 - 96.0 inside +-0.2
    window = np.abs(steps[:, None] - steps[None, :]) <= half[:, None]
    # Near the ends the window is truncated, like a 'same'-mode moving average.
    return (window @ diff) / window.sum(axis=1)


@dataclass
class ThresholdChoice:
    """threshold: T; k_star: the chosen step i (an int on whole-percent schedules; None: derivative
    never exceeded gamma, T is the last t); method: "tangent" or "finite-difference", or "rise" when
    the rise test (without the last point) chose k*; derivative: per search point (the spec's)."""

    threshold: float
    k_star: float | None
    method: str
    r2: float
    derivative: np.ndarray


def choose_threshold(steps, thresholds, gamma: float, ceiling: float | None = None,
                     rise_gamma: float | None = None, rise_late_steps: int = 1) -> ThresholdChoice:
    """Pick T = t_{k*} with k* the first step whose derivative exceeds ``gamma``. When that is none or
    one of the last ``rise_late_steps`` steps and ``rise_gamma`` is given, k* moves to the first step
    whose smoothed difference on the curve without its last point exceeds ``rise_gamma``, if that comes
    earlier (see the module docstring). rise_late_steps 1: only the last step; 3: every step whose
    smoothing window holds the last point."""
    steps = np.asarray(steps, dtype=float)
    thresholds = np.asarray(thresholds, dtype=float)
    fit = fit_tangent(steps, thresholds, ceiling)
    if fit.ok:
        derivative, method = tangent_derivative(steps, fit.a, fit.b), "tangent"
    else:
        derivative, method = smoothed_differences(steps, thresholds), "finite-difference"
    above = np.flatnonzero(derivative > gamma)
    first = int(above[0]) if len(above) else None
    if rise_gamma is not None and len(steps) > 2 and (first is None or first >= len(steps) - rise_late_steps):
        rising = np.flatnonzero(smoothed_differences(steps[:-1], thresholds[:-1]) > rise_gamma)
        if len(rising) and (first is None or rising[0] < first):
            first, method = int(rising[0]), "rise"
    if first is None:
        return ThresholdChoice(float(thresholds[-1]), None, method, fit.r2, derivative)
    step = float(steps[first])
    return ThresholdChoice(float(thresholds[first]), int(step) if step.is_integer() else step, method, fit.r2,
                           derivative)


def shrink_ratio(previous_count: int, new_count: int) -> float:
    """(|m| - |m_new|) / |m|; 0 when the previous mask is empty."""
    return (previous_count - new_count) / previous_count if previous_count > 0 else 0.0


def has_converged(previous_count: int, new_count: int, tolerance: float = 0.01) -> bool:
    """Phase-2 stopping rule: the mask shrank by less than ``tolerance`` of its size."""
    return shrink_ratio(previous_count, new_count) < tolerance
