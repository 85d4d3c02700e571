"""Reading, validating and writing NIfTI volumes.

Validation turns every unusable upload into an InputError with one sentence: not NIfTI,
damaged (truncated, or a gzip whose checksum fails), not a greyscale volume, 2D or 4D, too many voxels,
absurd voxel size, non-finite values, already intensity-normalised, empty brain, not skull-stripped.
"""
from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

from .errors import InputError

MIN_SPACING_MM, MAX_SPACING_MM = 0.2, 7.0
MIN_BRAIN_ML, MAX_BRAIN_ML = 300.0, 2600.0
MAX_BACKGROUND_FRACTION = 0.25  # non-zero fraction of the volume's outer faces
# 128 million voxels: a 0.5 mm whole-head grid fits; reading one takes some 2 GB in float32, and every step
# after it more, so larger grids are refused before their data is read rather than killed for memory.
MAX_VOXELS = 128_000_000
# A skull-stripped magnitude scan is >= 0; interpolation may ring a little below zero at the brain's edge.
# Far more than this below zero means intensities normalised to zero mean (e.g. z-scored), whose negative
# half would drop out of the brain mask and never be screened.
MAX_NEGATIVE_FRACTION = 0.1
_DAMAGED = "is damaged (truncated, or its compressed data is corrupt); export or copy it again"


@dataclass
class Scan:
    """A validated scan. data: (I, J, K) float32; affine: 4x4 voxel -> world mm (RAS);
    foreground: (I, J, K) bool brain mask from the non-zero voxels (holes filled)."""

    data: np.ndarray
    affine: np.ndarray
    foreground: np.ndarray

    @property
    def spacing_mm(self) -> np.ndarray:
        """Voxel size per axis (mm), shape (3,)."""
        return np.linalg.norm(self.affine[:3, :3], axis=0)


def load_nifti(path: str | Path) -> nib.Nifti1Image:
    """Open ``path`` as NIfTI-1/2; raise InputError if it is missing or not NIfTI."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Input file not found: {path}.")
    try:
        img = nib.load(str(path))
    except Exception:
        raise InputError(f"{path.name} is not a readable NIfTI file (.nii or .nii.gz).") from None
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise InputError(f"{path.name} is not a NIfTI file (.nii or .nii.gz).")
    if path.name.lower().endswith(".gz"):
        _check_gzip(path)
    return img


def _check_gzip(path: Path) -> None:
    """Read the whole gzip stream once: nibabel stops at the bytes it needs and never checks the trailer's
    CRC, so a corrupt middle would otherwise be analysed as if it were anatomy."""
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 24):
                pass
    except (OSError, EOFError, zlib.error):
        raise InputError(f"{path.name} {_DAMAGED}.") from None


# Parts of the foreground kept besides the largest: at least this fraction of its size. Leftovers of
# skull stripping are far smaller; a brain cut in two by missing (zero) slices keeps both parts, so
# the analysis never silently drops half a brain.
MIN_PART_FRACTION = 0.1


def tissue_threshold(data: np.ndarray) -> float:
    """1 % of the 99th percentile of the positive voxels: what separates tissue from the zero (or
    near-zero) background of a skull-stripped scan. inf when nothing is positive."""
    positive = data[data > 0]
    return 0.01 * float(np.percentile(positive, 99)) if positive.size else float("inf")


def tissue_mask(data: np.ndarray) -> np.ndarray:
    """Voxels above tissue_threshold, (I, J, K) bool."""
    return data > tissue_threshold(data)


def foreground_mask(data: np.ndarray) -> np.ndarray:
    """Brain mask of a skull-stripped scan: the tissue mask's connected parts of at least
    MIN_PART_FRACTION of the largest, closed, holes filled. (I, J, K) bool."""
    mask = tissue_mask(data)
    if not mask.any():
        return mask
    labels, count = ndimage.label(mask)
    if count > 1:
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        mask = sizes[labels] >= MIN_PART_FRACTION * sizes.max()
    mask = ndimage.binary_closing(mask, iterations=2, border_value=0) | mask
    return ndimage.binary_fill_holes(mask)


def _border_fraction(data: np.ndarray) -> float:
    """Fraction of the volume's outer faces above the tissue threshold in magnitude (a negative
    background counts too); a skull-stripped scan's faces are empty."""
    threshold = tissue_threshold(data)
    faces = [data[0], data[-1], data[:, 0], data[:, -1], data[:, :, 0], data[:, :, -1]]
    return float(np.mean(np.concatenate([np.abs(f).ravel() > threshold for f in faces])))


ORIENTATION_UNKNOWN = (
    "does not say how the volume lies in the head (its NIfTI sform and qform codes are both 0), so left and right "
    "cannot be told apart; convert it again keeping its orientation (dcm2niix does)"
)


def orientation_unknown(img: nib.Nifti1Image) -> bool:
    """True for a NIfTI whose header sets neither a qform nor an sform. nibabel then makes up an affine from the
    voxel sizes alone, a guess at the axes' directions: flags would be drawn and located on the wrong side when
    it is wrong, and the registration to the template could not be trusted either."""
    header = getattr(img, "header", None)
    if header is None or "sform_code" not in header or "qform_code" not in header:
        return False
    return int(header["sform_code"]) == 0 and int(header["qform_code"]) == 0


def validate(img: nib.Nifti1Image, name: str = "scan") -> Scan:
    """Check shape, spacing, values and skull stripping; return a Scan or raise InputError."""
    shape = img.shape
    if len(shape) > 3 and all(s == 1 for s in shape[3:]):
        shape = shape[:3]
    if len(shape) >= 4:
        raise InputError(f"{name} is a 4D series ({int(np.prod(shape[3:]))} volumes); upload a single 3D volume.")
    if len(shape) < 3 or min(shape) < 8:
        raise InputError(f"{name} is 2D or a thin slab (shape {tuple(shape)}); a 3D brain volume is needed.")
    affine = img.affine
    if affine is None or not np.all(np.isfinite(affine)) or abs(np.linalg.det(affine[:3, :3])) < 1e-9:
        raise InputError(f"{name} has an invalid orientation matrix (affine).")
    if orientation_unknown(img):
        raise InputError(f"{name} {ORIENTATION_UNKNOWN}.")
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    # The tolerance keeps an oblique 7 mm grid, whose column norms round to just above 7, acceptable.
    if np.any(spacing < MIN_SPACING_MM - 1e-3) or np.any(spacing > MAX_SPACING_MM + 1e-3):
        raise InputError(
            f"{name} has an implausible voxel size of {' x '.join(f'{s:g}' for s in spacing)} mm "
            f"(expected {MIN_SPACING_MM} to {MAX_SPACING_MM} mm).")
    voxels = int(np.prod(shape[:3]))
    if voxels > MAX_VOXELS:
        raise InputError(f"{name} has {voxels / 1e6:.0f} million voxels, more than the {MAX_VOXELS / 1e6:.0f} "
                         "million this engine reads; resample it to a coarser grid (1 mm is plenty).")
    stored = img.get_data_dtype()
    if stored.fields is not None or stored.kind == "c":
        kind = "complex" if stored.kind == "c" else "colour (RGB)"
        raise InputError(f"{name} holds {kind} values; a greyscale (magnitude) MR volume is needed.")
    try:
        data = np.asarray(img.dataobj, dtype=np.float32).reshape(shape[:3])
    except (OSError, EOFError, ValueError, zlib.error):
        raise InputError(f"{name} {_DAMAGED}.") from None
    if not np.all(np.isfinite(data)):
        raise InputError(f"{name} contains NaN or infinite values.")
    if float(data.max()) <= 0 or float(data.max()) == float(data.min()):
        raise InputError(f"{name} is empty: it contains no brain (no positive voxels).")
    # Before the brain mask, which a normalised scan's negative half would fragment ("too little brain"); only
    # where the background is empty, since a scan that is not skull-stripped is told so below instead.
    negative = float(np.count_nonzero(data < 0)) / max(np.count_nonzero(data), 1)
    if negative > MAX_NEGATIVE_FRACTION and _border_fraction(data) <= MAX_BACKGROUND_FRACTION:
        raise InputError(
            f"{name} has {100 * negative:.0f} % of its non-zero voxels below zero: it looks intensity-normalised "
            "(e.g. z-scored); upload the scan as acquired, before normalisation.")
    fg = foreground_mask(data)
    brain_ml = float(fg.sum()) * float(np.prod(spacing)) / 1000.0
    if brain_ml < MIN_BRAIN_ML:
        raise InputError(f"{name} contains too little brain ({brain_ml:.0f} mL; "
                         f"at least {MIN_BRAIN_ML:.0f} mL expected).")
    if _border_fraction(data) > MAX_BACKGROUND_FRACTION or brain_ml > MAX_BRAIN_ML:
        raise InputError(
            f"{name} does not look skull-stripped (non-zero background or {brain_ml:.0f} mL of tissue); "
            "upload a brain-extracted scan.")
    return Scan(data=data, affine=np.asarray(affine, dtype=float), foreground=fg)


def load_scan(path: str | Path) -> Scan:
    """load_nifti + validate."""
    return validate(load_nifti(path), name=Path(path).name)


def save_nifti(data: np.ndarray, affine: np.ndarray, path: str | Path, dtype=np.float32,
               display_range: tuple[float, float] | None = None) -> Path:
    """Write ``data`` (I, J, K) with ``affine`` to ``path`` (gzipped if it ends in .gz).

    display_range: (low, high) stored as the header's cal_min/cal_max, the window viewers open with;
    the browser viewer then skips estimating it from a histogram of every voxel."""
    img = nib.Nifti1Image(np.asarray(data).astype(dtype), affine)
    img.header.set_data_dtype(dtype)
    img.header.set_xyzt_units("mm")
    if display_range is not None:
        img.header["cal_min"], img.header["cal_max"] = display_range
    nib.save(img, str(path))
    return Path(path)
