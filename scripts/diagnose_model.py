"""Diagnose a fast-profile model on one synthetic lesion case: can it tell the lesion from normal tissue?

Prints, on the profile grid (normalised intensities, squared error):
- the error inside the lesion vs. normal brain when the whole brain is masked (the search's first pass);
- the error inside the lesion when only the lesion (+2 voxels) is masked, vs. the same blob shifted into
  normal tissue: the "oracle" end state of the refinement. A model that can detect this lesion needs the
  first number well above the second;
- the full two-phase refinement: threshold, k*, Dice, and where the final mask lies;
- with --trace, every search step: the masked share of the brain, the share of the lesion still masked,
  and the error in the lesion and in normal tissue (does the lesion stay masked until the end, and does
  the threshold curve rise where it should?).
It also prints the normalisation's percentiles: a large bright lesion raises p99 and so scales the
normal tissue, and every error, down.

    .venv/bin/python scripts/diagnose_model.py [--model ml/itermask3d/weights/fast_t1.pt] [--seed 5]
    .venv/bin/python scripts/diagnose_model.py --sequence flair --benchmark-case lesion_tumour_r12_00 --trace
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

from itermask3d.api import Analyzer
from itermask3d.benchmark import benchmark_cases
from itermask3d.inference import iterative_mask_refinement
from itermask3d.io import load_scan
from itermask3d.resampling import resample
from itermask3d.synthetic.cases import make_case


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="weights (.pt); default: shipped fast model")
    parser.add_argument("--sequence", default="t1", choices=("t1", "t2", "flair"))
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--lesion-type", default="tumour", choices=("tumour", "cavity", "small"))
    parser.add_argument("--size-mm", type=float, default=12.0)
    parser.add_argument("--benchmark-case", default=None,
                        help="a lesion case of `itermask3d benchmark` by name (its seed and grid), e.g. lesion_tumour_r12_00")
    parser.add_argument("--trace", action="store_true", help="print every search step")
    args = parser.parse_args()

    analyzer = Analyzer("fast", args.sequence, "cpu", model_path=args.model)
    if args.benchmark_case:
        specs = {spec["name"]: spec for spec in benchmark_cases(2) if spec["kind"] == "lesion"}
        if args.benchmark_case not in specs:
            parser.error(f"no lesion case {args.benchmark_case!r}; choose from {', '.join(specs)}")
        spec = specs[args.benchmark_case]
        case = make_case("lesion", args.sequence, spec["seed"], spacing_mm=spec["spacing_mm"], oblique=spec["oblique"],
                         lesion_type=spec["lesion_type"], lesion_size_mm=spec.get("lesion_size_mm"))
    else:
        case = make_case("lesion", args.sequence, args.seed, lesion_type=args.lesion_type, lesion_size_mm=args.size_mm)
    with tempfile.TemporaryDirectory() as tmp:
        nib.save(case.image, str(Path(tmp) / "scan.nii.gz"))
        scan = load_scan(Path(tmp) / "scan.nii.gz")
    prepared = analyzer.prepare(scan)
    brain = prepared.brain
    truth = resample(np.asarray(case.truth.dataobj, np.float32), scan.affine, analyzer.profile.grid_affine,
                     analyzer.profile.shape, target_to_source_world=prepared.mni_to_scan, order=0) > 0.5
    truth &= brain
    normal = brain & ~truth
    reconstruct = analyzer.reconstructor(prepared, seed=0)  # the numerics inference uses (bfloat16 autocast on CUDA)

    def error(mask: np.ndarray) -> np.ndarray:
        return (prepared.x - reconstruct(mask)) ** 2 * brain

    print(f"model {analyzer.model_info['version']}; lesion {int(truth.sum())} of {int(brain.sum())} brain voxels")
    p1, p50, p99 = np.percentile(prepared.denormalise(prepared.x)[brain], (1, 50, 99))
    print(f"normalisation: p1 {p1:.1f}, p50 {p50:.1f}, p99 {p99:.1f}; (p99 - p1) / (p50 - p1) = {(p99 - p1) / (p50 - p1):.3f}")
    e = error(brain)
    print(f"whole brain masked:  error in lesion {e[truth].mean():.4f}, in normal brain {e[normal].mean():.4f}")
    blob = ndimage.binary_dilation(truth, iterations=2) & brain
    e = error(blob)
    print(f"lesion masked:       error in lesion {e[truth].mean():.4f}")
    keep_away = ndimage.binary_dilation(truth, iterations=4)
    for shift in ((0, 15, 0), (0, -15, 0), (12, 0, 0)):
        moved = np.roll(blob, shift, axis=(0, 1, 2)) & brain & ~keep_away
        e = error(moved)
        print(f"same blob in normal tissue, shifted {shift}: error {e[moved].mean():.4f} ({int(moved.sum())} voxels)")

    def traced(mask: np.ndarray) -> np.ndarray:
        reconstruction = reconstruct(mask)
        if args.trace:
            e = (prepared.x - reconstruction) ** 2 * brain
            print(f"  pass: masked {mask.sum() / brain.sum():.3f} of the brain, {(mask & truth).sum() / truth.sum():.3f} "
                  f"of the lesion; error in lesion {e[truth].mean():.4f}, in normal tissue {e[normal].mean():.5f}")
        return reconstruction

    start = time.time()
    result = iterative_mask_refinement(traced, prepared.x, brain, gamma=analyzer.gamma, schedule=analyzer.schedule,
                                       error_scale=analyzer.error_scale, rise_gamma=analyzer.rise_gamma)
    if args.trace:
        print("search thresholds t_i:", ", ".join(f"{i}: {t:.4f}" for i, t in zip(result.search_steps, result.search_thresholds)))
    mask = result.mask
    dice = 2 * np.sum(mask & truth) / max(mask.sum() + truth.sum(), 1)
    print(f"refinement: gamma {analyzer.gamma}, T {result.threshold:.4f}, k* {result.k_star} ({result.method}), "
          f"{result.passes} passes, {time.time() - start:.0f} s; final mask {int(mask.sum())} voxels, Dice {dice:.3f}")
    false_positive = mask & ~truth
    fp_median = float(np.median(prepared.x[false_positive])) if false_positive.any() else float("nan")
    print(f"final error: lesion {result.error[truth].mean():.4f}, normal {result.error[normal].mean():.4f}; "
          f"normalised intensity under the false-positive mask: median {fp_median:.2f} "
          f"(brain median {np.median(prepared.x[brain]):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
