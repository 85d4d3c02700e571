"""Ordinary bad input gets a 4xx that says what was wrong, never a 500, and nothing is stored: numbers that are not
finite, ids and pages beyond PostgreSQL's integers, NUL characters, times without a zone, a non-ASCII CSRF header."""

from __future__ import annotations

from pathlib import Path

import httpx
from neurotriage.audit.models import AuditEvent
from neurotriage.auth.models import ApiToken, BrowserSession, LoginAttempt
from neurotriage.cases.models import Case
from neurotriage.jobs.models import Job
from neurotriage.reviews.models import CaseVerdict, FlagVerdict, MissedFinding, ReviewTime
from neurotriage.users.models import User
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.backend.conftest import ApiClient
from tests.backend.helpers import analysed_case, assert_nothing_stored, upload_case

BIG = 2**31  # one past PostgreSQL's INTEGER, the type of every id column
JSON = {"content-type": "application/json"}
_TABLES = (
    AuditEvent, ApiToken, BrowserSession, LoginAttempt, Case, Job, CaseVerdict, FlagVerdict, MissedFinding,
    ReviewTime, User,
)


def _counts(db: Session) -> dict[str, int]:
    """Rows per table: a refused request must leave every count as it was."""
    return {table.__name__: db.scalar(select(func.count()).select_from(table)) or 0 for table in _TABLES}


def _refused(response: httpx.Response, loc: list[str | int], words: str) -> None:
    """A 422 whose error names the field (loc) and says what was wrong (msg), without echoing what was sent."""
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert [error["loc"] for error in errors] == [loc], errors
    assert words in errors[0]["msg"], errors
    assert all("input" not in error and "ctx" not in error for error in errors), errors


def test_numbers_that_are_not_finite_are_refused(clinician: ApiClient, db: Session, tmp_path: Path) -> None:
    case_id = analysed_case(clinician, db, tmp_path)["id"]
    before = _counts(db)
    findings, review_time = f"/api/cases/{case_id}/findings", f"/api/cases/{case_id}/review-time"
    for url, body, loc in [
        (findings, '{"point_mm": [NaN, 0, 0]}', ["body", "point_mm", 0]),
        (findings, '{"point_mm": [0, Infinity, 0]}', ["body", "point_mm", 1]),
        (findings, '{"point_mm": [0, 0, 0], "radius_mm": NaN}', ["body", "radius_mm"]),
        (review_time, '{"seconds": NaN}', ["body", "seconds"]),
        (review_time, '{"seconds": -Infinity}', ["body", "seconds"]),
    ]:
        _refused(clinician.post(url, content=body, headers=JSON), loc, "finite number")
    # A NaN where a whole number belongs (a 422 before too, but one that echoed the NaN and so became a 500).
    body = '{"verdict": "normal", "version": NaN}'
    _refused(clinician.put(f"/api/cases/{case_id}/verdict", content=body, headers=JSON), ["body", "version"], "finite")
    assert _counts(db) == before


def test_a_refusal_does_not_echo_what_was_sent(anon: ApiClient, users: dict[str, int], db: Session) -> None:
    before = _counts(db)
    secret = "hunter2-" * 200  # a password over the limit, as a mistyped paste might be
    response = anon.post("/api/auth/login", json={"username": "clin", "password": secret})
    _refused(response, ["body", "password"], "at most 1024 characters")
    assert "hunter2" not in response.text
    assert _counts(db) == before


def test_ids_beyond_postgresql_integers_are_refused(
    clinician: ApiClient, coordinator: ApiClient, admin: ApiClient, db: Session
) -> None:
    before = _counts(db)
    limit = "less than or equal to 2147483647"
    for client, method, url, body, loc in [
        (clinician, "GET", f"/api/cases/{BIG}", None, ["path", "case_id"]),
        (clinician, "GET", f"/api/cases/{BIG}/files/scan", None, ["path", "case_id"]),
        (clinician, "GET", f"/api/cases/{BIG}/runs", None, ["path", "case_id"]),
        (clinician, "POST", f"/api/cases/{BIG}/runs", {}, ["path", "case_id"]),
        (clinician, "POST", f"/api/jobs/{BIG}/cancel", None, ["path", "job_id"]),
        (clinician, "PUT", f"/api/flags/{BIG}/verdict", {"verdict": "accept"}, ["path", "flag_id"]),
        (clinician, "PUT", f"/api/cases/{BIG}/verdict", {"verdict": "normal"}, ["path", "case_id"]),
        (clinician, "POST", f"/api/cases/{BIG}/claim", None, ["path", "case_id"]),
        (clinician, "DELETE", f"/api/cases/{BIG}/claim", None, ["path", "case_id"]),
        (clinician, "POST", f"/api/cases/{BIG}/findings", {"point_mm": [0, 0, 0]}, ["path", "case_id"]),
        (clinician, "DELETE", f"/api/findings/{BIG}", None, ["path", "finding_id"]),
        (clinician, "POST", f"/api/cases/{BIG}/review-time", {"seconds": 5}, ["path", "case_id"]),
        (admin, "PATCH", f"/api/users/{BIG}", {"disabled": True}, ["path", "user_id"]),
        (admin, "POST", f"/api/users/{BIG}/password", {"new_password": "a new password"}, ["path", "user_id"]),
        (admin, "GET", f"/api/users/{BIG}/tokens", None, ["path", "user_id"]),
        (admin, "DELETE", f"/api/users/{BIG}/tokens/1", None, ["path", "user_id"]),
        (admin, "DELETE", f"/api/users/1/tokens/{BIG}", None, ["path", "token_id"]),
        (clinician, "DELETE", f"/api/me/tokens/{BIG}", None, ["path", "token_id"]),
        (coordinator, "GET", f"/api/audit?case_id={BIG}", None, ["query", "case_id"]),
    ]:
        _refused(client.request(method, url, json=body), loc, limit)
    # No row has an id below 1 either: the same refusal, not a 404 that looked the id up.
    _refused(clinician.get("/api/cases/0"), ["path", "case_id"], "greater than or equal to 1")
    assert _counts(db) == before


def test_page_numbers_are_bounded(clinician: ApiClient, coordinator: ApiClient, db: Session) -> None:
    before = _counts(db)
    for client, url in [(clinician, "/api/cases"), (coordinator, "/api/audit")]:
        _refused(client.get(url, params={"page": 2**62}), ["query", "page"], "less than or equal to 2147483647")
        # The last page allowed is answered (empty), its offset within the database's range.
        last = client.get(url, params={"page": 2**31 - 1, "page_size": 1})
        assert last.status_code == 200 and last.json()["items"] == []
    assert _counts(db) == before


def test_audit_times_without_a_zone_are_read_as_utc(coordinator: ApiClient, db: Session) -> None:
    newest = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    naive = newest.at.replace(tzinfo=None).isoformat()  # the event's own time in UTC, zone left off

    def ids(**params: str) -> list[int]:
        response = coordinator.get("/api/audit", params={"page_size": "500", **params})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert newest.id in ids(since=naive) and newest.id not in ids(until=naive)
    # A date alone is midnight UTC.
    assert ids(since="2999-01-01") == [] and newest.id in ids(until="2999-01-01")
    assert ids(since="2000-01-01T00:00") == ids(since="2000-01-01T00:00:00Z")


def test_nul_characters_are_refused_naming_the_field(
    anon: ApiClient, clinician: ApiClient, coordinator: ApiClient, admin: ApiClient, db: Session, tmp_path: Path
) -> None:
    case = analysed_case(clinician, db, tmp_path)
    case_id, flag_id = case["id"], case["flags"][0]["id"]
    before = _counts(db)
    nul = "a\x00b"
    for client, method, url, sent, loc in [
        # No sign-in needed for this one.
        (anon, "POST", "/api/auth/login", {"json": {"username": nul, "password": "x"}}, ["body", "username"]),
        (clinician, "GET", "/api/cases", {"params": {"q": nul}}, ["query", "q"]),
        (coordinator, "GET", "/api/audit", {"params": {"username": nul}}, ["query", "username"]),
        (coordinator, "GET", "/api/audit", {"params": {"action": nul}}, ["query", "action"]),
        (clinician, "PUT", f"/api/cases/{case_id}/verdict", {"json": {"verdict": "normal", "comment": nul}},
         ["body", "comment"]),
        (clinician, "PUT", f"/api/flags/{flag_id}/verdict", {"json": {"verdict": "reject", "reason": nul}},
         ["body", "reason"]),
        (clinician, "PUT", f"/api/flags/{flag_id}/verdict", {"json": {"verdict": "accept", "comment": nul}},
         ["body", "comment"]),
        (clinician, "POST", f"/api/cases/{case_id}/findings", {"json": {"point_mm": [0, 0, 0], "comment": nul}},
         ["body", "comment"]),
        (clinician, "POST", "/api/me/tokens", {"json": {"name": nul}}, ["body", "name"]),
    ]:
        _refused(client.request(method, url, **sent), loc, "must not contain the NUL character")
    # A new username is refused for it too (its characters are checked after); the answer does not repeat it.
    new_user = {"username": nul, "password": "a password", "roles": ["clinician"]}
    _refused(admin.post("/api/users", json=new_user), ["body", "username"], "must not contain the NUL character")
    assert _counts(db) == before


def test_an_upload_label_with_a_nul_character_is_refused(
    clinician: ApiClient, db: Session, storage_dir: Path, tmp_path: Path
) -> None:
    from tests.backend.volumes import brain_like, write_nifti

    path = write_nifti(tmp_path / "scan.nii.gz", data=brain_like(seed=1))
    with path.open("rb") as handle:
        response = clinician.post("/api/cases", files=[("files", (path.name, handle))], data={"label": "a\x00b"})
    _refused(response, ["body", "label"], "must not contain the NUL character")
    assert_nothing_stored(db, storage_dir)


def test_a_non_ascii_csrf_header_is_a_wrong_token(clinician: ApiClient, db: Session, tmp_path: Path) -> None:
    case_id = upload_case(clinician, tmp_path)
    before = _counts(db)
    # httpx sends bytes as they are; the server reads header bytes as latin-1, so this arrives as "é".
    response = clinician.post(f"/api/cases/{case_id}/claim", headers={"X-CSRF-Token": "é".encode("latin-1")})
    assert response.status_code == 403
    assert response.json()["detail"] == "Missing or wrong CSRF token."
    db.expire_all()
    assert db.get(Case, case_id).claimed_by_id is None  # type: ignore[union-attr]
    assert _counts(db) == before
