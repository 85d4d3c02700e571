from __future__ import annotations

import errno
import logging
import subprocess
import warnings
import zipfile
from pathlib import Path

import httpx
import nibabel as nib
import numpy as np
import pydicom
import pydicom.config
import pytest
from neurotriage.cases.dicom import InflateBudget, _source_labels, extract_zip
from neurotriage.cases.models import Case
from sqlalchemy import func, select

from tests.backend.conftest import ApiClient
from tests.backend.dicom_factory import marked_volume, upload, write_series, zip_files


# Series stored under a patient's name, as some viewers export them.
PATIENT_NAMED = "DOE^JANE"


def _assert_refused_without_naming_files(
    response: httpx.Response, caplog: pytest.LogCaptureFixture, expected: str
) -> None:
    assert response.status_code == 422, response.text
    assert expected in response.json()["detail"] and PATIENT_NAMED not in response.json()["detail"]
    assert not [record for record in caplog.records if PATIENT_NAMED in record.getMessage()]


def test_dicom_files_convert_with_the_same_geometry_as_dcm2niix(clinician: ApiClient, tmp_path: Path) -> None:
    paths = write_series(tmp_path / "series", marked_volume(), spacing=(1.0, 1.2, 3.0), tilt_degrees=15,
                         extra={"ScanningSequence": ["SE", "IR"]})
    response = upload(clinician, paths)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["source_format"] == "dicom"
    assert body["dicom_meta"]["sequence_name"] == "*tfl3d1" and body["dicom_meta"]["modality"] == "MR"
    assert body["dicom_meta"]["scanning_sequence"] == "SE/IR"  # as a reader writes it, not a Python list
    assert body["dicom_meta"]["acquisition_date"] != "2024-06-07"  # shifted per patient
    (tmp_path / "ours.nii.gz").write_bytes(clinician.get(f"/api/cases/{body['id']}/files/scan").content)
    reference_dir = tmp_path / "dcm2niix"
    reference_dir.mkdir()
    subprocess.run(["dcm2niix", "-z", "y", "-f", "ref", "-o", str(reference_dir), str(tmp_path / "series")],
                   check=True, capture_output=True)
    ours = nib.as_closest_canonical(nib.load(tmp_path / "ours.nii.gz"))
    reference = nib.as_closest_canonical(nib.load(reference_dir / "ref.nii.gz"))
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours.header.get_zooms()[:3], reference.header.get_zooms()[:3], atol=1e-4)
    np.testing.assert_allclose(ours.affine, reference.affine, atol=1e-3)
    np.testing.assert_allclose(ours.get_fdata(), reference.get_fdata(), atol=1e-3)


def test_mixed_series_are_refused_with_the_list(clinician: ApiClient, db, storage_dir: Path, tmp_path: Path) -> None:
    paths = write_series(tmp_path / "a", marked_volume(), series_number=4) + write_series(
        tmp_path / "b", marked_volume(1), series_number=7
    )
    response = upload(clinician, paths)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "mixes 2 series" in detail and "series 4 (*tfl3d1, 3D, axial, 20 images)" in detail
    assert db.scalar(select(func.count()).select_from(Case)) == 0
    assert [p for p in storage_dir.rglob("*") if p.is_file()] == []
    # The list to choose from: by number, sequence, plane and size; no UID.
    series = response.json()["series"]
    assert [(s["number"], s["sequence"], s["plane"], s["images"], s["slice_mm"]) for s in series] == [
        (4, "*tfl3d1", "axial", 20, 3.0), (7, "*tfl3d1", "axial", 20, 3.0)
    ]
    uids = {str(pydicom.dcmread(path).SeriesInstanceUID) for path in paths}
    assert not any(uid in response.text for uid in uids)
    # The same files sent again with a choice: that series alone becomes the case.
    chosen = upload(clinician, paths, series=series[1]["choice"])
    assert chosen.status_code == 201, chosen.text
    stored = storage_dir / "cases" / str(chosen.json()["id"]) / "dicom-deidentified.zip"
    assert len(zipfile.ZipFile(stored).namelist()) == 20
    second = upload(clinician, write_series(tmp_path / "c", marked_volume(2), series_number=9), series="x" * 20)
    assert second.status_code == 422 and "The chosen series is not in this upload" in second.json()["detail"]


def test_same_series_uploaded_again_is_a_duplicate(clinician: ApiClient, tmp_path: Path) -> None:
    paths = write_series(tmp_path / "a", marked_volume())
    first = upload(clinician, paths).json()
    again = upload(clinician, [zip_files(paths, tmp_path / "again.zip")])
    assert again.status_code == 409 and f"case {first['id']}" in again.json()["detail"]


@pytest.mark.parametrize(
    "evil", [f"../{PATIENT_NAMED}.dcm", f"/{PATIENT_NAMED}/IM1", f"series/../../{PATIENT_NAMED}.dcm"]
)
def test_zip_with_unsafe_paths_is_refused_without_naming_the_file(
    clinician: ApiClient, db, tmp_path: Path, evil: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    paths = write_series(tmp_path / "a", marked_volume())
    names = [f"ok/{p.name}" for p in paths]
    names[1] = evil
    response = upload(clinician, [zip_files(paths, tmp_path / "evil.zip", names)])
    _assert_refused_without_naming_files(response, caplog, "Zip entry 2 has an unsafe path")
    assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_zip_with_a_symbolic_link_is_refused_without_naming_it(
    clinician: ApiClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        link = zipfile.ZipInfo(f"{PATIENT_NAMED}/IM0001")
        link.external_attr = 0o120777 << 16  # a Unix symbolic link, as `zip --symlinks` stores it
        bundle.writestr(link, "/etc/passwd")
    response = upload(clinician, [archive])
    _assert_refused_without_naming_files(response, caplog, "Zip entry 1 is a symbolic link")


def _finder_zip(paths: list[Path], target: Path) -> Path:
    """A zip as macOS Finder makes it: folder entries, an AppleDouble '._' file per file under __MACOSX/,
    and a .DS_Store; none of them DICOM."""
    folder = f"{PATIENT_NAMED}/"
    with zipfile.ZipFile(target, "w") as bundle:
        bundle.writestr(zipfile.ZipInfo(folder), b"")
        bundle.writestr(zipfile.ZipInfo(f"__MACOSX/{folder}"), b"")
        for path in paths:
            bundle.writestr(f"{folder}{path.name}", path.read_bytes())
            bundle.writestr(f"__MACOSX/{folder}._{path.name}", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X" + bytes(60))
        bundle.writestr(f"{folder}.DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(100))
    return target


def test_a_zip_made_by_macos_finder_is_accepted(clinician: ApiClient, tmp_path: Path) -> None:
    # Formerly refused: the AppleDouble files are not DICOM ("File 2 is not a readable DICOM file").
    paths = write_series(tmp_path / "a", marked_volume())
    response = upload(clinician, [_finder_zip(paths, tmp_path / "finder.zip")])
    assert response.status_code == 201, response.text


def test_a_bad_zip_entry_is_named_by_its_entry_and_zip_number(
    clinician: ApiClient, db, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Formerly "File 27": a number counted over all zips' files together, which the user could not find.
    Entries count as a zip listing shows them, folders and skipped clutter included."""
    caplog.set_level(logging.DEBUG)
    paths = write_series(tmp_path / "a", marked_volume())
    first = _finder_zip(paths[:10], tmp_path / "first.zip")
    second = tmp_path / "second.zip"
    with zipfile.ZipFile(second, "w") as bundle:
        bundle.writestr(zipfile.ZipInfo(f"{PATIENT_NAMED}/"), b"")  # entry 1
        for path in paths[10:12]:  # entries 2 and 3
            bundle.writestr(f"{PATIENT_NAMED}/{path.name}", path.read_bytes())
        bundle.writestr(f"{PATIENT_NAMED}/notes.txt", b"scanned after contrast")  # entry 4
        for path in paths[12:]:
            bundle.writestr(f"{PATIENT_NAMED}/{path.name}", path.read_bytes())
    response = upload(clinician, [first, second])
    _assert_refused_without_naming_files(response, caplog, "Entry 4 of zip file 2 is not a readable DICOM file")
    assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_loose_files_and_zip_entries_are_numbered_as_the_user_uploaded_them() -> None:
    # Unpacked entries carry their zip and entry numbers in their names; loose files are the router's spooled parts.
    unpacked = [Path(f"/w/zip0/zip1-entry{n}.dcm") for n in (2, 3)]
    unpacked += [Path(f"/w/zip2/zip2-entry{n}.dcm") for n in (1, 5)]
    paths = [unpacked[0], unpacked[1], Path("/w/upload1"), unpacked[2], unpacked[3], Path("/w/upload3")]
    assert _source_labels(paths) == [
        "Entry 2 of zip file 1", "Entry 3 of zip file 1", "File 2", "Entry 1 of zip file 2", "Entry 5 of zip file 2",
        "File 4",
    ]
    assert _source_labels([Path("/w/zip1-entry7.dcm"), Path("/w/upload1")]) == ["Zip entry 7", "File 2"]


def _corrupt_first_entry(archive: Path, compression: int) -> Path:
    """Overwrite the start of the first entry's compressed data (after zipfile's 9-byte LZMA
    properties header, where there is one), so that reading it fails in the decompressor or,
    for stored data, at the CRC check."""
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as bundle:
        offset = bundle.infolist()[0].header_offset
    # Fixed 30-byte local header, then the name and extra field, whose lengths it holds.
    name_length, extra_length = (int.from_bytes(data[offset + k:offset + k + 2], "little") for k in (26, 28))
    start = offset + 30 + name_length + extra_length + (9 if compression == zipfile.ZIP_LZMA else 0)
    data[start:start + 16] = b"\xff" * 16
    archive.write_bytes(bytes(data))
    return archive


@pytest.mark.parametrize(
    "compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA, zipfile.ZIP_STORED], ids=["deflate", "lzma", "stored"]
)
def test_corrupt_zip_entry_is_422_without_naming_the_file(
    clinician: ApiClient, db, tmp_path: Path, compression: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Formerly zlib.error and LZMAError escaped as a 500, and the CRC error echoed the file name.
    caplog.set_level(logging.DEBUG)
    paths = write_series(tmp_path / "a", marked_volume())
    names = [f"{PATIENT_NAMED}/IM{i:04d}" for i in range(len(paths))]
    archive = _corrupt_first_entry(zip_files(paths, tmp_path / "damaged.zip", names, compression), compression)
    response = upload(clinician, [archive])
    _assert_refused_without_naming_files(response, caplog, "Zip entry 1 is corrupt")
    assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_zip_with_an_unsupported_compression_method_is_422_with_advice(
    clinician: ApiClient, db, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Deflate64 (method 9), which some Windows tools write and Python cannot read: the user is told to re-zip."""
    caplog.set_level(logging.DEBUG)
    paths = write_series(tmp_path / "a", marked_volume())
    names = [f"{PATIENT_NAMED}/IM{i:04d}" for i in range(len(paths))]
    data = bytearray(zip_files(paths, tmp_path / "deflate64.zip", names).read_bytes())
    # The method is a 2-byte field in every local header (offset 8) and central directory entry (offset 10).
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = data.find(signature)
        while start != -1:
            data[start + offset:start + offset + 2] = (9).to_bytes(2, "little")
            start = data.find(signature, start + 4)
    archive = tmp_path / "deflate64.zip"
    archive.write_bytes(bytes(data))
    response = upload(clinician, [archive])
    expected = "Zip entry 1 uses a compression method that is not supported"
    _assert_refused_without_naming_files(response, caplog, expected)
    assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_a_full_disk_while_unpacking_is_not_blamed_on_the_upload(tmp_path: Path) -> None:
    """The server's disk filling up is an error of the server (500), not a 'corrupt zip entry' (422) that would send
    the user looking for a damaged file. /dev/full fails every write with ENOSPC, as a full disk does."""
    paths = write_series(tmp_path / "a", marked_volume())
    archive = zip_files(paths, tmp_path / "good.zip", [f"IM{i:04d}" for i in range(len(paths))], zipfile.ZIP_DEFLATED)
    target = tmp_path / "unpacked"
    target.mkdir()
    (target / "zip1-entry1.dcm").symlink_to("/dev/full")
    with pytest.raises(OSError) as raised:
        extract_zip(archive, target, InflateBudget(max_bytes=1 << 30))
    assert raised.value.errno == errno.ENOSPC


def test_zip_bomb_is_refused(clinician: ApiClient, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("big.dcm", bytes(40 << 20))  # 40 MiB of zeros; the test cap is 32 MiB
    response = upload(clinician, [bomb])
    assert response.status_code == 413 and "inflate to more than" in response.json()["detail"]


def test_zip_bombs_split_over_several_zips_are_refused_like_one(clinician: ApiClient, db, tmp_path: Path) -> None:
    bombs = []
    for index in range(2):
        bombs.append(tmp_path / f"bomb{index}.zip")
        with zipfile.ZipFile(bombs[-1], "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("part.dcm", bytes(20 << 20))  # each under the 32 MiB test cap, not both
    response = upload(clinician, bombs)
    assert response.status_code == 413 and "inflate to more than 32 MiB" in response.json()["detail"]
    assert db.scalar(select(func.count()).select_from(Case)) == 0


def _mark_encrypted(archive: Path) -> Path:
    """Set the 'encrypted' bit of every entry, in its local header and in the central directory, as a
    password-protected zip has it (the standard library writes no encrypted zips)."""
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as bundle:
        offsets = [member.header_offset for member in bundle.infolist()]
        central = bundle.start_dir
    for offset in offsets:
        data[offset + 6] |= 0x1
    while data[central:central + 4] == b"PK\x01\x02":
        data[central + 8] |= 0x1
        # Fixed 46-byte record, then the name, extra field and comment, whose lengths it holds.
        lengths = [int.from_bytes(data[central + k:central + k + 2], "little") for k in (28, 30, 32)]
        central += 46 + sum(lengths)
    archive.write_bytes(bytes(data))
    return archive


def test_encrypted_zip_is_refused_without_echoing_its_file_names(clinician: ApiClient, db, tmp_path: Path) -> None:
    paths = write_series(tmp_path / "a", marked_volume())
    names = [f"{PATIENT_NAMED}/IM{i:04d}" for i in range(len(paths))]
    locked = _mark_encrypted(zip_files(paths, tmp_path / "locked.zip", names))
    response = upload(clinician, [locked])
    assert response.status_code == 422, response.text
    assert "encrypted" in response.json()["detail"] and PATIENT_NAMED not in response.json()["detail"]
    assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_a_malformed_uid_is_not_written_to_the_log(
    clinician: ApiClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A leading zero in a UID component breaks the UI format; pydicom would log the value as read.
    uid = "1.2.826.0.1.3680043.8.498.0123456789"
    with monkeypatch.context() as patch:
        # Only so the fixture can be written: the upload runs with pydicom's settings as in production.
        patch.setattr(pydicom.config.settings, "writing_validation_mode", pydicom.config.IGNORE)
        paths = write_series(tmp_path / "a", marked_volume(), series_uid=uid)
    with pytest.warns() as warned:
        warnings.warn("sentinel", UserWarning)  # pytest.warns needs at least one warning
        response = upload(clinician, paths)
    assert response.status_code == 201, response.text
    assert not [record for record in caplog.records if uid in record.getMessage()]
    assert not [warning for warning in warned if uid in str(warning.message)]


def test_corrupt_dicom_and_wrong_modality_are_refused(clinician: ApiClient, tmp_path: Path) -> None:
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00garbage")
    response = upload(clinician, [broken])
    assert response.status_code == 422 and "no readable DICOM image" in response.json()["detail"]
    ct = write_series(tmp_path / "ct", marked_volume(), modality="CT")
    response = upload(clinician, ct)
    assert response.status_code == 422 and "modality CT" in response.json()["detail"]


def test_unknown_file_among_dicom_files_is_415(clinician: ApiClient, tmp_path: Path) -> None:
    paths = write_series(tmp_path / "a", marked_volume())
    note = tmp_path / "notes.txt"
    note.write_text("hello")
    response = upload(clinician, [*paths[:3], note])
    assert response.status_code == 415 and "File 4 of 4" in response.json()["detail"]


def test_series_with_missing_slices_is_refused_not_stretched(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    # Unchecked, the converter stacked the 17 remaining slices 3.6 mm apart: no gap, the volume stretched.
    paths = write_series(tmp_path / "a", marked_volume())
    response = upload(clinician, paths[:8] + paths[11:])
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "about 3 slice(s) are missing" in detail and "12.0 mm gap after slice 8 of 17" in detail
    assert db.scalar(select(func.count()).select_from(Case)) == 0
    assert [p for p in storage_dir.rglob("*") if p.is_file()] == []
    # The complete series, shuffled, converts.
    assert upload(clinician, paths[::-1]).status_code == 201
