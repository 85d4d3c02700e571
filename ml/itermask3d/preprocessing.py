"""From a validated scan to the network's inputs on the profile grid, and back.

Steps: anti-aliasing, alignment to MNI (W: MNI mm -> scan mm), resampling onto the profile
grid, brain mask, robust percentile normalisation (``SCALINGS``), high-frequency channel. ``to_native``
maps any grid volume back onto the scan's own voxel grid (same shape and affine).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .highfreq import high_frequency
from .io import Scan
from .profiles import Profile
from .registration import affine_registration, moments_alignment
from .resampling import antialias, resample

CLIP_RANGE = (0.0, 3.0)
# Intensity scalings a model can be trained with (its metadata says which: "preprocessing.scaling").
# "p1-p99" is the spec's. A large bright lesion raises p99 and so darkens the whole scan and shrinks
# every reconstruction error, while gamma is an absolute slope (ml/README.md, "Why the threshold
# choice is fragile"). "p1-p50" puts p50 where p99 lands on a typical normal scan instead, so that
# a lesion of a few percent of the brain barely moves the scale.
SCALINGS = ("p1-p99", "p1-p50")
DEFAULT_SCALING = "p1-p99"
# Mean (p99 - p1) / (p50 - p1) over 16 preprocessed synthetic FLAIR normal scans (session 13, SD 0.19;
# 1.40, SD 0.06, on FLAIR training volumes, 1.93 on T1 ones: the network learns the sequence's range).
MEDIAN_SPAN_TO_P99 = 1.46


def check_scaling(scaling: str) -> None:
    """Raise ValueError (one sentence) unless ``scaling`` is one of SCALINGS."""
    if scaling not in SCALINGS:
        raise ValueError(f"unknown intensity scaling {scaling!r}; choose one of {', '.join(SCALINGS)}")


def normalise(volume: np.ndarray, brain: np.ndarray,
              scaling: str = DEFAULT_SCALING) -> tuple[np.ndarray, float, float]:
    """Robust scaling over the brain: (v - low) / (high - low), clipped to CLIP_RANGE, 0 outside.

    "p1-p99": low, high = p1, p99; "p1-p50": low = p1, high = p1 + MEDIAN_SPAN_TO_P99 * (p50 - p1).
    volume (I, J, K) float; brain (I, J, K) bool. Returns (normalised float32, low, high) in scan units.
    """
    check_scaling(scaling)
    values = volume[brain]
    if scaling == "p1-p99":
        low, high = (float(v) for v in np.percentile(values, (1.0, 99.0)))
    else:
        low, median = (float(v) for v in np.percentile(values, (1.0, 50.0)))
        high = low + MEDIAN_SPAN_TO_P99 * (median - low)
    if high <= low:
        high = low + 1.0
    out = np.clip((volume - low) / (high - low), *CLIP_RANGE) * brain
    return out.astype(np.float32), low, high


@dataclass
class PreparedScan:
    """Network inputs on the profile grid and what is needed to map results back.

    x, h: (I, J, K) float32 normalised volume and its high-frequency channel;
    brain: (I, J, K) bool; mni_to_scan: 4x4 (MNI mm -> scan world mm);
    intensity_low/high: the scan values mapped to 0 and 1 (see ``normalise``); scan: the validated input;
    registration: the alignment actually used ("affine" or "moments");
    registration_fallback: why an asked-for affine registration fell back to moments, else None.
    """

    x: np.ndarray
    h: np.ndarray
    brain: np.ndarray
    mni_to_scan: np.ndarray
    intensity_low: float
    intensity_high: float
    scan: Scan
    profile: Profile
    registration: str = "affine"
    registration_fallback: str | None = None

    def to_native(self, grid_volume: np.ndarray, order: int = 1) -> np.ndarray:
        """Map a grid volume (I, J, K) onto the scan's grid; returns float32 of the scan's shape."""
        scan_to_mni = np.linalg.inv(self.mni_to_scan)
        return resample(grid_volume, self.profile.grid_affine, self.scan.affine,
                        self.scan.data.shape, target_to_source_world=scan_to_mni, order=order)

    def denormalise(self, values: np.ndarray) -> np.ndarray:
        """Normalised intensities back to scan units."""
        return values * (self.intensity_high - self.intensity_low) + self.intensity_low


def prepare_inputs(volume: np.ndarray, brain: np.ndarray, profile: Profile,
                   scaling: str = DEFAULT_SCALING) -> tuple[np.ndarray, np.ndarray]:
    """Normalise a grid volume over ``brain`` and compute h. Returns (x, h), float32 (I, J, K)."""
    x, _, _ = normalise(volume, brain, scaling)
    return x, high_frequency(x, profile.hf_radius)


def prepare_scan(scan: Scan, profile: Profile, registration: str = "affine",
                 scaling: str = DEFAULT_SCALING) -> PreparedScan:
    """Map ``scan`` onto ``profile``'s MNI grid and build the network inputs.

    registration: "affine" (SimpleITK affine to the template, initialised by moments) or
    "moments" (centre of mass + isotropic scale only); scaling: one of SCALINGS (the model's).
    """
    if registration not in ("affine", "moments"):
        raise ValueError(f"unknown registration {registration!r}")
    mni_to_scan = moments_alignment(scan.foreground, scan.affine)
    fallback = None
    if registration == "affine":
        mni_to_scan, fallback = affine_registration(scan, mni_to_scan)
    smooth = antialias(scan.data, scan.affine, profile.spacing_mm)
    grid = resample(smooth, scan.affine, profile.grid_affine, profile.shape, mni_to_scan, order=1)
    brain = resample(scan.foreground.astype(np.float32), scan.affine, profile.grid_affine,
                     profile.shape, mni_to_scan, order=1) > 0.5
    if brain.sum() < 100:
        raise InputError("The brain could not be located in the template space (empty after alignment).")
    x, low, high = normalise(grid, brain, scaling)
    h = high_frequency(x, profile.hf_radius)
    return PreparedScan(x=x, h=h, brain=brain, mni_to_scan=mni_to_scan, intensity_low=low,
                        intensity_high=high, scan=scan, profile=profile,
                        registration="moments" if fallback else registration, registration_fallback=fallback)
