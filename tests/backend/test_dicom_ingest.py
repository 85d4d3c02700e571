from __future__ import annotations

import errno
import io
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
from neurotriage.cases.dicom import InflateBudget, extract_zip
from neurotriage.cases.models import Case
from sqlalchemy import func, select

from tests.backend.conftest import ApiClient
from tests.backend.dicom_factory import (
    NESTED_ID,
    NESTED_NAME,
    PLANTED,
    PREAMBLE_TEXT,
    PRIVATE_TEXT,
    SENDER_TITLE,
    write_series,
)
from tests.backend.volumes import brain_like


def _volume(seed: int = 0) -> np.ndarray:
    volume = brain_like((40, 48, 20), seed=seed)
    volume[5:9, 30:34, 3:6] = 400  # an asymmetric marker, so a flipped axis would show
    return volume


def _post(client: ApiClient, paths: list[Path]):  # type: ignore[no-untyped-def]
    handles = [path.open("rb") for path in paths]
    try:
        return client.post("/api/cases", files=[("files", (p.name, h)) for p, h in zip(paths, handles, strict=True)])
    finally:
        for handle in handles:
            handle.close()


def _zip(
    paths: list[Path], target: Path, names: list[str] | None = None, compression: int = zipfile.ZIP_STORED
) -> Path:
    with zipfile.ZipFile(target, "w") as bundle:
        for index, path in enumerate(paths):
            # ZipInfo keeps the name as given (ZipFile.write would strip a leading '/').
            info = zipfile.ZipInfo(names[index] if names else f"series/{path.name}")
            bundle.writestr(info, path.read_bytes(), compress_type=compression)
    return target


# Series stored under a patient's name, as some viewers export them.
PATIENT_NAMED = "DOE^JANE"


def _assert_refused_without_naming_files(
    response: httpx.Response, caplog: pytest.LogCaptureFixture, expected: str
) -> None:
    assert response.status_code == 422, response.text
    assert expected in response.json()["detail"] and PATIENT_NAMED not in response.json()["detail"]
    assert not [record for record in caplog.records if PATIENT_NAMED in record.getMessage()]


def test_dicom_files_convert_with_the_same_geometry_as_dcm2niix(clinician: ApiClient, tmp_path: Path) -> None:
    paths = write_series(tmp_path / "series", _volume(), spacing=(1.0, 1.2, 3.0), tilt_degrees=15)
    response = _post(clinician, paths)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["source_format"] == "dicom"
    assert body["dicom_meta"]["sequence_name"] == "*tfl3d1" and body["dicom_meta"]["modality"] == "MR"
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


def _all_text(dataset: pydicom.Dataset) -> list[str]:
    values = []
    for element in dataset.iterall():
        if element.VR != "SQ" and element.tag != 0x7FE00010:
            values.append(str(element.value))
    return values


def test_stored_dicom_keeps_no_identifier_top_level_nested_or_private(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    paths = write_series(tmp_path / "series", _volume())
    case = _post(clinician, [_zip(paths, tmp_path / "series.zip")]).json()
    pseudonym = db.get(Case, case["id"]).patient_pseudonym
    stored = storage_dir / "cases" / str(case["id"]) / "dicom-deidentified.zip"
    planted = [*PLANTED.values(), NESTED_ID, NESTED_NAME, PRIVATE_TEXT, SENDER_TITLE, "Doe"]
    assert paths[0].read_bytes()[:128].startswith(PREAMBLE_TEXT)  # the factory really planted it
    with zipfile.ZipFile(stored) as bundle:
        names = bundle.namelist()
        assert len(names) == len(paths)
        for name in names:
            raw = bundle.read(name)
            assert raw[:128] == bytes(128)
            # Every element up to Pixel Data (7FE0,0010), raw: pixel values may spell "1965" by chance.
            pixel_data_at = raw.find(b"\xe0\x7f\x10\x00")
            assert pixel_data_at > 132, "no Pixel Data element after the preamble"
            header = raw[:pixel_data_at]
            for value in planted:
                assert value.encode() not in header, f"{value!r} survived in {name}"
            dataset = pydicom.dcmread(io.BytesIO(raw))
            assert dataset.PatientIdentityRemoved == "YES"
            assert dataset.PatientID == pseudonym
            assert not any(element.tag.is_private for element in dataset.iterall())
            text = " ".join(_all_text(dataset))
            assert all(value not in text for value in planted)
            # Not even the birth year survives, in a date or any other text. (UIDs are left out: keyed UIDs are
            # long runs of digits; 1.8 % of sets of five contain "1965", so a search of the raw bytes failed now and then.)
            values = [str(e.value) for e in dataset.iterall() if e.VR not in ("UI", "OB", "OW", "UN", "SQ")]
            assert not any("1965" in value for value in values), [v for v in values if "1965" in v]
            # Every date moves by the same offset: none is left at the acquisition's real date.
            dates = {e.keyword: str(e.value) for e in dataset.iterall() if e.VR == "DA" and e.value}
            assert dates["PerformedProcedureStepStartDate"] == dates["AcquisitionDate"] != "20240607"
    scan_bytes = (storage_dir / "cases" / str(case["id"]) / "scan.nii.gz").read_bytes()
    assert b"Doe" not in scan_bytes


def test_pseudonym_links_series_of_the_same_patient_only(clinician: ApiClient, db, tmp_path: Path) -> None:
    first = _post(clinician, write_series(tmp_path / "a", _volume(1), series_number=1)).json()
    second = _post(clinician, write_series(tmp_path / "b", _volume(2), series_number=2)).json()
    other = _post(clinician, write_series(tmp_path / "c", _volume(3), patient_id="SOMEONE-ELSE")).json()
    pseudonyms = {row.id: row.patient_pseudonym for row in db.scalars(select(Case))}
    assert pseudonyms[first["id"]] == pseudonyms[second["id"]] != pseudonyms[other["id"]]
    assert PLANTED["PatientID"] not in pseudonyms.values()


def test_mixed_series_are_refused_with_the_list(clinician: ApiClient, db, storage_dir: Path, tmp_path: Path) -> None:
    paths = write_series(tmp_path / "a", _volume(), series_number=4) + write_series(
        tmp_path / "b", _volume(1), series_number=7
    )
    response = _post(clinician, paths)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "mixes 2 series" in detail and "series 4" in detail and "series 7" in detail
    assert db.scalar(select(func.count()).select_from(Case)) == 0
    assert [p for p in storage_dir.rglob("*") if p.is_file()] == []


def test_same_series_uploaded_again_is_a_duplicate(clinician: ApiClient, tmp_path: Path) -> None:
    paths = write_series(tmp_path / "a", _volume())
    first = _post(clinician, paths).json()
    again = _post(clinician, [_zip(paths, tmp_path / "again.zip")])
    assert again.status_code == 409 and f"case {first['id']}" in again.json()["detail"]


@pytest.mark.parametrize(
    "evil", [f"../{PATIENT_NAMED}.dcm", f"/{PATIENT_NAMED}/IM1", f"series/../../{PATIENT_NAMED}.dcm"]
)
def test_zip_with_unsafe_paths_is_refused_without_naming_the_file(
    clinician: ApiClient, db, tmp_path: Path, evil: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    paths = write_series(tmp_path / "a", _volume())
    names = [f"ok/{p.name}" for p in paths]
    names[1] = evil
    response = _post(clinician, [_zip(paths, tmp_path / "evil.zip", names)])
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
    response = _post(clinician, [archive])
    _assert_refused_without_naming_files(response, caplog, "Zip entry 1 is a symbolic link")


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
    paths = write_series(tmp_path / "a", _volume())
    names = [f"{PATIENT_NAMED}/IM{i:04d}" for i in range(len(paths))]
    archive = _corrupt_first_entry(_zip(paths, tmp_path / "damaged.zip", names, compression), compression)
    response = _post(clinician, [archive])
    _assert_refused_without_naming_files(response, caplog, "Zip entry 1 is corrupt")
    assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_zip_with_an_unsupported_compression_method_is_422_with_advice(
    clinician: ApiClient, db, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Deflate64 (method 9), which some Windows tools write and Python cannot read: the user is told to re-zip."""
    caplog.set_level(logging.DEBUG)
    paths = write_series(tmp_path / "a", _volume())
    names = [f"{PATIENT_NAMED}/IM{i:04d}" for i in range(len(paths))]
    data = bytearray(_zip(paths, tmp_path / "deflate64.zip", names).read_bytes())
    # The method is a 2-byte field in every local header (offset 8) and central directory entry (offset 10).
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = data.find(signature)
        while start != -1:
            data[start + offset:start + offset + 2] = (9).to_bytes(2, "little")
            start = data.find(signature, start + 4)
    archive = tmp_path / "deflate64.zip"
    archive.write_bytes(bytes(data))
    response = _post(clinician, [archive])
    _assert_refused_without_naming_files(response, caplog, "Zip entry 1 uses a compression method that is not supported")
    assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_a_full_disk_while_unpacking_is_not_blamed_on_the_upload(tmp_path: Path) -> None:
    """The server's disk filling up is an error of the server (500), not a 'corrupt zip entry' (422) that would send
    the user looking for a damaged file. /dev/full fails every write with ENOSPC, as a full disk does."""
    paths = write_series(tmp_path / "a", _volume())
    archive = _zip(paths, tmp_path / "good.zip", [f"IM{i:04d}" for i in range(len(paths))], zipfile.ZIP_DEFLATED)
    target = tmp_path / "unpacked"
    target.mkdir()
    (target / "00000.dcm").symlink_to("/dev/full")
    with pytest.raises(OSError) as raised:
        extract_zip(archive, target, InflateBudget(max_bytes=1 << 30))
    assert raised.value.errno == errno.ENOSPC


def test_zip_bomb_is_refused(clinician: ApiClient, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("big.dcm", bytes(40 << 20))  # 40 MiB of zeros; the test cap is 32 MiB
    response = _post(clinician, [bomb])
    assert response.status_code == 413 and "inflate to more than" in response.json()["detail"]


def test_zip_bombs_split_over_several_zips_are_refused_like_one(clinician: ApiClient, db, tmp_path: Path) -> None:
    bombs = []
    for index in range(2):
        bombs.append(tmp_path / f"bomb{index}.zip")
        with zipfile.ZipFile(bombs[-1], "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("part.dcm", bytes(20 << 20))  # each under the 32 MiB test cap, not both
    response = _post(clinician, bombs)
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
    paths = write_series(tmp_path / "a", _volume())
    names = [f"{PATIENT_NAMED}/IM{i:04d}" for i in range(len(paths))]
    locked = _mark_encrypted(_zip(paths, tmp_path / "locked.zip", names))
    response = _post(clinician, [locked])
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
        paths = write_series(tmp_path / "a", _volume(), series_uid=uid)
    with pytest.warns() as warned:
        warnings.warn("sentinel", UserWarning)  # pytest.warns needs at least one warning
        response = _post(clinician, paths)
    assert response.status_code == 201, response.text
    assert not [record for record in caplog.records if uid in record.getMessage()]
    assert not [warning for warning in warned if uid in str(warning.message)]


def test_corrupt_dicom_and_wrong_modality_are_refused(clinician: ApiClient, tmp_path: Path) -> None:
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00garbage")
    response = _post(clinician, [broken])
    assert response.status_code == 422 and "no readable DICOM image" in response.json()["detail"]
    ct = write_series(tmp_path / "ct", _volume(), modality="CT")
    response = _post(clinician, ct)
    assert response.status_code == 422 and "modality CT" in response.json()["detail"]


def test_unknown_file_among_dicom_files_is_415(clinician: ApiClient, tmp_path: Path) -> None:
    paths = write_series(tmp_path / "a", _volume())
    note = tmp_path / "notes.txt"
    note.write_text("hello")
    response = _post(clinician, [*paths[:3], note])
    assert response.status_code == 415 and "File 4 of 4" in response.json()["detail"]


def test_series_with_missing_slices_is_refused_not_stretched(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    # Unchecked, the converter stacked the 17 remaining slices 3.6 mm apart: no gap, the volume stretched.
    paths = write_series(tmp_path / "a", _volume())
    response = _post(clinician, paths[:8] + paths[11:])
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "about 3 slice(s) are missing" in detail and "12.0 mm gap after slice 8 of 17" in detail
    assert db.scalar(select(func.count()).select_from(Case)) == 0
    assert [p for p in storage_dir.rglob("*") if p.is_file()] == []
    # The complete series, shuffled, converts.
    assert _post(clinician, paths[::-1]).status_code == 201
