"""Writing synthetic cases to disk (the ``itermask3d synth`` command)."""
from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib

from ..profiles import SEQUENCES
from .cases import CASE_KINDS, make_case


def synth_entry(out: Path, kinds: list[str], count: int = 1, sequence: str = "t1", seed: int = 0,
                oblique: bool = False, spacing_mm: tuple[float, float, float] = (1.0, 1.0, 1.0),
                lesion_type: str | None = None, artefact_type: str | None = None) -> list[Path]:
    """Write ``count`` cases per kind as ``out/<kind>_<NN>.nii.gz`` (+ ``_truth`` for lesions)
    and ``out/<kind>_<NN>.json`` describing what was drawn. Returns the scan paths."""
    if sequence not in SEQUENCES:
        raise ValueError(f"unknown sequence {sequence!r}; choose one of {', '.join(SEQUENCES)}")
    unknown = [k for k in kinds if k not in CASE_KINDS]
    if unknown:
        raise ValueError(f"unknown kind(s) {', '.join(unknown)}; choose from {', '.join(CASE_KINDS)}")
    if count < 1:
        raise ValueError("count must be at least 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind_index, kind in enumerate(kinds):
        for n in range(count):
            case_seed = seed * 1000 + kind_index * 100 + n
            case = make_case(kind, sequence, case_seed, spacing_mm=spacing_mm, oblique=oblique,
                             lesion_type=lesion_type if kind == "lesion" else None,
                             artefact_type=artefact_type if kind == "artefact" else None)
            stem = f"{kind}_{n:02d}"
            nib.save(case.image, str(out / f"{stem}.nii.gz"))
            if case.truth is not None:
                nib.save(case.truth, str(out / f"{stem}_truth.nii.gz"))
            (out / f"{stem}.json").write_text(json.dumps(case.info, indent=2))
            written.append(out / f"{stem}.nii.gz")
    return written
