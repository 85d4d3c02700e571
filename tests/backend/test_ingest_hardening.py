"""Malformed and hostile uploads found by the ingest audit: each is refused with a sentence (never a 500) and
leaves nothing behind, or, where the upload is good, is read whole and de-identified."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from types import SimpleNamespace

import nibabel as nib
import numpy as np
import pydicom
import pydicom.filereader
import pytest
from neurotriage.cases import dicom
from neurotriage.cases.deid import Deidentifier
from neurotriage.cases.dicom import InflateBudget, extract_zip
from neurotriage.core.errors import Unprocessable
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, MRImageStorage

from tests.backend.conftest import ApiClient
from tests.backend.dicom_factory import marked_volume, upload, write_series, zip_files
from tests.backend.enhanced_dicom import write_enhanced_series
from tests.backend.helpers import assert_refused
from tests.backend.volumes import brain_like

KEY = b"k" * 32
ORIGINAL_UID, ORIGINAL_DATE = "1.2.826.0.1.3680043.8.498.1234567890", "20240607"


def _series(tmp_path: Path, seed: int = 0, name: str = "a") -> list[Path]:
    return write_series(tmp_path / name, marked_volume(seed))


def _resave(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    dataset = pydicom.dcmread(path)
    change(dataset)
    dataset.save_as(path)


def _patch(path: Path, find: bytes, offset: int, new: bytes) -> None:
    """Overwrite bytes at ``offset`` from the first occurrence of ``find``: damage pydicom would not write."""
    data = bytearray(path.read_bytes())
    at = data.index(find) + offset
    data[at:at + len(new)] = new
    path.write_bytes(bytes(data))


def _stored_dicom(storage_dir: Path, case_id: int) -> zipfile.ZipFile:
    return zipfile.ZipFile(storage_dir / "cases" / str(case_id) / "dicom-deidentified.zip")


# H1: a deflated file is inflated by pydicom whole and unbounded, so it is refused before pydicom reads it.
@pytest.mark.parametrize("zipped", [False, True])
def test_a_deflated_dicom_file_is_refused_before_it_is_inflated(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path, monkeypatch, zipped: bool
) -> None:
    paths = _series(tmp_path)

    def deflate(dataset: Dataset) -> None:
        dataset.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian

    _resave(paths[3], deflate)
    # pydicom's inflating of the whole file in one call is what must not happen.
    monkeypatch.setattr(pydicom.filereader, "zlib", SimpleNamespace(decompress=_never_called, MAX_WBITS=15))
    response = upload(clinician, [zip_files(paths, tmp_path / "s.zip")] if zipped else paths)
    label = "Zip entry 4" if zipped else "File 4"
    assert_refused(response, db, storage_dir, f"{label} uses the deflated transfer syntax, which is not supported")


def _never_called(*_args, **_kwargs):  # type: ignore[no-untyped-def]
    raise AssertionError("called before the upload was checked")


def test_a_series_over_the_voxel_limit_is_refused_before_conversion(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """Compressed pixels are decoded whole by the converter: Rows x Columns x images is checked first."""
    monkeypatch.setattr(dicom, "MAX_VOXELS", 40 * 48 * 20 - 1, raising=False)
    response = upload(clinician, _series(tmp_path))
    assert_refused(response, db, storage_dir, "million voxels, more than the")


# H2: what is replaced or shifted is decided by the standard's VR, not the one the file declares.
def test_uids_and_dates_written_with_another_vr_are_replaced_and_shifted() -> None:
    dataset = Dataset()
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.file_meta.add_new(0x00020003, "LO", ORIGINAL_UID + ".9")  # MediaStorageSOPInstanceUID
    dataset.SOPClassUID = MRImageStorage
    for keyword, tag in (("SOPInstanceUID", 0x00080018), ("StudyInstanceUID", 0x0020000D),
                         ("SeriesInstanceUID", 0x0020000E), ("FrameOfReferenceUID", 0x00200052)):
        dataset.add_new(tag, "LO", f"{ORIGINAL_UID}.{tag}")
    dataset.add_new(0x00080020, "LO", ORIGINAL_DATE)  # StudyDate
    dataset.add_new(0x00080022, "SH", ORIGINAL_DATE)  # AcquisitionDate
    dataset.add_new(0x0008002A, "CS", ORIGINAL_DATE + "101702")  # AcquisitionDateTime
    dataset.add_new(0x00180050, "LO", "Doe^Jane")  # SliceThickness: kept by name, but not a number

    Deidentifier(KEY).deidentify(dataset)

    written = io.BytesIO()
    dataset.save_as(written)
    assert ORIGINAL_UID.encode() not in written.getvalue() and ORIGINAL_DATE.encode() not in written.getvalue()
    for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        assert dataset[keyword].VR == "UI" and dataset[keyword].value.startswith("2.25.")
    assert dataset.file_meta.MediaStorageSOPInstanceUID == dataset.SOPInstanceUID
    assert (dataset["StudyDate"].VR, dataset["AcquisitionDate"].VR, dataset["AcquisitionDateTime"].VR) == (
        "DA", "DA", "DT")
    assert dataset.StudyDate != ORIGINAL_DATE and len(dataset.AcquisitionDateTime) == 8
    assert "SliceThickness" not in dataset


@pytest.mark.parametrize("shift_dates", [True, False])
def test_text_under_class_uid_and_date_tags_is_not_kept(shift_dates: bool) -> None:
    # Class UIDs are kept as written and dates may be kept unshifted: only if they are a UID and a date at all.
    dataset = Dataset()
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.file_meta.MediaStorageSOPClassUID = "DOE^JANE 1970"
    dataset.SOPClassUID = "DOE^JANE 1970"
    dataset.SOPInstanceUID = ORIGINAL_UID + ".1"
    dataset.StudyDate = "DOE^JANE"
    dataset.SeriesDate = "20200513"

    Deidentifier(KEY, shift_dates=shift_dates).deidentify(dataset)

    written = io.BytesIO()
    dataset.save_as(written)
    assert b"DOE" not in written.getvalue()
    assert "SOPClassUID" not in dataset and "MediaStorageSOPClassUID" not in dataset.file_meta
    assert dataset.StudyDate == ""
    assert (dataset.SeriesDate == "20200513") is not shift_dates


# M1: a DICOM file is tested for before a zip, and a zip that unpacks to nothing is refused.
def test_a_dicom_file_whose_pixels_end_like_an_empty_zip_is_read_as_dicom(
    clinician: ApiClient, storage_dir: Path, tmp_path: Path
) -> None:
    paths = _series(tmp_path)
    # An empty zip's end record, as pixel values 19280 and 1541 followed by background can spell it.
    data = bytearray(paths[-1].read_bytes())
    data[-22:] = b"PK\x05\x06" + bytes(18)
    paths[-1].write_bytes(bytes(data))
    assert zipfile.is_zipfile(paths[-1])
    response = upload(clinician, paths)
    assert response.status_code == 201, response.text
    assert len(_stored_dicom(storage_dir, response.json()["id"]).namelist()) == 20


def test_a_zip_without_files_is_refused_not_left_out(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as bundle:
        bundle.writestr("series/", b"")
        bundle.writestr("__MACOSX/series/._IM0001", b"apple double")
    response = upload(clinician, [*_series(tmp_path), empty])
    assert_refused(response, db, storage_dir, "The zip file holds no files")


# M2: an image without its pixels is damaged, not a DICOMDIR to skip.
@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (lambda data: data[:data.rfind(b"\xe0\x7f\x10\x00")], "File 20 is an image without pixel data"),
        (lambda data: data[:data.rfind(b"\xe0\x7f\x10\x00") + 3], "File 20 is an image without pixel data"),
        (lambda data: data[:-1000], "File 20 is cut short"),
    ],
    ids=["before the pixel data", "inside the pixel data's header", "inside the pixel data"],
)
def test_an_image_cut_short_is_refused_by_number(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path, cut, expected: str  # type: ignore[no-untyped-def]
) -> None:
    paths = _series(tmp_path)
    paths[-1].write_bytes(cut(paths[-1].read_bytes()))
    assert_refused(upload(clinician, paths), db, storage_dir, expected)


def test_a_large_image_cut_short_inside_pixels_read_later_is_refused(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    """Pixel data over 64 KB is left on disk when the headers are read; its length is checked against the file's."""
    paths = write_series(tmp_path / "large", brain_like((192, 192, 8)))
    paths[0].write_bytes(paths[0].read_bytes()[:-1000])
    assert_refused(upload(clinician, paths), db, storage_dir, "File 1 is cut short")


def test_a_file_without_an_image_beside_the_series_is_still_left_out(clinician: ApiClient, tmp_path: Path) -> None:
    paths = _series(tmp_path)
    note = Dataset()
    note.file_meta = FileMetaDataset()
    note.file_meta.MediaStorageSOPClassUID = note.SOPClassUID = "1.2.840.10008.5.1.4.1.1.11.1"  # a presentation state
    note.file_meta.MediaStorageSOPInstanceUID = note.SOPInstanceUID = "1.2.3.4"
    note.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    note.save_as(tmp_path / "state.dcm", enforce_file_format=True)
    response = upload(clinician, [*paths, tmp_path / "state.dcm"])
    assert response.status_code == 201, response.text


# M3: a malformed header fails when the file is read, where it can be named, and never as a 500.
@pytest.mark.parametrize(
    ("find", "offset", "new"),
    [
        (b"\x28\x00\x52\x10DS", 4, b"UX"),  # RescaleIntercept with a VR no standard knows
        (b"\x20\x00\x0e\x00UI", 4, b"UX"),  # SeriesInstanceUID
        (b"\x02\x00\x10\x00UI", 4, b"UX"),  # the file meta's TransferSyntaxUID
        (b"\x28\x00\x10\x00US", 6, b"\x03"),  # Rows of 3 bytes, which shifts every element after it
    ],
    ids=["unknown VR", "unknown VR of a UID", "unknown VR in the file meta", "odd length"],
)
def test_a_malformed_header_is_a_422_naming_the_file(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path, find: bytes, offset: int, new: bytes
) -> None:
    paths = _series(tmp_path)
    _patch(paths[5], find, offset, new)
    assert_refused(upload(clinician, paths), db, storage_dir, "File 6 is not a readable DICOM file")


def test_an_unknown_transfer_syntax_is_refused(clinician: ApiClient, db, storage_dir: Path, tmp_path: Path) -> None:
    paths = _series(tmp_path)
    _patch(paths[2], b"1.2.840.10008.1.2.1\x00", 0, b"1.2.840.10008.9.9.9\x00")
    assert_refused(upload(clinician, paths), db, storage_dir, "File 3 declares a transfer syntax that is not a known")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda ds: ds.__delattr__("SOPInstanceUID"), "File 8 has no valid SOPInstanceUID"),
        (lambda ds: ds.__delattr__("SeriesInstanceUID"), "File 8 has no valid SeriesInstanceUID"),
        (lambda ds: setattr(ds["Rows"], "value", [ds.Rows, ds.Rows]), "File 8 has no valid image size"),
        (lambda ds: ds.__delattr__("Columns"), "File 8 has no valid image size"),
    ],
    ids=["no SOPInstanceUID", "no SeriesInstanceUID", "two Rows", "no Columns"],
)
def test_an_image_without_its_identity_or_size_is_refused_by_number(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path, change, expected: str  # type: ignore[no-untyped-def]
) -> None:
    paths = _series(tmp_path)
    _resave(paths[7], change)
    assert_refused(upload(clinician, paths), db, storage_dir, expected)


def test_a_malformed_functional_group_of_an_enhanced_file_is_a_422(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    path = write_enhanced_series(tmp_path / "enhanced.dcm", marked_volume())
    _patch(path, b"\x20\x00\x32\x00DS", 4, b"UX")  # the first frame's ImagePositionPatient
    assert_refused(upload(clinician, [path]), db, storage_dir, "File 1 is not a readable DICOM file")


# M4: a zip whose directory zipfile cannot read is corrupt, whatever zipfile raises.
def test_a_zip_with_an_undecodable_name_is_corrupt_without_naming_it(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "names.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("DOE^JANE/\u00e9.dcm", b"x")  # a name flagged UTF-8
    archive.write_bytes(archive.read_bytes().replace("\u00e9".encode(), b"\xff\xff"))
    response = upload(clinician, [archive])
    assert_refused(response, db, storage_dir, "The zip file is corrupt")
    assert "DOE" not in response.text


# M5: NIfTI shapes the stored copy cannot take.
@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (nib.Nifti1Image(brain_like((64, 64, 1))[:, :, 0], np.diag([1.0, 1, 1, 1])), "got 2 dimensions"),
        (nib.Nifti1Image(np.arange(64, dtype=np.float32), np.diag([1.0, 1, 1, 1])), "got 1 dimension"),
        (nib.Nifti2Image(np.zeros((40000, 9, 9), np.uint8), np.diag([1.0, 1, 1, 1])), "40000 voxels long on one axis"),
    ],
    ids=["2D", "1D", "NIfTI-2 over int16"],
)
def test_a_nifti_of_a_shape_nifti1_cannot_hold_is_refused(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path, image, expected: str  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "scan.nii.gz"
    nib.save(image, str(path))
    with path.open("rb") as handle:
        response = clinician.post("/api/cases", files=[("files", (path.name, handle))])
    assert_refused(response, db, storage_dir, expected)


# M6: one study's files, uploaded once per series chosen from them.
def test_each_series_of_a_study_zip_can_be_chosen_in_turn(clinician: ApiClient, tmp_path: Path) -> None:
    study = pydicom.uid.generate_uid()
    paths = write_series(tmp_path / "t1", marked_volume(), series_number=3, study_uid=study) + write_series(
        tmp_path / "flair", marked_volume(1), series_number=5, study_uid=study
    )
    archive = zip_files(paths, tmp_path / "study.zip", [f"IM{i:04d}" for i in range(len(paths))])
    choices = [series["choice"] for series in upload(clinician, [archive]).json()["series"]]
    first = upload(clinician, [archive], series=choices[0])
    assert first.status_code == 201, first.text
    second = upload(clinician, [archive], series=choices[1])
    assert second.status_code == 201, second.text
    again = upload(clinician, [archive], series=choices[0])
    assert again.status_code == 409
    known = first.json()["id"]
    assert again.json()["detail"] == f"This DICOM series was already uploaded as case {known}; open that case."


# L1: every entry counts, and the count is known before zipfile lists the entries.
def _clutter_zip(path: Path, entries: int) -> Path:
    with zipfile.ZipFile(path, "w") as bundle:
        for number in range(entries):
            bundle.writestr(f"__MACOSX/._{number}" if number % 2 else f"folder{number}/", b"")
    return path


def test_folders_and_clutter_count_toward_the_entry_cap(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    response = upload(clinician, [_clutter_zip(tmp_path / "clutter.zip", 15001)])
    assert_refused(response, db, storage_dir, "hold more than 15000 entries")


@pytest.mark.parametrize("lying", [False, True], ids=["as declared", "end record lying"])
def test_the_entry_cap_holds_before_zipfile_lists_the_entries(tmp_path: Path, monkeypatch, lying: bool) -> None:
    archive = _clutter_zip(tmp_path / "clutter.zip", 50)
    if lying:  # the end record's entry counts (this disk, total) say 1
        data = bytearray(archive.read_bytes())
        data[-22 + 8:-22 + 12] = b"\x01\x00\x01\x00"
        archive.write_bytes(bytes(data))
    monkeypatch.setattr(zipfile, "ZipFile", _never_called)
    target = tmp_path / "unpacked"
    target.mkdir()
    with pytest.raises(Unprocessable) as raised:
        extract_zip(archive, target, InflateBudget(max_bytes=1 << 20, max_entries=10))
    assert "hold more than 10 entries" in raised.value.message
    assert list(target.iterdir()) == []


def test_a_file_error_in_conversion_names_no_server_path(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    # dicom2nifti failing on a file it cannot read (cannot be made to happen with a valid series, hence the stand-in):
    # the OSError's full text holds the spool path, which the user must not see.
    def unreadable(folder: str, *_args, **_kwargs) -> None:  # type: ignore[no-untyped-def]
        raise FileNotFoundError(2, "No such file or directory", f"{folder}/00003.dcm")

    import dicom2nifti.convert_dicom

    monkeypatch.setattr(dicom2nifti.convert_dicom, "dicom_series_to_nifti", unreadable)
    response = upload(clinician, _series(tmp_path))
    assert_refused(response, db, storage_dir, "could not be converted to a volume (No such file or directory)")
    assert "/tmp" not in response.text and "nt-ingest" not in response.text
