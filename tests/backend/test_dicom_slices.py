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
from neurotriage.cases.models import Case
from sqlalchemy import func, select

from tests.backend.conftest import ApiClient
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


def _assert_converts_like(client: ApiClient, paths: list[Path], reference: nib.Nifti1Image, tmp_path: Path) -> None:
    response = upload(client, paths)
    assert response.status_code == 201, response.text
    scan = tmp_path / "ours.nii.gz"
    scan.write_bytes(client.get(f"/api/cases/{response.json()['id']}/files/scan").content)
    ours = nib.as_closest_canonical(nib.load(scan))
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours.affine, reference.affine, atol=1e-3)
    np.testing.assert_array_equal(ours.get_fdata(), reference.get_fdata())


def _assert_refused(client: ApiClient, paths: list[Path], db, storage_dir: Path, expected: str) -> None:  # type: ignore[no-untyped-def]
    response = upload(client, paths)
    assert response.status_code == 422, response.text
    assert expected in response.json()["detail"]
    assert db.scalar(select(func.count()).select_from(Case)) == 0
    assert [p for p in storage_dir.rglob("*") if p.is_file()] == []


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
