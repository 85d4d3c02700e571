"""De-identification of uploaded DICOM: the allow-list, pseudonyms, and the series refused because
de-identification cannot make them safe (pixels that may identify, files of several patients)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from neurotriage.cases.deid import KEPT, KEPT_SEQUENCES, PIXEL_MODULE, Deidentifier
from neurotriage.cases.dicom import convert_series
from neurotriage.cases.models import Case
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import SecondaryCaptureImageStorage
from sqlalchemy import select

from tests.backend.conftest import ApiClient
from tests.backend.helpers import assert_nothing_stored
from tests.backend.dicom_factory import (
    ACQUISITION,
    ALL_PLANTED,
    PLANTED,
    PREAMBLE_TEXT,
    marked_volume,
    upload,
    write_series,
    zip_files,
)

KEY = b"test-pseudonym-key-5f0c9a2e7b14d386"
GEOMETRY = (
    "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness", "SpacingBetweenSlices",
    "Rows", "Columns", "Modality", "SeriesNumber", "InstanceNumber", "SOPClassUID",
)


def _stored_files(storage_dir: Path, case_id: int) -> list[bytes]:
    with zipfile.ZipFile(storage_dir / "cases" / str(case_id) / "dicom-deidentified.zip") as bundle:
        return [bundle.read(name) for name in bundle.namelist()]



def test_stored_dicom_keeps_no_identifier_anywhere(clinician: ApiClient, db, storage_dir: Path, tmp_path: Path) -> None:
    paths = write_series(tmp_path / "series", marked_volume())
    case = upload(clinician, [zip_files(paths, tmp_path / "series.zip")]).json()
    pseudonym = db.get(Case, case["id"]).patient_pseudonym
    assert paths[0].read_bytes()[:128].startswith(PREAMBLE_TEXT)  # the factory really planted it
    stored = _stored_files(storage_dir, case["id"])
    assert len(stored) == len(paths)
    for raw in stored:
        assert raw[:128] == bytes(128)
        # The whole file, pixel data included (see ALL_PLANTED on why no value can occur there by chance).
        for value in ALL_PLANTED:
            assert value.encode() not in raw, f"{value!r} survived"
        dataset = pydicom.dcmread(io.BytesIO(raw))
        assert dataset.PatientIdentityRemoved == "YES" and dataset.PatientID == pseudonym
        assert not any(element.tag.is_private for element in dataset.iterall())
        assert "IconImageSequence" not in dataset and "InstitutionCodeSequence" not in dataset
        # Not even the birth year survives, in a date or any other text. (UIDs are left out: keyed UIDs are
        # long runs of digits; 1.8 % of sets of five contain "1965".)
        values = [str(e.value) for e in dataset.iterall() if e.VR not in ("UI", "OB", "OW", "UN", "SQ")]
        assert not any("1965" in value for value in values), [v for v in values if "1965" in v]
        # No time of day; StudyTime stays as the empty value the standard asks for.
        assert [e.keyword for e in dataset.iterall() if e.VR == "TM" and e.value] == []
        # Every kept date moves by the same offset, a date-time keeps its date only, and a date that is
        # not on the allow-list is gone.
        dates = {e.keyword: str(e.value) for e in dataset.iterall() if e.VR in ("DA", "DT") and e.value}
        assert set(dates) == {"StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "AcquisitionDateTime"}
        assert set(dates.values()) == {dates["AcquisitionDate"]} and dates["AcquisitionDate"] != "20240607"
    scan_bytes = (storage_dir / "cases" / str(case["id"]) / "scan.nii.gz").read_bytes()
    assert b"Doe" not in scan_bytes


def test_stored_dicom_keeps_what_the_converter_and_a_reader_need(
    clinician: ApiClient, storage_dir: Path, tmp_path: Path
) -> None:
    paths = write_series(tmp_path / "series", marked_volume())
    originals = {int(ds.InstanceNumber): ds for ds in map(pydicom.dcmread, paths)}
    case = upload(clinician, paths).json()
    stored = [pydicom.dcmread(io.BytesIO(raw)) for raw in _stored_files(storage_dir, case["id"])]
    for dataset in stored:
        original = originals[int(dataset.InstanceNumber)]
        for keyword in (*ACQUISITION, *GEOMETRY):
            assert str(dataset[keyword].value) == str(original[keyword].value), keyword
        assert dataset.PixelData == original.PixelData
        assert dataset.StudyInstanceUID != original.StudyInstanceUID
        assert dataset.SOPInstanceUID == dataset.file_meta.MediaStorageSOPInstanceUID != original.SOPInstanceUID
    # UIDs are replaced consistently within the series.
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        assert len({str(dataset[keyword].value) for dataset in stored}) == 1, keyword
    assert len({str(dataset.SOPInstanceUID) for dataset in stored}) == len(stored)


def test_conversion_of_the_deidentified_copy_equals_that_of_the_original(tmp_path: Path) -> None:
    """The allow-list must keep all the converter reads: the volume and its header come out bit for bit as
    dicom2nifti makes them from the untouched files."""
    import dicom2nifti
    import dicom2nifti.settings

    paths = write_series(tmp_path / "series", marked_volume(), spacing=(1.0, 1.2, 3.0), tilt_degrees=15)
    reference_path = tmp_path / "reference.nii.gz"
    dicom2nifti.settings.disable_validate_slice_increment()
    dicom2nifti.convert_dicom.dicom_series_to_nifti(str(tmp_path / "series"), str(reference_path), reorient_nifti=True)
    work = tmp_path / "work"
    work.mkdir()
    ours, reference = nib.load(convert_series(paths, work, KEY, True).nifti), nib.load(reference_path)
    assert ours.header.binaryblock == reference.header.binaryblock
    np.testing.assert_array_equal(np.asanyarray(ours.dataobj), np.asanyarray(reference.dataobj))


def test_the_allow_list_names_known_attributes_and_no_free_text() -> None:
    for keyword in KEPT | KEPT_SEQUENCES | PIXEL_MODULE:
        assert tag_for_keyword(keyword) is not None, keyword
    # Text a person types (LT, ST, UT, UC) and names (PN) are never kept; the replaced PatientName is not on this list.
    typed = {k: dictionary_VR(tag_for_keyword(k)) for k in KEPT | PIXEL_MODULE}
    assert {k: vr for k, vr in typed.items() if vr in ("LT", "ST", "UT", "UC", "PN")} == {}
    assert {k for k in KEPT_SEQUENCES if dictionary_VR(tag_for_keyword(k)) != "SQ"} == set()


def test_kept_sequences_are_filtered_like_the_top_level() -> None:
    """Enhanced MR keeps each frame's geometry in functional-group sequences: those stay, their other contents go."""
    frame = Dataset()
    frame.StackID, frame.FrameComments = "1", "Jane moved here"
    frame.FrameAcquisitionDateTime = "20240607101702.75+0200"
    measures = Dataset()
    measures.PixelSpacing, measures.SliceThickness = [1.0, 1.2], 3.0
    icon = Dataset()
    icon.Rows, icon.PixelData = 4, b"JANEDOE!JANEDOE!"
    group = Dataset()
    group.FrameContentSequence, group.PixelMeasuresSequence = Sequence([frame]), Sequence([measures])
    group.IconImageSequence = Sequence([icon])
    group.PixelData = b"NESTEDPIXELS"  # pixel data is kept at the top level only
    group.add_new(0x00209FF0, "LO", "UnknownPublicJane")
    dataset = Dataset()
    dataset.PatientID, dataset.StudyInstanceUID = "MRN-1", "1.2.3"
    dataset.SharedFunctionalGroupsSequence = Sequence([group])
    dataset.ReferencedImageSequence = Sequence([Dataset()])  # a sequence not on the list
    Deidentifier(KEY, shift_dates=False).deidentify(dataset)
    (kept,) = dataset.SharedFunctionalGroupsSequence
    assert sorted(element.keyword for element in kept) == ["FrameContentSequence", "PixelMeasuresSequence"]
    (content,) = kept.FrameContentSequence
    assert sorted(element.keyword for element in content) == ["FrameAcquisitionDateTime", "StackID"]
    assert content.FrameAcquisitionDateTime == "20240607"  # unshifted as set, but without the time of day
    assert kept.PixelMeasuresSequence[0].PixelSpacing == [1.0, 1.2]
    assert "ReferencedImageSequence" not in dataset and dataset.StudyInstanceUID != "1.2.3"


def test_pseudonym_links_series_of_the_same_patient_only(clinician: ApiClient, db, tmp_path: Path) -> None:
    first = upload(clinician, write_series(tmp_path / "a", marked_volume(1), series_number=1)).json()
    second = upload(clinician, write_series(tmp_path / "b", marked_volume(2), series_number=2)).json()
    other = upload(clinician, write_series(tmp_path / "c", marked_volume(3), patient_id="SOMEONE-ELSE")).json()
    pseudonyms = {row.id: row.patient_pseudonym for row in db.scalars(select(Case))}
    assert pseudonyms[first["id"]] == pseudonyms[second["id"]] != pseudonyms[other["id"]]
    assert PLANTED["PatientID"] not in pseudonyms.values()


def test_patients_without_an_id_are_linked_within_their_study_only(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    # Formerly every patient without a PatientID got one shared pseudonym and date offset.
    study = pydicom.uid.generate_uid()
    first = upload(clinician, write_series(tmp_path / "a", marked_volume(1), patient_id="", study_uid=study)).json()
    same_study = upload(clinician, write_series(tmp_path / "b", marked_volume(2), patient_id="", study_uid=study))
    other = upload(clinician, write_series(tmp_path / "c", marked_volume(3), patient_id="")).json()
    missing = upload(clinician, write_series(tmp_path / "d", marked_volume(4), patient_id=None)).json()
    # placeholders an anonymising tool writes for "no patient" are no patient either
    placeholder = upload(clinician, write_series(tmp_path / "e", marked_volume(5), patient_id="ANONYMOUS")).json()
    pseudonyms = {row.id: row.patient_pseudonym for row in db.scalars(select(Case))}
    assert pseudonyms[first["id"]] == pseudonyms[same_study.json()["id"]]
    assert len({pseudonyms[case["id"]] for case in (first, other, missing, placeholder)}) == 4
    assert all(pseudonym.startswith("S") for pseudonym in pseudonyms.values())  # a study's, not a patient's
    # The case row names the pseudonym the stored files carry.
    for case in (other, missing):
        stored = {pydicom.dcmread(io.BytesIO(raw)).PatientID for raw in _stored_files(storage_dir, case["id"])}
        assert stored == {pseudonyms[case["id"]]}


@pytest.mark.parametrize("other_id", ["PAT-B", ""], ids=["another-id", "no-id"])
def test_files_of_one_series_naming_different_patients_are_refused(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path, other_id: str
) -> None:
    # Formerly accepted, and the case linked to the first file's patient only.
    paths = write_series(tmp_path / "a", marked_volume(), patient_id="PAT-A")
    for path in paths[1::2]:
        dataset = pydicom.dcmread(path)
        dataset.PatientID = other_id
        dataset.save_as(path, enforce_file_format=True)
    response = upload(clinician, paths)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "files of one series name different patients" in detail and "nothing was stored" in detail
    assert "PAT-" not in detail
    assert_nothing_stored(db, storage_dir)


@pytest.mark.parametrize(
    ("marking", "expected"),
    [
        ({"BurnedInAnnotation": "YES"}, "marked BurnedInAnnotation YES"),
        ({"RecognizableVisualFeatures": "YES"}, "marked RecognizableVisualFeatures YES"),
        ({"ImageType": ["DERIVED", "SECONDARY", "SCREEN SAVE"]}, "screen or secondary captures"),
        ({"SOPClassUID": SecondaryCaptureImageStorage}, "screen or secondary captures"),
    ],
    ids=["burned-in", "recognizable", "screen-save", "secondary-capture-class"],
)
def test_series_whose_pixels_may_identify_the_patient_is_refused(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path, marking: dict[str, object], expected: str
) -> None:
    # Formerly accepted: the pixels, text drawn into them included, went into the stored files and the NIfTI.
    paths = write_series(tmp_path / "a", marked_volume(), extra=marking)
    response = upload(clinician, paths)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert expected in detail and "nothing was stored" in detail and "20 of its 20 images" in detail
    assert_nothing_stored(db, storage_dir)


def test_a_derived_reformat_without_burned_in_text_is_accepted(clinician: ApiClient, tmp_path: Path) -> None:
    marking = {"BurnedInAnnotation": "NO", "ImageType": ["DERIVED", "SECONDARY", "MPR"]}
    response = upload(clinician, write_series(tmp_path / "a", marked_volume(), extra=marking))
    assert response.status_code == 201, response.text
