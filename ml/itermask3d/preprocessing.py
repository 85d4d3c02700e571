"""From a validated scan to the network's inputs on the profile grid, and back.

Steps: anti-aliasing, alignment to MNI (W: MNI mm -> scan mm), resampling onto the profile
grid, brain mask, robust percentile normalisation, high-frequency channel. ``to_native``
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

PERCENTILES = (1.0, 99.0)
CLIP_RANGE = (0.0, 3.0)


def normalise(volume: np.ndarray, brain: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Robust scaling over the brain: (v - p1) / (p99 - p1), clipped to CLIP_RANGE, 0 outside.

    volume (I, J, K) float; brain (I, J, K) bool. Returns (normalised float32, p1, p99).
    """
    values = volume[brain]
    low, high = (float(v) for v in np.percentile(values, PERCENTILES))
    if high <= low:
        high = low + 1.0
    out = np.clip((volume - low) / (high - low), *CLIP_RANGE) * brain
    return out.astype(np.float32), low, high


@dataclass
class PreparedScan:
    """Network inputs on the profile grid and what is needed to map results back.

    x, h: (I, J, K) float32 normalised volume and its high-frequency channel;
    brain: (I, J, K) bool; mni_to_scan: 4x4 (MNI mm -> scan world mm);
    intensity_low/high: the percentiles used (scan units); scan: the validated input;
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


def prepare_inputs(volume: np.ndarray, brain: np.ndarray, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
    """Normalise a grid volume over ``brain`` and compute h. Returns (x, h), float32 (I, J, K)."""
    x, _, _ = normalise(volume, brain)
    return x, high_frequency(x, profile.hf_radius)


def prepare_scan(scan: Scan, profile: Profile, registration: str = "affine") -> PreparedScan:
    """Map ``scan`` onto ``profile``'s MNI grid and build the network inputs.

    registration: "affine" (SimpleITK affine to the template, initialised by moments) or
    "moments" (centre of mass + isotropic scale only).
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
    x, low, high = normalise(grid, brain)
    h = high_frequency(x, profile.hf_radius)
    return PreparedScan(x=x, h=h, brain=brain, mni_to_scan=mni_to_scan, intensity_low=low,
                        intensity_high=high, scan=scan, profile=profile,
                        registration="moments" if fallback else registration, registration_fallback=fallback)
