"""Many scans in one command: one result folder per scan, each written whole or not at all, and a summary table.

``itermask3d infer`` and ``itermask3d check`` use this when given several scans or a folder. The caller loads its
model once and passes ``process``; a scan with unusable input is recorded in the summary with its reason and the
others go on. The summary (``summary.csv``) is rewritten after every scan, so an interrupted run leaves a table of
what finished, and ``resume`` then skips the scans whose folder is complete and was made the same way.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .data import find_scans
from .errors import InputError

SUMMARY_NAME = "summary.csv"
NIFTI_SUFFIXES = (".nii.gz", ".nii")
# Columns every summary starts with; each command adds its own after them.
BASE_COLUMNS = ("name", "input", "status", "error")
# What the line printed after each scan shows, of the summary columns the command has.
PROGRESS_FIELDS = ("triage", "flags", "rescan", "reasons", "seconds")


@dataclass(frozen=True)
class BatchScan:
    """One scan of a batch: ``name`` is its result folder's name (the file name without .nii/.nii.gz)."""

    name: str
    path: Path


def scan_name(path: Path) -> str:
    """The file name without its NIfTI suffix: ``sub-01_T1w.nii.gz`` -> ``sub-01_T1w``."""
    for suffix in NIFTI_SUFFIXES:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            return path.name[: -len(suffix)]
    return path.name


def is_batch(inputs: Sequence[Path]) -> bool:
    """True when the inputs call for the batch layout: more than one, or a folder."""
    return len(inputs) > 1 or any(Path(p).is_dir() for p in inputs)


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def expand_inputs(inputs: Sequence[Path], sequence: str, out: Path | None = None) -> list[BatchScan]:
    """The scans of ``inputs``: files as given, folders searched as training folders are (``data.find_scans``:
    recursive; in a BIDS-like tree only ``sequence``'s files).

    Raises InputError (one sentence) for a folder without NIfTI scans of the sequence; for two scans with the same
    name (ignoring case, as some file systems do), whose results would land in the same folder; and where ``out``
    and an input nest: results inside an input folder would be read as scans by the next run, and an input
    inside ``out`` could be replaced by a result folder of its name."""
    scans: list[BatchScan] = []
    for given in inputs:
        path = Path(given)
        nested = out is not None and path.exists() and (_inside(path, out) or (path.is_dir() and _inside(out, path)))
        if nested:
            raise InputError(f"The results folder {out} and the input {path} lie one inside the other; "
                             "choose a results folder apart from the scans.")
        if path.is_dir():
            found = find_scans(path, sequence)
            if not found:
                raise InputError(f"The folder {path} holds no NIfTI scan (.nii or .nii.gz) of sequence {sequence}.")
            scans.extend(BatchScan(scan_name(p), p) for p in found)
        else:
            scans.append(BatchScan(scan_name(path), path))
    seen: dict[str, Path] = {}
    for scan in scans:
        if scan.name.lower() == SUMMARY_NAME:
            raise InputError(f"The scan {scan.path} would overwrite the batch's {SUMMARY_NAME}; rename it.")
        if scan.name.lower() in seen:
            raise InputError(f"Two scans would share the result folder {scan.name!r} ({seen[scan.name.lower()]} and "
                             f"{scan.path}); rename one or run them separately.")
        seen[scan.name.lower()] = scan.path
    return scans


def write_summary(out: Path, columns: Sequence[str], rows: Sequence[dict]) -> Path:
    """Write ``rows`` to ``out/summary.csv`` through a temporary file, so a reader never sees half a table."""
    path = out / SUMMARY_NAME
    temporary = out / f".summary.{uuid.uuid4().hex[:8]}.csv"
    with open(temporary, "x", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)
    return path


def _kept_result(folder: Path, result_file: str, is_current: Callable[[dict], bool] | None) -> dict | None:
    """An earlier run's result in ``folder`` that ``--resume`` may keep: complete, readable and, by
    ``is_current``, made the way this run would make it; else None (the scan runs again)."""
    path = folder / result_file
    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text())
    except ValueError:
        return None
    return result if isinstance(result, dict) and (is_current is None or is_current(result)) else None


def write_into(out: Path, process: Callable[[Path], dict], result_file: str) -> dict:
    """One scan's ``process(folder)`` into a hidden folder beside ``out``, its files moved into ``out`` only once
    it returned, ``result_file`` last: a run that fails half-way leaves ``out`` as it was, not new maps beside an
    old result. Files of ``out`` that the run does not write stay."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.partial"
    partial.mkdir()
    try:
        result = process(partial)
        out.mkdir(exist_ok=True)
        for path in sorted(partial.iterdir(), key=lambda p: p.name == result_file):
            os.replace(path, out / path.name)
        return result
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def run_batch(scans: Sequence[BatchScan], out: Path, process: Callable[[Path, Path], dict],
              result_file: str, summarise: Callable[[dict], dict], columns: Sequence[str],
              resume: bool = False, report: Callable[[str], None] | None = None,
              is_current: Callable[[dict], bool] | None = None) -> list[dict]:
    """Run ``process(scan_path, folder)`` for every scan into ``out/<name>/`` and return the summary rows.

    process: writes the scan's files into ``folder`` (a fresh hidden folder inside ``out``) and returns its
    result dict; ``result_file`` is the file in the folder that holds that dict (``resume`` reads it back).
    summarise: the summary columns of one result. is_current: whether an earlier result may be kept by ``resume``
    (made by the same model and settings); an earlier scan whose input now fails keeps its old folder. The folder
    replaces ``out/<name>/`` only when ``process``
    returned; on InputError it is removed and the row says why (status ``failed``). Any other exception
    removes it and stops the batch: it is a fault of ours, not of the scan, and the summary of the scans
    before it stays. Status ``done`` is a scan analysed now, ``kept`` one skipped by ``resume``.
    """
    out.mkdir(parents=True, exist_ok=True)
    # from a run that was killed mid-scan (one run per results folder at a time: it would remove another's)
    for leftover in out.glob(".*.partial"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in out.glob(".summary.*.csv"):
        leftover.unlink(missing_ok=True)
    columns = list(BASE_COLUMNS) + [c for c in columns if c not in BASE_COLUMNS]
    say = report or (lambda line: None)
    rows: list[dict] = []
    for index, scan in enumerate(scans, start=1):
        final = out / scan.name
        row = {"name": scan.name, "input": str(scan.path), "error": ""}
        kept = _kept_result(final, result_file, is_current) if resume else None
        if kept is not None:
            rows.append({**row, "status": "kept", **summarise(kept)})
            say(f"[{index}/{len(scans)}] {scan.name}: kept from an earlier run")
            write_summary(out, columns, rows)
            continue
        partial = out / f".{scan.name}.{uuid.uuid4().hex[:8]}.partial"
        partial.mkdir()
        try:
            result = process(scan.path, partial)
        except InputError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            rows.append({**row, "status": "failed", "error": str(exc)})
            say(f"[{index}/{len(scans)}] {scan.name}: input error: {exc}")
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        else:
            if final.exists():
                shutil.rmtree(final)
            os.replace(partial, final)
            fields = summarise(result)
            rows.append({**row, "status": "done", **fields})
            say(f"[{index}/{len(scans)}] {scan.name}: " + ", ".join(
                f"{key} {fields[key]}" for key in PROGRESS_FIELDS if fields.get(key, "") != ""))
        write_summary(out, columns, rows)
    return rows


def _kinds(result: dict) -> str:
    return ";".join(issue.get("kind", "unknown") for issue in result.get("quality", []))


def infer_row(result: dict) -> dict:
    """The summary columns of one ``result.json``."""
    flags = result.get("flags", [])
    return {"triage": result["triage"], "score": result["score"], "flags": len(flags),
            "largest_flag_mm3": max((f["volume_mm3"] for f in flags), default=0.0), "rescan": _kinds(result),
            "mean_error": result["mean_error"], "threshold": result["threshold"], "passes": result["passes"],
            "seconds": result["seconds"], "model": f"{result['model']['name']} {result['model']['version']}"}


INFER_COLUMNS = ("triage", "score", "flags", "largest_flag_mm3", "rescan", "mean_error", "threshold", "passes",
                 "seconds", "model")


def check_row(result: dict) -> dict:
    """The summary columns of one ``checks.json``."""
    return {"rescan": "yes" if result["rescan"] else "no", "reasons": _kinds(result), "seconds": result["seconds"]}


CHECK_COLUMNS = ("rescan", "reasons", "seconds")


def made_by(analyzer) -> Callable[[dict], bool]:
    """Whether a result.json came from ``analyzer``'s weights with its settings (the registration aside: a scan may
    have fallen back to another); the seed is not recorded, so it is not compared."""
    wanted = {key: value for key, value in analyzer.settings().items() if key != "registration"}

    def same(result: dict) -> bool:
        model, details = result.get("model") or {}, result.get("details") or {}
        return (f"{model.get('name')} {model.get('version')}" == analyzer.model_label
                and {key: details.get(key) for key in wanted} == wanted)

    return same


def infer_batch_entry(inputs: Sequence[Path], out: Path, analyzer, seed: int = 0, resume: bool = False,
                      report: Callable[[str], None] | None = None) -> list[dict]:
    """Analyse every scan of ``inputs`` (files or folders, see ``expand_inputs``) with one loaded ``analyzer``
    (``api.Analyzer``) into ``out/<name>/``; returns the summary rows. Each scan gets the same ``seed``, so its
    result does not depend on what else is in the batch. ``resume`` keeps only results of the same weights and
    settings."""
    scans = expand_inputs(inputs, analyzer.sequence, Path(out))
    return run_batch(scans, Path(out), lambda path, folder: analyzer.analyse(path, folder, seed=seed),
                     "result.json", infer_row, INFER_COLUMNS, resume, report, made_by(analyzer))


def check_batch_entry(inputs: Sequence[Path], out: Path, sequence: str = "t1", resume: bool = False,
                      report: Callable[[str], None] | None = None) -> list[dict]:
    """The rescan checks (``rescan.check_scan``) on every scan of ``inputs`` into ``out/<name>/checks.json``;
    returns the summary rows."""
    from . import __version__
    from .rescan import CHECKS_FILE, check_scan

    def same(result: dict) -> bool:
        return result.get("sequence") == sequence and (result.get("checks") or {}).get("version") == __version__

    scans = expand_inputs(inputs, sequence, Path(out))
    return run_batch(scans, Path(out), lambda path, folder: check_scan(path, folder, sequence),
                     CHECKS_FILE, check_row, CHECK_COLUMNS, resume, report, same)
