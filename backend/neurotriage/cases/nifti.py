"""Validating and de-identifying uploaded NIfTI files (no engine needed: the API image has no torch)."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np

from neurotriage.core.errors import PayloadTooLarge, Unprocessable

NIFTI_SUFFIXES = (".nii", ".nii.gz")
# Every free-text field of the NIfTI-1 header. data_type and db_name are unused leftovers of
# ANALYZE 7.5, but converters and scripts put text in them all the same.
FREE_TEXT_FIELDS = ("descrip", "aux_file", "db_name", "intent_name", "data_type")
# The engine's range (itermask3d.io), measured as it measures it (the affine's column norms, not the header's
# pixdim, which converters do not always keep in step), so that no upload accepted here fails in the worker for it.
MIN_SPACING_MM, MAX_SPACING_MM = 0.2, 7.0
# The engine's own limit (itermask3d.io.MAX_VOXELS; the API does not import the engine): refused here, at
# upload, rather than by the worker after queueing.
MAX_VOXELS = 128_000_000
# The engine's skull-stripping and normalisation checks (itermask3d.io), which need no engine: a scan straight from
# the scanner is refused here, at upload, instead of becoming a case whose job then fails.
MAX_BACKGROUND_FRACTION = 0.25
MAX_NEGATIVE_FRACTION = 0.1
# The engine's refusal (itermask3d.io.ORIENTATION_UNKNOWN): without a qform or sform, nibabel guesses the axes'
# directions, and a wrong guess puts every flag on the wrong side.
ORIENTATION_UNKNOWN = (
    "does not say how the volume lies in the head (its NIfTI sform and qform codes are both 0), so left and right "
    "cannot be told apart; convert it again keeping its orientation (dcm2niix does)"
)


def is_nifti_name(filename: str) -> bool:
    return filename.lower().endswith(NIFTI_SUFFIXES)


def _inflate(source: Path, target: Path, max_bytes: int) -> None:
    """Decompress a gzip file, refusing to write more than ``max_bytes`` (a decompression bomb)."""
    written = 0
    try:
        with gzip.open(source, "rb") as src, target.open("wb") as dst:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > max_bytes:
                    raise PayloadTooLarge(f"The file inflates to more than {max_bytes // (1 << 20)} MiB.")
                dst.write(chunk)
    except (OSError, EOFError) as exc:
        raise Unprocessable(f"The .nii.gz file is not valid gzip data ({exc}).") from exc


def load_checked(path: Path, filename: str, work_dir: Path, max_inflated_bytes: int) -> nib.Nifti1Image:
    """Load an uploaded NIfTI and check it is a usable 3D brain volume; raise a readable error if not."""
    raw = path
    if filename.lower().endswith(".gz"):
        raw = work_dir / "inflated.nii"
        _inflate(path, raw, max_inflated_bytes)
    else:
        # nibabel picks the format from the file name, and the spooled upload has none.
        raw = work_dir / "upload.nii"
        raw.symlink_to(path.resolve())
    try:
        image = nib.Nifti1Image.from_filename(str(raw))
    except Exception as exc:  # nibabel raises many types for corrupt headers
        raise Unprocessable(f"Not a readable NIfTI file: {exc}") from exc
    stored = image.header.get_data_dtype()
    if stored.fields is not None or stored.kind == "c":
        kind = "complex" if stored.kind == "c" else "colour (RGB)"
        raise Unprocessable(f"The volume holds {kind} values; upload a greyscale (magnitude) MR volume.")
    voxels = int(np.prod(image.shape[:3]))
    if voxels > MAX_VOXELS:
        raise Unprocessable(f"The volume has {voxels / 1e6:.0f} million voxels, more than the {MAX_VOXELS / 1e6:.0f} "
                            "million the analysis reads; resample it to a coarser grid (1 mm is plenty).")
    try:
        data = np.asanyarray(image.dataobj)
    except Exception as exc:  # truncated data
        raise Unprocessable(f"Not a readable NIfTI file: {exc}") from exc
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise Unprocessable(f"Expected a 3D volume, got {data.ndim} dimensions {tuple(data.shape)}.")
    if min(data.shape) < 8:
        raise Unprocessable(f"The volume {tuple(data.shape)} is too small to be a brain scan.")
    affine = np.asarray(image.affine, dtype=float)
    if not np.all(np.isfinite(affine)) or abs(np.linalg.det(affine[:3, :3])) < 1e-9:
        raise Unprocessable("The volume's orientation matrix (affine) is invalid.")
    if int(image.header["sform_code"]) == 0 and int(image.header["qform_code"]) == 0:
        raise Unprocessable(f"The file {ORIENTATION_UNKNOWN}.")
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    # the tolerance keeps an oblique 7 mm grid, whose column norms round to just above 7, as the engine does
    if spacing.min() < MIN_SPACING_MM - 1e-3 or spacing.max() > MAX_SPACING_MM + 1e-3:
        raise Unprocessable(f"Voxel size {' x '.join(f'{s:.3g}' for s in spacing)} mm is outside "
                            f"{MIN_SPACING_MM:g} to {MAX_SPACING_MM:g} mm, the range the analysis reads.")
    if not np.isfinite(data).all() or float(np.max(data)) <= float(np.min(data)):
        raise Unprocessable("The volume is empty or constant, or holds non-finite values.")
    _check_brain_extracted(np.asarray(data, dtype=np.float32))
    return nib.Nifti1Image(data, image.affine, header=image.header)


def border_fraction(data: np.ndarray) -> float:
    """The engine's measure (itermask3d.io._border_fraction): the fraction of the volume's outer faces whose
    magnitude is above 1 % of the 99th percentile of the positive voxels. A skull-stripped scan's faces are empty;
    a scan from the scanner has signal, or at least noise, there."""
    positive = data[data > 0]
    if not positive.size:
        return 0.0
    threshold = 0.01 * float(np.percentile(positive, 99))
    faces = [data[0], data[-1], data[:, 0], data[:, -1], data[:, :, 0], data[:, :, -1]]
    return float(np.mean(np.concatenate([np.abs(face).ravel() > threshold for face in faces])))


def _check_brain_extracted(data: np.ndarray) -> None:
    """Refuse what the engine would refuse for the same reasons, in its order: a volume normalised to zero mean
    (its negative half would never be screened), then one that was not skull-stripped."""
    faces = border_fraction(data)
    negative = float(np.count_nonzero(data < 0)) / max(np.count_nonzero(data), 1)
    if negative > MAX_NEGATIVE_FRACTION and faces <= MAX_BACKGROUND_FRACTION:
        raise Unprocessable(
            f"{100 * negative:.0f} % of the volume's non-zero voxels are below zero: it looks intensity-normalised "
            "(e.g. z-scored); upload the scan as acquired, before normalisation."
        )
    if faces > MAX_BACKGROUND_FRACTION:
        raise Unprocessable(
            f"The scan does not look skull-stripped: {100 * faces:.0f} % of the volume's outer faces hold signal "
            "where a brain-extracted scan has none. The analysis reads brain-extracted scans only; run a brain "
            "extraction (e.g. SynthStrip or HD-BET) and upload its result."
        )


def compact(data: np.ndarray) -> np.ndarray:
    """float64 voxels (what dicom2nifti writes for most series) in the smallest type that holds them exactly:
    int16 or uint16 where every value is a whole number in range, else float32, whose precision is far finer
    than any MR scan's. A 1 mm brain in float64 is four times the int16 file that the browser downloads."""
    if data.dtype != np.float64:
        return data
    if np.array_equal(data, np.round(data)):
        for kind in (np.int16, np.uint16):
            if data.min() >= np.iinfo(kind).min and data.max() <= np.iinfo(kind).max:
                return data.astype(kind)
    return data.astype(np.float32)


def save_deidentified(image: nib.Nifti1Image, target: Path) -> None:
    """Write a gzipped copy without the free-text header fields and extensions that may name a patient, its
    voxels in the smallest exact type (``compact``)."""
    header = image.header.copy()
    for field in FREE_TEXT_FIELDS:
        header[field] = b""
    header.extensions.clear()
    data = compact(np.asanyarray(image.dataobj))
    header.set_data_dtype(data.dtype)
    clean = nib.Nifti1Image(data, image.affine, header=header)
    clean.header.set_slope_inter(1.0, 0.0)
    nib.save(clean, str(target))
