"""Validating and de-identifying uploaded NIfTI files (no engine needed: the API image has no torch)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np

from neurotriage.cases.brain_checks import check_brain_extracted
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
MAX_DIMENSION = 32767  # NIfTI-1 stores each dimension as int16
# The engine's refusal (itermask3d.io.ORIENTATION_UNKNOWN): without a qform or sform, nibabel guesses the axes'
# directions, and a wrong guess puts every flag on the wrong side.
ORIENTATION_UNKNOWN = (
    "does not say how the volume lies in the head (its NIfTI sform and qform codes are both 0), so left and right "
    "cannot be told apart; convert it again keeping its orientation (dcm2niix does)"
)
GZIP_MAGIC = b"\x1f\x8b"


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
    except (OSError, EOFError, zlib.error) as exc:
        raise Unprocessable(
            "The .nii.gz file is damaged (its compressed data is corrupt or cut short); export or copy it again."
        ) from exc


def _plain_nifti(path: Path, work_dir: Path, max_inflated_bytes: int) -> Path:
    """The upload as an uncompressed .nii in ``work_dir``: gzip data is recognised by its first bytes, not by
    the file name (browsers and mail programs inflate a .nii.gz and keep its name)."""
    with path.open("rb") as handle:
        gzipped = handle.read(2) == GZIP_MAGIC
    raw = work_dir / "upload.nii"  # nibabel picks the format from the file name, and the spooled upload has none
    raw.unlink(missing_ok=True)
    if gzipped:
        _inflate(path, raw, max_inflated_bytes)
    else:
        raw.symlink_to(path.resolve())
    return raw


def _unreadable(exc: Exception, *paths: Path) -> Unprocessable:
    """nibabel's reason, without the server's own file paths; in words where the file is no NIfTI at all."""
    if isinstance(exc, nib.filebasedimages.ImageFileError) and "Cannot work out file type" in str(exc):
        # nibabel found no image header of any kind: a document, or another program's file renamed .nii(.gz)
        return Unprocessable("This file is not a NIfTI image: it does not start with a NIfTI header. Upload the "
                             "scan as .nii or .nii.gz, or its DICOM files.")
    reason = str(exc)
    for path in paths:
        reason = reason.replace(str(path), "the file")
    return Unprocessable(f"Not a readable NIfTI file ({reason or type(exc).__name__}).")


def _open(raw: Path) -> nib.Nifti1Image:
    """NIfTI-1, or NIfTI-2 (read as NIfTI-1, which the stored copy is), checked against its own header before
    any voxel is read: a 73-byte file must not make the server allocate what its header asks for."""
    try:
        image = nib.load(str(raw))
    except Exception as exc:  # nibabel raises many types for corrupt headers
        raise _unreadable(exc, raw) from exc
    if not isinstance(image, (nib.Nifti1Image, nib.Nifti2Image)):
        raise Unprocessable("Not a NIfTI file (.nii or .nii.gz).")
    shape = image.shape
    if len(shape) < 3:
        raise Unprocessable(f"Expected a 3D volume, got {len(shape)} dimension{'s' if len(shape) != 1 else ''} "
                            f"{tuple(shape)}.")
    if len(shape) > 3 and any(n != 1 for n in shape[3:]):
        raise Unprocessable(f"Expected a 3D volume, got {len(shape)} dimensions {tuple(shape)}.")
    if max(shape) > MAX_DIMENSION:
        raise Unprocessable(f"The volume is {max(shape)} voxels long on one axis, more than the {MAX_DIMENSION} a "
                            "NIfTI-1 file, which the stored copy is, can hold; resample it to a coarser grid.")
    if isinstance(image, nib.Nifti2Image):
        try:
            image = nib.Nifti1Image.from_image(image)
        except Exception as exc:  # a NIfTI-2 header field that NIfTI-1 cannot hold
            raise Unprocessable("The NIfTI-2 file's header cannot be stored as NIfTI-1; convert it to NIfTI-1.") from exc
    stored = image.header.get_data_dtype()
    if stored.fields is not None or stored.kind == "c":
        kind = "complex" if stored.kind == "c" else "colour (RGB)"
        raise Unprocessable(f"The volume holds {kind} values; upload a greyscale (magnitude) MR volume.")
    voxels = int(np.prod(shape[:3]))
    if voxels > MAX_VOXELS:
        raise Unprocessable(f"The volume has {voxels / 1e6:.0f} million voxels, more than the {MAX_VOXELS / 1e6:.0f} "
                            "million the analysis reads; resample it to a coarser grid (1 mm is plenty).")
    needed = int(image.header.get_data_offset()) + voxels * stored.itemsize
    if raw.stat().st_size < needed:
        raise Unprocessable("The NIfTI file is damaged: it is shorter than its header says (cut short in copying?).")
    return image


def load_checked(path: Path, filename: str, work_dir: Path, max_inflated_bytes: int) -> nib.Nifti1Image:
    """Load an uploaded NIfTI and check it is a usable 3D brain volume; raise a readable error if not.
    (``filename`` is the uploader's; the content decides whether it is compressed.)"""
    raw = _plain_nifti(path, work_dir, max_inflated_bytes)
    image = _open(raw)
    try:
        data = np.asanyarray(image.dataobj)
    except Exception as exc:  # damaged data
        raise _unreadable(exc, raw, path) from exc
    data = data.reshape(data.shape[:3])
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
    check_not_a_label_map(data)
    check_brain_extracted(np.asarray(data, dtype=np.float32), spacing)
    return nib.Nifti1Image(data, image.affine, header=image.header)


# An MR image holds hundreds of grey levels or more; a mask or a segmentation a handful. A lesion mask uploaded
# instead of its scan was accepted and failed in the worker ("too little brain"), after the reader had moved on.
MAX_LABEL_VALUES = 16
# Enough voxels to see an image's grey levels, few enough that counting them stays quick on a 0.5 mm volume.
LABEL_SAMPLE = 1_000_000


def check_not_a_label_map(data: np.ndarray) -> None:
    """Refuse a volume of a few distinct values (a mask or label map): (I, J, K) voxels."""
    tissue = data[data != 0]
    if tissue.size > LABEL_SAMPLE:
        tissue = tissue[:: tissue.size // LABEL_SAMPLE + 1]
    distinct = np.unique(tissue).size
    if distinct <= MAX_LABEL_VALUES:
        raise Unprocessable(
            f"The volume holds only {distinct} distinct value{'s' if distinct != 1 else ''} besides zero: it looks "
            "like a mask or a segmentation, not an MR image. Upload the scan itself."
        )


def compact(data: np.ndarray) -> np.ndarray:
    """float64 voxels (what dicom2nifti writes for most series, and nibabel for scaled data) in a smaller type:
    whole numbers in the smallest integer type that holds them exactly (int16, uint16, int32), other values in
    float32, whose 1e-7 relative precision is far finer than any MR scan's. A 1 mm brain in float64 is four
    times the int16 file that the browser downloads."""
    if data.dtype != np.float64:
        return data
    if np.array_equal(data, np.round(data)):
        for kind in (np.int16, np.uint16, np.int32):
            if data.min() >= np.iinfo(kind).min and data.max() <= np.iinfo(kind).max:
                return data.astype(kind)
        return data
    return data.astype(np.float32)


def save_deidentified(image: nib.Nifti1Image, target: Path) -> None:
    """Write a gzipped copy without the free-text header fields and extensions that may name a patient, its
    voxels in a compact type (``compact``)."""
    header = image.header.copy()
    for field in FREE_TEXT_FIELDS:
        header[field] = b""
    header.extensions.clear()
    data = compact(np.asanyarray(image.dataobj))
    header.set_data_dtype(data.dtype)
    clean = nib.Nifti1Image(data, image.affine, header=header)
    clean.header.set_slope_inter(1.0, 0.0)
    nib.save(clean, str(target))
