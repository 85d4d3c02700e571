"""Writing small, real DICOM MR series for tests: oblique, anisotropic, with planted identifiers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

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
}
# Identity a sender leaves outside the data set proper: in the file meta and in the 128-byte preamble.
SENDER_TITLE = "ELSEWHERE_MR1"
PREAMBLE_TEXT = b"Doe^Jane MRN-0042-XYZ"
NESTED_ID = "NESTED-ID-3141"
NESTED_NAME = "Nested^Nora"
PRIVATE_TEXT = "PrivateJaneDoe"


def _rotation(degrees_about_x: float) -> np.ndarray:
    a = np.deg2rad(degrees_about_x)
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


def write_series(
    folder: Path,
    volume: np.ndarray,
    spacing: tuple[float, float, float] = (1.0, 1.2, 3.0),
    tilt_degrees: float = 15.0,
    series_uid: str | None = None,
    series_number: int = 3,
    patient_id: str = PLANTED["PatientID"],
    modality: str = "MR",
) -> list[Path]:
    """Write ``volume`` (columns, rows, slices) as one series of 2D slices; returns the file paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rotation = _rotation(tilt_degrees)
    row_dir, col_dir = rotation[:, 0], rotation[:, 1]
    normal = np.cross(row_dir, col_dir)
    origin = np.array([-60.0, -80.0, -40.0])
    study_uid, series_uid = generate_uid(), series_uid or generate_uid()
    frame_uid = generate_uid()
    scaled = np.clip(volume / max(float(volume.max()), 1e-6) * 1000, 0, 4000).astype(np.uint16)
    paths = []
    for k in range(scaled.shape[2]):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.SourceApplicationEntityTitle = SENDER_TITLE
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
        ds.Modality = modality
        ds.SeriesNumber, ds.InstanceNumber = series_number, k + 1
        for keyword, value in PLANTED.items():
            setattr(ds, keyword, value)
        ds.PatientID = patient_id
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = "20240607"
        ds.StudyTime = "101500"
        # A date outside the usual study/series/acquisition ones: it must be shifted like them.
        ds.PerformedProcedureStepStartDate = "20240607"
        ds.SeriesDescription = "T1 MPRAGE for Doe^Jane"
        ds.SequenceName = "*tfl3d1"
        ds.ScanningSequence, ds.MRAcquisitionType = "GR", "3D"
        ds.Manufacturer, ds.ManufacturerModelName, ds.MagneticFieldStrength = "ACME", "Magnetom X", 3
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
        path = folder / f"slice{k:03d}.dcm"
        ds.preamble = PREAMBLE_TEXT.ljust(128, b"\0")
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
