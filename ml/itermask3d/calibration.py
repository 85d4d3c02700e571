"""Choosing gamma (the spec's sensitivity knob) for a trained model on synthetic cases.

Each calibration case is preprocessed once and searched once (phase 1); phase 2 then runs
for every candidate gamma. The chosen gamma maximises the mean lesion Dice on the profile
grid among the gammas whose normals carry at most ``max_normal_flags`` flags on average.
The choice is stored in the weights' metadata json ("inference" section), which
Analyzer reads as its default.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .checkpoints import default_weights_path, metadata_path, read_metadata
from .flags import find_flags
from .inference import NetworkReconstructor, shrink_to_convergence, threshold_search
from .io import validate
from .resampling import resample
from .threshold import choose_threshold

# The paper's 0.01-0.05 brackets its own error scale; above it, a normal scan's derivative may never
# exceed gamma before the last step (T = the largest error, nothing flagged) while a lesion's rises earlier.
DEFAULT_GAMMAS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


def _calibration_cases(count_normal: int, count_lesion: int, sequence: str, seed: int):
    from .synthetic import make_case

    rng = np.random.default_rng(seed)
    lesion_kinds = [("tumour", 8.0), ("cavity", 8.0), ("tumour", 12.0), ("small", None), ("cavity", 12.0),
                    ("tumour", 5.0)]
    for n in range(count_normal):
        yield make_case("normal", sequence, int(rng.integers(10**6)) + 500_000, spacing_mm=(1.5, 1.5, 1.5))
    for n in range(count_lesion):
        kind, size = lesion_kinds[n % len(lesion_kinds)]
        yield make_case("lesion", sequence, int(rng.integers(10**6)) + 500_000, spacing_mm=(1.5, 1.5, 1.5),
                        lesion_type=kind, lesion_size_mm=size)


def choose_gamma(table: dict[float, dict[str, float]], max_normal_flags: float) -> float:
    """The gamma with the best mean lesion Dice among those whose normals average at most
    ``max_normal_flags`` flags (ties: the larger gamma, fewer flags); the largest gamma if none does."""
    allowed = [g for g, row in table.items() if row["mean_normal_flags"] <= max_normal_flags] or [max(table)]
    return max(allowed, key=lambda g: (table[g]["mean_lesion_dice"], g))


def calibrate_entry(profile: str = "fast", sequence: str = "t1", model_path: Path | None = None,
                    schedule: str | None = None, normals: int = 4, lesions: int = 4, seed: int = 777,
                    gammas: tuple[float, ...] = DEFAULT_GAMMAS, max_normal_flags: float = 0.5,
                    write: bool = True) -> dict:
    """Calibrate gamma; returns the table and the choice (and writes it into the metadata)."""
    from .api import Analyzer
    from .preprocessing import prepare_scan

    analyzer = Analyzer(profile=profile, sequence=sequence, device="auto", model_path=model_path, schedule=schedule)
    if not analyzer.trained:
        raise ValueError("calibration needs trained weights")
    prof = analyzer.profile
    start = time.time()
    rows = {g: {"normal_flags": [], "lesion_dice": [], "lesion_detected": []} for g in gammas}
    curves = []
    for case in _calibration_cases(normals, lesions, sequence, seed):
        prepared = prepare_scan(validate(case.image), prof, analyzer.registration)
        truth = None
        if case.truth is not None:
            truth = resample(np.asarray(case.truth.dataobj, np.float32), case.image.affine, prof.grid_affine,
                             prof.shape, prepared.mni_to_scan, order=1) > 0.5
        reconstruct = NetworkReconstructor(analyzer.model, prepared.x, prepared.h, analyzer.device, seed=0)
        search = threshold_search(reconstruct, prepared.x, prepared.brain, analyzer.schedule)
        curves.append({"kind": case.info["kind"], "thresholds": search.thresholds})
        done: dict[float, np.ndarray] = {}
        for gamma in gammas:
            threshold = choose_threshold(search.steps, search.thresholds, gamma).threshold
            if threshold not in done:
                done[threshold] = shrink_to_convergence(reconstruct, prepared.x, prepared.brain, threshold,
                                                        prof.max_refine_passes)[2]
            mask = done[threshold]
            labels, flags = find_flags(mask, mask.astype(np.float32), prof.grid_affine, prof.min_flag_mm3)
            if truth is None:
                rows[gamma]["normal_flags"].append(len(flags))
            else:
                flagged = labels > 0
                dice = 2 * np.sum(flagged & truth) / max(flagged.sum() + truth.sum(), 1)
                rows[gamma]["lesion_dice"].append(float(dice))
                rows[gamma]["lesion_detected"].append(bool(np.any(flagged & truth)))
    table = {g: {"mean_normal_flags": float(np.mean(r["normal_flags"])),
                 "mean_lesion_dice": float(np.mean(r["lesion_dice"])),
                 "lesion_detection_rate": float(np.mean(r["lesion_detected"]))} for g, r in rows.items()}
    chosen = choose_gamma(table, max_normal_flags)
    section = {"gamma": chosen, "schedule": analyzer.schedule,
               "calibration": {"cases": f"{normals} normal + {lesions} lesion synthetic {sequence} scans, "
                                        f"1.5 mm, seed {seed}",
                               "max_normal_flags": max_normal_flags, "seconds": round(time.time() - start, 1),
                               "table": {str(g): v for g, v in table.items()}}}
    if write:
        path = Path(model_path) if model_path else default_weights_path(profile, sequence)
        metadata = read_metadata(path)
        metadata["inference"] = section
        metadata_path(path).write_text(json.dumps(metadata, indent=2, sort_keys=True))
    return {"chosen": section, "curves": curves}
