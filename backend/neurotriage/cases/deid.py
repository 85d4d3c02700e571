"""De-identification of DICOM data sets after the Basic Application Level Confidentiality Profile
(DICOM PS3.15 Annex E, Table E.1-1), with keyed pseudonyms so series of one patient stay linked.

The table below lists the profile's actions for the attributes found in MR brain studies: X remove,
Z replace with an empty value, U replace a UID with a keyed one, D replace with a dummy value. On top
of the table three safety nets apply everywhere, nested sequences included: every private tag is
removed, every remaining Person Name (PN) element is removed, and every UID except the class and
transfer-syntax UIDs is replaced. Every date (DA) and date-time (DT) the table keeps is shifted by a
per-patient offset (or kept, per settings): one unshifted date beside its shifted copy would give the
offset away. The file meta loses the sender's identity and the 128-byte preamble is zeroed, since both
can carry site or patient text.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

DEIDENTIFICATION_METHOD = "PS3.15 Basic Profile; keyed pseudonyms; dates shifted"

# keyword -> action, after PS3.15 Table E.1-1 (Basic Profile column).
BASIC_PROFILE: dict[str, str] = {
    # Patient
    "PatientName": "D", "PatientID": "D", "PatientBirthDate": "Z", "PatientSex": "Z",
    "PatientBirthTime": "X", "PatientAge": "X", "PatientSize": "X", "PatientWeight": "X",
    "PatientAddress": "X", "PatientTelephoneNumbers": "X", "PatientMotherBirthName": "X",
    "PatientBirthName": "X", "OtherPatientIDs": "X", "OtherPatientNames": "X", "OtherPatientIDsSequence": "X",
    "IssuerOfPatientID": "X", "MilitaryRank": "X", "BranchOfService": "X", "MedicalRecordLocator": "X",
    "EthnicGroup": "X", "Occupation": "X", "AdditionalPatientHistory": "X", "PatientComments": "X",
    "CountryOfResidence": "X", "RegionOfResidence": "X", "ResponsiblePerson": "X",
    "ResponsibleOrganization": "X", "PatientInsurancePlanCodeSequence": "X", "PatientReligiousPreference": "X",
    "PregnancyStatus": "X", "MedicalAlerts": "X", "Allergies": "X", "SmokingStatus": "X",
    "LastMenstrualDate": "X", "ReferencedPatientSequence": "X", "PatientState": "X",
    # Study, visit and request
    "AccessionNumber": "Z", "StudyID": "Z", "StudyDescription": "X", "StudyComments": "X",
    "ReferringPhysicianName": "Z", "ReferringPhysicianAddress": "X", "ReferringPhysicianTelephoneNumbers": "X",
    "PhysiciansOfRecord": "X", "NameOfPhysiciansReadingStudy": "X", "RequestingPhysician": "X",
    "RequestingService": "X", "RequestAttributesSequence": "X", "AdmittingDiagnosesDescription": "X",
    "AdmissionID": "X", "IssuerOfAdmissionID": "X", "ReasonForStudy": "X", "RequestedProcedureDescription": "X",
    "RequestedProcedureID": "X", "ReferencedStudySequence": "X", "ScheduledPerformingPhysicianName": "X",
    "PerformedProcedureStepID": "X", "PerformedProcedureStepDescription": "X", "ProtocolName": "X",
    "SeriesDescription": "X", "ImageComments": "X", "DerivationDescription": "X",
    "ReferencedPerformedProcedureStepSequence": "X", "ConsultingPhysicianName": "X",
    # Staff, institution and equipment identity
    "OperatorsName": "X", "PerformingPhysicianName": "X", "InstitutionName": "X", "InstitutionAddress": "X",
    "InstitutionalDepartmentName": "X", "StationName": "X", "DeviceSerialNumber": "X",
    "PlateID": "X", "DetectorID": "X", "GantryID": "X",
    # Identifying UIDs (every other instance UID is caught by the UID rule too)
    "StudyInstanceUID": "U", "SeriesInstanceUID": "U", "SOPInstanceUID": "U", "FrameOfReferenceUID": "U",
    "MediaStorageSOPInstanceUID": "U", "ReferencedSOPInstanceUID": "U", "InstanceCreatorUID": "U",
    "SynchronizationFrameOfReferenceUID": "U", "IrradiationEventUID": "U",
}

# UIDs that name a kind of thing rather than a patient's instance, so they are kept.
KEPT_UIDS = {
    "SOPClassUID", "ReferencedSOPClassUID", "MediaStorageSOPClassUID", "TransferSyntaxUID",
    "ImplementationClassUID", "CodingSchemeUID", "AffectedSOPClassUID", "RequestedSOPClassUID",
}
# File meta (group 0002) elements that name the sending site or carry free private data.
FILE_META_REMOVED = (
    "SourceApplicationEntityTitle", "SendingApplicationEntityTitle", "ReceivingApplicationEntityTitle",
    "SourcePresentationAddress", "SendingPresentationAddress", "ReceivingPresentationAddress",
    "PrivateInformationCreatorUID", "PrivateInformation",
)


def keyed_digest(key: bytes, *parts: str) -> str:
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def patient_pseudonym(key: bytes, patient_id: str, issuer: str = "") -> str:
    """A stable pseudonym for a patient: the same ID (and issuer) always maps to the same value."""
    return "P" + keyed_digest(key, "patient", issuer, patient_id)[:15].upper()


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


def _shift_element(element: DataElement, days: int) -> None:
    """Shift a DA or DT element (one value or several) by ``days``; an unreadable date is emptied."""

    def shift(text: str) -> str:
        shifted = _shift_date(text, days)
        return shifted + text[8:] if element.VR == "DT" and shifted else shifted

    if element.VM > 1:
        element.value = [shift(str(value)) for value in element.value]
    else:
        element.value = shift(str(element.value))


class Deidentifier:
    def __init__(self, key: bytes, shift_dates: bool = True) -> None:
        self.key = key
        self.shift_dates = shift_dates

    def deidentify(self, dataset: Dataset) -> str:
        """Strip ``dataset`` in place (file meta included); returns the patient's pseudonym."""
        pseudonym = patient_pseudonym(
            self.key, str(dataset.get("PatientID", "")), str(dataset.get("IssuerOfPatientID", ""))
        )
        days = date_offset_days(self.key, pseudonym) if self.shift_dates else 0
        self._clean(dataset, pseudonym, days)
        meta = getattr(dataset, "file_meta", None)
        if meta is not None:
            for keyword in FILE_META_REMOVED:
                if keyword in meta:
                    delattr(meta, keyword)
            if "MediaStorageSOPInstanceUID" in meta:
                meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        if getattr(dataset, "preamble", None) is not None:
            dataset.preamble = bytes(128)
        dataset.PatientIdentityRemoved = "YES"
        dataset.DeidentificationMethod = DEIDENTIFICATION_METHOD
        dataset.LongitudinalTemporalInformationModified = "MODIFIED" if days else "UNMODIFIED"
        return pseudonym

    def _clean(self, dataset: Dataset, pseudonym: str, days: int) -> None:
        dataset.remove_private_tags()
        for element in list(dataset):
            keyword = element.keyword
            group = element.tag.group
            if 0x5000 <= group <= 0x50FF or 0x6000 <= group <= 0x60FF:  # curves and overlays can hold text
                del dataset[element.tag]
                continue
            action = BASIC_PROFILE.get(keyword)
            if action == "X":
                del dataset[element.tag]
            elif action == "Z":
                element.value = ""
            elif action == "D":
                element.value = pseudonym if keyword == "PatientID" else "ANONYMOUS"
            elif element.VR == "UI" and keyword not in KEPT_UIDS:
                element.value = self._uids(element)
            elif element.VR == "PN":
                del dataset[element.tag]
            elif element.VR == "SQ":
                for item in element.value:
                    self._clean(item, pseudonym, days)
            elif element.VR in ("DA", "DT") and days and element.value:
                _shift_element(element, days)

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
