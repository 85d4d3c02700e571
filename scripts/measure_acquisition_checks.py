"""Measure the rescan checks (itermask3d.quality, itermask3d.signal_checks) on synthetic scans.

For every grid (the benchmark's, plus 5-7 mm slices), it renders normals, a lesion, every spec
artefact and the two gap artefacts (zero slices inside the brain, top of the brain cut off), and
reports how often each is sent for a rescan and by which check, and the margins: the largest
end-plane fraction of complete brains against quality.CUT_FRACTION, the largest blank region of
normal and lesion scans against quality.BLANK_MIN_ML, and each signal measure's largest value on
normal and lesion scans against its limit. No network runs, but every scan is aligned to the template (the
bias measure fits the template's white matter, on the `fast` profile's grid); about 25 minutes per sequence
on 2 cores.

    .venv/bin/python scripts/measure_acquisition_checks.py --sequence t1 --out ml/ACQUISITION-CHECKS.md
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from itermask3d.benchmark import GRIDS
from itermask3d.io import tissue_mask, validate
from itermask3d import signal_checks
from itermask3d.bias_estimate import bias_field_spread
from itermask3d.preprocessing import prepare_scan
from itermask3d.profiles import PROFILES
from itermask3d.quality import BLANK_MIN_ML, CUT_FRACTION, MISSING_FRACTION, largest_blank_region
from itermask3d.synthetic import make_case
from itermask3d.synthetic.artefacts import GAP_ARTEFACTS, SPEC_ARTEFACTS

ALL_GRIDS = GRIDS + [((0.5, 0.5, 5.0), True), ((1.0, 1.0, 6.0), False), ((0.9, 0.9, 7.0), True)]
LESION_TYPES = ("tumour", "cavity", "small")
# Each signal measure, its limit, and the artefact it is meant for.
SIGNAL_MEASURES = {"noise_fraction": ("NOISE_LIMIT", "noise"), "spike_prominence": ("SPIKE_LIMIT", "spike"),
                   "zipper_ratio": ("ZIPPER_LIMIT", "zipper"), "ghost_prominence": ("GHOST_LIMIT", "ghosting"),
                   "bias_spread": ("BIAS_LIMIT", "bias"), "motion_jitter": ("MOTION_LIMIT", "motion")}


def end_fractions(data: np.ndarray) -> list[float]:
    """Tissue of the first and last tissue plane of each axis over the largest plane's, 6 values."""
    tissue = tissue_mask(data)
    out = []
    for axis in range(3):
        counts = tissue.sum(axis=tuple(a for a in range(3) if a != axis)).astype(float)
        present = np.flatnonzero(counts)
        out += [counts[present[0]] / counts.max(), counts[present[-1]] / counts.max()]
    return out


def measure(seeds: int, sequence: str) -> dict:
    """Per case group, the issue kinds found on each case; end fractions of every complete case; the
    signal measures per group; one line per gap case the checks missed."""
    groups: dict[str, list[list[str]]] = {}
    measures: dict[str, list[signal_checks.SignalMeasures]] = {}
    blank_ml: dict[str, list[float]] = {}
    complete_ends: list[float] = []
    missed: list[str] = []
    for g, (spacing, oblique) in enumerate(ALL_GRIDS):
        kinds = [("normal", {})] * seeds + [("lesion", {"lesion_type": LESION_TYPES[g % len(LESION_TYPES)]})]
        kinds += [("artefact", {"artefact_type": a}) for a in GAP_ARTEFACTS for _ in range(seeds)]
        kinds += [("artefact", {"artefact_type": a}) for a in SPEC_ARTEFACTS]
        for n, (kind, extra) in enumerate(kinds):
            case = make_case(kind, sequence, seed=1000 * g + n, spacing_mm=spacing, oblique=oblique, **extra)
            scan = validate(case.image)
            prepared = prepare_scan(scan, PROFILES["fast"])
            found = [issue.kind for issue in signal_checks.rescan_issues(prepared)]
            group = kind if kind != "artefact" else f"artefact {extra['artefact_type']}"
            groups.setdefault(group, []).append(found)
            measures.setdefault(group, []).append(signal_checks.measure_signal(scan, bias_field_spread(prepared)))
            region = largest_blank_region(scan.data, scan.foreground, np.asarray(scan.spacing_mm))
            blank_ml.setdefault(group, []).append(float(region.sum() * np.prod(scan.spacing_mm) / 1000))
            if extra.get("artefact_type") not in GAP_ARTEFACTS:
                complete_ends += end_fractions(scan.data)
            elif not found:
                axis = case.info["axis"]
                ends = end_fractions(scan.data)[2 * axis:2 * axis + 2]
                missed.append(f"{extra['artefact_type']}, {'x'.join(f'{s:g}' for s in spacing)} mm, "
                              f"{case.info['thickness_mm']:.0f} mm removed, end planes {ends[0]:.3f} / {ends[1]:.3f}")
    return {"groups": groups, "measures": measures, "blank_ml": blank_ml, "ends": complete_ends, "missed": missed}


def margin_lines(measures: dict[str, list[signal_checks.SignalMeasures]]) -> list[str]:
    """Each signal measure: largest on normal and lesion scans, its limit, and its range on its artefact."""
    lines = ["| measure | limit | largest on normals | largest on lesions | its artefact (min - max) |",
             "|---|---|---|---|---|"]
    for name, (limit_name, artefact) in SIGNAL_MEASURES.items():
        def values(group):  # a measure that could not be taken (None) has no value to compare
            return [v for m in measures.get(group, []) if (v := getattr(m, name)) is not None]
        target = values(f"artefact {artefact}")
        lines.append(f"| {name} | {getattr(signal_checks, limit_name)} | {max(values('normal')):.3f} | "
                     f"{max(values('lesion')):.3f} | {artefact}: {min(target):.3f} - {max(target):.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("ml/ACQUISITION-CHECKS.md"))
    parser.add_argument("--seeds", type=int, default=3, help="normals and gap cases per grid")
    parser.add_argument("--sequence", default="t1", choices=("t1", "t2", "flair"))
    args = parser.parse_args()
    start = time.time()
    found = measure(args.seeds, args.sequence)
    ends = found["ends"]
    grids = ", ".join(f"{'x'.join(f'{s:g}' for s in sp)} mm{' oblique' if ob else ''}" for sp, ob in ALL_GRIDS)
    lines = [f"# Rescan checks on synthetic {args.sequence.upper()} scans", "",
             f"Generated by `scripts/measure_acquisition_checks.py --sequence {args.sequence} --seeds {args.seeds}` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({time.time() - start:.0f} s). Grids: {grids}. "
             f"Thresholds: MISSING_FRACTION {MISSING_FRACTION}, CUT_FRACTION {CUT_FRACTION}, BLANK_MIN_ML {BLANK_MIN_ML}.", "",
             "| group | cases | sent for rescan | checks that fired (cases) |", "|---|---|---|---|"]
    for group, cases in sorted(found["groups"].items()):
        kinds: dict[str, int] = {}
        for case_kinds in cases:
            for kind in set(case_kinds):
                kinds[kind] = kinds.get(kind, 0) + 1
        fired = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"
        lines.append(f"| {group} | {len(cases)} | {np.mean([bool(c) for c in cases]):.2f} | {fired} |")
    lines += ["", "Signal measures (itermask3d.signal_checks): limits set from normal scans with a margin; the "
              "artefact column shows what each measure is for, not how its limit was chosen.", ""]
    lines += margin_lines(found["measures"])
    blank = found["blank_ml"]
    slabs = blank.get("artefact slab_top", []) + blank.get("artefact slab_middle", [])
    lines += ["", f"Blank regions (one constant non-zero intensity; BLANK_MIN_ML {BLANK_MIN_ML}): the largest on normal "
              f"and lesion scans is {max(blank['normal'] + blank['lesion']):.2f} mL; on the slab artefacts "
              f"{min(slabs):.1f} - {max(slabs):.1f} mL."]
    lines += ["", f"Complete brains (no gap artefact): the largest end-plane fraction over {len(ends) // 6} scans "
              f"is {max(ends):.3f} (CUT_FRACTION {CUT_FRACTION}); 99th percentile {np.percentile(ends, 99):.3f}.", "",
              "Gap cases not sent for a rescan:" if found["missed"] else "Every gap case was sent for a rescan."]
    lines += [f"- {line}" for line in found["missed"]]
    args.out.write_text("\n".join(lines) + "\n")
    print(args.out.read_text())


if __name__ == "__main__":
    main()
