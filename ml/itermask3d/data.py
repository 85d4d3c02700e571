"""Training data sources: the synthetic generator or a folder of normal NIfTI scans.

Both yield normal volumes on the profile grid as (x, h, brain): normalised volume and
high-frequency channel (I, J, K) float32 and brain mask (I, J, K) bool.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import numpy as np

from .preprocessing import DEFAULT_SCALING, prepare_inputs
from .profiles import Profile

BIDS_SUFFIX = {"t1": re.compile(r"_T1w?\.nii", re.I), "t2": re.compile(r"_T2w?\.nii", re.I),
               "flair": re.compile(r"_FLAIR\.nii", re.I)}


def find_scans(folder: Path, sequence: str) -> list[Path]:
    """NIfTI files under ``folder`` (recursive). In a BIDS-like tree (files named like
    ``sub-01_T1w.nii.gz``) only those of ``sequence`` are kept."""
    files = sorted(p for p in Path(folder).rglob("*") if p.name.endswith((".nii", ".nii.gz")))
    bids = [p for p in files if any(rx.search(p.name) for rx in BIDS_SUFFIX.values())]
    if bids:
        files = [p for p in bids if BIDS_SUFFIX[sequence].search(p.name)]
    return files


class VolumePool:
    """A pool of prepared training volumes, refreshed one at a time from ``source``.

    Keeping a pool lets each optimisation step reuse volumes (with new random masks) while
    generation happens at a slower rate, which matters on a CPU.
    """

    def __init__(self, source: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]], size: int) -> None:
        self.source = source
        self.items = [next(source) for _ in range(size)]
        self.cursor = 0

    def refresh_one(self) -> None:
        self.items[self.cursor] = next(self.source)
        self.cursor = (self.cursor + 1) % len(self.items)

    def sample(self, rng: np.random.Generator, count: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        idx = rng.choice(len(self.items), size=count, replace=count > len(self.items))
        return [self.items[i] for i in idx]


def synthetic_source(profile: Profile, sequence: str, seed: int,
                     scaling: str = DEFAULT_SCALING) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Endless synthetic normal volumes on the profile grid (intensities scaled by ``scaling``)."""
    from .synthetic.cases import grid_training_volume

    rng = np.random.default_rng(seed)
    while True:
        volume, brain = grid_training_volume(profile, sequence, rng)
        x, h = prepare_inputs(volume, brain, profile, scaling)
        yield x, h, brain


def folder_source(folder: Path, profile: Profile, sequence: str, seed: int,
                  registration: str = "affine",
                  scaling: str = DEFAULT_SCALING) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Endless pass over the normal scans in ``folder`` (each prepared once, then cached)."""
    from .io import load_scan
    from .preprocessing import prepare_scan

    files = find_scans(folder, sequence)
    if not files:
        raise ValueError(f"no NIfTI scans for sequence {sequence} found under {folder}")
    rng = np.random.default_rng(seed)
    cache: dict[Path, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    while True:
        for i in rng.permutation(len(files)):
            path = files[i]
            if path not in cache:
                prepared = prepare_scan(load_scan(path), profile, registration, scaling)
                cache[path] = (prepared.x, prepared.h, prepared.brain)
            yield cache[path]
