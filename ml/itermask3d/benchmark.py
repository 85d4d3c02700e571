"""``itermask3d benchmark``: a fixed synthetic benchmark and its report (ml/BENCHMARK.md).

Cases: normals, lesions (tumour and cavity at three sizes, sets of small lesions) and every
artefact type, on random grids (axis-aligned or oblique, isotropic or anisotropic voxels).
Every case is preprocessed once; each threshold-search schedule then runs on the same
prepared volume and seed, so schedules are compared side by side.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import nibabel as nib
import numpy as np

from .evaluation import detection_metrics, evaluate_case
from .synthetic.artefacts import GAP_ARTEFACTS, SPEC_ARTEFACTS
from .synthetic.cases import make_case

GRIDS = [((1.0, 1.0, 1.0), False), ((0.9, 0.9, 3.0), True), ((1.2, 1.2, 1.2), True), ((1.0, 1.0, 2.0), False)]
LESION_SIZES_MM = (5.0, 8.0, 12.0)  # radius of tumour core / cavity: 1, 1.6, 2.4 cm across
# Candidate scan-level scores (result.json keys), reported side by side in the benchmark.
SCAN_SCORES = {"score": "final mask fraction (the product's score)",
               "score_with_checks": "final mask fraction, a rescan recommendation (rescan checks) ranked first",
               "mean_error": "mean error over the brain",
               "threshold": "subject threshold T", "initial_mean_error": "mean error of the first pass (brain masked)"}
# A variant is a schedule name with optional '+' options: "+normative" divides the error by the
# model's normative error scale, "+rise" adds the rise test (threshold.choose_threshold). A plain
# schedule name runs the spec's squared error and rule, so variants compare on the same cases.
VARIANT_OPTIONS = ("normative", "rise")


def parse_variant(variant: str) -> tuple[str, frozenset[str]]:
    """'spec+normative+rise' -> ('spec', {'normative', 'rise'}); 'coarse-fine' -> ('coarse-fine', {})."""
    schedule, *options = variant.split("+")
    unknown = [o for o in options if o not in VARIANT_OPTIONS]
    if unknown:
        raise ValueError(f"unknown variant option +{unknown[0]} in {variant!r}; "
                         f"choose from {', '.join('+' + o for o in VARIANT_OPTIONS)}")
    return schedule, frozenset(options)


def benchmark_cases(cases_per_group: int, seed: int = 0) -> list[dict]:
    """The case list: 3 x cases_per_group normals, tumour and cavity at each size and sets of
    small lesions (cases_per_group each), every artefact (cases_per_group each)."""
    rng = np.random.default_rng(seed)
    specs: list[dict] = []

    def add(name: str, **kw) -> None:
        spacing, oblique = GRIDS[int(rng.integers(len(GRIDS)))]
        specs.append({"name": name, "seed": int(rng.integers(10**6)), "spacing_mm": spacing, "oblique": oblique, **kw})

    for n in range(3 * cases_per_group):
        add(f"normal_{n:02d}", kind="normal")
    for n in range(cases_per_group):
        for lesion_type in ("tumour", "cavity"):
            for size in LESION_SIZES_MM:
                add(f"lesion_{lesion_type}_r{size:g}_{n:02d}", kind="lesion", lesion_type=lesion_type,
                    lesion_size_mm=size)
        add(f"lesion_small_{n:02d}", kind="lesion", lesion_type="small")
        for artefact in SPEC_ARTEFACTS:
            add(f"artefact_{artefact}_{n:02d}", kind="artefact", artefact_type=artefact)
    # Drawn after the others so that adding them left the earlier cases' seeds unchanged.
    for n in range(cases_per_group):
        for artefact in GAP_ARTEFACTS:
            add(f"artefact_{artefact}_{n:02d}", kind="artefact", artefact_type=artefact)
    return specs


def stratified_subset(specs: list[dict], limit: int | None) -> list[dict]:
    """At most ``limit`` cases, taken round-robin over normal / lesion / artefact groups."""
    if limit is None or limit >= len(specs):
        return specs
    groups = [[s for s in specs if s["kind"] == kind] for kind in ("normal", "lesion", "artefact")]
    chosen: list[dict] = []
    while len(chosen) < limit:
        for group in groups:
            if group and len(chosen) < limit:
                chosen.append(group.pop(0))
    return chosen


def build_cases(folder: Path, specs: list[dict], sequence: str, workers: int = 0) -> None:
    """Render the cases (skipping those already on disk) into ``folder``; ``workers`` > 1 renders
    that many at once in separate processes (each case has its own seed, so the files are the same)."""
    folder.mkdir(parents=True, exist_ok=True)
    todo = [spec for spec in specs if not (folder / f"{spec['name']}.nii.gz").exists()]
    if workers > 1 and len(todo) > 1:
        from concurrent.futures import ProcessPoolExecutor
        import multiprocessing

        # spawn, not fork: the parent may already hold torch's and SimpleITK's thread pools
        with ProcessPoolExecutor(min(workers, len(todo)), mp_context=multiprocessing.get_context("spawn")) as pool:
            for _ in pool.map(_build_case, [folder] * len(todo), todo, [sequence] * len(todo)):
                pass
        return
    for spec in todo:
        _build_case(folder, spec, sequence)


def _build_case(folder: Path, spec: dict, sequence: str) -> None:
    """Write one case: ground truth and description first, the scan last (its presence marks it done)."""
    case = make_case(spec["kind"], sequence, spec["seed"], spacing_mm=spec["spacing_mm"], oblique=spec["oblique"],
                     lesion_type=spec.get("lesion_type"), lesion_size_mm=spec.get("lesion_size_mm"),
                     artefact_type=spec.get("artefact_type"))
    if case.truth is not None:
        nib.save(case.truth, str(folder / f"{spec['name']}_truth.nii.gz"))
    (folder / f"{spec['name']}.json").write_text(json.dumps(case.info, indent=2))
    # written under another name, then renamed: a run stopped mid-write (a device call's time limit) leaves
    # no half-written scan that the next run would take for a finished case
    partial = folder / f"{spec['name']}.partial.nii.gz"
    nib.save(case.image, str(partial))
    partial.replace(folder / f"{spec['name']}.nii.gz")


def run_schedules(analyzer, scan_path: Path, out_dirs: dict[str, Path], seed: int,
                  rise_gamma: float | None = None) -> None:
    """Preprocess once, then refine + write results for each variant (a schedule, optionally with
    the normative error scale and the rise test with ``rise_gamma``; timed separately, the shared
    preprocessing time added to each)."""
    from .io import load_scan

    start = time.time()
    prepared = analyzer.prepare(load_scan(scan_path))
    shared = time.time() - start
    model_scale, model_rise = analyzer.error_scale, analyzer.rise_gamma
    try:
        for variant, out_dir in out_dirs.items():
            analyzer.schedule, options = parse_variant(variant)
            analyzer.error_scale = model_scale if "normative" in options else None
            analyzer.rise_gamma = rise_gamma if "rise" in options else None
            began = time.time()
            refined = analyzer.refine(prepared, seed=seed)
            analyzer.write_results(prepared, refined, out_dir, began - shared)
    finally:
        analyzer.error_scale, analyzer.rise_gamma = model_scale, model_rise


def lesion_of_case(name: str) -> tuple[str, float | None] | None:
    """(lesion type, radius in mm) of a benchmark case name: lesion_tumour_r5_00 -> ("tumour", 5.0),
    lesion_small_01 -> ("small", None); None for a normal or artefact case."""
    parts = name.removesuffix(".nii.gz").split("_")
    if parts[0] != "lesion":
        return None
    return (parts[1], float(parts[2][1:])) if parts[1] in ("tumour", "cavity") else (parts[1], None)


def _group(name: str) -> str:
    lesion = lesion_of_case(name)
    if lesion is not None and lesion[1] is not None:
        return f"lesion {lesion[0]} r{lesion[1]:g} mm"
    return " ".join(name.removesuffix(".nii.gz").split("_")[:-1])  # drop the case number


def _median(values) -> float:
    values = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.median(values)) if values else float("nan")


def summarise_schedule(entries: list[dict]) -> dict:
    """Per-group rows and scan-level detection for one schedule."""
    groups: dict[str, list[dict]] = {}
    for e in entries:
        groups.setdefault(_group(e["case"]), []).append(e)
    rows = {g: {"n": len(es), "dice": _median([e.get("dice") for e in es]),
                "hit_rate": _median([e.get("lesion_hit_rate") for e in es]),
                "flags": _median([e["flags"] for e in es]),
                "rescan": float(np.mean([e.get("rescan", False) for e in es])),
                "score": _median([e["score"] for e in es]),
                "seconds": _median([e["seconds"] for e in es]), "passes": _median([e["passes"] for e in es])}
            for g, es in sorted(groups.items())}
    normal = [e for e in entries if e["case"].startswith("normal")]
    lesions = [e for e in entries if e["case"].startswith("lesion")]
    artefacts = [e for e in entries if e["case"].startswith("artefact")]
    radii = {e["case"]: (lesion_of_case(e["case"]) or ("", None))[1] for e in lesions}
    big = [e for e in lesions if radii[e["case"]] is not None and radii[e["case"]] >= 5]

    def detect(positives, key="score"):
        if not normal or not positives:
            return {}
        labels = [False] * len(normal) + [True] * len(positives)
        return detection_metrics([e[key] for e in normal + positives], labels)

    # The product's score is the final mask fraction; the spec also names the mean error; T and the
    # first pass's error are further candidates. Reported side by side, never used to pick per case.
    alternatives = {key: {"lesion": detect(lesions, key).get("auroc", float("nan")),
                          "artefact": detect(artefacts, key).get("auroc", float("nan"))}
                    for key in SCAN_SCORES if all(key in e for e in entries)}
    return {"rows": rows, "lesion_vs_normal": detect(lesions), "artefact_vs_normal": detect(artefacts),
            "scan_score_aurocs": alternatives,
            "median_dice_lesions_1cm_plus": _median([e.get("dice") for e in big]),
            "median_flags_normal": _median([e["flags"] for e in normal]),
            "mean_stray_flags_lesion": (float(np.mean([e["stray_flags"] for e in lesions]))
                                        if lesions and all("stray_flags" in e for e in lesions) else float("nan")),
            # The median hides a minority of flagged normals; each one costs a reader in a worklist.
            "flagged_rate_normal": float(np.mean([e["flags"] > 0 for e in normal])) if normal else float("nan"),
            "rescan_rate_normal": float(np.mean([e.get("rescan", False) for e in normal])) if normal else float("nan"),
            "median_seconds": _median([e["seconds"] for e in entries]),
            "median_passes": _median([e["passes"] for e in entries])}


def _fmt(v) -> str:
    if isinstance(v, float):
        return "n/a" if np.isnan(v) else f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def write_report(path: Path, summaries: dict[str, dict], meta: dict) -> None:
    lines = ["# itermask3d benchmark", "",
             f"Generated by `itermask3d benchmark` on {meta['date']} — profile `{meta['profile']}`, sequence "
             f"`{meta['sequence']}`, device `{meta['device']}` ({meta['hardware']}), model `{meta['model']}` "
             f"(trained: {meta['trained']}, intensity scaling `{meta.get('scaling', 'p1-p99')}`), {meta['cases']} synthetic cases "
             f"(`--cases-per-group {meta['cases_per_group']}`), seed {meta['seed']}.",
             "", "Dice uses the subject-specific threshold (no labelled tuning per case). "
             "Scan-level score = final mask "
             "volume / brain volume. Seconds are wall-clock per case including loading, registration and writing; "
             "the machine is shared, so timings include contention from other jobs. "
             "Rescan: fraction of cases that the rescan checks (ours, not the spec's: slices missing inside the "
             "brain, brain cut off, a blank region, heavy noise, k-space spike, zipper line, ghosting, motion, "
             "strong bias field) send for a rescan; "
             "the AUROC rows use the spec's score alone unless they say otherwise."
             + (f" Every variant chooses its threshold with gamma {meta['gamma']:g} and flags connected regions of "
                f"at least {meta['min_flag_mm3']:g} mm^3 (the model's `gamma` and `min_flag_mm3`)."
                if "gamma" in meta and "min_flag_mm3" in meta else "")
             + (f" Variants named `+rise` add the rise test (ours: the search curve without its largest error "
                f"must rise by more than {meta['rise_gamma']:g} per step) to the spec's rule"
                + (f"; where the spec's rule stops at one of the last {meta['rise_late_steps']} steps, the rise "
                   f"test may move the step earlier." if meta.get("rise_late_steps", 1) > 1 else ".")
                if meta.get("rise_gamma") else "")
             + (f" Regions whose peak anomaly stays under {meta['min_peak_ratio']:g} x the scan's strongest flag's "
                f"are left out of the flags (the model's `min_peak_ratio`)." if meta.get("min_peak_ratio") else ""), ""]
    lines += ["## Targets (fast profile, 2-core CPU)", "", "| metric | target | " + " | ".join(summaries) + " |",
              "|---|---|" + "---|" * len(summaries)]
    targets = [("median Dice, lesions >= 1 cm", ">= 0.6", lambda s: s["median_dice_lesions_1cm_plus"]),
               ("AUROC lesion vs normal", ">= 0.95", lambda s: s["lesion_vs_normal"].get("auroc", float("nan"))),
               ("AUROC artefact vs normal", ">= 0.95", lambda s: s["artefact_vs_normal"].get("auroc", float("nan"))),
               ("AUROC artefact vs normal, with the rescan checks", "",
                lambda s: s.get("scan_score_aurocs", {}).get("score_with_checks", {}).get("artefact", float("nan"))),
               ("median flags per normal scan", "<= 1", lambda s: s["median_flags_normal"]),
               ("normal scans with any flag", "", lambda s: s.get("flagged_rate_normal", float("nan"))),
               ("flags off the lesion per lesion scan (mean)", "",
                lambda s: s.get("mean_stray_flags_lesion", float("nan"))),
               ("normal scans sent for rescan", "", lambda s: s.get("rescan_rate_normal", float("nan"))),
               ("median seconds per case", "<= 60", lambda s: s["median_seconds"]),
               ("median network passes per case", "", lambda s: s["median_passes"])]
    for label, target, get in targets:
        lines.append(f"| {label} | {target} | " + " | ".join(_fmt(get(s)) for s in summaries.values()) + " |")
    for schedule, summary in summaries.items():
        lines += ["", f"## Schedule `{schedule}`", "",
                  "| group | n | median Dice | lesion hit rate | median flags | rescan | median score | s/case | passes |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for group, row in summary["rows"].items():
            lines.append(f"| {group} | {row['n']} | {_fmt(row['dice'])} | {_fmt(row['hit_rate'])} | "
                         f"{_fmt(row['flags'])} | {_fmt(row.get('rescan', float('nan')))} | "
                         f"{_fmt(row['score'])} | {_fmt(row['seconds'])} | {_fmt(row['passes'])} |")
        for label in ("lesion_vs_normal", "artefact_vs_normal"):
            d = summary[label]
            if d:
                lines.append(f"\nScan-level {label.replace('_', ' ')}: AUROC {_fmt(d['auroc'])}, "
                             f"AUPRC {_fmt(d['auprc'])}, "
                             f"FPR@80%TPR {_fmt(d['fpr_at_80_tpr'])}, FPR@90%TPR {_fmt(d['fpr_at_90_tpr'])}")
        for key, aurocs in summary.get("scan_score_aurocs", {}).items():
            lines.append(f"\nScan-level AUROC with score = {SCAN_SCORES[key]}: lesion vs normal "
                         f"{_fmt(aurocs['lesion'])}, artefact vs normal {_fmt(aurocs['artefact'])}")
    lines += ["", meta.get("notes", "")]
    path.write_text("\n".join(lines) + "\n")


def _evaluation(scan: Path, result_dir: Path, keep: bool = False) -> dict:
    """``evaluate_case`` of one result. A shard keeps it (``keep``) as evaluation.json beside the result,
    and any run reuses that file while it is newer than the result, so the last run after the shards
    only gathers. A run without shards writes none, so it evaluates with the code of the day."""
    kept = result_dir / "evaluation.json"
    if kept.exists() and kept.stat().st_mtime_ns >= (result_dir / "result.json").stat().st_mtime_ns:
        return json.loads(kept.read_text())
    entry = evaluate_case(scan, result_dir)
    if keep:
        kept.write_text(json.dumps(entry, default=float))
    return entry


def benchmark_entry(work: Path, report: Path | None = None, profile: str = "fast", sequence: str = "t1",
                    device: str = "auto", schedules: list[str] | None = None, cases_per_group: int = 2,
                    seed: int = 0, notes: str = "", limit: int | None = None,
                    model_path: Path | None = None, rise_gamma: float | None = None,
                    build_workers: int = 0, shard: tuple[int, int] | None = None) -> Path | None:
    """Build the cases under ``work``, run every schedule, evaluate, write the report.
    ``limit``: run only a stratified subset of that many cases (reported in the file);
    ``model_path``: weights to benchmark instead of the shipped ones (e.g. a candidate);
    ``rise_gamma``: the rise test's gamma for '+rise' variants (default: the model's calibrated one);
    ``build_workers``: processes that render the cases at once (0: one after the other);
    ``shard``: (i, n) runs only every n-th case from the i-th and writes no report (returns None), so that
    n processes can share a machine's cores and GPU; a last run without a shard, finding every case's
    results on disk, then evaluates them all and writes the report."""
    from .api import Analyzer
    from .checkpoints import hardware_description
    from .inference import search_schedule

    schedules = schedules or ["spec", "coarse-fine"]
    for variant in schedules:
        search_schedule(parse_variant(variant)[0])
    if cases_per_group < 1:
        raise ValueError("cases-per-group must be at least 1")
    if shard is not None and not 0 <= shard[0] < shard[1]:
        raise ValueError(f"shard {shard[0]}/{shard[1]}: the index must be 0 to {shard[1] - 1}")
    work = Path(work)
    report = Path(report) if report else Path(__file__).resolve().parent.parent / "BENCHMARK.md"
    # the model first, so that a wrong --model fails before minutes of case building
    analyzer = Analyzer(profile=profile, sequence=sequence, device=device, model_path=model_path,
                        normative=True if any("normative" in parse_variant(v)[1] for v in schedules) else None,
                        rise_gamma=rise_gamma)
    if any("rise" in parse_variant(v)[1] for v in schedules) and analyzer.rise_gamma is None:
        raise ValueError("a '+rise' variant needs a rise gamma: the model's metadata names none; give --rise-gamma")
    specs = stratified_subset(benchmark_cases(cases_per_group, seed), limit)
    mine = specs[shard[0]::shard[1]] if shard else specs
    build_cases(work / "cases", mine, sequence, build_workers)
    for spec in mine:
        out_dirs = {s: work / "results" / s / spec["name"] for s in schedules}
        if not all((d / "result.json").exists() for d in out_dirs.values()):
            run_schedules(analyzer, work / "cases" / f"{spec['name']}.nii.gz", out_dirs, seed, analyzer.rise_gamma)
        if shard:  # a shard evaluates its own cases too, so the last run only gathers
            for d in out_dirs.values():
                _evaluation(work / "cases" / f"{spec['name']}.nii.gz", d, keep=True)
    if shard:
        return None
    entries = {s: [_evaluation(work / "cases" / f"{spec['name']}.nii.gz", work / "results" / s / spec["name"])
                   for spec in specs] for s in schedules}
    summaries = {s: summarise_schedule(e) for s, e in entries.items()}
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "profile": profile, "sequence": sequence,
            "device": analyzer.device.type, "hardware": hardware_description(analyzer.device),
            "model": analyzer.model_label, "trained": analyzer.trained,
            "scaling": analyzer.scaling, "min_peak_ratio": analyzer.min_peak_ratio,
            "gamma": analyzer.gamma, "min_flag_mm3": analyzer.min_flag_mm3,
            "rise_gamma": analyzer.rise_gamma if any("rise" in parse_variant(v)[1] for v in schedules) else None,
            "rise_late_steps": analyzer.rise_late_steps,
            "cases": len(specs), "cases_per_group": f"{cases_per_group}, limit {limit}" if limit else cases_per_group, "seed": seed, "notes": notes}
    # meta names the model (with its weights' digest) so that a summary is never credited to other weights
    (work / "benchmark.json").write_text(json.dumps({"meta": meta, "cases": entries, "summaries": summaries},
                                                    indent=2, default=float))
    write_report(report, summaries, meta)
    return report
