"""Worklist filters a coordinator auditing flagged cases needs (triage, flagged only, not screened for lesions), on
real PostgreSQL: each returns exactly the cases whose row shows that triage chip, a flag count above 0, or the
"not screened" chip, i.e. it looks at the shown result (the newest successful run's), and combines with the other
filters and paging."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from neurotriage.cases.models import Case
from neurotriage.jobs.models import TRIAGE_PRIORITY, Flag, Job, JobStatus, Result, Screening
from neurotriage.users.service import create_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.backend.conftest import PASSWORD, ApiClient

GAP = [{"kind": "missing_slices", "axis": 2, "planes": [3, 9], "extent_mm": 7.0, "message": "Slices missing."}]


def _result(db: Session, job: Job, triage: str, flags: int, screening: str, quality: list[dict[str, Any]]) -> None:
    job.status = JobStatus.succeeded
    job.progress = 100
    checks = screening == Screening.checks
    result = Result(
        job_id=job.id, case_id=job.case_id, screening=screening, score=None if checks else 0.02,
        mean_error=None if checks else 0.004, mask_volume_mm3=None if checks else 100.0, triage=triage,
        priority=TRIAGE_PRIORITY[triage], threshold=None if checks else 0.05, passes=None if checks else 10,
        seconds=1.0, model_name="itermask3d-fast-t1", model_version="test", model_trained=True, files={},
        quality_issues=quality,
    )
    db.add(result)
    db.flush()
    for label in range(1, flags + 1):
        db.add(Flag(result_id=result.id, label=label, voxel_count=10, volume_mm3=100.0, centroid_mm=[0.0, 0.0, 0.0],
                    centroid_voxel=[1, 1, 1], bbox_voxel=[[0, 0, 0], [2, 2, 2]], mean_anomaly=0.5, max_anomaly=0.9))


def _case(
    db: Session,
    uploader: int,
    label: str,
    runs: list[dict[str, Any] | None],
) -> int:
    """A case with one job per run, oldest first: a dict makes a succeeded run with that result (triage, flags,
    screening, quality), None a run that is still queued."""
    case = Case(label=label, sequence="t1", scan_key=f"cases/{label}/scan.nii.gz",
                content_sha256=hashlib.sha256(label.encode()).hexdigest(), uploaded_by_id=uploader)
    db.add(case)
    db.flush()
    for run in runs:
        job = Job(case_id=case.id, model_profile="fast", status=JobStatus.queued)
        db.add(job)
        db.flush()
        if run is not None:
            _result(db, job, run.get("triage", "routine"), run.get("flags", 0), run.get("screening", Screening.lesions),
                    run.get("quality", []))
    db.commit()
    return case.id


@pytest.fixture
def worklist(db: Session, users: dict[str, int]) -> dict[str, int]:
    uploader = users["clinician"]
    return {
        "urgent": _case(db, uploader, "urgent", [{"triage": "urgent", "flags": 2}]),
        # an urgent finding on a scan that must also be repeated: the row shows "urgent" and "rescan"
        "urgent-gappy": _case(db, uploader, "urgent-gappy", [{"triage": "urgent", "flags": 1, "quality": GAP}]),
        "review": _case(db, uploader, "review", [{"triage": "review", "flags": 1}]),
        "rescan": _case(db, uploader, "rescan", [{"triage": "rescan", "quality": GAP}]),
        "routine": _case(db, uploader, "routine", [{"triage": "routine"}]),
        # T2: the rescan checks alone, no lesion search (the runner's triage for them: review or rescan)
        "checks": _case(db, uploader, "checks", [{"triage": "review", "screening": Screening.checks}]),
        "checks-gappy": _case(db, uploader, "checks-gappy",
                              [{"triage": "rescan", "screening": Screening.checks, "quality": GAP}]),
        "queued": _case(db, uploader, "queued", [None]),
        # a re-run is pending: the earlier (urgent, flagged) result stays in view, and so in the filters
        "rerun-pending": _case(db, uploader, "rerun-pending", [{"triage": "urgent", "flags": 3}, None]),
        # a newer run replaced an urgent result with a routine one: only the newer result counts
        "rerun-cleared": _case(db, uploader, "rerun-cleared", [{"triage": "urgent", "flags": 2}, {"triage": "routine"}]),
        # the other way round: an earlier checks-only run, then a lesion search (a model was installed since)
        "rerun-screened": _case(db, uploader, "rerun-screened",
                                [{"triage": "review", "screening": Screening.checks}, {"triage": "review", "flags": 1}]),
    }


def _labels(client: ApiClient, **params: Any) -> set[str]:
    response = client.get("/api/cases", params={"page_size": 100, **params})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return {item["label"] for item in page["items"]}


@pytest.mark.parametrize(
    ("triage", "expected"),
    [
        ("urgent", {"urgent", "urgent-gappy", "rerun-pending"}),
        ("review", {"review", "checks", "rerun-screened"}),
        # every row with a rescan chip: triage rescan, and the urgent one whose scan must also be repeated
        ("rescan", {"rescan", "urgent-gappy", "checks-gappy"}),
        ("routine", {"routine", "rerun-cleared"}),
    ],
)
def test_triage_filter_returns_exactly_the_cases_showing_that_triage(
    coordinator: ApiClient, worklist: dict[str, int], triage: str, expected: set[str]
) -> None:
    assert _labels(coordinator, triage=triage) == expected
    # and it agrees with what the rows say
    for item in coordinator.get("/api/cases", params={"triage": triage, "page_size": 100}).json()["items"]:
        assert item["triage"] == triage or (triage == "rescan" and item["rescan_recommended"])


def test_flagged_only_returns_exactly_the_cases_with_a_flag_in_the_shown_result(
    coordinator: ApiClient, worklist: dict[str, int]
) -> None:
    flagged = coordinator.get("/api/cases", params={"flagged": "true", "page_size": 100}).json()["items"]
    assert {item["label"] for item in flagged} == {"urgent", "urgent-gappy", "review", "rerun-pending", "rerun-screened"}
    assert all(item["flag_count"] > 0 for item in flagged)
    everything = coordinator.get("/api/cases", params={"page_size": 100}).json()["items"]
    assert {item["label"] for item in everything if item["flag_count"] > 0} == {item["label"] for item in flagged}
    assert _labels(coordinator, flagged="false") == set(worklist)  # false = no filter, as for unreviewed


def test_not_screened_returns_exactly_the_checks_only_results(coordinator: ApiClient, worklist: dict[str, int]) -> None:
    assert _labels(coordinator, screening="checks") == {"checks", "checks-gappy"}
    screened = _labels(coordinator, screening="lesions")
    assert screened == set(worklist) - {"checks", "checks-gappy", "queued"}  # a case without a result matches neither


def test_the_filters_combine_with_each_other_the_existing_filters_and_paging(
    coordinator: ApiClient, clinician: ApiClient, worklist: dict[str, int], db: Session
) -> None:
    assert _labels(coordinator, triage="urgent", flagged="1") == {"urgent", "urgent-gappy", "rerun-pending"}
    assert _labels(coordinator, triage="rescan", screening="checks") == {"checks-gappy"}
    assert _labels(coordinator, flagged="1", screening="checks") == set()  # no lesion search, no flags
    assert _labels(coordinator, triage="urgent", status="succeeded") == {"urgent", "urgent-gappy"}
    assert _labels(coordinator, triage="urgent", status="queued") == {"rerun-pending"}
    assert _labels(coordinator, flagged="1", q="urgent") == {"urgent", "urgent-gappy"}
    assert clinician.put(f"/api/cases/{worklist['urgent']}/verdict", json={"verdict": "abnormal"}).status_code == 200
    assert _labels(coordinator, triage="urgent", unreviewed="1") == {"urgent-gappy", "rerun-pending"}
    assert clinician.post(f"/api/cases/{worklist['review']}/claim").status_code == 200
    assert _labels(clinician, flagged="1", mine="1") == {"review"}

    # paging: the total counts every match, pages split them in the usual order (priority, score, newest)
    first = coordinator.get("/api/cases", params={"flagged": "1", "page_size": 2, "page": 1}).json()
    second = coordinator.get("/api/cases", params={"flagged": "1", "page_size": 2, "page": 2}).json()
    third = coordinator.get("/api/cases", params={"flagged": "1", "page_size": 2, "page": 3}).json()
    assert first["total"] == second["total"] == third["total"] == 5
    labels = [item["label"] for page in (first, second, third) for item in page["items"]]
    # urgent before review; equal scores, so the newest first
    assert labels == ["rerun-pending", "urgent-gappy", "urgent", "rerun-screened", "review"]
    ascending = coordinator.get("/api/cases", params={"triage": "urgent", "order": "asc", "page_size": 1}).json()
    assert ascending["total"] == 3 and len(ascending["items"]) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"triage": "bogus"},
        {"triage": "URGENT"},
        {"triage": ""},
        {"screening": "none"},
        {"screening": "lesion"},
        {"flagged": "maybe"},
    ],
)
def test_unknown_filter_values_are_refused(coordinator: ApiClient, worklist: dict[str, int], params: dict) -> None:
    response = coordinator.get("/api/cases", params=params)
    assert response.status_code == 422, response.text


def test_clinicians_get_the_filters_too_and_admins_still_do_not_read_the_worklist(
    clinician: ApiClient, admin: ApiClient, worklist: dict[str, int]
) -> None:
    assert _labels(clinician, triage="urgent", flagged="1") == {"urgent", "urgent-gappy", "rerun-pending"}
    assert admin.get("/api/cases", params={"flagged": "1"}).status_code == 403


def test_a_second_reader_finds_the_cases_they_have_not_read_whoever_else_has(
    app, clinician: ApiClient, coordinator: ApiClient, worklist: dict[str, int], db: Session
) -> None:  # type: ignore[no-untyped-def]
    """Reads are blind and double reading is the point of the statistics' agreement: a case the first reader has
    read is still unread by the second, and their list says so; a coordinator's "unreviewed" means nobody's."""
    create_user(db, "clin2", PASSWORD, ["clinician"])
    db.commit()
    second = ApiClient(app)
    second.login("clin2")
    assert clinician.put(f"/api/cases/{worklist['urgent']}/verdict", json={"verdict": "abnormal"}).status_code == 200
    flag = db.scalars(select(Flag.id).join(Result).where(Result.case_id == worklist["review"])).first()
    assert second.put(f"/api/flags/{flag}/verdict", json={"verdict": "accept"}).status_code == 200

    urgent = {"triage": "urgent", "flagged": "1"}
    assert _labels(second, **urgent, unread_by_me="1") == {"urgent", "urgent-gappy", "rerun-pending"}
    assert _labels(clinician, **urgent, unread_by_me="1") == {"urgent-gappy", "rerun-pending"}
    assert _labels(coordinator, **urgent, unreviewed="1") == {"urgent-gappy", "rerun-pending"}

    def states(client: ApiClient, label: str) -> tuple[str, str]:
        row = next(i for i in client.get("/api/cases", params={"q": label, "page_size": 100}).json()["items"]
                   if i["label"] == label)
        return row["review_state"], row["my_review_state"]

    assert states(clinician, "urgent") == ("reviewed", "reviewed")
    assert states(second, "urgent") == ("reviewed", "unreviewed")
    assert states(second, "review") == ("in_progress", "in_progress")
    assert states(clinician, "review") == ("in_progress", "unreviewed")


def test_a_coordinator_finds_the_cases_whose_readers_disagree_and_a_blind_reader_only_once_they_have_read(
    app, clinician: ApiClient, coordinator: ApiClient, worklist: dict[str, int], db: Session
) -> None:  # type: ignore[no-untyped-def]
    create_user(db, "clin2", PASSWORD, ["clinician"])
    create_user(db, "clin3", PASSWORD, ["clinician"])
    db.commit()
    second, third = ApiClient(app), ApiClient(app)
    second.login("clin2")
    third.login("clin3")
    for case, first_says, second_says in (("urgent", "abnormal", "normal"), ("review", "abnormal", "abnormal")):
        assert clinician.put(f"/api/cases/{worklist[case]}/verdict", json={"verdict": first_says}).status_code == 200
        assert second.put(f"/api/cases/{worklist[case]}/verdict", json={"verdict": second_says}).status_code == 200

    assert _labels(coordinator, disputed="1") == {"urgent"}
    assert _labels(clinician, disputed="1") == {"urgent"}  # they read it: the others' verdicts show anyway
    assert _labels(third, disputed="1") == set()  # not read yet: reads stay blind
    rows = {row["label"]: row for row in coordinator.get("/api/cases", params={"page_size": 100}).json()["items"]}
    assert rows["urgent"]["readers_disagree"] and not rows["review"]["readers_disagree"]
    unread = {row["label"]: row for row in third.get("/api/cases", params={"page_size": 100}).json()["items"]}
    assert not unread["urgent"]["readers_disagree"]
    exported = {row["case_id"]: row for row in coordinator.get("/api/export.json").json()}
    assert exported[worklist["urgent"]]["readers_disagree"] and not exported[worklist["review"]]["readers_disagree"]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorting_by_score_puts_the_cases_without_one_last_either_way(
    coordinator: ApiClient, worklist: dict[str, int], db: Session, order: str
) -> None:
    result = db.scalars(select(Result).where(Result.case_id == worklist["review"])).one()
    result.score = 0.5
    db.commit()
    items = coordinator.get("/api/cases", params={"sort": "score", "order": order, "page_size": 100}).json()["items"]
    scores = [item["score"] for item in items]
    scored = [score for score in scores if score is not None]
    assert scores == scored + [None] * (len(scores) - len(scored)) and len(scored) < len(scores)
    assert scored == sorted(scored, reverse=order == "desc") and scored[0 if order == "desc" else -1] == 0.5


def test_a_case_whose_analysis_failed_sorts_after_the_rescans_not_below_the_routine_ones(
    coordinator: ApiClient, worklist: dict[str, int], db: Session
) -> None:
    """Someone must act on it (re-run, upload again, or read it unaided); at the bottom nobody would."""
    failed = _case(db, db.get(Case, worklist["routine"]).uploaded_by_id, "failed", [None])
    job = db.scalars(select(Job).where(Job.case_id == failed)).one()
    job.status = JobStatus.failed
    db.commit()
    order = [item["label"] for item in coordinator.get("/api/cases", params={"page_size": 100}).json()["items"]]
    assert order.index("failed") == max(order.index(label) for label in ("rescan", "checks-gappy")) + 1
    assert order.index("failed") < min(order.index(label) for label in ("review", "routine", "queued"))
