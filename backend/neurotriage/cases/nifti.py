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
    return nib.Nifti1Image(data, image.affine, header=image.header)


def save_deidentified(image: nib.Nifti1Image, target: Path) -> None:
    """Write a gzipped copy without the free-text header fields and extensions that may name a patient."""
    header = image.header.copy()
    for field in FREE_TEXT_FIELDS:
        header[field] = b""
    header.extensions.clear()
    clean = nib.Nifti1Image(np.asanyarray(image.dataobj), image.affine, header=header)
    nib.save(clean, str(target))
