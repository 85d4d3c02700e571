"""What each reader sees of the others' reading, and what the audit trail says about files loaded ahead."""

from __future__ import annotations

from pathlib import Path

from neurotriage.audit.models import AuditEvent
from neurotriage.users.service import create_user
from sqlalchemy import select

from tests.backend.conftest import PASSWORD, ApiClient
from tests.backend.helpers import analysed_case


def test_other_readers_verdicts_are_shown_beside_the_viewers_own(
    app, clinician: ApiClient, coordinator: ApiClient, db, tmp_path: Path
) -> None:
    """A coordinator auditing a case, or a second reader, must see that it was read and what was decided,
    not "not reviewed"; each reader still edits only their own verdicts."""
    case = analysed_case(clinician, db, tmp_path)
    first_flag, second_flag = (flag["id"] for flag in case["flags"][:2])
    clinician.put(f"/api/flags/{first_flag}/verdict", json={"verdict": "reject", "reason": "vessel"})
    clinician.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "abnormal", "comment": "mass left frontal"})
    create_user(db, "clin2", PASSWORD, ["clinician"])
    db.commit()
    second = ApiClient(app)
    second.login("clin2")
    second.put(f"/api/flags/{second_flag}/verdict", json={"verdict": "accept"})

    seen_by_second = second.get(f"/api/cases/{case['id']}").json()
    flags = {flag["id"]: flag for flag in seen_by_second["flags"]}
    assert flags[first_flag]["verdict"] is None
    assert [(v["reviewer"], v["verdict"], v["reason"]) for v in flags[first_flag]["other_verdicts"]] == [
        ("clin", "reject", "vessel")
    ]
    assert flags[second_flag]["verdict"]["reviewer"] == "clin2" and flags[second_flag]["other_verdicts"] == []
    assert seen_by_second["case_verdict"] is None
    assert [(v["reviewer"], v["verdict"], v["comment"]) for v in seen_by_second["other_case_verdicts"]] == [
        ("clin", "abnormal", "mass left frontal")
    ]

    seen_by_first = clinician.get(f"/api/cases/{case['id']}").json()
    assert seen_by_first["case_verdict"]["reviewer"] == "clin" and seen_by_first["other_case_verdicts"] == []
    assert [v["reviewer"] for v in {f["id"]: f for f in seen_by_first["flags"]}[second_flag]["other_verdicts"]] == [
        "clin2"
    ]

    audited = coordinator.get(f"/api/cases/{case['id']}").json()
    assert audited["case_verdict"] is None
    assert [v["reviewer"] for v in audited["other_case_verdicts"]] == ["clin"]
    assert {f["id"]: len(f["other_verdicts"]) for f in audited["flags"]}[first_flag] == 1


def test_a_file_loaded_ahead_is_audited_as_prefetched_not_as_downloaded(
    clinician: ApiClient, db, tmp_path: Path
) -> None:
    case = analysed_case(clinician, db, tmp_path)
    assert clinician.get(f"/api/cases/{case['id']}/files/scan?prefetch=true").status_code == 200
    assert clinician.get(f"/api/cases/{case['id']}/files/scan").status_code == 200
    rows = db.execute(
        select(AuditEvent.action, AuditEvent.detail).where(AuditEvent.case_id == case["id"],
                                                          AuditEvent.action.like("case.file%"))
        .order_by(AuditEvent.id)
    ).all()
    assert [(action, detail["kind"]) for action, detail in rows] == [
        ("case.file_prefetched", "scan"), ("case.file_downloaded", "scan")
    ]
