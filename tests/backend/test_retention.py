"""The site's retention period: housekeeping deletes a case that many days after its upload (as a coordinator's
deletion does, with the reason in the audit trail), except one a reader holds open or with a run under way; the
case page says when. Unset, nothing is ever deleted by it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from neurotriage.audit.models import AuditEvent
from neurotriage.cases.models import Case
from neurotriage.cases.deletion import lock_case
from neurotriage.cases.retention import delete_expired_cases, retention_reason
from neurotriage.config import Settings, get_settings
from neurotriage.core.storage import LocalStorage
from neurotriage.db import utcnow
from neurotriage.jobs.models import Job
from pydantic import ValidationError
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.backend.conftest import ApiClient
from tests.backend.helpers import analysed_case, committed_case, upload_case


def _age(db: Session, case_id: int, days: float) -> None:
    case = db.get(Case, case_id)
    assert case is not None
    case.uploaded_at = utcnow() - timedelta(days=days)
    db.flush()


def test_expired_cases_go_with_their_files_and_a_reason_unless_open_or_running(
    clinician: ApiClient, db: Session, scope, storage_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    expired = analysed_case(clinician, db, tmp_path, "expired", seed=0)["id"]
    open_now = analysed_case(clinician, db, tmp_path, "open", seed=1)["id"]
    running = upload_case(clinician, tmp_path, "queued", seed=2)  # its run is still queued
    recent = analysed_case(clinician, db, tmp_path, "recent", seed=3)["id"]
    for case_id in (expired, open_now, running):
        _age(db, case_id, 91)
    _age(db, recent, 89)
    assert clinician.post(f"/api/cases/{open_now}/claim").status_code == 200
    assert (storage_dir / f"cases/{expired}/scan.nii.gz").exists()

    deleted = delete_expired_cases(scope, LocalStorage(storage_dir), days=90)

    assert deleted == [expired]
    assert set(db.scalars(select(Case.id))) >= {open_now, running, recent}
    assert db.get(Case, expired) is None and not (storage_dir / f"cases/{expired}").exists()
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.deleted", AuditEvent.case_id == expired)).one()
    assert (event.case_id, event.actor_id) == (expired, None)
    assert event.detail["reason"] == retention_reason(90) and event.detail["runs"] == 1
    assert clinician.get(f"/api/cases/{expired}").json()["detail"].endswith("at the end of the site's retention period.")
    # Nothing is found again on the next pass; the others go once closed or finished.
    assert delete_expired_cases(scope, LocalStorage(storage_dir), days=90) == []


def test_the_case_page_says_when_the_case_will_be_deleted(
    app, clinician: ApiClient, db: Session, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    case_id = upload_case(clinician, tmp_path, "kept")
    assert clinician.get(f"/api/cases/{case_id}").json()["delete_after"] is None  # the default: kept
    app.dependency_overrides[get_settings] = lambda: get_settings().model_copy(update={"retention_days": 30})
    body = clinician.get(f"/api/cases/{case_id}").json()
    uploaded = db.get(Case, case_id).uploaded_at  # type: ignore[union-attr]
    assert body["delete_after"] == (uploaded + timedelta(days=30)).isoformat().replace("+00:00", "Z")


def test_a_retention_period_of_zero_days_or_less_is_refused_and_an_empty_one_keeps_cases(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEUROTRIAGE_RETENTION_DAYS", "0")
    with pytest.raises(ValidationError, match="retention_days"):
        Settings()
    monkeypatch.setenv("NEUROTRIAGE_RETENTION_DAYS", "")  # what the compose file passes where .env leaves it empty
    assert Settings().retention_days is None
    monkeypatch.setenv("NEUROTRIAGE_RETENTION_DAYS", "3650")
    assert Settings().retention_days == 3650


def test_the_periodic_task_deletes_expired_cases_only_where_the_site_sets_a_period(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wiring alone (the deletion itself is tested above, inside the test's transaction: a real pass here would
    leave its append-only audit row in the shared test database)."""
    from neurotriage.jobs import tasks

    periods: list[int] = []
    monkeypatch.setattr(tasks, "delete_expired_cases", lambda _sessions, _storage, days: periods.append(days) or [7, 8])
    assert tasks.housekeeping()["expired_cases_deleted"] == 0 and periods == []  # no period set: nothing deleted
    monkeypatch.setattr(tasks, "get_settings", lambda: get_settings().model_copy(update={"retention_days": 365}))
    assert tasks.housekeeping()["expired_cases_deleted"] == 2 and periods == [365]


def test_on_sqlite_a_deletion_holds_the_writer_lock_from_its_first_check(sqlite_sessions) -> None:  # type: ignore[no-untyped-def]
    """The embedded mode has no row locks: without the writer lock taken first, a claim or a run committed between
    the retention pass's check and its delete would be deleted with the case."""
    case_id, owner_id = committed_case(sqlite_sessions, "old")
    with sqlite_sessions() as deleting, sqlite_sessions() as claiming:
        assert lock_case(deleting, case_id) is not None
        claiming.execute(text("PRAGMA busy_timeout = 100"))
        with pytest.raises(OperationalError, match="locked"):
            claiming.execute(update(Case).where(Case.id == case_id).values(claimed_by_id=owner_id))
        deleting.rollback()
        claiming.rollback()
