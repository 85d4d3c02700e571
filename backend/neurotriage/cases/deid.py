"""De-identification of DICOM data sets by an allow-list, with keyed pseudonyms so series of one patient
stay linked.

DICOM PS3.15 Annex E's Basic Application Level Confidentiality Profile names the attributes that can
identify a patient. A table of them to remove always lags behind: scanners add free text, device and
site identity, trial ids and thumbnails under tags nobody listed. So this module turns the profile
around: it keeps only what the NIfTI conversion and a reader need (the lists below) and removes every
other attribute at every depth: unknown public tags, private tags, overlays, curves, icons, free text,
times, device and institution identity, clinical-trial ids. Of what is kept, the patient's name and ID
become a keyed pseudonym, the Type 2 identity attributes are emptied, instance UIDs are replaced by
keyed UIDs, and dates are shifted by a per-patient offset (or kept, per settings); every date is
shifted alike, since one unshifted date beside its shifted copy would give the offset away. The file
meta keeps only what a reader needs to parse the file, and the 128-byte preamble is zeroed.

Text that is kept (Manufacturer, model, SequenceName, dimension labels) is written by the scanner, not
typed per patient. SeriesDescription and ProtocolName are not kept: technicians type them, and they
can hold a name ("T1 for Doe^Jane"); the case's own sequence field and SequenceName describe the series.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta

import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID

# Kept at the top level only: the image itself. Pixel data anywhere else (IconImageSequence thumbnails)
# is a picture nobody checked for burned-in text, and goes.
PIXEL_MODULE = frozenset({
    "SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns", "BitsAllocated", "BitsStored",
    "HighBit", "PixelRepresentation", "PlanarConfiguration", "PixelAspectRatio", "SmallestImagePixelValue",
    "LargestImagePixelValue", "PixelPaddingValue", "PixelPaddingRangeLimit", "NumberOfFrames",
    "FrameIncrementPointer", "PixelData", "FloatPixelData", "DoubleFloatPixelData", "ExtendedOffsetTable",
    "ExtendedOffsetTableLengths",
})

# Kept at any depth (top level and the items of the sequences below).
KEPT = frozenset({
    # SOP, study and series identity: the UIDs among them are replaced, the dates shifted.
    "SpecificCharacterSet", "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID",
    "FrameOfReferenceUID", "Modality", "SeriesNumber", "InstanceNumber", "AcquisitionNumber", "ImageType",
    "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "AcquisitionDateTime",
    "Manufacturer", "ManufacturerModelName", "BodyPartExamined", "PatientPosition", "PatientOrientation",
    # Kept so a reader sees them; a series marked YES is refused before this point (dicom.py).
    "BurnedInAnnotation", "RecognizableVisualFeatures",
    "LossyImageCompression", "LossyImageCompressionRatio", "LossyImageCompressionMethod",
    "PresentationLUTShape",
    # Geometry
    "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness",
    "SpacingBetweenSlices", "SliceLocation", "AcquisitionMatrix", "InPlanePhaseEncodingDirection",
    "PercentSampling", "PercentPhaseFieldOfView", "NumberOfPhaseEncodingSteps",
    # MR acquisition
    "ScanningSequence", "SequenceVariant", "ScanOptions", "MRAcquisitionType", "SequenceName", "PulseSequenceName",
    "AngioFlag", "RepetitionTime", "EchoTime", "InversionTime", "FlipAngle", "NumberOfAverages", "ImagingFrequency",
    "ImagedNucleus", "ResonantNucleus", "EchoNumbers", "MagneticFieldStrength", "EchoTrainLength",
    "PixelBandwidth", "TriggerTime", "VariableFlipAngleFlag", "DiffusionBValue",
    "DiffusionGradientOrientation", "DiffusionDirectionality", "EffectiveEchoTime", "RFEchoTrainLength",
    "GradientEchoTrainLength", "MRAcquisitionFrequencyEncodingSteps", "MRAcquisitionPhaseEncodingStepsInPlane",
    "AcquisitionContrast", "FrameType", "PixelPresentation", "VolumetricProperties",
    "VolumeBasedCalculationTechnique", "ComplexImageComponent",
    # Pixel values and display
    "RescaleIntercept", "RescaleSlope", "RescaleType", "WindowCenter", "WindowWidth", "VOILUTFunction",
    # Multi-frame (enhanced MR) dimensions and frame content, which converters sort frames by
    "DimensionOrganizationType", "DimensionOrganizationUID", "DimensionIndexPointer", "FunctionalGroupPointer",
    "DimensionDescriptionLabel", "StackID", "InStackPositionNumber", "TemporalPositionIndex",
    "DimensionIndexValues", "FrameAcquisitionNumber", "FrameAcquisitionDateTime", "FrameReferenceDateTime",
    "FrameAcquisitionDuration", "NumberOfTemporalPositions", "TemporalPositionIdentifier",
})

# Sequences whose items are kept, filtered by the same lists: the functional groups of enhanced
# (multi-frame) MR, where the geometry, timing and scaling of each frame live.
KEPT_SEQUENCES = frozenset({
    "SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence", "PlanePositionSequence",
    "PlaneOrientationSequence", "PixelMeasuresSequence", "PixelValueTransformationSequence",
    "FrameVOILUTSequence", "FrameContentSequence", "MRTimingAndRelatedParametersSequence", "MREchoSequence",
    "MRDiffusionSequence", "DiffusionGradientDirectionSequence", "MRImageFrameTypeSequence",
    "MRFOVGeometrySequence", "MRAveragesSequence", "DimensionIndexSequence", "DimensionOrganizationSequence",
})

# Type 2 attributes the standard wants present: kept, with an empty value.
# Times of day are not kept (StudyTime is only emptied, date-times are cut to their date): neither the
# conversion nor a reader needs them, and a real time beside a shifted date lets anyone with the scanner's
# or the RIS's log find the examination, and with it the patient and the date offset.
EMPTIED = frozenset({
    "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID", "ReferringPhysicianName", "StudyTime",
})
# Replaced: PatientID by the pseudonym, PatientName by a dummy.
PSEUDONYMISED = frozenset({"PatientID", "PatientName"})
# UIDs that name a kind of thing rather than a patient's instance; every other kept UID is replaced.
CLASS_UIDS = frozenset({"SOPClassUID"})

ALLOWED_NESTED = KEPT | KEPT_SEQUENCES | EMPTIED | PSEUDONYMISED
ALLOWED_AT_TOP_LEVEL = ALLOWED_NESTED | PIXEL_MODULE

# File meta (group 0002): only what a reader needs to parse the file. Sender AE titles, addresses and
# private information go; the implementation becomes ours, as we wrote the file.
FILE_META_KEPT = frozenset({
    "FileMetaInformationGroupLength", "FileMetaInformationVersion", "MediaStorageSOPClassUID",
    "MediaStorageSOPInstanceUID", "TransferSyntaxUID", "ImplementationClassUID", "ImplementationVersionName",
})


# Kept values whose VR is rewritten to the standard's where a file declares another: they are replaced (UIDs) or
# shifted (dates), so whatever the file wrote under them never reaches the stored copy.
REWRITTEN_VRS = frozenset({"UI", "DA", "DT"})


def _vr_matches(declared: str | None, standard: str) -> bool:
    """``standard`` may name several ("US or SS"), and pydicom keeps that form where it could not choose."""
    return declared == standard or declared in standard.split(" or ")


def _rewritten(element: DataElement, vr: str) -> DataElement:
    def text(value: object) -> str:
        return value.decode("latin-1").strip("\0 ") if isinstance(value, bytes) else str(value)

    values = element.value if element.VM > 1 and not isinstance(element.value, (str, bytes)) else [element.value]
    texts = [text(value) for value in values if value is not None]
    return DataElement(element.tag, vr, texts if len(texts) > 1 else (texts[0] if texts else ""))


def keyed_digest(key: bytes, *parts: str) -> str:
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def patient_pseudonym(key: bytes, patient_id: str, issuer: str = "") -> str:
    """A stable pseudonym for a patient: the same ID (and issuer) always maps to the same value."""
    return "P" + keyed_digest(key, "patient", issuer, patient_id)[:15].upper()


def study_pseudonym(key: bytes, study_uid: str) -> str:
    """A pseudonym for a patient known only by a study: 'S' marks that it links the study's series only."""
    return "S" + keyed_digest(key, "study", study_uid)[:15].upper()


# PatientIDs that anonymising tools and scanners' service modes write for "no patient": as unknown as an empty one.
PLACEHOLDER_PATIENT_IDS = frozenset({"ANONYMOUS", "ANON", "UNKNOWN", "NONE", "NULL", "N/A", "NA", "0", "-", "PATIENT"})


def pseudonym_for(key: bytes, dataset: Dataset) -> str:
    """The pseudonym of the data set's patient. Without a PatientID (empty or a placeholder such as "ANONYMOUS"),
    every such patient would get the same pseudonym and date offset and look like one person, so the study stands
    in for the patient: series of one study stay linked, other studies are never linked to them."""
    patient_id = str(dataset.get("PatientID", "") or "")
    if patient_id.strip() and patient_id.strip().upper() not in PLACEHOLDER_PATIENT_IDS:
        return patient_pseudonym(key, patient_id, str(dataset.get("IssuerOfPatientID", "") or ""))
    study = str(dataset.get("StudyInstanceUID", "") or "") or str(dataset.get("SeriesInstanceUID", "") or "")
    return study_pseudonym(key, study)


def keyed_uid(key: bytes, uid: str) -> str:
    """A new UID (2.25 form) derived from the old one with the key: stable, unlinkable without the key."""
    return "2.25." + str(int(keyed_digest(key, "uid", uid)[:30], 16))


def date_offset_days(key: bytes, pseudonym: str) -> int:
    """Per-patient shift into the past, 1 to 3650 days, so intervals within a patient are kept."""
    return 1 + int(keyed_digest(key, "date", pseudonym)[:8], 16) % 3650


def _shift_date(value: str, days: int) -> str:
    try:
        return (datetime.strptime(value[:8], "%Y%m%d").date() - timedelta(days=days)).strftime("%Y%m%d")
    except ValueError:
        return ""


def _is_uid(value: object) -> bool:
    """A well-formed UID (digits and dots, at most 64 characters): what a class UID kept as written must be."""
    return isinstance(value, str) and pydicom.uid.UID(value).is_valid


def _date_element(element: DataElement, days: int) -> None:
    """Shift a DA or DT element (one value or several) by ``days``; an unreadable date is emptied.
    A DT keeps its date only: the time of day goes, as every time does (see EMPTIED)."""

    def shift(text: str) -> str:
        # Through the date parser even when nothing is shifted: text that is no date is emptied, not kept.
        return _shift_date(text, days)

    if element.VM > 1:
        element.value = [shift(str(value)) for value in element.value]
    elif element.value:
        element.value = shift(str(element.value))


class Deidentifier:
    def __init__(self, key: bytes, shift_dates: bool = True) -> None:
        self.key = key
        self.shift_dates = shift_dates

    def deidentify(self, dataset: Dataset) -> str:
        """Strip ``dataset`` in place (file meta included) to the allow-list; returns the patient's pseudonym."""
        pseudonym = pseudonym_for(self.key, dataset)
        days = date_offset_days(self.key, pseudonym) if self.shift_dates else 0
        self._keep_allowed(dataset, pseudonym, days, top_level=True)
        # Type 2, so present even where the upload had none: the files then name the pseudonym the case row has.
        dataset.PatientID, dataset.PatientName = pseudonym, "ANONYMOUS"
        meta = getattr(dataset, "file_meta", None)
        if meta is not None:
            for element in list(meta):
                if element.keyword not in FILE_META_KEPT:
                    del meta[element.tag]
                elif not _vr_matches(element.VR, vr := dictionary_VR(element.tag)):
                    if vr in REWRITTEN_VRS:
                        meta[element.tag] = _rewritten(element, vr)
                    else:
                        del meta[element.tag]
            # The file's own copies of the class and instance UIDs: never kept as they came, whatever their VR,
            # but copied from the data set's (the instance UID replaced, the class UID checked above).
            for copy, source in (("MediaStorageSOPInstanceUID", "SOPInstanceUID"),
                                 ("MediaStorageSOPClassUID", "SOPClassUID")):
                if copy in meta:
                    del meta[copy]
                if source in dataset:
                    setattr(meta, copy, dataset[source].value)
            meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
            meta.ImplementationVersionName = f"PYDICOM {pydicom.__version__}"[:16]
        if getattr(dataset, "preamble", None) is not None:
            dataset.preamble = bytes(128)
        dataset.PatientIdentityRemoved = "YES"
        dataset.DeidentificationMethod = (
            f"Allow-list after PS3.15 Basic Profile; pseudonym; dates {'shifted' if days else 'kept'}"
        )
        dataset.LongitudinalTemporalInformationModified = "MODIFIED" if days else "UNMODIFIED"
        return pseudonym

    def _keep_allowed(self, dataset: Dataset, pseudonym: str, days: int, top_level: bool) -> None:
        for element in list(dataset):
            keyword = element.keyword  # "" for private and unknown tags, which are never on a list
            allowed = keyword in (ALLOWED_AT_TOP_LEVEL if top_level else ALLOWED_NESTED)
            if element.tag.is_private or not allowed:
                del dataset[element.tag]
                continue
            # Decided by the standard's VR, never the file's: a UID or date written as LO (or any other VR) would
            # otherwise be kept as it is. UIDs and dates are rewritten with their own VR (they are replaced or
            # shifted next); any other value whose VR is not the standard's (UN, a sequence where none is
            # expected, or the reverse) could carry anything under an allowed name, and goes.
            vr = dictionary_VR(element.tag)
            if not _vr_matches(element.VR, vr):
                if vr not in REWRITTEN_VRS:
                    del dataset[element.tag]
                    continue
                element = _rewritten(element, vr)
                dataset[element.tag] = element
            if keyword in EMPTIED:
                element.value = ""
            elif keyword == "PatientID":
                element.value = pseudonym
            elif keyword == "PatientName":
                element.value = "ANONYMOUS"
            elif vr == "SQ":
                for item in element.value:
                    self._keep_allowed(item, pseudonym, days, top_level=False)
            elif keyword in CLASS_UIDS:
                # Kept as written (they name the kind of image, not the patient), so only if they are UIDs at all.
                if not _is_uid(element.value):
                    del dataset[element.tag]
            elif vr == "UI":
                element.value = self._uids(element)
            elif vr in ("DA", "DT"):
                _date_element(element, days)

    def _uids(self, element: DataElement) -> str | list[str]:
        if element.VM > 1:
            return [keyed_uid(self.key, str(uid)) for uid in element.value]
        return keyed_uid(self.key, str(element.value)) if element.value else ""


def shifted_date(value: str, key: bytes, pseudonym: str, shift: bool) -> date | None:
    text = _shift_date(value, date_offset_days(key, pseudonym)) if shift else value[:8]
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None
