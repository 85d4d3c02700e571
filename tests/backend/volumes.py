"""Small NIfTI files for API tests (the engine is not needed to make them)."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np


def brain_like(shape: tuple[int, int, int] = (24, 28, 24), seed: int = 0) -> np.ndarray:
    """An ellipsoid of tissue-like intensities on a zero background, float32."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij"))
    inside = (grid**2).sum(0) < 0.7
    data = np.where(inside, 100 + 10 * rng.standard_normal(shape), 0).astype(np.float32)
    return data


def write_nifti(
    path: Path, data: np.ndarray | None = None, spacing: float = 2.0, free_text: dict[str, str] | None = None
) -> Path:
    """A NIfTI-1 file; ``free_text`` fills header text fields (e.g. descrip, data_type) by name."""
    image = nib.Nifti1Image(brain_like() if data is None else data, np.diag([spacing, spacing, spacing, 1.0]))
    for field, text in (free_text or {}).items():
        image.header[field] = text.encode()
    nib.save(image, str(path))
    return path


def write_gzip_bomb(path: Path, inflated_bytes: int) -> Path:
    """A small .nii.gz whose content inflates to ``inflated_bytes`` of zeros."""
    with gzip.open(path, "wb", compresslevel=9) as handle:
        chunk = bytes(1 << 20)
        for _ in range(inflated_bytes // len(chunk)):
            handle.write(chunk)
    return path
