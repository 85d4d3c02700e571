"""Command line: ``itermask3d infer|check|synth|train|calibrate|normative|evaluate|benchmark|record-validation``.

The parser only translates arguments into calls of typed ``*_entry`` functions. Every
failure is reported as one line on stderr with a non-zero exit status, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from .errors import InputError
from .profiles import PROFILES, SEQUENCES

EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL = 2, 2, 3


class _OneLineParser(argparse.ArgumentParser):
    """argparse with single-line error messages."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def build_analyzer(sequence: str = "t1", profile: str = "fast", device: str = "auto", model: Path | None = None,
                   schedule: str | None = None, gamma: float | None = None, min_flag_mm3: float | None = None,
                   rise_gamma: float | None = None, min_peak_ratio: float | None = None,
                   rise_late_steps: int | None = None, allow_untrained: bool = False):
    """The ``api.Analyzer`` for these settings: the process's cached one unless a setting is overridden.

    Without trained weights for the profile and sequence it raises MissingModelError, unless
    ``allow_untrained`` (random weights, for trying the pipeline only)."""
    from .api import Analyzer, load_analyzer

    overrides = {"schedule": schedule, "gamma": gamma, "min_flag_mm3": min_flag_mm3, "rise_gamma": rise_gamma,
                 "min_peak_ratio": min_peak_ratio, "rise_late_steps": rise_late_steps}
    if all(v is None for v in overrides.values()):
        return load_analyzer(profile=profile, sequence=sequence, device=device, model_path=model,
                             require_trained=not allow_untrained)
    return Analyzer(profile=profile, sequence=sequence, device=device, model_path=model,
                    require_trained=not allow_untrained, **overrides)


def infer_entry(input_path: Path, out: Path, sequence: str = "t1", profile: str = "fast",
                device: str = "auto", model: Path | None = None, seed: int = 0,
                schedule: str | None = None, gamma: float | None = None,
                show_progress: bool = False, min_flag_mm3: float | None = None,
                rise_gamma: float | None = None, min_peak_ratio: float | None = None,
                rise_late_steps: int | None = None, allow_untrained: bool = False) -> dict:
    """Analyse one scan into ``out``; returns result.json's dict (settings: see ``build_analyzer``)."""
    analyzer = build_analyzer(sequence, profile, device, model, schedule, gamma, min_flag_mm3, rise_gamma,
                              min_peak_ratio, rise_late_steps, allow_untrained)
    progress = None
    if show_progress:
        def progress(fraction: float, stage: str) -> None:
            print(f"{fraction * 100:5.1f}% {stage}", file=sys.stderr, flush=True)
    return analyzer.analyse(Path(input_path), Path(out), seed=seed, progress=progress)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _batch_outcome(rows: list[dict], out: Path) -> int:
    """Print the batch's counts (stdout, JSON) and, if any scan failed, one line on stderr; the exit status."""
    from .batch import SUMMARY_NAME

    counts = {status: sum(r["status"] == status for r in rows) for status in ("done", "kept", "failed")}
    print(json.dumps({"scans": len(rows), **counts, "summary": str(out / SUMMARY_NAME)}))
    if counts["failed"]:
        print(f"itermask3d: {counts['failed']} of {len(rows)} scans had an input error; "
              f"the reasons are in {out / SUMMARY_NAME}", file=sys.stderr)
        return EXIT_INPUT
    return 0


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _numbers(text: str, smallest_ok, message: str) -> tuple[float, ...]:
    """A comma-separated list of finite numbers, each passing ``smallest_ok``; else ``message``."""
    try:
        values = tuple(float(v) for v in _csv(text))
    except ValueError:
        values = ()
    if not values or not all(math.isfinite(v) for v in values) or not smallest_ok(min(values)):
        raise argparse.ArgumentTypeError(message)
    return values


def _rise_gammas(text: str) -> tuple[float, ...]:
    return _numbers(text, lambda v: v >= 0, "give gammas >= 0 (0: the rise test off), e.g. 0,0.01,0.02")


def _shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N, e.g. 0/4, not {text!r}") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"shard {text}: I must be 0 to N-1")
    return index, count


def _volumes(text: str) -> tuple[float, ...]:
    return _numbers(text, lambda v: v > 0, "give positive volumes in mm^3, e.g. 120,250,500,800")


def _flag_bound(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError("give the most flags per calibration normal as a number >= 0, e.g. 0.1")
    return value


def _spacing(text: str) -> tuple[float, float, float]:
    values = [float(v) for v in _csv(text)]
    if len(values) == 1:
        values *= 3
    if len(values) != 3:
        raise argparse.ArgumentTypeError("spacing needs one or three numbers, e.g. 1 or 0.9,0.9,3")
    return tuple(values)  # type: ignore[return-value]


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="itermask3d", description="IterMask3D brain-MRI anomaly detection")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)

    p = sub.add_parser("infer", help="analyse skull-stripped NIfTI scans (one, several, or folders of them)")
    p.add_argument("input", type=Path, nargs="+",
                   help="one scan: results in --out; several, or a folder (searched like a training folder): "
                        "results in --out/<name>/ and a table in --out/summary.csv")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--resume", action="store_true",
                   help="with several scans: skip those whose results are complete and made with the same weights "
                        "and settings")
    p.add_argument("--sequence", choices=SEQUENCES, default="t1")
    p.add_argument("--profile", choices=list(PROFILES), default="fast")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--model", type=Path, default=None, help="weights file (.pt); default: shipped weights")
    p.add_argument("--allow-untrained", action="store_true",
                   help="run random weights where no trained ones exist (to try the pipeline; the result means nothing)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--schedule", default=None, help="threshold search: spec (100 steps), coarse-fine, fine-tail (0.1 %% steps from 96 %%), uniformN")
    p.add_argument("--gamma", type=float, default=None)
    p.add_argument("--rise-gamma", type=float, default=None,
                   help="second threshold test on the search curve without its largest error (ours; 0: off); "
                        "default: the model's calibrated one, if any")
    p.add_argument("--rise-late-steps", type=int, default=None,
                   help="the rise test may also move k* earlier where the spec's rule stops at one of the last this "
                        "many search steps (1: the last only); default: the model's")
    p.add_argument("--min-flag-mm3", type=float, default=None, help="smallest flag; default: the model's calibrated one")
    p.add_argument("--min-peak-ratio", type=float, default=None,
                   help="leave out regions whose peak anomaly stays under this fraction of the strongest flag's "
                        "(0..1, 0: off; they are listed in result.json as details.weak_regions); default: the model's")
    p.add_argument("--progress", action="store_true",
                   help="print progress within the scan on stderr (one scan; several print a line per scan anyway)")

    p = sub.add_parser("check", help="the rescan checks alone, without a network (any sequence, T2 included)")
    p.add_argument("input", type=Path, nargs="+",
                   help="one scan: --out/checks.json; several, or a folder: --out/<name>/checks.json and "
                        "--out/summary.csv")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--sequence", choices=SEQUENCES, default="t1",
                   help="only picks the files of a BIDS-like folder and is recorded; the checks are the same")
    p.add_argument("--resume", action="store_true", help="with several scans: skip those whose checks are complete (same sequence and engine version)")

    p = sub.add_parser("synth", help="write synthetic scans (and lesion ground truth)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--kinds", type=_csv, default=["normal", "lesion", "artefact"])
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--sequence", choices=SEQUENCES, default="t1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--oblique", action="store_true", help="random oblique orientation")
    p.add_argument("--spacing", type=_spacing, default=(1.0, 1.0, 1.0), help="voxel size mm: 1 or 0.9,0.9,3")
    p.add_argument("--lesion-type", choices=["tumour", "cavity", "small"], default=None)
    p.add_argument("--artefact-type", default=None)

    p = sub.add_parser("train", help="train the reconstruction network on normal scans")
    p.add_argument("--profile", choices=list(PROFILES), default="fast")
    p.add_argument("--sequence", choices=SEQUENCES, default="t1")
    p.add_argument("--data", default="synthetic", help="'synthetic' or a folder of normal NIfTI scans")
    p.add_argument("--out", type=Path, required=True, help="weights file to write (.pt)")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this wall-clock budget")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--pool-size", type=int, default=24)
    p.add_argument("--workers", type=int, default=0,
                   help="processes that generate training samples beside the training (use most CPU cores with a GPU)")
    p.add_argument("--whole-grid", action="store_true",
                   help="train on the whole grid, as inference sees it, not on the profile's crops (for a GPU)")
    p.add_argument("--init", type=Path, default=None, help="start from these weights (e.g. the T1 model)")
    p.add_argument("--scaling", default=None,
                   help="intensity scaling: p1-p99 (the spec's, default) or p1-p50 (one a large lesion barely moves)")
    p.add_argument("--masked-weight", type=float, default=1.0,
                   help="weight of a masked voxel's squared error (1, the default, is the spec's plain MSE)")

    p = sub.add_parser("calibrate", help="choose gamma and the smallest flag for trained weights on synthetic cases")
    p.add_argument("--profile", choices=list(PROFILES), default="fast")
    p.add_argument("--sequence", choices=SEQUENCES, default="t1")
    p.add_argument("--model", type=Path, default=None)
    p.add_argument("--schedule", default=None)
    p.add_argument("--normals", type=int, default=None,
                   help="synthetic normal scans (default 24, as for the shipped models; with the lesions about "
                        "45 min on 2 CPU cores)")
    p.add_argument("--lesions", type=int, default=None, help="synthetic lesion scans (default 16)")
    p.add_argument("--max-normal-flags", type=_flag_bound, default=None,
                   help="most flags per calibration normal (mean) a setting may leave (default 0.1, "
                        "calibration.MAX_NORMAL_FLAGS)")
    p.add_argument("--min-flag-sizes", type=_volumes, default=None,
                   help="candidate smallest flags in mm^3, e.g. 120,250,500,800 (the default)")
    p.add_argument("--rise-gammas", type=_rise_gammas, default=None,
                   help="candidate gammas of the rise test, e.g. 0,0.01,0.02 (0: off; default: off only)")
    p.add_argument("--dry-run", action="store_true", help="do not write the metadata")

    p = sub.add_parser("normative", help="build trained weights' normative error scale from synthetic normal scans "
                                         "(then calibrate again)")
    p.add_argument("--profile", choices=list(PROFILES), default="fast")
    p.add_argument("--sequence", choices=SEQUENCES, default="t1")
    p.add_argument("--model", type=Path, default=None, help="weights (.pt); default: the shipped ones")
    p.add_argument("--normals", type=int, default=24)
    p.add_argument("--seed", type=int, default=4242)
    p.add_argument("--dry-run", action="store_true", help="write neither the map nor the metadata")

    p = sub.add_parser("evaluate", help="score result folders against ground truth")
    p.add_argument("--cases", type=Path, required=True, help="folder of scans (+ *_truth.nii.gz)")
    p.add_argument("--results", type=Path, required=True, help="folder of per-case result folders")
    p.add_argument("--out", type=Path, default=None, help="write metrics json here")

    p = sub.add_parser("benchmark", help="build the synthetic benchmark, run it, write BENCHMARK.md")
    p.add_argument("--work", type=Path, default=Path("benchmark_work"))
    p.add_argument("--report", type=Path, default=None, help="default: ml/BENCHMARK.md")
    p.add_argument("--profile", choices=list(PROFILES), default="fast")
    p.add_argument("--sequence", choices=SEQUENCES, default="t1")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--schedules", type=_csv, default=["spec", "coarse-fine"],
                   help="threshold-search schedules to compare, e.g. spec,coarse-fine; a '+normative' suffix "
                        "(spec+normative) divides the error by the model's normative error scale, a '+rise' "
                        "suffix adds the rise test with the model's (or --rise-gamma's) gamma; a plain name runs the "
                        "spec's rule alone, so the shipped FLAIR default is spec+rise")
    p.add_argument("--rise-gamma", type=float, default=None, help="gamma of the rise test for '+rise' variants")
    p.add_argument("--cases-per-group", type=int, default=2)
    p.add_argument("--limit", type=int, default=None, help="run only a stratified subset of this many cases")
    p.add_argument("--notes", default="", help="free text appended to the report")
    p.add_argument("--model", type=Path, default=None, help="weights to benchmark (default: the shipped ones)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--build-workers", type=int, default=0,
                   help="processes that render the cases at once (default: one after the other)")
    p.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                   help="run only every N-th case from the I-th (0-based) and write no report, so N processes can "
                        "share a machine; then run without --shard to evaluate them all and write the report")

    p = sub.add_parser("record-validation",
                       help="store what benchmark runs of a model found in its metadata, for every result to show")
    p.add_argument("--benchmark", type=Path, nargs="+", required=True,
                   help="benchmark work folders (or their benchmark.json), one per seed")
    p.add_argument("--profile", choices=list(PROFILES), default="fast")
    p.add_argument("--sequence", choices=SEQUENCES, default="t1")
    p.add_argument("--model", type=Path, default=None, help="weights (default: the shipped ones)")
    p.add_argument("--dry-run", action="store_true", help="print the summary, write nothing")
    return parser


def _run(args: argparse.Namespace) -> int:
    from .batch import is_batch

    if args.command == "infer" and is_batch(args.input):
        from .batch import infer_batch_entry

        analyzer = build_analyzer(args.sequence, args.profile, args.device, args.model, args.schedule, args.gamma,
                                  args.min_flag_mm3, args.rise_gamma, args.min_peak_ratio, args.rise_late_steps,
                                  args.allow_untrained)
        rows = infer_batch_entry(args.input, args.out, analyzer, args.seed, args.resume, _say)
        return _batch_outcome(rows, args.out)
    elif args.command == "infer":
        from .batch import write_into

        result = write_into(args.out, lambda folder: infer_entry(
            args.input[0], folder, args.sequence, args.profile, args.device, args.model, args.seed, args.schedule,
            args.gamma, args.progress, args.min_flag_mm3, args.rise_gamma, args.min_peak_ratio,
            args.rise_late_steps, args.allow_untrained), "result.json")
        summary = {k: result[k] for k in ("score", "triage", "threshold", "passes", "seconds")}
        summary["flags"] = len(result["flags"])
        print(json.dumps(summary))
    elif args.command == "check" and is_batch(args.input):
        from .batch import check_batch_entry

        return _batch_outcome(check_batch_entry(args.input, args.out, args.sequence, args.resume, _say), args.out)
    elif args.command == "check":
        from .batch import write_into
        from .rescan import CHECKS_FILE, check_scan

        result = write_into(args.out, lambda folder: check_scan(args.input[0], folder, args.sequence), CHECKS_FILE)
        print(json.dumps({k: result[k] for k in ("rescan", "seconds")} | {"reasons": [q["kind"] for q in result["quality"]]}))
    elif args.command == "synth":
        from .synthetic.writer import synth_entry

        for path in synth_entry(args.out, args.kinds, args.count, args.sequence, args.seed, args.oblique,
                                args.spacing, args.lesion_type, args.artefact_type):
            print(path)
    elif args.command == "train":
        from .training import train_entry

        metadata = train_entry(args.profile, args.sequence, args.data, args.out, args.steps, args.batch,
                               args.lr, args.seed, args.device, not args.no_resume, args.max_minutes,
                               args.pool_size, args.init,
                               **({"scaling": args.scaling} if args.scaling else {}),
                               masked_weight=args.masked_weight, workers=args.workers, whole_grid=args.whole_grid)
        print(json.dumps({k: metadata[k] for k in ("name", "steps", "seconds", "metrics")}))
    elif args.command == "calibrate":
        from .calibration import calibrate_entry

        options = {"min_flag_sizes": args.min_flag_sizes} if args.min_flag_sizes else {}
        if args.rise_gammas:
            options["rise_gammas"] = args.rise_gammas
        for name in ("max_normal_flags", "normals", "lesions"):
            if getattr(args, name) is not None:
                options[name] = getattr(args, name)
        report = calibrate_entry(args.profile, args.sequence, args.model, args.schedule, write=not args.dry_run,
                                 **options)
        print(json.dumps(report, indent=1))
    elif args.command == "normative":
        from .normative import normative_entry

        print(json.dumps(normative_entry(args.profile, args.sequence, args.model, args.normals, args.seed,
                                         write=not args.dry_run), indent=1))
    elif args.command == "evaluate":
        from .evaluation import evaluate_entry

        print(json.dumps(evaluate_entry(args.cases, args.results, args.out), indent=2))
    elif args.command == "benchmark":
        from .benchmark import benchmark_entry

        path = benchmark_entry(args.work, args.report, args.profile, args.sequence, args.device,
                               args.schedules, args.cases_per_group, args.seed, args.notes, args.limit,
                               args.model, args.rise_gamma, args.build_workers, args.shard)
        print(path or f"shard {args.shard[0]}/{args.shard[1]} done: once every shard is, run the same command "
                      "without --shard to evaluate every case and write the report")
    elif args.command == "record-validation":
        from .validation import record_validation_entry

        print(json.dumps(record_validation_entry(args.benchmark, args.model, args.profile, args.sequence,
                                                 write=not args.dry_run), indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``itermask3d`` console script."""
    try:
        args = build_parser().parse_args(argv)
        return _run(args)
    except _UsageError as exc:
        print(f"itermask3d: usage error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as exc:
        print(f"itermask3d: input error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except (ValueError, OSError) as exc:
        print(f"itermask3d: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("itermask3d: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, never a traceback (see module docstring)
        print(f"itermask3d: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
