"""Writing small, real DICOM MR series for tests: oblique, anisotropic, with planted identifiers, and the
helpers that upload them."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from tests.backend.volumes import brain_like

if TYPE_CHECKING:  # importing conftest at run time would point the environment at the test database
    from tests.backend.conftest import ApiClient

# Values that must not survive de-identification, anywhere in the stored files.
PLANTED = {
    "PatientName": "Doe^Jane",
    "PatientID": "MRN-0042-XYZ",
    "PatientBirthDate": "19650314",
    "InstitutionName": "St Elsewhere Hospital",
    "ReferringPhysicianName": "House^Gregory",
    "AccessionNumber": "ACC998877",
    "OtherPatientIDs": "ALT-ID-5566",
    "PatientAddress": "12 Baker Street",
    "OperatorsName": "Tech^Tina",
    # Free text, location, device, trial identity and times: all survived the former remove-list.
    "AcquisitionComments": "Pt Jane Doe DOB 1965-03-14 claustrophobic",
    "CommentsOnThePerformedProcedureStep": "Jane Doe tolerated well",
    "ScheduledProcedureStepDescription": "MRI brain for DOE JANE",
    "ReasonForTheRequestedProcedure": "Jane Doe headaches",
    "RequestedProcedureComments": "call Jane at 555-0100",
    "ImagingServiceRequestComments": "Jane Doe MRN-0042-XYZ",
    "ImageComments": "Jane looked anxious",
    "CurrentPatientLocation": "Ward 7 bed 3",
    "PatientInstitutionResidence": "Sunny Acres Home",
    "PerformedStationName": "ELSEWHERE-MR1",
    "PerformedLocation": "St Elsewhere MR suite",
    "DeviceID": "DEV-SERIAL-777",
    "DeviceDescription": "Magnet #777 at St Elsewhere",
    "DeviceSerialNumber": "SN-31337-ELSE",
    "SoftwareVersions": "syngo MR E11 site-license-ELSEWHERE",
    "ClinicalTrialSubjectID": "TRIAL-SUBJ-0042",
    "ClinicalTrialSiteName": "St Elsewhere Trial Site",
    "ClinicalTrialSponsorName": "Acme Pharma",
    "TimezoneOffsetFromUTC": "+0200",
    # Times carry a fraction: six bare digits would now and then occur by chance in a keyed UID.
    "StudyTime": "101500.250000",
    "SeriesTime": "101633.500000",
    "AcquisitionTime": "101702.750000",
    "ContentTime": "101702.875000",
    # Typed by a technician, so not kept either.
    "SeriesDescription": "T1 MPRAGE for Doe^Jane",
    "ProtocolName": "Jane's research protocol",
}
# Identity a sender leaves outside the data set proper: in the file meta and in the 128-byte preamble.
SENDER_TITLE = "ELSEWHERE_MR1"
PREAMBLE_TEXT = b"Doe^Jane MRN-0042-XYZ"
NESTED_ID = "NESTED-ID-3141"
NESTED_NAME = "Nested^Nora"
PRIVATE_TEXT = "PrivateJaneDoe"
INSTITUTION_CODE_MEANING = "Elsewhere Institution Code"  # InstitutionName removed, the same name kept in a code
DEEP_TEXT = "Jane Doe deep text"  # a TextValue in a sequence item, above a further sequence
DEEP_NAME = "DeepNested^Dora"
ICON_PIXELS = b"JANEDOE!JANEDOE!"  # the pixel data of an IconImageSequence thumbnail
UNKNOWN_PUBLIC_TAG, UNKNOWN_PUBLIC_TEXT = 0x00209FF0, "UnknownPublicJane"  # a public tag in no dictionary
# Every planted value; each has two or more printable characters, so it cannot occur by chance in the pixel
# data, whose values stay under 4096 (every other byte is below 0x10).
ALL_PLANTED = [
    *PLANTED.values(), NESTED_ID, NESTED_NAME, PRIVATE_TEXT, SENDER_TITLE, INSTITUTION_CODE_MEANING, DEEP_TEXT,
    DEEP_NAME, ICON_PIXELS.decode(), UNKNOWN_PUBLIC_TEXT, "Doe",
]
# What a reader and the converter need, with the values the factory writes: all must survive.
ACQUISITION = {
    "ScanningSequence": "GR", "SequenceVariant": ["SP", "MP"], "MRAcquisitionType": "3D",
    "SequenceName": "*tfl3d1", "RepetitionTime": "2300", "EchoTime": "2.98", "InversionTime": "900",
    "FlipAngle": "9", "MagneticFieldStrength": "3", "Manufacturer": "ACME", "ManufacturerModelName": "Magnetom X",
    "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND"], "WindowCenter": "500", "WindowWidth": "1000",
    "RescaleIntercept": "0", "RescaleSlope": "1", "BodyPartExamined": "BRAIN", "PatientPosition": "HFS",
}


def rotation_about_x(degrees_about_x: float) -> np.ndarray:
    a = np.deg2rad(degrees_about_x)
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


def write_series(
    folder: Path,
    volume: np.ndarray,
    spacing: tuple[float, float, float] = (1.0, 1.2, 3.0),
    tilt_degrees: float = 15.0,
    series_uid: str | None = None,
    series_number: int = 3,
    patient_id: str | None = PLANTED["PatientID"],
    modality: str = "MR",
    study_uid: str | None = None,
    extra: dict[str, object] | None = None,
) -> list[Path]:
    """Write ``volume`` (columns, rows, slices) as one series of 2D slices; returns the file paths.
    ``patient_id`` None leaves PatientID out; ``extra`` sets further attributes (keyword: value) in every file."""
    folder.mkdir(parents=True, exist_ok=True)
    rotation = rotation_about_x(tilt_degrees)
    row_dir, col_dir = rotation[:, 0], rotation[:, 1]
    normal = np.cross(row_dir, col_dir)
    origin = np.array([-60.0, -80.0, -40.0])
    study_uid, series_uid = study_uid or generate_uid(), series_uid or generate_uid()
    frame_uid = generate_uid()
    scaled = np.clip(volume / max(float(volume.max()), 1e-6) * 1000, 0, 4000).astype(np.uint16)
    paths = []
    for k in range(scaled.shape[2]):
        ds = new_planted_dataset(MRImageStorage)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
        ds.Modality = modality
        ds.SeriesNumber, ds.InstanceNumber = series_number, k + 1
        if patient_id is None:
            del ds.PatientID
        else:
            ds.PatientID = patient_id
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20240607"
        ds.AcquisitionDateTime = "20240607101702.750000+0200"
        # A date that is not kept: it goes, and with it the acquisition's real date.
        ds.PerformedProcedureStepStartDate = "20240607"
        for keyword, value in ACQUISITION.items():
            setattr(ds, keyword, value)
        plant_nested(ds)
        other = Dataset()
        other.PatientID = NESTED_ID
        other.IssuerOfPatientID = "Elsewhere"
        ds.OtherPatientIDsSequence = Sequence([other])
        code = Dataset()
        code.CodeMeaning = "MR brain"
        code.ReferringPhysicianName = NESTED_NAME  # a person's name where no table entry expects one
        ds.ProcedureCodeSequence = Sequence([code])
        block = ds.private_block(0x0029, "ACME private", create=True)
        block.add_new(0x10, "LO", PRIVATE_TEXT)
        ds.add_new(UNKNOWN_PUBLIC_TAG, "LO", UNKNOWN_PUBLIC_TEXT)
        ds.ImageOrientationPatient = [float(v) for v in (*row_dir, *col_dir)]
        position = origin + k * spacing[2] * normal
        ds.ImagePositionPatient = [float(v) for v in position]
        ds.PixelSpacing = [spacing[1], spacing[0]]  # row spacing, then column spacing
        ds.SliceThickness = spacing[2]
        ds.SpacingBetweenSlices = spacing[2]
        ds.Rows, ds.Columns = scaled.shape[1], scaled.shape[0]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = np.ascontiguousarray(scaled[:, :, k].T).tobytes()
        for keyword, value in (extra or {}).items():
            setattr(ds, keyword, value)
        path = folder / f"slice{k:03d}.dcm"
        ds.preamble = PREAMBLE_TEXT.ljust(128, b"\0")
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def new_planted_dataset(sop_class_uid: str) -> Dataset:
    """An instance of ``sop_class_uid`` with its file meta, a sender's AE title and every PLANTED identifier."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class_uid
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.SourceApplicationEntityTitle = SENDER_TITLE
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    for keyword, value in PLANTED.items():
        setattr(ds, keyword, value)
    return ds


def plant_nested(ds: Dataset) -> None:
    """Identifiers in sequences: a site code, text two levels deep, and a thumbnail with its own pixels."""
    institution = Dataset()
    institution.CodeValue, institution.CodingSchemeDesignator = "ELSE01", "L"
    institution.CodeMeaning = INSTITUTION_CODE_MEANING
    ds.InstitutionCodeSequence = Sequence([institution])
    inner = Dataset()
    inner.PatientName, inner.PatientID = DEEP_NAME, "DEEP-ID-2718"
    middle = Dataset()
    middle.TextValue = DEEP_TEXT
    middle.ContentSequence = Sequence([inner])
    ds.AcquisitionContextSequence = Sequence([middle])
    icon = Dataset()
    icon.Rows = icon.Columns = 4
    icon.SamplesPerPixel, icon.PhotometricInterpretation = 1, "MONOCHROME2"
    icon.BitsAllocated = icon.BitsStored = 8
    icon.HighBit, icon.PixelRepresentation = 7, 0
    icon.PixelData = ICON_PIXELS
    ds.IconImageSequence = Sequence([icon])


def marked_volume(seed: int = 0) -> np.ndarray:
    """A small brain-like volume with an asymmetric marker, so a flipped axis would show."""
    volume = brain_like((40, 48, 20), seed=seed)
    volume[5:9, 30:34, 3:6] = 400
    return volume


def upload(client: ApiClient, paths: list[Path], series: str | None = None) -> httpx.Response:
    """POST the files as one upload, each under its own file name; ``series`` chooses one series of several."""
    handles = [path.open("rb") for path in paths]
    try:
        return client.post(
            "/api/cases",
            files=[("files", (p.name, h)) for p, h in zip(paths, handles, strict=True)],
            data={"series": series} if series else None,
        )
    finally:
        for handle in handles:
            handle.close()


def zip_files(
    paths: list[Path], target: Path, names: list[str] | None = None, compression: int = zipfile.ZIP_STORED
) -> Path:
    with zipfile.ZipFile(target, "w") as bundle:
        for index, path in enumerate(paths):
            # ZipInfo keeps the name as given (ZipFile.write would strip a leading '/').
            info = zipfile.ZipInfo(names[index] if names else f"series/{path.name}")
            bundle.writestr(info, path.read_bytes(), compress_type=compression)
    return target
