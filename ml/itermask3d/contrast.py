"""Which sequence a scan's contrast looks like (T1, T2 or FLAIR), from the order of its tissue intensities.

Why: the uploader says which sequence a scan is, and each model reads one contrast. A FLAIR scan read by the T1
model came out routine with no flag, and a T1 scan read by the FLAIR model urgent, with nothing to show that the
scan had been sent under the wrong name. The three contrasts order the tissues differently, in every scanner:

- T1: white matter brighter than grey matter, fluid (CSF) darkest;
- T2: fluid brightest, grey matter brighter than white matter;
- FLAIR: grey matter brighter than white matter, fluid dark (suppressed).

The tissues come from the MNI152 template's maps on the profile grid the scan is already aligned to (as in
``bias_estimate``), so nothing is classified from the intensities being judged. Medians over voxels the template is
sure of keep a lesion, or a misaligned rim, from moving the reading. A scan whose ratios sit between the
contrasts' is not judged (``None``): only a clear contradiction of the stated sequence refuses it.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .preprocessing import PreparedScan
from .profiles import Profile
from .resampling import resample
from .template import load_template

# Template probability above which a grid voxel counts as that tissue.
TISSUE_PROBABILITY = {"wm": 0.9, "gm": 0.7, "csf": 0.9}
# A reading on fewer voxels than this says nothing (a scan cut to a few slices).
MIN_TISSUE_VOXELS = 200
# White over grey matter above this is T1; below its inverse, grey over white, T2 or FLAIR. Synthetic scans measure
# about 1.4-1.6 (T1) and 0.7-0.8 (T2, FLAIR); real ones lie as far apart (tests/ml/test_contrast.py).
T1_WHITE_OVER_GREY = 1.1
# Fluid over grey matter: above this T2 (fluid bright), below FLAIR_FLUID_OVER_GREY FLAIR (fluid suppressed).
# Synthetic T2 reads 1.27-3.4 and FLAIR 0.03-0.27; but a T2 with a strong bias field or a blank slab across the
# ventricles read 0.84 and 0.39, so FLAIR is named only where fluid is truly dark.
T2_FLUID_OVER_GREY = 1.15
FLAIR_FLUID_OVER_GREY = 0.3

NAMES = {"t1": "T1", "t2": "T2", "flair": "FLAIR"}
WHY = {
    "t1": "white matter brighter than grey matter, fluid dark",
    "t2": "fluid brightest, grey matter brighter than white matter",
    "flair": "grey matter brighter than white matter, fluid dark",
}


@functools.lru_cache(maxsize=8)
def tissue_on_grid(profile: Profile, tissue: str) -> np.ndarray:
    """Template probability of ``tissue`` (gm, wm, csf) on ``profile``'s grid: float32 (I, J, K), 0..1."""
    template = load_template()
    volume = {"gm": template.gm, "wm": template.wm, "csf": template.csf}[tissue]
    return resample(volume, template.affine, profile.grid_affine, profile.shape, np.eye(4), order=1)


@dataclass(frozen=True)
class ContrastReading:
    """Median normalised intensity per tissue (None where too few voxels) and the sequence they point to."""

    wm: float | None
    gm: float | None
    csf: float | None
    looks_like: str | None


def read_contrast(prepared: PreparedScan) -> ContrastReading:
    """Tissue medians of the prepared scan (``prepared.x``, normalised) and the contrast they match, if clear."""
    medians: dict[str, float | None] = {}
    for tissue, probability in TISSUE_PROBABILITY.items():
        voxels = prepared.x[prepared.brain & (tissue_on_grid(prepared.profile, tissue) > probability)]
        medians[tissue] = float(np.median(voxels)) if voxels.size >= MIN_TISSUE_VOXELS else None
    return ContrastReading(wm=medians["wm"], gm=medians["gm"], csf=medians["csf"],
                           looks_like=contrast_of(medians["wm"], medians["gm"], medians["csf"]))


def contrast_of(wm: float | None, gm: float | None, csf: float | None) -> str | None:
    """'t1', 't2' or 'flair' where the tissue order says so clearly, else None."""
    if wm is None or gm is None or gm <= 0 or wm <= 0:
        return None
    if wm / gm > T1_WHITE_OVER_GREY:
        return "t1" if csf is None or csf < gm else None
    if gm / wm > T1_WHITE_OVER_GREY and csf is not None:
        if csf / gm > T2_FLUID_OVER_GREY:
            return "t2"
        if csf / gm < FLAIR_FLUID_OVER_GREY:
            return "flair"
    return None


class SequenceMismatch(InputError):
    """The scan's contrast contradicts the sequence it was sent as; ``looks_like`` is the one it matches."""

    def __init__(self, stated: str, looks_like: str) -> None:
        self.stated, self.looks_like = stated, looks_like
        super().__init__(
            f"it looks like a {NAMES[looks_like]} scan ({WHY[looks_like]}), but it was sent as {NAMES[stated]}; "
            f"run it again as {NAMES[looks_like]} if that is what it is.")


def check_sequence(prepared: PreparedScan, stated: str) -> ContrastReading:
    """Raise SequenceMismatch when the scan clearly looks like another sequence than ``stated``."""
    reading = read_contrast(prepared)
    if reading.looks_like is not None and reading.looks_like != stated:
        raise SequenceMismatch(stated, reading.looks_like)
    return reading
