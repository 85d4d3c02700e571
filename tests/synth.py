"""Synthetic scans for the live-stack tests, made with the engine's own CLI (as `make demo` does)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def synth_scan(out_dir: Path, kind: str, seed: int = 0, sequence: str = "t1", *extra: str) -> Path:
    """Write one synthetic scan; ``extra`` passes further options (e.g. "--lesion-type", "small")."""
    subprocess.run(
        [str(BIN / "itermask3d"), "synth", "--out", str(out_dir), "--kinds", kind, "--count", "1",
         "--sequence", sequence, "--seed", str(seed), *extra],
        check=True, capture_output=True, text=True,
    )
    return out_dir / f"{kind}_00.nii.gz"
