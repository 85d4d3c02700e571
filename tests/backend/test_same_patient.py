"""The case page lists the patient's other scans here, linked by the keyed pseudonym of their DICOM uploads."""

from __future__ import annotations

from pathlib import Path

from neurotriage.jobs.models import Job
from sqlalchemy import select

from tests.backend.conftest import ApiClient
from tests.backend.dicom_factory import marked_volume, upload, write_series
from tests.backend.factories import finish_job
from tests.backend.helpers import upload_case


def _series(client: ApiClient, folder: Path, seed: int, acquired: str, patient: str = "MRN-0042-XYZ") -> dict:
    paths = write_series(folder, marked_volume(seed), series_number=seed, patient_id=patient,
                         extra={"AcquisitionDate": acquired})
    response = upload(client, paths)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_case_lists_the_same_patients_other_scans_newest_acquisition_first(
    clinician: ApiClient, coordinator: ApiClient, db, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    baseline = _series(clinician, tmp_path / "a", 1, "20240105")
    follow_up = _series(clinician, tmp_path / "b", 2, "20250310")
    today = _series(clinician, tmp_path / "c", 3, "20251120")
    someone_else = _series(clinician, tmp_path / "d", 4, "20251120", patient="OTHER-PATIENT-77")
    finish_job(db, db.scalars(select(Job).where(Job.case_id == follow_up["id"])).one().id, triage="urgent")
    db.commit()
    for reader in (clinician, coordinator):
        listed = reader.get(f"/api/cases/{today['id']}").json()["same_patient"]
        assert [scan["id"] for scan in listed] == [follow_up["id"], baseline["id"]]
        assert [(scan["status"], scan["triage"]) for scan in listed] == [("succeeded", "urgent"), ("queued", None)]
        assert listed[1]["label"] == baseline["label"] and listed[1]["sequence"] == baseline["sequence"]
    dates = [scan["acquisition_date"] for scan in listed]
    # Shifted per patient (never the real dates), by one offset, so their order and spacing hold.
    assert all(date and not date.startswith(("2024-01-05", "2025-03-10")) for date in dates)
    assert dates == sorted(dates, reverse=True)
    assert clinician.get(f"/api/cases/{someone_else['id']}").json()["same_patient"] == []


def test_a_nifti_upload_has_no_patient_link(clinician: ApiClient, tmp_path: Path) -> None:
    first = upload_case(clinician, tmp_path, "nifti one", seed=1)
    upload_case(clinician, tmp_path, "nifti two", seed=2)
    assert clinician.get(f"/api/cases/{first}").json()["same_patient"] == []


def test_a_long_history_lists_the_newest_acquisitions_and_says_how_many_more(
    clinician: ApiClient, tmp_path: Path, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr("neurotriage.cases.service.MAX_SAME_PATIENT", 2)
    # uploaded out of order: the newest acquisition first, an old scan found on a CD last
    newest = _series(clinician, tmp_path / "a", 1, "20251001")
    viewed = _series(clinician, tmp_path / "b", 2, "20250101")
    middle = _series(clinician, tmp_path / "c", 3, "20240601")
    _series(clinician, tmp_path / "d", 4, "20200101")
    detail = clinician.get(f"/api/cases/{viewed['id']}").json()
    assert [scan["id"] for scan in detail["same_patient"]] == [newest["id"], middle["id"]]
    assert detail["same_patient_more"] == 1
