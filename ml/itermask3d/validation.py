"""What a model was shown to find: a summary of its benchmark runs, kept in the weights' metadata.

A reader who sees "routine" must know how far that can be trusted: a model that found no 1 cm tumour
in testing says nothing by staying silent about one. ``record_validation_entry`` turns one or more
``itermask3d benchmark`` runs of a model (their ``benchmark.json``) into a ``validation`` block of the
model's metadata; ``Analyzer`` copies it into every result made with the settings that were tested.

The block (all counts are scans, except ``small`` lesions, which count the lesions of each set)::

    {"sequence": "t1", "profile": "fast", "data": "synthetic", "seeds": [0, 1], "cases": 80,
     "model": "itermask3d-fast-t1 0.1.0/0eff15b73c", "recorded": "2026-12-05",
     "settings": {schedule, gamma, rise_gamma, rise_late_steps, min_flag_mm3, min_peak_ratio, normative,
                  scaling, registration},
     "lesions": [{"kind": "tumour", "diameter_mm": 10.0, "total": 4, "found": 0, "median_dice": 0.0}, ...],
     "normals": {"scans": 12, "flagged": 1, "rescan": 0},
     "artefacts": {"scans": 40, "rescan": 39, "flagged": 3}}
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .benchmark import lesion_of_case, parse_variant
from .checkpoints import default_weights_path, read_metadata, write_metadata

LESION_KINDS = ("tumour", "cavity", "small")


# what variant_settings and record_validation_entry read from benchmark.json's meta
META_KEYS = ("model", "seed", "cases_per_group", "gamma", "rise_gamma", "rise_late_steps", "min_flag_mm3",
             "min_peak_ratio", "scaling")


def variant_settings(meta: dict, variant: str) -> dict:
    """The inference settings of one benchmark variant (``meta`` is benchmark.json's ``meta``)."""
    schedule, options = parse_variant(variant)
    return {"schedule": schedule, "gamma": float(meta["gamma"]),
            "rise_gamma": float(meta["rise_gamma"]) if "rise" in options and meta.get("rise_gamma") else None,
            "rise_late_steps": int(meta["rise_late_steps"]), "min_flag_mm3": float(meta["min_flag_mm3"]),
            "min_peak_ratio": float(meta["min_peak_ratio"]), "normative": "normative" in options,
            "scaling": meta["scaling"], "registration": "affine"}


def summarise_cases(entries: list[dict]) -> dict:
    """Counts over benchmark case entries (``evaluation.evaluate_case``'s), pooled over runs."""
    lesions: dict[tuple[str, float | None], dict] = {}
    normals = {"scans": 0, "flagged": 0, "rescan": 0}
    artefacts = {"scans": 0, "rescan": 0, "flagged": 0}
    for entry in entries:
        name = entry["case"].removesuffix(".nii.gz")
        if name.startswith("normal"):
            normals["scans"] += 1
            normals["flagged"] += entry["flags"] > 0
            normals["rescan"] += bool(entry.get("rescan"))
        elif name.startswith("artefact"):
            artefacts["scans"] += 1
            artefacts["rescan"] += bool(entry.get("rescan"))
            artefacts["flagged"] += entry["flags"] > 0
        else:
            kind, radius = lesion_of_case(name) or ("", None)
            if kind not in LESION_KINDS:
                raise ValueError(f"benchmark case {name} is of no lesion kind this summary knows")
            diameter = None if radius is None else 2 * radius
            row = lesions.setdefault((kind, diameter), {"total": 0, "found": 0, "dice": []})
            hit_rate = entry.get("lesion_hit_rate", 0.0)
            hit_rate = 0.0 if hit_rate is None or np.isnan(hit_rate) else float(hit_rate)
            if kind == "small":  # a set counts its lesions, each found when a flag touches it
                count = int(entry.get("lesions", 1))
                row["total"] += count
                row["found"] += int(round(hit_rate * count))
            else:  # one lesion, found when a flag touches any part of it (its truth may fall into pieces)
                row["total"] += 1
                row["found"] += hit_rate > 0
            row["dice"].append(float(entry.get("dice", 0.0)))
    rows = [{"kind": kind, "diameter_mm": diameter, "total": row["total"], "found": int(row["found"]),
             "median_dice": round(float(np.median(row["dice"])), 3)}
            for (kind, diameter), row in sorted(lesions.items(),
                                                key=lambda item: (LESION_KINDS.index(item[0][0]), item[0][1] or 0))]
    return {"lesions": rows, "normals": {k: int(v) for k, v in normals.items()},
            "artefacts": {k: int(v) for k, v in artefacts.items()}}


def _read_run(path: Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / "benchmark.json"
    try:
        run = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} cannot be read as a benchmark run ({type(error).__name__})") from error
    if not isinstance(run, dict) or not isinstance(run.get("meta"), dict) or not isinstance(run.get("cases"), dict):
        raise ValueError(f"{path} holds no benchmark meta: rerun itermask3d benchmark with this version")
    missing = [key for key in META_KEYS if key not in run["meta"]]
    if missing:
        raise ValueError(f"{path}'s benchmark meta lacks {', '.join(missing)}: rerun itermask3d benchmark "
                         "with this version")
    return run


def record_validation_entry(benchmarks: list[Path], model_path: Path | None = None, profile: str = "fast",
                            sequence: str = "t1", write: bool = True) -> dict:
    """Summarise benchmark runs of a model and (``write``) store it as the metadata's ``validation``.

    Every run must have benchmarked these very weights (name and digest) with the model's own default
    settings, each on another seed; otherwise ValueError says which run does not fit."""
    from .api import Analyzer

    path = Path(model_path) if model_path is not None else default_weights_path(profile, sequence)
    analyzer = Analyzer(profile=profile, sequence=sequence, device="cpu", model_path=path, require_trained=True)
    model = analyzer.model_label
    wanted = analyzer.settings()
    entries: list[dict] = []
    seeds: list[int] = []
    for source in benchmarks:
        run = _read_run(source)
        meta = run["meta"]
        if meta.get("model") != model:
            raise ValueError(f"{source} benchmarked {meta.get('model')}, not {model}")
        if "limit" in str(meta.get("cases_per_group", "")):
            raise ValueError(f"{source} ran a subset of the benchmark (--limit); record whole runs only")
        if meta["seed"] in seeds:
            raise ValueError(f"{source} repeats seed {meta['seed']}: its cases would count twice")
        matching = [v for v in run["cases"] if variant_settings(meta, v) == wanted]
        if not matching:
            raise ValueError(f"{source} ran none of its variants ({', '.join(run['cases'])}) with the model's "
                             f"default settings ({wanted['schedule']}, gamma {wanted['gamma']:g})")
        entries += run["cases"][matching[0]]
        seeds.append(int(meta["seed"]))
    if not entries:
        raise ValueError("name at least one benchmark run (its work folder or benchmark.json)")
    validation = {"sequence": sequence, "profile": analyzer.profile.name, "data": "synthetic", "model": model,
                  "seeds": sorted(seeds), "cases": len(entries),
                  "recorded": time.strftime("%Y-%m-%d", time.gmtime()), "settings": wanted,
                  **summarise_cases(entries)}
    if write:
        metadata = read_metadata(path)
        metadata["validation"] = validation
        write_metadata(path, metadata)
    return validation
