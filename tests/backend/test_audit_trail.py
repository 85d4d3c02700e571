"""The audit trail as its readers see it: usernames for the user ids in details, the case label beside the case id,
a User filter on part of the name and an Action filter on the start of the action; still read-only, still for
coordinators and admins alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from neurotriage.audit.models import AuditEvent
from neurotriage.audit.service import record
from neurotriage.users.service import create_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.backend.conftest import PASSWORD, ApiClient
from tests.backend.helpers import analysed_case


def _events(client: ApiClient, **params: object) -> list[dict]:
    response = client.get("/api/audit", params={"page_size": 500, **params})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return page["items"]


def test_user_ids_in_details_come_with_their_usernames(admin: ApiClient, coordinator: ApiClient) -> None:
    created = admin.post("/api/users", json={"username": "alice", "password": "a long password", "roles": ["clinician"]})
    assert created.status_code == 201, created.text
    alice = created.json()["id"]
    assert admin.patch(f"/api/users/{alice}", json={"roles": ["clinician", "coordinator"]}).status_code == 200
    assert admin.post(f"/api/users/{alice}/password", json={"new_password": "another long password"}).status_code == 200
    assert admin.patch(f"/api/users/{alice}", json={"disabled": True}).status_code == 200
    assert admin.patch(f"/api/users/{alice}", json={"disabled": False}).status_code == 200

    for reader in (admin, coordinator):
        events = {event["action"]: event for event in _events(reader, action="user.")}
        assert set(events) == {"user.created", "user.roles_changed", "user.password_reset", "user.disabled", "user.enabled"}
        for event in events.values():
            assert event["actor"] == "adm"
            assert event["detail"]["user_id"] == alice  # the record itself is unchanged
            assert event["detail_usernames"] == {"user_id": "alice"}
        assert events["user.roles_changed"]["detail"]["after"] == ["clinician", "coordinator"]


def test_a_user_id_that_names_no_user_is_left_as_it_is(admin: ApiClient, db: Session, users: dict[str, int]) -> None:
    record(db, "test.odd", actor_id=users["admin"], user_id=10_000_000, target_user_id=users["clinician"])
    record(db, "test.flag", user_id=True, job_id=users["clinician"])  # neither is a user id
    db.commit()
    odd, flag = _events(admin, action="test.odd")[0], _events(admin, action="test.flag")[0]
    assert odd["detail_usernames"] == {"target_user_id": "clin"}
    assert odd["detail"] == {"user_id": 10_000_000, "target_user_id": users["clinician"]}
    assert flag["detail_usernames"] == {} and flag["actor"] is None


def test_the_case_label_is_shown_beside_the_case_to_readers_of_cases(
    clinician: ApiClient, coordinator: ApiClient, admin: ApiClient, app, db: Session, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    case = analysed_case(clinician, db, tmp_path, "left temporal follow-up")
    events = _events(coordinator, case_id=case["id"])
    assert {"case.uploaded", "case.viewed"} <= {event["action"] for event in events}
    assert all(event["case_id"] == case["id"] and event["case_label"] == "left temporal follow-up" for event in events)
    # an event without a case has no label
    assert all(event["case_label"] is None for event in _events(coordinator, action="login."))
    # an admin sees no case of their own (the worklist and the case page refuse them), nor its label here
    assert admin.get(f"/api/cases/{case['id']}").status_code == 403
    as_admin = _events(admin, case_id=case["id"])
    assert {event["id"] for event in as_admin} == {event["id"] for event in events}
    assert all(event["case_label"] is None for event in as_admin)
    # an admin who also reads scans gets the labels
    create_user(db, "readmin", PASSWORD, ["admin", "clinician"])
    db.commit()
    both = ApiClient(app)
    both.login("readmin")
    assert {event["case_label"] for event in _events(both, case_id=case["id"])} == {"left temporal follow-up"}


def test_a_reader_who_reads_blind_sees_no_other_verdict_in_the_trail_before_their_own(
    clinician: ApiClient, coordinator: ApiClient, app, db: Session, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """A clinician who is also an admin may read the trail; it must not tell them what another reader decided on a
    case before they give their own case verdict, as the case page does not (blind reading)."""
    case = analysed_case(clinician, db, tmp_path, "second reading")
    flag_id = case["flags"][0]["id"]
    assert clinician.put(f"/api/flags/{flag_id}/verdict", json={"verdict": "reject"}).status_code == 200
    assert clinician.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "abnormal"}).status_code == 200
    create_user(db, "readmin", PASSWORD, ["admin", "clinician"])
    db.commit()
    both = ApiClient(app)
    both.login("readmin")

    def verdicts_seen(reader: ApiClient) -> dict[str, object]:
        return {event["action"]: event["detail"]["verdict"] for event in _events(reader, case_id=case["id"])
                if event["action"] in ("flag.verdict", "case.verdict")}

    hidden = "hidden until your own case verdict"
    assert verdicts_seen(both) == {"flag.verdict": hidden, "case.verdict": hidden}
    assert verdicts_seen(coordinator) == {"flag.verdict": "reject", "case.verdict": "abnormal"}  # audits, not blind
    # Their own verdict is always theirs to see; once it is in, so are the others'.
    assert both.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "normal"}).status_code == 200
    assert sorted(e["detail"]["verdict"] for e in _events(both, case_id=case["id"], action="case.verdict")) == [
        "abnormal", "normal"
    ]
    assert verdicts_seen(both)["flag.verdict"] == "reject"


def test_the_user_filter_matches_part_of_the_name_in_any_case(
    clinician: ApiClient, coordinator: ApiClient, app, db: Session  # type: ignore[no-untyped-def]
) -> None:
    create_user(db, "Clare_X", PASSWORD, ["clinician"])
    db.commit()
    ApiClient(app).login("Clare_X")
    assert {event["actor"] for event in _events(coordinator, username="cli")} == {"clin"}
    assert {event["actor"] for event in _events(coordinator, username="CLI")} == {"clin"}
    assert {event["actor"] for event in _events(coordinator, username="cl")} == {"clin", "Clare_X"}
    assert {event["actor"] for event in _events(coordinator, username="coord")} == {"coord"}
    assert {event["actor"] for event in _events(coordinator, username="  clin ")} == {"clin"}  # spaces trimmed
    # LIKE wildcards are plain characters: "_" matches only an underscore, "%" nothing here
    assert {event["actor"] for event in _events(coordinator, username="e_x")} == {"Clare_X"}
    assert {event["actor"] for event in _events(coordinator, username="n_")} == set()
    assert _events(coordinator, username="%") == []
    assert _events(coordinator, username="nobody") == []


def test_the_action_filter_matches_the_start_of_the_action(
    clinician: ApiClient, coordinator: ApiClient, db: Session, tmp_path: Path
) -> None:
    case = analysed_case(clinician, db, tmp_path, "verdicts")
    clinician.put(f"/api/flags/{case['flags'][0]['id']}/verdict", json={"verdict": "accept"})
    assert clinician.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "abnormal"}).status_code == 200

    def actions(action: str) -> set[str]:
        return {event["action"] for event in _events(coordinator, action=action)}

    assert actions("flag.") == actions("flag") == actions("FLAG.") == {"flag.verdict"}
    assert actions("case.verdict") == {"case.verdict"}  # a whole action is its own prefix
    assert actions("case.verd") == {"case.verdict"}
    assert {"case.uploaded", "case.viewed", "case.verdict"} <= actions("case.") == actions("case")
    assert all(action.startswith("case.") for action in actions("case."))
    assert actions("login.") == {"login.succeeded"}
    assert actions("verdict") == set()  # the middle of an action is no start
    assert actions("%") == actions("_ase.") == set()  # wildcards are plain characters
    both = _events(coordinator, action="flag.", username="cli", case_id=case["id"])
    assert [(event["actor"], event["action"]) for event in both] == [("clin", "flag.verdict")]


def test_reading_the_trail_changes_nothing_and_the_roles_are_as_before(
    anon: ApiClient, clinician: ApiClient, coordinator: ApiClient, admin: ApiClient, db: Session
) -> None:
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    newest = db.scalar(select(func.max(AuditEvent.id)))
    for _ in range(2):
        assert coordinator.get("/api/audit", params={"username": "cl", "action": "login"}).status_code == 200
        assert admin.get("/api/audit").status_code == 200
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert db.scalar(select(func.max(AuditEvent.id))) == newest
    assert clinician.get("/api/audit").status_code == 403
    assert anon.get("/api/audit").status_code == 401


@pytest.mark.parametrize("params", [{"username": "x" * 65}, {"action": "x" * 65}, {"case_id": "seven"}])
def test_malformed_filters_are_refused(coordinator: ApiClient, params: dict) -> None:
    assert coordinator.get("/api/audit", params=params).status_code == 422
