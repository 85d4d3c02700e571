from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from neurotriage.reports.router import spreadsheet_safe
from neurotriage.users.service import create_user
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.backend.conftest import PASSWORD, ApiClient
from tests.backend.helpers import analysed_case


def _reader(app, db, name: str) -> ApiClient:  # type: ignore[no-untyped-def]
    create_user(db, name, PASSWORD, ["clinician"])
    db.commit()
    client = ApiClient(app)
    client.login(name)
    return client


def test_audit_trail_filters_by_user_case_action_and_time(
    clinician: ApiClient, coordinator: ApiClient, db, tmp_path: Path
) -> None:
    case = analysed_case(clinician, db, tmp_path, "audited")
    clinician.put(f"/api/flags/{case['flags'][0]['id']}/verdict", json={"verdict": "accept"})
    page = coordinator.get("/api/audit", params={"case_id": case["id"]}).json()
    actions = [item["action"] for item in page["items"]]
    assert actions[0] == "flag.verdict" and "case.uploaded" in actions and "case.viewed" in actions
    verdicts = coordinator.get("/api/audit", params={"username": "clin", "action": "flag.verdict"}).json()
    assert verdicts["total"] == 1 and verdicts["items"][0]["actor"] == "clin"
    logins = coordinator.get("/api/audit", params={"action": "login."}).json()["items"]
    assert {item["action"] for item in logins} == {"login.succeeded"}
    future = coordinator.get("/api/audit", params={"since": "2999-01-01T00:00:00Z"}).json()
    assert future["total"] == 0


def test_stats_count_verdicts_per_model_and_reviewer_and_agreement(
    clinician: ApiClient, coordinator: ApiClient, app, db, tmp_path: Path
) -> None:
    case = analysed_case(clinician, db, tmp_path, "read twice")
    second = _reader(app, db, "clin2")
    first_flag, second_flag = (flag["id"] for flag in case["flags"])
    clinician.put(f"/api/flags/{first_flag}/verdict", json={"verdict": "accept"})
    clinician.put(f"/api/flags/{second_flag}/verdict", json={"verdict": "reject"})
    second.put(f"/api/flags/{first_flag}/verdict", json={"verdict": "accept"})
    second.put(f"/api/flags/{second_flag}/verdict", json={"verdict": "accept"})
    clinician.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "abnormal"})
    second.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "abnormal"})
    stats = coordinator.get("/api/stats").json()
    assert stats["flags_by_model"] == [{"model": "itermask3d-fast-t1 test", "accept": 3, "reject": 1, "unsure": 0}]
    assert {r["reviewer"]: (r["accept"], r["reject"]) for r in stats["flags_by_reviewer"]} == {
        "clin": (1, 1),
        "clin2": (2, 0),
    }
    assert stats["case_verdicts"]["abnormal"] == 2
    assert stats["agreement"]["flag_verdicts"]["pairs"] == 2
    assert stats["agreement"]["flag_verdicts"]["percent_agreement"] == 50.0
    assert stats["agreement"]["case_verdicts"]["percent_agreement"] == 100.0
    assert stats["turnaround"]["upload_to_first_verdict"]["count"] == 1


def test_agreement_counts_first_reads_not_verdicts_changed_after_seeing_the_others(
    clinician: ApiClient, coordinator: ApiClient, app, db, tmp_path: Path
) -> None:
    """Once a clinician's case verdict is in, the other readers' verdicts show; changing one's own then to match
    them must not turn a disagreement of independent reads into agreement."""
    case = analysed_case(clinician, db, tmp_path, "read, then revised")
    second = _reader(app, db, "clin2")
    flag = case["flags"][0]["id"]
    clinician.put(f"/api/flags/{flag}/verdict", json={"verdict": "accept"})
    clinician.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "abnormal"})
    second.put(f"/api/flags/{flag}/verdict", json={"verdict": "reject"})
    assert second.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "normal"}).status_code == 200
    # now unblinded, the second reader sees the first's and follows them
    assert second.put(f"/api/flags/{flag}/verdict", json={"verdict": "accept"}).status_code == 200
    assert second.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "abnormal"}).status_code == 200
    agreement = coordinator.get("/api/stats").json()["agreement"]
    for kind in ("case_verdicts", "flag_verdicts"):
        assert agreement[kind]["pairs"] == 1 and agreement[kind]["percent_agreement"] == 0.0, kind
        assert agreement[kind]["revised"] == 1, kind


def test_agreement_leaves_out_first_reads_given_with_another_readers_verdict_in_view(
    clinician: ApiClient, coordinator: ApiClient, app, db, tmp_path: Path
) -> None:
    """Blind reading holds a clinician's first read apart only until their own case verdict: a flag read after it
    (one of a later run), or any read by someone who also coordinates (never blind), may follow what is on screen.
    Agreement counts such a first read only when no other reader had given a verdict on the case yet."""
    first_case = analysed_case(clinician, db, tmp_path, "unblinded reader")
    other = _reader(app, db, "clin2")
    create_user(db, "readcoord", PASSWORD, ["clinician", "coordinator"])
    db.commit()
    auditing_reader = ApiClient(app)
    auditing_reader.login("readcoord")
    flag, later_flag = (f["id"] for f in first_case["flags"])
    # the clinician's case verdict is in (so the case is no longer blind for them) before anyone else read it
    clinician.put(f"/api/cases/{first_case['id']}/verdict", json={"verdict": "abnormal"})
    other.put(f"/api/flags/{later_flag}/verdict", json={"verdict": "reject"})
    clinician.put(f"/api/flags/{later_flag}/verdict", json={"verdict": "reject"})  # clin2's verdict in view
    # a reader who also coordinates reads first, with nothing else on the case: independent
    second_case = analysed_case(clinician, db, tmp_path, "coordinator reads first", seed=1)
    second_flag = second_case["flags"][0]["id"]
    auditing_reader.put(f"/api/flags/{second_flag}/verdict", json={"verdict": "accept"})
    other.put(f"/api/flags/{second_flag}/verdict", json={"verdict": "reject"})
    # ...and then again on the first case, where the others' verdicts are in view
    auditing_reader.put(f"/api/flags/{flag}/verdict", json={"verdict": "accept"})
    other.put(f"/api/flags/{flag}/verdict", json={"verdict": "accept"})

    flags = coordinator.get("/api/stats").json()["agreement"]["flag_verdicts"]
    # counted: later_flag by clin2 alone (clin's read left out), second_flag by both (disagree), flag by clin2
    # alone (readcoord's read left out): one pair, in disagreement
    assert flags["not_independent"] == 2
    assert (flags["pairs"], flags["percent_agreement"]) == (1, 0.0)
    events = db.execute(text(
        "SELECT detail->>'independent' FROM audit_events WHERE action = 'flag.verdict' ORDER BY id")).scalars().all()
    assert events == ["true", "false", "true", "true", "false", "true"]


def test_csv_export_has_one_row_per_case_and_defuses_formulas(
    clinician: ApiClient, coordinator: ApiClient, db, tmp_path: Path
) -> None:
    case = analysed_case(clinician, db, tmp_path, "=HYPERLINK(evil)")
    clinician.put(f"/api/flags/{case['flags'][0]['id']}/verdict", json={"verdict": "reject"})
    clinician.put(f"/api/cases/{case['id']}/verdict", json={"verdict": "normal"})
    response = coordinator.get("/api/export.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    assert rows[0]["label"] == "'=HYPERLINK(evil)"
    assert rows[0]["flags_rejected"] == "1" and rows[0]["case_verdicts"] == "clin: normal"
    as_json = coordinator.get("/api/export.json").json()
    assert as_json[0]["case_id"] == case["id"] and as_json[0]["flags"] == 2


def test_every_formula_start_a_spreadsheet_knows_is_defused() -> None:
    # tab and CR too: a spreadsheet trims them and runs what follows (no column takes them today; labels are stripped)
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert spreadsheet_safe(text) == "'" + text
    assert spreadsheet_safe("clin: normal") == "clin: normal" and spreadsheet_safe(-1) == -1


def test_audit_rows_cannot_be_changed_or_deleted(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO audit_events (at, action, detail) VALUES (now(), 'test.event', '{}')"))
        for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"):
                with connection.begin_nested():
                    connection.execute(text(statement))
        connection.rollback()
