"""Enhanced (multi-frame) MR uploads: one file per series, as newer scanners export by default. Checked
against Debian's dcm2niix, which reads enhanced DICOM natively, on the real API."""

from __future__ import annotations

import io
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

from tests.backend.conftest import ApiClient
from tests.backend.helpers import assert_nothing_stored, assert_refused
from tests.backend.dicom_factory import ALL_PLANTED, marked_volume, upload
from tests.backend.enhanced_dicom import FRAME_COMMENT, write_enhanced_series

SLICES = 20  # marked_volume's third axis


def _dcm2niix(folder: Path, out: Path) -> nib.Nifti1Image:
    out.mkdir()
    subprocess.run(["dcm2niix", "-z", "y", "-f", "ref", "-o", str(out), str(folder)], check=True, capture_output=True)
    return nib.as_closest_canonical(nib.load(out / "ref.nii.gz"))


def _uploaded_scan(client: ApiClient, case_id: int, target: Path) -> nib.Nifti1Image:
    target.write_bytes(client.get(f"/api/cases/{case_id}/files/scan").content)
    return nib.as_closest_canonical(nib.load(target))


def _assert_same_volume(ours: nib.Nifti1Image, reference: nib.Nifti1Image) -> None:
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours.affine, reference.affine, atol=1e-3)
    np.testing.assert_array_equal(ours.get_fdata(), reference.get_fdata())



# Stored bottom to top, top to bottom, and shuffled: the standard allows any order, and the converter
# used to take the origin from the first frame stored, reversing the slices against the affine.
# Compressed frames are moved without being decoded.
@pytest.mark.parametrize(
    ("order", "compressed"),
    [("ascending", False), ("descending", False), ("shuffled", False), ("shuffled", True)],
)
def test_an_enhanced_mr_file_converts_as_dcm2niix_reads_it(
    clinician: ApiClient, storage_dir: Path, tmp_path: Path, order: str, compressed: bool
) -> None:
    frames = {
        "ascending": list(range(SLICES)),
        "descending": list(range(SLICES))[::-1],
        "shuffled": [int(i) for i in np.random.default_rng(3).permutation(SLICES)],
    }[order]
    # dcm2niix reads the uncompressed copy: it cannot read multi-frame RLE.
    uncompressed = write_enhanced_series(tmp_path / "series" / "enhanced.dcm", marked_volume(), frame_order=frames)
    reference = _dcm2niix(tmp_path / "series", tmp_path / "dcm2niix")
    source = uncompressed
    if compressed:
        source = tmp_path / "compressed.dcm"
        dataset = pydicom.dcmread(uncompressed)
        dataset.compress(RLELossless)
        dataset.save_as(source)
    response = upload(clinician, [source])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["source_format"] == "dicom"
    meta = body["dicom_meta"]
    # Kept in the functional groups and PulseSequenceName, where a classic file has its own attributes.
    assert (meta["sequence_name"], meta["repetition_time_ms"], meta["echo_time_ms"]) == ("*tfl3d1", "2300", "2.98")
    _assert_same_volume(_uploaded_scan(clinician, body["id"], tmp_path / "ours.nii.gz"), reference)
    # The stored, de-identified file is still one a reader converts to the same volume.
    with zipfile.ZipFile(storage_dir / "cases" / str(body["id"]) / "dicom-deidentified.zip") as bundle:
        (raw,) = [bundle.read(name) for name in bundle.namelist()]
    for value in (*ALL_PLANTED, FRAME_COMMENT):
        assert value.encode() not in raw, f"{value!r} survived"
    stored = pydicom.dcmread(io.BytesIO(raw))
    assert not any(element.tag.is_private for element in stored.iterall())
    assert stored.file_meta.TransferSyntaxUID == (RLELossless if compressed else ExplicitVRLittleEndian)
    if compressed:
        stored.decompress()
    (tmp_path / "stored").mkdir()
    stored.save_as(tmp_path / "stored" / "stored.dcm")
    _assert_same_volume(_dcm2niix(tmp_path / "stored", tmp_path / "stored-nifti"), reference)


def test_an_enhanced_mr_file_with_missing_frames_is_refused(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    kept = [k for k in range(SLICES) if k not in (8, 9, 10)]
    source = write_enhanced_series(tmp_path / "enhanced.dcm", marked_volume(), frame_order=kept)
    expected = "about 3 slice(s) are missing (12.0 mm gap after slice 8 of 17"
    assert_refused(upload(clinician, [source]), db, storage_dir, expected)


def test_a_series_split_over_multi_frame_files_is_refused_not_cut_short(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    """The converter reads the first multi-frame file of a series only; the rest of the brain would be dropped."""
    uid = pydicom.uid.generate_uid()
    lower = write_enhanced_series(tmp_path / "a.dcm", marked_volume(), frame_order=list(range(10)), series_uid=uid)
    upper = write_enhanced_series(tmp_path / "b.dcm", marked_volume(), frame_order=list(range(10, 20)), series_uid=uid)
    assert_refused(upload(clinician, [lower, upper]), db, storage_dir, "comes as 2 files, 2 of them multi-frame")


def test_an_enhanced_mr_file_holding_several_volumes_is_refused(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    # Two echoes, each of all 20 slices, as one file.
    source = write_enhanced_series(tmp_path / "echoes.dcm", marked_volume(), frame_order=list(range(SLICES)) * 2)
    assert_refused(upload(clinician, [source]), db, storage_dir, "40 frames at only 20 slice positions")



def _write_changed(path: Path, change: Callable[[pydicom.Dataset], None]) -> Path:
    dataset = pydicom.dcmread(path)
    change(dataset)
    dataset.save_as(path)
    return path


def _drop_frame_content(dataset: pydicom.Dataset) -> None:
    for frame in dataset.PerFrameFunctionalGroupsSequence[::3]:
        del frame.FrameContentSequence


def _zero_based(dataset: pydicom.Dataset) -> None:
    for frame in dataset.PerFrameFunctionalGroupsSequence:
        frame.FrameContentSequence[0].InStackPositionNumber -= 1


# The converter counted only the frames with a stack number (13 of 20 slices, stretched), and placed frame 0
# after the last; both came out without a word.
@pytest.mark.parametrize("change", [_drop_frame_content, _zero_based], ids=["some frames unnumbered", "from 0"])
def test_frames_numbered_in_part_or_from_zero_convert_as_dcm2niix_reads_them(
    clinician: ApiClient, tmp_path: Path, change: Callable[[pydicom.Dataset], None]
) -> None:
    order = [int(i) for i in np.random.default_rng(4).permutation(SLICES)]
    source = write_enhanced_series(tmp_path / "series" / "enhanced.dcm", marked_volume(), frame_order=order)
    reference = _dcm2niix(tmp_path / "series", tmp_path / "dcm2niix")
    response = upload(clinician, [_write_changed(source, change)])
    assert response.status_code == 201, response.text
    _assert_same_volume(_uploaded_scan(clinician, response.json()["id"], tmp_path / "ours.nii.gz"), reference)


def test_the_shared_rescale_applies_to_every_frame(clinician: ApiClient, tmp_path: Path) -> None:
    """The converter read the frames' own groups only, and stored the raw values (0..500 instead of 0..1000)."""
    plain = write_enhanced_series(tmp_path / "plain" / "enhanced.dcm", marked_volume())
    reference = _dcm2niix(tmp_path / "plain", tmp_path / "dcm2niix")
    scaled = write_enhanced_series(tmp_path / "scaled.dcm", marked_volume(), rescale=(2.0, 0.0))
    response = upload(clinician, [scaled])
    assert response.status_code == 201, response.text
    ours = _uploaded_scan(clinician, response.json()["id"], tmp_path / "ours.nii.gz")
    np.testing.assert_allclose(ours.affine, reference.affine, atol=1e-3)
    inside = reference.get_fdata() > 0
    np.testing.assert_allclose(ours.get_fdata()[inside], reference.get_fdata()[inside], atol=1.0)


def _one_group_less(dataset: pydicom.Dataset) -> None:
    del dataset.PerFrameFunctionalGroupsSequence[-1]


def _no_groups(dataset: pydicom.Dataset) -> None:
    del dataset.PerFrameFunctionalGroupsSequence


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_one_group_less, "says it holds 20 frames but describes 19"),
        (_no_groups, "holds 20 frames without per-frame geometry"),
    ],
    ids=["a frame undescribed", "no frame groups"],
)
def test_a_multi_frame_file_that_does_not_describe_its_frames_is_refused(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path, change: Callable[[pydicom.Dataset], None],
    expected: str,
) -> None:
    source = _write_changed(write_enhanced_series(tmp_path / "e.dcm", marked_volume()), change)
    response = upload(clinician, [source])
    assert response.status_code == 422
    assert expected in response.json()["detail"]
    assert_nothing_stored(db, storage_dir)
