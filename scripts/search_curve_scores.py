"""Scan-level scores taken from the threshold-search curve, against the product's score, on a benchmark run.

Reads every ``result.json`` that ``itermask3d benchmark --work W`` left under ``W/results/VARIANT`` and ranks
lesion and artefact scans against the normals (AUROC) by: the product's score (final mask fraction), the
mean error, the largest smoothed rise of the curve without its last point (the rise test's statistic),
t_99, and t_99 / t_90. Prints one line per case and the AUROCs (ml/README.md, "The rise test", session 23).

    .venv/bin/python scripts/search_curve_scores.py W spec+rise
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from itermask3d.evaluation import detection_metrics
from itermask3d.threshold import smoothed_differences

SCORES = ("score", "mean_error", "rise", "t99", "t99_over_t90")


def curve_scores(result: dict) -> dict:
    """The candidate scores of one case's result.json (a whole-percent schedule that reaches 99 and 90)."""
    steps = np.asarray(result["details"]["search_steps"], dtype=float)
    thresholds = np.asarray(result["details"]["search_thresholds"], dtype=float)
    if not {90.0, 99.0} <= set(steps.tolist()):
        raise ValueError("its search schedule has no steps 90 and 99 (spec and coarse-fine have both)")
    rise = smoothed_differences(steps[:-1], thresholds[:-1])
    t99 = float(thresholds[np.flatnonzero(steps == 99)[0]])
    t90 = float(thresholds[np.flatnonzero(steps == 90)[0]])
    return {"score": result["score"], "mean_error": result["mean_error"], "rise": float(rise.max()),
            "rise_step": float(steps[:-1][rise.argmax()]), "t99": t99, "t99_over_t90": t99 / t90,
            "flags": len(result["flags"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("work", type=Path, help="the benchmark's --work folder")
    parser.add_argument("variant", help="a schedule variant it ran, e.g. spec+rise or coarse-fine")
    args = parser.parse_args()
    paths = sorted((args.work / "results" / args.variant).glob("*/result.json"))
    if not paths:
        parser.exit(1, f"no result.json under {args.work / 'results' / args.variant}: give the benchmark's "
                       "--work folder and a variant it ran\n")
    try:
        cases = {path.parent.name: curve_scores(json.loads(path.read_text())) for path in paths}
    except (ValueError, KeyError) as error:
        parser.exit(1, f"cannot read the search curves: {error}\n")
    for name, c in cases.items():
        print(f"{name:28s} flags {c['flags']} score {c['score']:.4f} mean error {c['mean_error']:.5f} "
              f"rise {c['rise']:.4f} at {c['rise_step']:g} t99 {c['t99']:.3f} t99/t90 {c['t99_over_t90']:.2f}")
    normals = [c for name, c in cases.items() if name.startswith("normal")]
    for kind in ("lesion", "artefact"):
        positives = [c for name, c in cases.items() if name.startswith(kind)]
        if not normals or not positives:
            continue
        labels = [False] * len(normals) + [True] * len(positives)
        aurocs = {key: detection_metrics([c[key] for c in normals + positives], labels)["auroc"] for key in SCORES}
        print(f"AUROC {kind} vs normal: " + ", ".join(f"{key} {value:.3f}" for key, value in aurocs.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
