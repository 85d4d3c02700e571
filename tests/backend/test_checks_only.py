"""Scans of a sequence no installed model reads (T2 today) get the rescan checks alone: accepted, checked by the
engine without a network, stored without flags or figures, and never shown as a routine result."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import pytest
from itermask3d.rescan import check_scan
from itermask3d.synthetic import make_case
from neurotriage.audit.models import AuditEvent
from neurotriage.core.storage import get_storage
from neurotriage.jobs import runner
from neurotriage.jobs.models import Job, JobStatus, Result
from neurotriage.jobs.service import ModelReport, replace_installed_models, transition
from sqlalchemy import select

from tests.backend.conftest import ApiClient

GRID = {"spacing_mm": (3.0, 3.0, 3.0)}


def _report(db, *available: tuple[str, str]) -> None:
    replace_installed_models(db, [
        ModelReport(p, s, (p, s) in available, (p, s) in available, None if (p, s) in available else "not installed")
        for p in ("fast", "paper") for s in ("t1", "t2", "flair")
    ])
    db.commit()


def _upload(client: ApiClient, path: Path, sequence: str) -> dict:
    with path.open("rb") as handle:
        response = client.post("/api/cases", files=[("files", (path.name, handle))], data={"sequence": sequence})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def t2_scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("t2")
    scans = {"normal": make_case("normal", "t2", seed=3, **GRID),
             "spike": make_case("artefact", "t2", seed=3, artefact_type="spike", **GRID)}
    for name, case in scans.items():
        nib.save(case.image, str(folder / f"{name}.nii.gz"))
    return {name: folder / f"{name}.nii.gz" for name in scans}


def _check(db, scope, case_id: int, scan: Path, tmp_path: Path) -> Result:  # type: ignore[no-untyped-def]
    """What the worker does with a checks-only job: the engine's checks, stored through save_result."""
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    transition(db, job, JobStatus.running)
    db.commit()
    out = tmp_path / f"checks-{case_id}"
    result = runner.checks_result(check_scan(scan, out, "t2"))
    assert runner.save_result(job.id, out, result, get_storage(), scope=scope)
    return db.scalars(select(Result).where(Result.job_id == job.id)).one()


def test_the_catalogue_names_the_sequences_that_get_checks_only(clinician: ApiClient, db) -> None:
    assert clinician.get("/api/models").json()["checks_only_sequences"] == []  # nothing reported yet
    _report(db, ("fast", "t1"), ("fast", "flair"))
    assert clinician.get("/api/models").json()["checks_only_sequences"] == ["t2"]
    _report(db, ("fast", "t1"), ("fast", "flair"), ("paper", "t2"))
    assert clinician.get("/api/models").json()["checks_only_sequences"] == []


def test_a_t2_upload_without_a_t2_model_is_queued_for_the_checks_alone(
    clinician: ApiClient, db, broker, t2_scans: dict[str, Path]
) -> None:
    _report(db, ("fast", "t1"), ("fast", "flair"))
    broker.delete("gpu")
    case = _upload(clinician, t2_scans["normal"], "t2")
    job = db.scalars(select(Job).where(Job.case_id == case["id"])).one()
    assert job.screening == "checks" and job.model_profile == "fast" and broker.llen("gpu") == 1
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.uploaded",
                                                AuditEvent.case_id == case["id"])).one()
    assert event.detail["screening"] == "checks"
    runs = clinician.get(f"/api/cases/{case['id']}/runs").json()
    assert [run["screening"] for run in runs] == ["checks"]


def test_a_sequence_with_a_model_is_screened_for_lesions(clinician: ApiClient, db, t2_scans) -> None:
    _report(db, ("fast", "t1"), ("fast", "flair"), ("fast", "t2"))
    case = _upload(clinician, t2_scans["normal"], "t2")
    assert db.scalars(select(Job.screening).where(Job.case_id == case["id"])).one() == "lesions"


def test_a_checked_scan_that_passes_goes_to_review_not_routine(
    clinician: ApiClient, db, scope, t2_scans, tmp_path: Path, storage_dir: Path
) -> None:
    _report(db, ("fast", "t1"), ("fast", "flair"))
    case = _upload(clinician, t2_scans["normal"], "t2")
    row = _check(db, scope, case["id"], t2_scans["normal"], tmp_path)
    assert row.screening == "checks" and row.triage == "review" and row.quality_issues == []
    assert row.files == {} and row.score is None and row.threshold is None and row.passes is None
    assert row.model_name == "itermask3d-rescan-checks"
    assert not (storage_dir / "cases" / str(case["id"]) / "jobs").exists()  # no maps: nothing to store
    body = clinician.get(f"/api/cases/{case['id']}").json()
    assert body["status"] == "succeeded" and body["screening"] == "checks"
    assert body["triage"] == "review" and body["score"] is None and body["flags"] == []
    missing = clinician.get(f"/api/cases/{case['id']}/files/anomaly_map")
    assert missing.status_code == 404 and "rescan checks alone" in missing.json()["detail"]  # not "not yet"
    assert clinician.get(f"/api/cases/{case['id']}/files/scan").status_code == 200
    listed = {c["id"]: c for c in clinician.get("/api/cases", params={"sort": "score"}).json()["items"]}
    assert listed[case["id"]]["screening"] == "checks" and listed[case["id"]]["score"] is None


def test_a_checked_scan_with_an_artefact_is_sent_for_a_rescan(
    clinician: ApiClient, db, scope, t2_scans, tmp_path: Path
) -> None:
    _report(db, ("fast", "t1"), ("fast", "flair"))
    case = _upload(clinician, t2_scans["spike"], "t2")
    row = _check(db, scope, case["id"], t2_scans["spike"], tmp_path)
    assert row.triage == "rescan" and row.priority == 3
    body = clinician.get(f"/api/cases/{case['id']}").json()
    assert body["rescan_recommended"] is True and "spike" in [q["kind"] for q in body["quality"]]


def test_once_a_model_is_installed_a_rerun_screens_for_lesions(
    clinician: ApiClient, db, scope, t2_scans, tmp_path: Path
) -> None:
    _report(db, ("fast", "t1"), ("fast", "flair"))
    case = _upload(clinician, t2_scans["normal"], "t2")
    _check(db, scope, case["id"], t2_scans["normal"], tmp_path)
    _report(db, ("fast", "t1"), ("fast", "flair"), ("fast", "t2"))
    run = clinician.post(f"/api/cases/{case['id']}/runs", json={"model_profile": "fast"})
    assert run.status_code == 201 and run.json()["screening"] == "lesions"


def test_the_export_tells_an_auditor_which_cases_were_not_screened(
    clinician: ApiClient, coordinator: ApiClient, db, scope, t2_scans, tmp_path: Path
) -> None:
    _report(db, ("fast", "t1"), ("fast", "flair"))
    case = _upload(clinician, t2_scans["normal"], "t2")
    _check(db, scope, case["id"], t2_scans["normal"], tmp_path)
    rows = {row["case_id"]: row for row in coordinator.get("/api/export.json").json()}
    assert rows[case["id"]]["screening"] == "checks" and rows[case["id"]]["score"] is None
    assert rows[case["id"]]["flags"] is None  # unknown, not "none found": no lesion search ran
    assert rows[case["id"]]["model"].startswith("itermask3d-rescan-checks ")
    assert "screening" in coordinator.get("/api/export.csv").text.splitlines()[0].split(",")
