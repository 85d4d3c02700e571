from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from neurotriage.audit.models import AuditEvent
from neurotriage.cases.models import Case
from neurotriage.users.models import User
from neurotriage.users.service import create_user
from sqlalchemy import select

from tests.backend.conftest import PASSWORD, ApiClient
from tests.backend.helpers import analysed_case, upload_case


def _second_clinician(app, db) -> ApiClient:  # type: ignore[no-untyped-def]
    create_user(db, "clin2", PASSWORD, ["clinician"])
    db.commit()
    client = ApiClient(app)
    client.login("clin2")
    return client


def test_case_verdict_is_versioned(clinician: ApiClient, db, tmp_path: Path) -> None:
    case = analysed_case(clinician, db, tmp_path)
    url = f"/api/cases/{case['id']}/verdict"
    first = clinician.put(url, json={"verdict": "abnormal", "comment": "mass left frontal"})
    assert first.status_code == 200 and first.json()["version"] == 1
    assert clinician.put(url, json={"verdict": "artefact_rescan", "version": 1}).json()["version"] == 2
    stale = clinician.put(url, json={"verdict": "normal", "version": 1})
    assert stale.status_code == 409
    detail = clinician.get(f"/api/cases/{case['id']}").json()
    assert detail["case_verdict"]["verdict"] == "artefact_rescan"
    assert detail["review_state"] == "reviewed" and detail["reviewed"] is True
    assert clinician.put(url, json={"verdict": "fine"}).status_code == 422


def test_claims_keep_a_second_reader_out_until_they_lapse(clinician: ApiClient, app, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    case_id = upload_case(clinician, tmp_path)
    other = _second_clinician(app, db)
    claimed = clinician.post(f"/api/cases/{case_id}/claim")
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "clin"
    refused = other.post(f"/api/cases/{case_id}/claim")
    assert refused.status_code == 409
    # the sentence carries no server-formatted time; the case says until when, as a timestamp the app formats
    assert refused.json()["detail"] == "clin is reviewing this case."
    seen = other.get(f"/api/cases/{case_id}").json()
    assert seen["claimed_by"] == "clin" and seen["claimed_until"] == claimed.json()["claimed_until"]
    case = db.get(Case, case_id)
    case.claimed_until = case.claimed_until - timedelta(hours=1)
    db.commit()
    assert other.post(f"/api/cases/{case_id}/claim").json()["claimed_by"] == "clin2"


def test_releasing_a_claim_frees_the_case(clinician: ApiClient, app, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    case_id = upload_case(clinician, tmp_path)
    clinician.post(f"/api/cases/{case_id}/claim")
    assert clinician.delete(f"/api/cases/{case_id}/claim").status_code == 204
    assert clinician.get(f"/api/cases/{case_id}").json()["claimed_by"] is None


def test_missed_finding_is_stored_and_removable_by_its_author_only(clinician: ApiClient, app, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    case = analysed_case(clinician, db, tmp_path)
    body = {"point_mm": [10.5, -20.0, 30.0], "point_voxel": [40, 50, 60], "radius_mm": 4, "comment": "small lacune"}
    created = clinician.post(f"/api/cases/{case['id']}/findings", json=body)
    assert created.status_code == 201
    findings = clinician.get(f"/api/cases/{case['id']}").json()["findings"]
    assert [(f["point_mm"], f["radius_mm"], f["reviewer"]) for f in findings] == [([10.5, -20.0, 30.0], 4.0, "clin")]
    other = _second_clinician(app, db)
    assert other.delete(f"/api/findings/{created.json()['id']}").status_code == 404
    assert clinician.delete(f"/api/findings/{created.json()['id']}").status_code == 204
    assert clinician.get(f"/api/cases/{case['id']}").json()["findings"] == []
    too_big = clinician.post(f"/api/cases/{case['id']}/findings", json={**body, "radius_mm": 500})
    assert too_big.status_code == 422


def test_review_time_accumulates_per_reviewer(clinician: ApiClient, tmp_path: Path) -> None:
    case_id = upload_case(clinician, tmp_path)
    for seconds in (30, 12.5):
        assert clinician.post(f"/api/cases/{case_id}/review-time", json={"seconds": seconds}).status_code == 204
    assert clinician.get(f"/api/cases/{case_id}").json()["review_seconds"] == 42.5
    assert clinician.post(f"/api/cases/{case_id}/review-time", json={"seconds": 99999}).status_code == 422


def test_worklist_filters_search_sort_and_pagination(clinician: ApiClient, db, tmp_path: Path) -> None:
    low = analysed_case(clinician, db, tmp_path, "alpha scan", seed=1, triage="routine")
    high = analysed_case(clinician, db, tmp_path, "beta scan", seed=2, triage="urgent")
    queued = upload_case(clinician, tmp_path, "gamma 100%_x", seed=3)
    ids = lambda **params: [c["id"] for c in clinician.get("/api/cases", params=params).json()["items"]]  # noqa: E731
    assert ids() == [high["id"], low["id"], queued]
    assert ids(sort="uploaded_at", order="asc") == [low["id"], high["id"], queued]
    assert ids(q="BETA") == [high["id"]]
    assert ids(q="100%_") == [queued] and ids(q="a%s") == []  # % and _ match literally
    assert ids(status="queued") == [queued]
    clinician.post(f"/api/cases/{low['id']}/claim")
    assert ids(mine="true") == [low["id"]]
    clinician.put(f"/api/cases/{high['id']}/verdict", json={"verdict": "abnormal"})
    assert ids(unreviewed="true") == [low["id"], queued]
    page = clinician.get("/api/cases", params={"page_size": 2, "page": 2}).json()
    assert page["total"] == 3 and [c["id"] for c in page["items"]] == [queued]


def test_a_readers_claims_go_with_their_sessions_when_an_admin_resets_or_disables_them(
    clinician: ApiClient, admin: ApiClient, users: dict[str, int], app, db, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A reset or a disabled account signs the reader out everywhere; their open cases must not go on telling
    colleagues that someone is reading them for the rest of the claim."""
    first, second, lapsed = (upload_case(clinician, tmp_path, f"c{i}", seed=i) for i in range(3))
    other = _second_clinician(app, db)
    for case_id in (first, second, lapsed):
        assert clinician.post(f"/api/cases/{case_id}/claim").status_code == 200
    old_claim = db.get(Case, lapsed)
    old_claim.claimed_until = old_claim.claimed_until - timedelta(hours=1)  # lapsed long ago: nothing to announce
    db.commit()
    assert other.post(f"/api/cases/{first}/claim").status_code == 409
    reset = admin.post(f"/api/users/{users['clinician']}/password", json={"new_password": "another long password 7"})
    assert reset.status_code == 200
    assert other.post(f"/api/cases/{first}/claim").json()["claimed_by"] == "clin2"
    assert db.get(Case, second).claimed_by_id is None and db.get(Case, lapsed).claimed_by_id is None
    # audited as the admin's doing, naming whose claims went; the lapsed claim is cleared without a row
    released = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.released",
                                                   AuditEvent.detail["reason"].as_string() == "sessions ended")).all()
    assert sorted(e.case_id for e in released) == [first, second]
    assert all(e.actor_id == users["admin"] and e.detail["user_id"] == users["clinician"] for e in released)

    third = upload_case(other, tmp_path, "c3", seed=3)
    assert other.post(f"/api/cases/{third}/claim").status_code == 200
    clin2 = db.scalars(select(User).where(User.username == "clin2")).one()
    assert admin.patch(f"/api/users/{clin2.id}", json={"disabled": True}).status_code == 200
    assert db.get(Case, third).claimed_by_id is None
