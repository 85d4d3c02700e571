"""The rescan checks on their own, without a network: is this scan fit to read, or should it be acquired again?

They need no trained weights, so they serve every sequence, T2 included, for which no model ships. They are the
same checks that ``Analyzer.analyse`` runs beside the network (``signal_checks.rescan_issues``), on the same
preprocessing as the shipped models (affine registration to the template, p1-p99 scaling) and on the ``fast``
profile's 2 mm grid, where their limits were measured (``ml/ACQUISITION-CHECKS*.md``). A scan they pass is not
screened for lesions: only the network does that.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from . import __version__
from .contrast import check_sequence
from .io import load_scan
from .preprocessing import DEFAULT_SCALING, prepare_scan
from .profiles import SEQUENCES, get_profile
from .signal_checks import rescan_issues

CHECKS_FILE = "checks.json"
CHECKS_NAME = "itermask3d-rescan-checks"
# The grid the checks' limits were measured on, whatever profile would analyse the scan.
CHECKS_PROFILE = "fast"


def check_scan(input_path: str | Path, out_dir: str | Path, sequence: str = "t1") -> dict:
    """Run the rescan checks on one NIfTI scan and write ``out_dir/checks.json``; return its dict.

    The dict: ``rescan`` (bool), ``quality`` (list of issues as in result.json: kind, axis, planes, extent_mm,
    message), ``sequence`` (as given: it does not change the checks), ``registration`` (what aligned the scan),
    ``seconds`` and ``checks`` (name and engine version, as result.json's ``model``). Raises InputError (one
    sentence) for unusable input, as ``infer`` does.
    """
    if sequence not in SEQUENCES:
        raise ValueError(f"unknown sequence {sequence!r}; choose one of {', '.join(SEQUENCES)}")
    start = time.time()
    scan = load_scan(input_path)
    prepared = prepare_scan(scan, get_profile(CHECKS_PROFILE), "affine", DEFAULT_SCALING)
    # a scan of another contrast sent as this one would skip the lesion screening its own model could do
    check_sequence(prepared, sequence)
    issues = [issue.to_dict() for issue in rescan_issues(prepared)]
    result = {
        "rescan": bool(issues),
        "quality": issues,
        "sequence": sequence,
        "registration": prepared.registration,
        "registration_fallback": prepared.registration_fallback,
        "seconds": round(time.time() - start, 2),
        "checks": {"name": CHECKS_NAME, "version": __version__},
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / CHECKS_FILE).write_text(json.dumps(result, indent=2))
    return result
