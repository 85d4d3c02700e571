"""Normative error scale: how much larger than typical a normal brain's error is at each voxel.

Why: a model reconstructs some regions of every normal brain worse than the rest (with the
CPU-trained `fast` models, the cerebellum's folia above all). At the end of the threshold search
those regions are what is left masked on a normal scan, and their errors rival a lesion's, so the
threshold rule cannot tell the two apart (ml/README.md, "Normative error scale"). Dividing the
squared error by a per-voxel scale learnt from normal scans alone (no lesion, no label) lets a
lesion in well-reconstructed tissue outrank a normal scan's usual hard spots.

The map, on the profile grid (MNI space, so every scan shares it): synthetic normal scans go
through the whole pipeline (a native grid, registration, the profile grid) and the spec's
threshold search with the plain squared error; the errors of the passes whose mask holds at most
``LATE_FRACTION`` of the brain are averaged per voxel, then over the scans; the mean is smoothed
inside the brain, divided by its median over the brain and clipped to [1, ``MAX_SCALE``]. Typical
voxels keep their error (scale 1); harder ones are divided by at most ``MAX_SCALE``, so no region
is made blind. The map is stored beside the weights and named in their metadata
(``inference.normative``); ``Analyzer`` applies it unless told not to.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import ndimage

from .checkpoints import default_weights_path, metadata_path, read_metadata, write_metadata
from .inference import anomaly_error, threshold_search
from .profiles import Profile

LATE_FRACTION = 0.10  # search passes whose mask holds at most this share of the brain
SMOOTHING_VOXELS = 1.5  # Gaussian sigma (profile voxels) of the smoothing inside the brain
MAX_SCALE = 10.0  # a region needs at most this many times the typical error to be flagged
SEED_OFFSET = 2_000_000  # normal scans' seeds: apart from calibration's (500k-1.5M) and the benchmark's (< 1M)


def normative_path(weights_path: Path) -> Path:
    """Where the error scale of ``weights_path`` is stored: ``<stem>_normative.npz`` beside it."""
    weights_path = Path(weights_path)
    return weights_path.with_name(weights_path.stem + "_normative.npz")


def late_search_error(reconstruct: Callable[[np.ndarray], np.ndarray], x: np.ndarray, brain: np.ndarray,
                      schedule: str | int) -> np.ndarray:
    """Run the threshold search with the plain squared error and return the mean error (I, J, K)
    float64 of its passes whose mask holds at most ``LATE_FRACTION`` of the brain (0 outside it)."""
    limit = LATE_FRACTION * int(brain.sum())
    total = np.zeros(x.shape, dtype=np.float64)
    passes = [0]

    def recording(mask: np.ndarray) -> np.ndarray:
        reconstruction = reconstruct(mask)
        if mask.sum() <= limit:
            total[...] += anomaly_error(x, reconstruction, brain)
            passes[0] += 1
        return reconstruction

    threshold_search(recording, x, brain, schedule)
    if passes[0] == 0:
        raise ValueError(f"search schedule {schedule!r} has no pass with at most {LATE_FRACTION:.0%} of the brain masked")
    return total / passes[0]


def error_scale_from(mean_error: np.ndarray, coverage: np.ndarray, smoothing: float = SMOOTHING_VOXELS,
                     max_scale: float = MAX_SCALE) -> np.ndarray:
    """The scale map from the normals' mean late-search error.

    mean_error: (I, J, K) mean squared error over the normals whose brain holds the voxel;
    coverage: (I, J, K) share of the normals whose brain holds it (0..1). The smoothing is
    normalised by the smoothed coverage, so the brain's edge is not darkened by the zeros outside.
    Returns (I, J, K) float32 in [1, max_scale]; 1 where no normal had brain."""
    weights = np.asarray(coverage, dtype=np.float64)
    smoothed = ndimage.gaussian_filter(np.asarray(mean_error, dtype=np.float64) * weights, smoothing)
    smoothed /= np.maximum(ndimage.gaussian_filter(weights, smoothing), 1e-12)
    inside = weights >= 0.5
    typical = float(np.median(smoothed[inside])) if inside.any() else 0.0
    if not typical > 0:
        raise ValueError("the normal scans' errors are all zero, so no error scale can be built from them")
    scale = np.clip(smoothed / typical, 1.0, max_scale)
    scale[weights == 0] = 1.0
    return scale.astype(np.float32)


def save_error_scale(scale: np.ndarray, path: Path) -> None:
    """Write the map (float16, compressed) in one step: a temporary file, then a rename."""
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(temporary, scale=scale.astype(np.float16))
    os.replace(temporary, path)


def load_error_scale(weights_path: Path, metadata: dict, profile: Profile) -> np.ndarray | None:
    """The map the metadata names (``inference.normative.file``), or None when it names none.

    Raises ValueError (one sentence) when the named file is missing, unreadable, of another
    grid, or not a map of values >= 1: the calibrated gamma was chosen with it."""
    entry = metadata.get("inference", {}).get("normative")
    if not entry:
        return None
    source = metadata_path(weights_path).name
    name = str(entry.get("file", "")) if isinstance(entry, dict) else ""
    if not name or Path(name).name != name:
        raise ValueError(f"{source} names no valid normative error scale file; build it again with itermask3d normative")
    path = Path(weights_path).with_name(name)
    try:
        with np.load(path) as data:
            scale = np.asarray(data["scale"], dtype=np.float32)
    except (OSError, KeyError, ValueError) as error:
        raise ValueError(f"the normative error scale {name} named in {source} cannot be read "
                         f"({type(error).__name__}); restore it, or build it again with itermask3d normative") from None
    if scale.shape != tuple(profile.shape) or not np.all(np.isfinite(scale)) or scale.min() < 1.0:
        raise ValueError(f"the normative error scale {name} does not fit the {profile.name} profile's "
                         f"{'x'.join(map(str, profile.shape))} grid with values >= 1; build it again with itermask3d normative")
    return scale


def _normal_cases(count: int, sequence: str, seed: int, spacing_mm: tuple[float, float, float] | None):
    from .benchmark import GRIDS
    from .synthetic import make_case

    rng = np.random.default_rng(seed)
    for _ in range(count):
        spacing, oblique = GRIDS[int(rng.integers(len(GRIDS)))]
        if spacing_mm is not None:
            spacing, oblique = spacing_mm, False
        yield make_case("normal", sequence, int(rng.integers(10**6)) + SEED_OFFSET, spacing_mm=spacing,
                        oblique=oblique)


def normative_entry(profile: str = "fast", sequence: str = "t1", model_path: Path | None = None,
                    normals: int = 24, seed: int = 4242, write: bool = True,
                    spacing_mm: tuple[float, float, float] | None = None) -> dict:
    """``itermask3d normative``: build the error scale of trained weights from ``normals`` synthetic
    normal scans, store it beside the weights and name it in their metadata. Gamma and the smallest
    flag were calibrated on the other error, so calibrate again afterwards.

    spacing_mm: one native voxel size for every scan (default: the benchmark's mix of grids)."""
    from .api import Analyzer
    from .io import validate

    if normals < 2:
        raise ValueError("the normative error scale needs at least 2 normal scans")
    analyzer = Analyzer(profile=profile, sequence=sequence, device="auto", model_path=model_path, normative=False,
                        require_trained=True)
    start = time.time()
    total = np.zeros(analyzer.profile.shape, dtype=np.float64)
    coverage = np.zeros(analyzer.profile.shape, dtype=np.float64)
    for case in _normal_cases(normals, sequence, seed, spacing_mm):
        prepared = analyzer.prepare(validate(case.image))
        total += late_search_error(analyzer.reconstructor(prepared, seed=0), prepared.x, prepared.brain,
                                   analyzer.schedule)
        coverage += prepared.brain
    mean_error = np.where(coverage > 0, total / np.maximum(coverage, 1.0), 0.0)
    scale = error_scale_from(mean_error, coverage / normals)
    inside = coverage >= normals / 2
    summary = {
        "file": None, "normals": normals, "seed": seed, "schedule": analyzer.schedule,
        "late_fraction": LATE_FRACTION, "smoothing_voxels": SMOOTHING_VOXELS, "max_scale": MAX_SCALE,
        "seconds": round(time.time() - start, 1),
        "brain_share_above_1": round(float(np.mean(scale[inside] > 1.0)), 4),
        "brain_share_at_max": round(float(np.mean(scale[inside] >= MAX_SCALE)), 4),
        "scale_percentiles": {f"p{q}": round(float(np.percentile(scale[inside], q)), 3) for q in (50, 90, 99, 99.9)},
    }
    if write:
        weights = Path(model_path) if model_path else default_weights_path(profile, sequence)
        target = normative_path(weights)
        save_error_scale(scale, target)
        summary["file"] = target.name
        metadata = read_metadata(weights)
        metadata.setdefault("inference", {})["normative"] = summary
        write_metadata(weights, metadata)
    return summary
