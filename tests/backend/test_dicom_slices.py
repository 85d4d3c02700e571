"""The slices of an uploaded DICOM series: numbered out of order, with localizers, copies, several stacks or a
sheared stack. Each either converts as Debian's dcm2niix reads it (which orders slices by position) or is
refused with a sentence, storing nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from tests.backend.conftest import ApiClient
from tests.backend.helpers import assert_refused
from tests.backend.dicom_factory import marked_volume, upload, write_series

SLICES = 20  # marked_volume's third axis


def _series(folder: Path, change: Callable[[int, pydicom.Dataset], None] | None = None) -> list[Path]:
    """The factory's oblique series (bottom to top), each file then changed by ``change(slice index, dataset)``."""
    paths = write_series(folder, marked_volume())
    for index, path in enumerate(paths):
        if change is not None:
            dataset = pydicom.dcmread(path)
            change(index, dataset)
            dataset.save_as(path)
    return paths


def _dcm2niix(folder: Path, out: Path) -> nib.Nifti1Image:
    out.mkdir()
    subprocess.run(["dcm2niix", "-z", "y", "-f", "ref", "-o", str(out), str(folder)], check=True, capture_output=True)
    return nib.as_closest_canonical(nib.load(out / "ref.nii.gz"))


def _assert_converts_like(
    client: ApiClient, paths: list[Path], reference: nib.Nifti1Image, tmp_path: Path, affine_mm: float = 1e-3
) -> None:
    response = upload(client, paths)
    assert response.status_code == 201, response.text
    scan = tmp_path / "ours.nii.gz"
    scan.write_bytes(client.get(f"/api/cases/{response.json()['id']}/files/scan").content)
    ours = nib.as_closest_canonical(nib.load(scan))
    # whole numbers are stored as such, not as the converter's float64 (4x the download)
    assert ours.get_data_dtype() in (np.int16, np.uint16)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours.affine, reference.affine, atol=affine_mm)
    np.testing.assert_array_equal(ours.get_fdata(), reference.get_fdata())


def _assert_refused(  # type: ignore[no-untyped-def]
    client: ApiClient, paths: list[Path], db, storage_dir: Path, expected: str
) -> None:
    assert_refused(upload(client, paths), db, storage_dir, expected)


def _interleaved(index: int, dataset: pydicom.Dataset) -> None:
    """A 2D acquisition numbered as acquired: odd slices first, then even ones."""
    dataset.InstanceNumber = index // 2 + 1 if index % 2 == 0 else SLICES // 2 + index // 2 + 1


def _all_one(index: int, dataset: pydicom.Dataset) -> None:
    dataset.InstanceNumber = 1


# Before, the converter ordered slices by these numbers: interleaved ones came out as a 4D series and were
# refused, identical ones failed or came out shuffled.
@pytest.mark.parametrize("numbering", [_interleaved, _all_one], ids=["interleaved", "all the same"])
def test_slices_numbered_out_of_order_convert_by_position(
    clinician: ApiClient, tmp_path: Path, numbering: Callable[[int, pydicom.Dataset], None]
) -> None:
    paths = _series(tmp_path / "series", numbering)
    reference = _dcm2niix(tmp_path / "series", tmp_path / "dcm2niix")
    _assert_converts_like(clinician, paths, reference, tmp_path)


def test_localizer_images_in_the_series_are_left_out(clinician: ApiClient, tmp_path: Path) -> None:
    stack = _series(tmp_path / "stack")
    reference = _dcm2niix(tmp_path / "stack", tmp_path / "dcm2niix")

    def localizer(index: int, dataset: pydicom.Dataset) -> None:
        dataset.InstanceNumber = 100 + index
        dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
        dataset.ImageOrientationPatient = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]  # sagittal
        if index == 2:
            dataset.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]

    # Three sagittal images of the same series (one marked LOCALIZER), as some scanners send them.
    localizers = _series(tmp_path / "localizers", localizer)[:3]
    series_uid = str(pydicom.dcmread(stack[0]).SeriesInstanceUID)
    for path in localizers:
        dataset = pydicom.dcmread(path)
        dataset.SeriesInstanceUID = series_uid
        dataset.save_as(path)
    _assert_converts_like(clinician, [*localizers, *stack], reference, tmp_path)


def test_a_file_uploaded_twice_counts_once(clinician: ApiClient, tmp_path: Path) -> None:
    paths = _series(tmp_path / "series")
    reference = _dcm2niix(tmp_path / "series", tmp_path / "dcm2niix")
    copy = tmp_path / "copy.dcm"
    copy.write_bytes(paths[4].read_bytes())
    _assert_converts_like(clinician, [*paths, copy], reference, tmp_path)


def test_a_series_of_two_stacks_in_different_planes_is_refused(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    def sagittal_half(index: int, dataset: pydicom.Dataset) -> None:
        if index >= 12:
            dataset.ImageOrientationPatient = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]

    _assert_refused(clinician, _series(tmp_path / "s", sagittal_half), db, storage_dir,
                    "The series holds slices in 2 orientations (12, 8 images)")


def test_a_series_of_two_echoes_is_refused(clinician: ApiClient, db, storage_dir: Path, tmp_path: Path) -> None:
    first = _series(tmp_path / "first")
    positions = [pydicom.dcmread(path).ImagePositionPatient for path in first]
    uid = str(pydicom.dcmread(first[0]).SeriesInstanceUID)

    def second_echo(index: int, dataset: pydicom.Dataset) -> None:
        dataset.SeriesInstanceUID, dataset.InstanceNumber = uid, SLICES + index + 1
        dataset.ImagePositionPatient = positions[index]

    second = _series(tmp_path / "second", second_echo)
    _assert_refused(clinician, first + second, db, storage_dir,
                    "The series holds 40 images at only 20 slice positions: several volumes")


def test_a_sheared_stack_is_refused_in_words(clinician: ApiClient, db, storage_dir: Path, tmp_path: Path) -> None:
    def shear(index: int, dataset: pydicom.Dataset) -> None:
        x, y, z = (float(v) for v in dataset.ImagePositionPatient)
        dataset.ImagePositionPatient = [x + 2.0 * index, y, z]

    _assert_refused(clinician, _series(tmp_path / "s", shear), db, storage_dir,
                    "its slices are not stacked straight along their normal (gantry tilt, or a sheared stack)")


def _shift_along_normal(mm: float, from_index: int) -> Callable[[int, pydicom.Dataset], None]:
    """Moves the slices from ``from_index`` on by ``mm`` along the stack (the factory stacks along z, tilted)."""

    def change(index: int, dataset: pydicom.Dataset) -> None:
        if index >= from_index:
            x, y, z = (float(v) for v in dataset.ImagePositionPatient)
            tilt = np.deg2rad(15.0)
            dataset.ImagePositionPatient = [x, y - mm * np.sin(tilt), z + mm * np.cos(tilt)]

    return change


def _without(keyword: str, index: int) -> Callable[[int, pydicom.Dataset], None]:
    def change(i: int, dataset: pydicom.Dataset) -> None:
        if i == index:
            del dataset[keyword]

    return change


def _mosaic(index: int, dataset: pydicom.Dataset) -> None:
    dataset.ImageType = ["ORIGINAL", "PRIMARY", "M", "MOSAIC"]


def _narrower(index: int, dataset: pydicom.Dataset) -> None:
    if index == 7:
        dataset.PixelSpacing = [1.3, 1.0]


# Each used to convert into a wrong volume without a word (the first three), or to fail with the converter's
# internal text.
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # 1.4 slices' step once: under the missing-slice rule, yet the converter spaced every slice evenly
        (_shift_along_normal(1.3, 10), "The slices are unevenly spaced (3.00 to 4.30 mm apart)"),
        (_without("ImagePositionPatient", 9), "1 of the series' 20 images carry no valid slice position"),
        (_narrower, "The series' images come in 2 different sizes or pixel spacings"),
        (_without("PixelSpacing", 3), "1 of the series' 20 images carry no valid pixel spacing (PixelSpacing)"),
        (_mosaic, "The series is a Siemens mosaic"),
    ],
    ids=["uneven", "no position", "pixel spacing differs", "no pixel spacing", "mosaic"],
)
def test_slices_the_converter_would_misplace_or_fail_on_are_refused_in_words(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path,
    change: Callable[[int, pydicom.Dataset], None], expected: str,
) -> None:
    _assert_refused(clinician, _series(tmp_path / "s", change), db, storage_dir, expected)


def test_slices_a_little_off_their_grid_still_convert(clinician: ApiClient, tmp_path: Path) -> None:
    """Positions rounded by the scanner, here 0.05 mm, are not uneven spacing. (dcm2niix and dicom2nifti then
    take the step from different slices: 0.003 mm apart.)"""
    paths = _series(tmp_path / "series", _shift_along_normal(0.05, 10))
    reference = _dcm2niix(tmp_path / "series", tmp_path / "dcm2niix")
    _assert_converts_like(clinician, paths, reference, tmp_path, affine_mm=0.01)


def test_a_series_of_floating_point_pixels_is_refused_in_words(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    """A computed map stored as FloatPixelData has no PixelData: it used to be "no readable DICOM image"."""

    def float_pixels(index: int, dataset: pydicom.Dataset) -> None:
        dataset.FloatPixelData = np.zeros((dataset.Rows, dataset.Columns), np.float32).tobytes()
        del dataset.PixelData
        del dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation
        dataset.BitsAllocated = 32

    _assert_refused(clinician, _series(tmp_path / "s", float_pixels), db, storage_dir,
                    "File 1 holds floating-point pixel data (a computed map), which cannot be converted")
