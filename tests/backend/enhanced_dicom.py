"""Writing small, real enhanced (multi-frame) MR files for tests: the form newer scanners export by
default (Philips, Siemens XA), one file per series with each frame's geometry in functional groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import EnhancedMRImageStorage, generate_uid

from tests.backend.dicom_factory import PREAMBLE_TEXT, rotation_about_x, new_planted_dataset, plant_nested

# Planted inside a frame's functional group, where a top-level remove-list would never look.
FRAME_COMMENT = "Frame note for Doe^Jane"


def _item(**attributes: object) -> Dataset:
    item = Dataset()
    for keyword, value in attributes.items():
        setattr(item, keyword, value)
    return item


def write_enhanced_series(
    path: Path,
    volume: np.ndarray,
    spacing: tuple[float, float, float] = (1.0, 1.2, 3.0),
    tilt_degrees: float = 15.0,
    frame_order: list[int] | None = None,
    series_uid: str | None = None,
    rescale: tuple[float, float] = (1.0, 0.0),
) -> Path:
    """Write ``volume`` (columns, rows, slices) as one Enhanced MR Image file of one frame per slice.
    ``frame_order`` lists the slices in the order the frames are stored (default: bottom to top); each
    frame names its slice by InStackPositionNumber, as scanners do. ``rescale`` (slope, intercept) goes into
    the shared functional groups, the stored values being (value - intercept) / slope."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rotation = rotation_about_x(tilt_degrees)
    row_dir, col_dir = rotation[:, 0], rotation[:, 1]
    normal = np.cross(row_dir, col_dir)
    origin = np.array([-60.0, -80.0, -40.0])
    values = np.clip(volume / max(float(volume.max()), 1e-6) * 1000, 0, 4000)
    scaled = np.round((values - rescale[1]) / rescale[0]).clip(0, 65535).astype(np.uint16)
    order = list(range(scaled.shape[2])) if frame_order is None else frame_order

    ds = new_planted_dataset(EnhancedMRImageStorage)
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = (
        generate_uid(), series_uid or generate_uid(), generate_uid()
    )
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "MR", 5, 1
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240607"
    ds.AcquisitionDateTime = "20240607101702.750000+0200"
    ds.Manufacturer, ds.ManufacturerModelName = "ACME", "Magnetom X"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    ds.MRAcquisitionType, ds.PulseSequenceName = "3D", "*tfl3d1"
    ds.MagneticFieldStrength = "3"
    plant_nested(ds)
    organisation = generate_uid()
    ds.DimensionOrganizationSequence = Sequence([_item(DimensionOrganizationUID=organisation)])
    ds.DimensionIndexSequence = Sequence([
        _item(DimensionOrganizationUID=organisation, DimensionIndexPointer=0x00209056,
              FunctionalGroupPointer=0x00209111, DimensionDescriptionLabel="Stack ID"),
        _item(DimensionOrganizationUID=organisation, DimensionIndexPointer=0x00209057,
              FunctionalGroupPointer=0x00209111, DimensionDescriptionLabel="In-Stack Position Number"),
    ])

    shared = _item(
        PixelMeasuresSequence=Sequence([_item(
            PixelSpacing=[spacing[1], spacing[0]], SliceThickness=spacing[2], SpacingBetweenSlices=spacing[2]
        )]),
        PlaneOrientationSequence=Sequence([_item(ImageOrientationPatient=[float(v) for v in (*row_dir, *col_dir)])]),
        MRTimingAndRelatedParametersSequence=Sequence([_item(RepetitionTime="2300", FlipAngle="9")]),
        MREchoSequence=Sequence([_item(EffectiveEchoTime=2.98)]),
        PixelValueTransformationSequence=Sequence([_item(
            RescaleIntercept=f"{rescale[1]:g}", RescaleSlope=f"{rescale[0]:g}", RescaleType="US"
        )]),
        FrameVOILUTSequence=Sequence([_item(WindowCenter="500", WindowWidth="1000")]),
    )
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for slice_index in order:
        position = origin + slice_index * spacing[2] * normal
        content = _item(StackID="1", InStackPositionNumber=slice_index + 1, DimensionIndexValues=[1, slice_index + 1])
        frame = _item(
            FrameContentSequence=Sequence([content]),
            PlanePositionSequence=Sequence([_item(ImagePositionPatient=[float(v) for v in position])]),
        )
        frame.FrameContentSequence[0].FrameComments = FRAME_COMMENT
        frames.append(frame)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)

    ds.NumberOfFrames = len(order)
    ds.Rows, ds.Columns = scaled.shape[1], scaled.shape[0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = b"".join(np.ascontiguousarray(scaled[:, :, k].T).tobytes() for k in order)
    ds.preamble = PREAMBLE_TEXT.ljust(128, b"\0")
    ds.save_as(path, enforce_file_format=True)
    return path
