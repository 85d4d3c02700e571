from __future__ import annotations

from pathlib import Path

from neurotriage.audit.models import AuditEvent
from neurotriage.jobs.models import Job
from sqlalchemy import select

from tests.backend.conftest import ApiClient
from tests.backend.factories import finish_job
from tests.backend.volumes import write_nifti


def _case_with_flags(client: ApiClient, db, tmp_path: Path) -> dict:  # type: ignore[no-untyped-def]
    path = write_nifti(tmp_path / "s.nii.gz")
    with path.open("rb") as handle:
        case_id = client.post("/api/cases", files=[("files", (path.name, handle))]).json()["id"]
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    finish_job(db, job.id, n_flags=2)
    return client.get(f"/api/cases/{case_id}").json()


def test_verdict_persists_and_is_audited(clinician: ApiClient, db, tmp_path: Path) -> None:
    case = _case_with_flags(clinician, db, tmp_path)
    flag_id = case["flags"][1]["id"]
    response = clinician.put(f"/api/flags/{flag_id}/verdict", json={"verdict": "reject", "reason": "vessel"})
    assert response.status_code == 200, response.text
    assert response.json()["verdict"] == "reject" and response.json()["version"] == 1
    again = clinician.get(f"/api/cases/{case['id']}").json()
    assert again["flags"][1]["verdict"]["verdict"] == "reject"
    assert again["flags"][1]["verdict"]["reason"] == "vessel"
    assert again["flags"][0]["verdict"] is None
    assert again["review_state"] == "in_progress" and again["reviewed"] is False
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "flag.verdict")).one()
    assert event.detail["flag_id"] == flag_id and event.detail["verdict"] == "reject"
    # the trail names the flag as the case page does, not only by its database row
    assert event.detail["flag"] == case["flags"][1]["label"] == 2


def test_changing_a_verdict_bumps_its_version_and_stale_writes_get_409(
    clinician: ApiClient, db, tmp_path: Path
) -> None:
    flag_id = _case_with_flags(clinician, db, tmp_path)["flags"][0]["id"]
    first = clinician.put(f"/api/flags/{flag_id}/verdict", json={"verdict": "accept"}).json()
    second = clinician.put(
        f"/api/flags/{flag_id}/verdict", json={"verdict": "unsure", "version": first["version"]}
    ).json()
    assert second["version"] == 2 and second["verdict"] == "unsure"
    stale = clinician.put(f"/api/flags/{flag_id}/verdict", json={"verdict": "reject", "version": 1})
    assert stale.status_code == 409
    assert "Someone else changed" in stale.json()["detail"]


def test_unknown_verdict_value_and_flag_are_rejected(clinician: ApiClient) -> None:
    assert clinician.put("/api/flags/1/verdict", json={"verdict": "maybe"}).status_code == 422
    assert clinician.put("/api/flags/424242/verdict", json={"verdict": "accept"}).status_code == 404
