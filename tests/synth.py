"""Synthetic scans for the live-stack tests, made with the engine's own CLI (as `make demo` does)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def synth_scan(out_dir: Path, kind: str, seed: int = 0, sequence: str = "t1", *extra: str) -> Path:
    """Write one synthetic scan; ``extra`` passes further options (e.g. "--lesion-type", "small")."""
    subprocess.run(
        [str(BIN / "itermask3d"), "synth", "--out", str(out_dir), "--kinds", kind, "--count", "1",
         "--sequence", sequence, "--seed", str(seed), *extra],
        check=True, capture_output=True, text=True,
    )
    return out_dir / f"{kind}_00.nii.gz"


def two_lesion_scan(out_dir: Path, seed: int = 0, radius_mm: float = 11.0) -> Path:
    """A synthetic normal scan with two bright, well-separated spherical lesions (one per hemisphere),
    for tests that need at least two flags to review."""
    import nibabel as nib
    import numpy as np

    normal = synth_scan(out_dir, "normal", seed=seed)
    image = nib.load(normal)
    data = np.asarray(image.dataobj, dtype=np.float32)
    brain = data > 0
    zooms = np.asarray(image.header.get_zooms()[:3], dtype=float)
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in data.shape], indexing="ij"), axis=-1) * zooms
    lo, hi = (np.argwhere(brain).min(0) * zooms, np.argwhere(brain).max(0) * zooms)
    bright = float(np.percentile(data[brain], 99)) * 1.4
    for fraction in (0.33, 0.67):
        centre = lo + (hi - lo) * np.array([fraction, 0.55, 0.6])
        sphere = np.linalg.norm(grid - centre, axis=-1) <= radius_mm
        data[sphere & brain] = bright
    target = out_dir / "two_lesions.nii.gz"
    nib.save(nib.Nifti1Image(data, image.affine), target)
    return target
