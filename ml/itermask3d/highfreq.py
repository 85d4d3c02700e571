"""High-frequency conditioning channel h of the spec.

F = fftshift(fftn(x)); inside a sphere (ellipsoid for non-cubic fields of view) of radius r
around the k-space centre the magnitude is set to 1 and the phase kept; outside F is kept;
h = real(ifftn(ifftshift(F'))).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.fft


def low_frequency_region(shape: Sequence[int], radius: float | Sequence[float]) -> np.ndarray:
    """Boolean (I, J, K) array, True where the k-space index lies within ``radius`` of the centre.

    shape: grid shape; radius: per-axis radius in k-space index units. The centre index after
    fftshift is N // 2 on each axis.
    """
    radius = np.broadcast_to(np.asarray(radius, dtype=float), (len(shape),))
    axes = [(np.arange(n) - n // 2) / r for n, r in zip(shape, radius)]
    grids = np.meshgrid(*axes, indexing="ij", sparse=True)
    dist2 = sum(g**2 for g in grids)
    return dist2 <= 1.0


def high_frequency(x: np.ndarray, radius: float | Sequence[float]) -> np.ndarray:
    """Return h for volume x.

    x: (I, J, K) float array (normalised intensities). radius: sphere radius in k-space index
    units (15 at 192^3 / 1 mm). Returns float32 (I, J, K).
    """
    spectrum = scipy.fft.fftshift(scipy.fft.fftn(np.asarray(x, dtype=np.float64), workers=-1))
    inside = low_frequency_region(x.shape, radius)
    # Magnitude 1 with the original phase; where F == 0 the phase is defined as 0.
    spectrum[inside] = np.exp(1j * np.angle(spectrum[inside]))
    h = scipy.fft.ifftn(scipy.fft.ifftshift(spectrum), workers=-1).real
    return h.astype(np.float32)
