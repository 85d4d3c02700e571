"""Does the GPU's mixed precision (bfloat16 autocast) change what inference finds, against float32?

Runs the shipped model's two inference phases twice on the same benchmark cases and noise seed, on this
CPU: in float32, and under the CPU's bfloat16 autocast (the type ``networks.mixed_precision_dtype``
picks on a GPU; the CPU's rounding of a bfloat16 convolution is the GPU's up to summation order).
Reports per case the threshold, the passes, the final masks' agreement (Dice between the two runs) and
each run's Dice against the lesion's truth, and writes them as JSON.

    .venv/bin/python scripts/compare_precision.py --sequence flair --normals 2 --lesions 4 --out precision.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from itermask3d.api import Analyzer
from itermask3d.benchmark import benchmark_cases
from itermask3d.evaluation import overlap_metrics
from itermask3d.io import validate
from itermask3d.resampling import resample
from itermask3d.synthetic.cases import make_case


def compare_case(analyzer: Analyzer, spec: dict, sequence: str) -> dict:
    """One benchmark case through both precisions; masks compared on the profile grid."""
    case = make_case(spec["kind"], sequence, spec["seed"], spacing_mm=spec["spacing_mm"], oblique=spec["oblique"],
                     lesion_type=spec.get("lesion_type"), lesion_size_mm=spec.get("lesion_size_mm"))
    scan = validate(case.image)
    prepared = analyzer.prepare(scan)
    truth = np.zeros_like(prepared.brain)
    if case.truth is not None:
        truth = resample(np.asarray(case.truth.dataobj, np.float32), scan.affine, analyzer.profile.grid_affine,
                         analyzer.profile.shape, target_to_source_world=prepared.mni_to_scan, order=0) > 0.5
        truth &= prepared.brain
    runs = {}
    own_precision = analyzer.precision
    try:
        for name, precision in (("float32", None), ("bfloat16", torch.bfloat16)):
            analyzer.precision = precision
            began = time.time()
            result = analyzer.refine(prepared, seed=0)
            runs[name] = {"threshold": result.threshold, "passes": result.passes,
                          "mask_voxels": int(result.mask.sum()), "seconds": round(time.time() - began, 1),
                          "mask": result.mask}
            if truth.any():
                runs[name]["dice_truth"] = round(overlap_metrics(result.mask, truth)["dice"], 3)
    finally:
        analyzer.precision = own_precision
    # two empty masks agree completely (overlap_metrics leaves their Dice undefined)
    agreement = overlap_metrics(runs["float32"]["mask"], runs["bfloat16"]["mask"])["dice"]
    agreement = 1.0 if np.isnan(agreement) else agreement
    for run in runs.values():
        del run["mask"]
    return {"case": spec["name"], "masks_dice": round(agreement, 3), **runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequence", default="flair", choices=("t1", "t2", "flair"))
    parser.add_argument("--model", type=Path, default=None, help="weights (.pt); default: the shipped fast model")
    parser.add_argument("--normals", type=int, default=2)
    parser.add_argument("--lesions", type=int, default=4)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    analyzer = Analyzer("fast", args.sequence, "cpu", model_path=args.model)
    specs = benchmark_cases(2)
    chosen = ([s for s in specs if s["kind"] == "normal"][:args.normals]
              + [s for s in specs if s["kind"] == "lesion"][::3][:args.lesions])
    rows = []
    for spec in chosen:
        rows.append(compare_case(analyzer, spec, args.sequence))
        print(json.dumps(rows[-1]), flush=True)
    report = {"sequence": args.sequence, "model": analyzer.model_info["version"], "torch": torch.__version__,
              "cases": rows}
    args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
