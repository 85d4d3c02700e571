"""What each reader sees of the others' reading, and what the audit trail says about files loaded ahead."""

from __future__ import annotations

from pathlib import Path

from neurotriage.audit.models import AuditEvent
from neurotriage.users.service import create_user
from sqlalchemy import select

from tests.backend.conftest import PASSWORD, ApiClient
from tests.backend.helpers import analysed_case


def test_other_readers_verdicts_are_shown_once_the_viewer_has_read_the_case(
    app, clinician: ApiClient, coordinator: ApiClient, db, tmp_path: Path
) -> None:
    """A coordinator auditing a case must see that it was read and what was decided, not "not reviewed". A second
    clinician reads blind: told that others read the case, shown what they decided (and marked) only once their own
    case verdict is in, so each read stays independent. Each reader edits only their own verdicts."""
    case = analysed_case(clinician, db, tmp_path)
    first_flag, second_flag = (flag["id"] for flag in case["flags"][:2])
    clinician.put(f"/api/flags/{first_flag}/verdict", json={"verdict": "reject", "reason": "vessel"})
    clinician.post(f"/api/cases/{case['id']}/findings", json={"point_mm": [1.0, 2.0, 3.0], "comment": "missed"})
    clinician.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "abnormal", "comment": "mass left frontal"})
    create_user(db, "clin2", PASSWORD, ["clinician"])
    db.commit()
    second = ApiClient(app)
    second.login("clin2")
    second.put(f"/api/flags/{second_flag}/verdict", json={"verdict": "accept"})

    blind = second.get(f"/api/cases/{case['id']}").json()
    assert blind["other_readers"] == 1 and blind["other_verdicts_hidden"] is True
    assert blind["other_case_verdicts"] == [] and blind["findings"] == []
    assert all(flag["other_verdicts"] == [] for flag in blind["flags"])
    assert {f["id"]: f for f in blind["flags"]}[second_flag]["verdict"]["reviewer"] == "clin2"

    second.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "normal"})
    read = second.get(f"/api/cases/{case['id']}").json()
    assert read["other_verdicts_hidden"] is False and read["case_verdict"]["reviewer"] == "clin2"
    flags = {flag["id"]: flag for flag in read["flags"]}
    assert flags[first_flag]["verdict"] is None
    assert [(v["reviewer"], v["verdict"], v["reason"]) for v in flags[first_flag]["other_verdicts"]] == [
        ("clin", "reject", "vessel")
    ]
    assert [(v["reviewer"], v["verdict"], v["comment"]) for v in read["other_case_verdicts"]] == [
        ("clin", "abnormal", "mass left frontal")
    ]
    assert [finding["reviewer"] for finding in read["findings"]] == ["clin"]

    seen_by_first = clinician.get(f"/api/cases/{case['id']}").json()
    assert [v["reviewer"] for v in seen_by_first["other_case_verdicts"]] == ["clin2"]
    assert [v["reviewer"] for v in {f["id"]: f for f in seen_by_first["flags"]}[second_flag]["other_verdicts"]] == [
        "clin2"
    ]

    audited = coordinator.get(f"/api/cases/{case['id']}").json()
    assert audited["other_verdicts_hidden"] is False and audited["other_readers"] == 2
    assert [v["reviewer"] for v in audited["other_case_verdicts"]] == ["clin", "clin2"]
    assert {f["id"]: len(f["other_verdicts"]) for f in audited["flags"]} == {first_flag: 1, second_flag: 1}


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
