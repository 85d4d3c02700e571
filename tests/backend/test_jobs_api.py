from __future__ import annotations

import json
import typing
from pathlib import Path

from neurotriage.audit.models import AuditEvent
from neurotriage.jobs.models import Failure, Job, JobStatus
from sqlalchemy import func, select

from tests.backend.conftest import ApiClient
from tests.backend.factories import finish_job
from tests.backend.helpers import analysed_case, upload_case


def test_queued_run_can_be_cancelled_once(clinician: ApiClient, db, tmp_path: Path) -> None:
    case_id = upload_case(clinician, tmp_path)
    run = clinician.get(f"/api/cases/{case_id}/runs").json()[0]
    cancelled = clinician.post(f"/api/jobs/{run['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = clinician.post(f"/api/jobs/{run['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["detail"] == ("This run can no longer be cancelled: it was cancelled already. Only a queued "
                                      "run can be.")
    assert clinician.get(f"/api/cases/{case_id}").json()["status"] == "cancelled"


def test_a_run_that_started_meanwhile_says_so_without_an_id_the_app_does_not_show(
    clinician: ApiClient, db, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    case_id = upload_case(clinician, tmp_path)
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    job.status = JobStatus.running
    db.commit()
    refused = clinician.post(f"/api/jobs/{job.id}/cancel")
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("This run can no longer be cancelled: it started meanwhile")
    assert str(job.id) not in refused.json()["detail"]


def test_rerun_with_another_profile_queues_a_new_job(clinician: ApiClient, db, broker, tmp_path: Path) -> None:
    case = analysed_case(clinician, db, tmp_path)
    broker.delete("gpu")
    rerun = clinician.post(f"/api/cases/{case['id']}/runs", json={"model_profile": "paper"})
    assert rerun.status_code == 201, rerun.text
    assert rerun.json()["model_profile"] == "paper" and rerun.json()["status"] == "queued"
    message = json.loads(broker.lrange("gpu", 0, -1)[0])
    assert message["headers"]["argsrepr"] == f"[{rerun.json()['id']}, 1]"  # the run's id and its first delivery
    # The case now shows its newest run's status; a second request while it is pending is refused.
    assert clinician.get(f"/api/cases/{case['id']}").json()["status"] == "queued"
    assert clinician.post(f"/api/cases/{case['id']}/runs", json={}).status_code == 409
    runs = clinician.get(f"/api/cases/{case['id']}/runs").json()
    assert [r["status"] for r in runs] == ["queued", "succeeded"]


def test_unknown_profile_is_refused(clinician: ApiClient, db, tmp_path: Path) -> None:
    case = analysed_case(clinician, db, tmp_path)
    response = clinician.post(f"/api/cases/{case['id']}/runs", json={"model_profile": "huge"})
    assert response.status_code == 422 and "available" in response.json()["detail"]


def test_retry_after_failure(clinician: ApiClient, db, tmp_path: Path) -> None:
    case_id = upload_case(clinician, tmp_path)
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    job.status, job.error = JobStatus.failed, "The scan could not be analysed: empty brain"
    job.failure = Failure.scan_refused
    db.commit()
    failed = clinician.get(f"/api/cases/{case_id}").json()
    assert failed["status"] == "failed" and failed["error"].endswith("empty brain")
    assert failed["retry_can_help"] is False  # the engine refused the scan itself: the app offers no retry
    assert clinician.post(f"/api/cases/{case_id}/runs", json={}).status_code == 201  # the API still takes one


def test_a_case_sent_as_the_wrong_sequence_is_run_again_as_the_right_one(
    clinician: ApiClient, coordinator: ApiClient, db, broker, tmp_path: Path
) -> None:
    """The same scan cannot be uploaded again as another case, so the case page corrects the sequence."""
    case_id = upload_case(clinician, tmp_path)
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    job.status, job.failure, job.looks_like = JobStatus.failed, Failure.sequence_mismatch, "flair"
    job.error = "The scan could not be analysed: it looks like a FLAIR scan (...), but it was sent as T1; ..."
    db.commit()
    failed = clinician.get(f"/api/cases/{case_id}").json()
    assert failed["failure"] == "sequence_mismatch" and failed["retry_can_help"] is True
    assert failed["looks_like"] == "flair"  # what the case page offers to re-run it as
    listed = {c["id"]: c for c in clinician.get("/api/cases").json()["items"]}
    assert listed[case_id]["failure"] == "sequence_mismatch"  # the worklist says why, without opening the case
    exported = {row["case_id"]: row for row in coordinator.get("/api/export.json").json()}[case_id]
    assert (exported["status"], exported["failure"]) == ("failed", "sequence_mismatch")
    assert clinician.post(f"/api/cases/{case_id}/runs", json={"sequence": "pd"}).status_code == 422
    # as the same sequence it would fail the same way: refused, in words, with nothing queued
    for same in ({}, {"sequence": "t1"}):
        refused = clinician.post(f"/api/cases/{case_id}/runs", json=same)
        assert refused.status_code == 422
        assert refused.json()["detail"] == (
            "The last run found that this scan looks like a FLAIR scan, not T1, so running it again as T1 would fail "
            "the same way. Choose the sequence it is.")
    assert db.scalar(select(func.count()).select_from(Job).where(Job.case_id == case_id)) == 1

    rerun = clinician.post(f"/api/cases/{case_id}/runs", json={"sequence": "flair"})
    assert rerun.status_code == 201, rerun.text
    now = clinician.get(f"/api/cases/{case_id}").json()
    assert now["sequence"] == "flair" and now["status"] == "queued" and now["failure"] is None
    assert now["looks_like"] is None
    changed = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.sequence_changed")).one()
    assert (changed.case_id, changed.detail) == (case_id, {"before": "t1", "after": "flair"})
    requested = db.scalars(select(AuditEvent).where(AuditEvent.action == "job.requested")).one()
    assert changed.client_ip is not None and requested.client_ip == changed.client_ip  # who asked, from where


def test_the_failure_kinds_the_api_names_are_the_ones_the_service_keeps() -> None:
    from neurotriage.cases.schemas import CaseDetail

    assert set(typing.get_args(typing.get_args(CaseDetail.model_fields["failure"].annotation)[0])) == {
        kind.value for kind in Failure}


def test_a_run_that_failed_for_the_servers_reasons_may_be_retried(clinician: ApiClient, db, tmp_path: Path) -> None:
    case_id = upload_case(clinician, tmp_path)
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    job.status, job.error = JobStatus.failed, "The analysis failed with an internal error; ..."
    job.failure = Failure.internal
    db.commit()
    assert clinician.get(f"/api/cases/{case_id}").json()["retry_can_help"] is True


def test_a_rerun_keeps_the_earlier_result_in_view_until_it_succeeds(
    clinician: ApiClient, coordinator: ApiClient, db, broker, tmp_path: Path
) -> None:
    urgent = analysed_case(clinician, db, tmp_path, label="urgent", seed=1, triage="urgent")
    analysed_case(clinician, db, tmp_path, label="routine", seed=2, triage="routine")
    first_run = urgent["result_run_id"]
    rerun = clinician.post(f"/api/cases/{urgent['id']}/runs", json={}).json()

    def shown() -> dict:
        return clinician.get(f"/api/cases/{urgent['id']}").json()

    # Pending and then cancelled, the re-run must not hide the urgent finding or drop the case down the list.
    for expected_status in ("queued", "cancelled"):
        case = shown()
        assert case["status"] == expected_status
        assert (case["triage"], len(case["flags"]), case["result_run_id"]) == ("urgent", 2, first_run)
        worklist = clinician.get("/api/cases", params={"sort": "priority"}).json()["items"]
        assert worklist[0]["id"] == urgent["id"] and worklist[0]["triage"] == "urgent"
        if expected_status == "queued":
            assert clinician.post(f"/api/jobs/{rerun['id']}/cancel").status_code == 200
    exported = {row["case_id"]: row for row in coordinator.get("/api/export.json").json()}[urgent["id"]]
    assert (exported["status"], exported["result_run"], exported["triage"]) == ("cancelled", first_run, "urgent")
    assert exported["result_run_number"] == 1  # "Run 1" on the case page, whatever its job id

    # A re-run that succeeds replaces the result.
    second = clinician.post(f"/api/cases/{urgent['id']}/runs", json={}).json()
    finish_job(db, second["id"], n_flags=1, triage="routine")
    case = shown()
    assert (case["status"], case["triage"], len(case["flags"]), case["result_run_id"]) == (
        "succeeded", "routine", 1, second["id"]
    )


def test_a_rerun_says_how_many_of_the_readers_flag_verdicts_stay_with_the_earlier_run(
    clinician: ApiClient, coordinator: ApiClient, db, broker, tmp_path: Path
) -> None:
    case = analysed_case(clinician, db, tmp_path, label="read, then re-run")
    for flag in case["flags"]:
        assert clinician.put(f"/api/flags/{flag['id']}/verdict", json={"verdict": "accept"}).status_code == 200
    assert clinician.get(f"/api/cases/{case['id']}").json()["earlier_run_verdicts"] == 0  # they are on this run
    rerun = clinician.post(f"/api/cases/{case['id']}/runs", json={}).json()
    finish_job(db, rerun["id"], n_flags=2)
    shown = clinician.get(f"/api/cases/{case['id']}").json()
    # the new run's flags start unread; the reader is told their two verdicts were on the earlier run's flags
    assert all(flag["verdict"] is None for flag in shown["flags"]) and shown["earlier_run_verdicts"] == 2
    assert coordinator.get(f"/api/cases/{case['id']}").json()["earlier_run_verdicts"] == 0  # the viewer's own only
