"""Does a benchmark run on another device (a GPU worker) find what this CPU finds on the same cases?

Takes one variant's result folders from `itermask3d benchmark` run elsewhere (``WORK/results/VARIANT``, one
folder per case with its ``result.json``), renders the same cases here (the benchmark's cases are fixed by
their seed), runs the same variant with the same noise seed on this CPU, and reports per case what each
device found: threshold, passes, flags and their volume, score and triage. Writes them as JSON.

    .venv/bin/python scripts/compare_device_results.py --results W/results/spec+rise --sequence flair \
        --variant spec+rise --out device_vs_cpu.json
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from itermask3d.api import Analyzer
from itermask3d.benchmark import benchmark_cases, build_cases, parse_variant, run_schedules

COMPARED = ("threshold", "passes", "score", "triage", "seconds")


def summary(result: dict) -> dict:
    """The figures of one result.json that two devices should agree on (seconds: to compare speed)."""
    flags = result["flags"]
    return {**{k: result[k] for k in COMPARED}, "flags": len(flags),
            "flagged_mm3": round(sum(f["volume_mm3"] for f in flags), 1),
            "device": result["details"].get("device")}


def compare(results: Path, sequence: str, variant: str, cases_per_group: int = 2, seed: int = 0,
            profile: str = "fast", limit: int | None = None) -> list[dict]:
    """One row per case found under ``results``: the other device's summary beside this CPU's."""
    specs = {s["name"]: s for s in benchmark_cases(cases_per_group, seed)}
    names = sorted(p.parent.name for p in results.glob("*/result.json"))[:limit]
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise SystemExit(f"not cases of this benchmark (cases per group {cases_per_group}, seed {seed}): {unknown}")
    analyzer = Analyzer(profile=profile, sequence=sequence, device="cpu")
    rise_gamma = analyzer.rise_gamma if "rise" in parse_variant(variant)[1] else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            build_cases(Path(tmp) / "cases", [specs[name]], sequence)
            out = Path(tmp) / "results" / name
            run_schedules(analyzer, Path(tmp) / "cases" / f"{name}.nii.gz", {variant: out}, seed, rise_gamma)
            other = summary(json.loads((results / name / "result.json").read_text()))
            here = summary(json.loads((out / "result.json").read_text()))
            rows.append({"case": name, "other": other, "cpu": here})
            print(f"{name}: threshold {other['threshold']:.4g} / {here['threshold']:.4g}, flags {other['flags']} / "
                  f"{here['flags']}, flagged {other['flagged_mm3']:.0f} / {here['flagged_mm3']:.0f} mm^3, "
                  f"{other['seconds']:.1f} / {here['seconds']:.1f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, required=True, help="WORK/results/VARIANT of the other device's run")
    parser.add_argument("--sequence", required=True)
    parser.add_argument("--variant", required=True, help="the benchmark variant those results ran, e.g. spec+rise")
    parser.add_argument("--cases-per-group", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="only the first N cases (by name)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = compare(args.results, args.sequence, args.variant, args.cases_per_group, args.seed, limit=args.limit)
    agree = sum(r["other"]["flags"] == r["cpu"]["flags"] and r["other"]["triage"] == r["cpu"]["triage"] for r in rows)
    args.out.write_text(json.dumps({"sequence": args.sequence, "variant": args.variant, "cases": rows,
                                    "same_flag_count_and_triage": agree}, indent=2))
    print(f"{agree} of {len(rows)} cases: same number of flags and triage; {args.out}")


if __name__ == "__main__":
    main()
