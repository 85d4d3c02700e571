"""What the worker keeps of the engine's result: the acquisition checks ("quality") and the rescan triage
(stored, shown, sorted, exported), and the smallest flag size (stored, shown)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from neurotriage.core.storage import get_storage
from neurotriage.jobs import result_fields, runner
from neurotriage.jobs.models import Failure, Job, JobStatus, Result
from neurotriage.jobs.service import transition
from sqlalchemy import select

from tests.backend.conftest import ApiClient
from tests.backend.factories import finish_job
from tests.backend.helpers import upload_case

MISSING = {
    "kind": "missing_slices",
    "axis": 2,
    "planes": [40, 47],
    "extent_mm": 16.0,
    "message": "16 mm of slices missing inside the brain (inferior-superior axis, planes 40-47); rescan recommended.",
}
CUT = {
    "kind": "cut_off",
    "axis": 2,
    "planes": [59, 59],
    "extent_mm": 2.0,
    "message": "The brain is cut off at the last slice of the inferior-superior axis (plane 59 still holds 31% of "
    "the largest slice's brain); rescan with full coverage.",
}


def _engine_result(triage: str, **extra: Any) -> dict[str, Any]:
    """What Analyzer.analyse returns (result.json), without the volumes."""
    return {
        "score": 0.011,
        "mean_error": 0.004,
        "initial_mean_error": 0.02,
        "mask_volume_mm3": 1200.0,
        "triage": triage,
        "threshold": 0.05,
        "passes": 40,
        "seconds": 3.2,
        "flags": [],
        "model": {"name": "itermask3d-tiny-t1", "version": "test", "trained": False},
        **extra,
    }


@pytest.fixture
def engine_out(tmp_path: Path) -> Path:
    """Stand-in volumes where the engine writes its result files."""
    out_dir = tmp_path / "engine-out"
    out_dir.mkdir()
    for kind in runner.RESULT_FILES:
        (out_dir / f"{kind}.nii.gz").write_bytes(b"stand-in volume")
    return out_dir


@pytest.fixture
def store(db, scope, engine_out: Path) -> Callable[[int, dict[str, Any]], Result]:  # type: ignore[no-untyped-def]
    """The worker's save_result for a case's running job."""

    def run(case_id: int, result: dict[str, Any]) -> Result:
        job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
        transition(db, job, JobStatus.running)
        db.commit()
        assert runner.save_result(job.id, engine_out, result, get_storage(), scope=scope)
        assert job.status == JobStatus.succeeded
        return db.scalars(select(Result).where(Result.job_id == job.id)).one()

    return run


def _running_job(clinician: ApiClient, db, tmp_path: Path, label: str) -> tuple[int, Job]:  # type: ignore[no-untyped-def]
    case_id = upload_case(clinician, tmp_path, label)
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    transition(db, job, JobStatus.running)
    db.commit()
    return case_id, job


def test_a_late_result_does_not_revive_a_job_that_was_failed(
    clinician: ApiClient, db, scope, engine_out: Path, storage_dir: Path, tmp_path: Path
) -> None:
    case_id, job = _running_job(clinician, db, tmp_path, "stale")
    transition(db, job, JobStatus.failed, error="stale", failure=Failure.worker_stopped)  # what housekeeping does past the time limit
    db.commit()
    assert not runner.save_result(job.id, engine_out, _engine_result("review"), get_storage(), scope=scope)
    assert clinician.get(f"/api/cases/{case_id}").json()["status"] == "failed"
    assert not (storage_dir / "cases" / str(case_id) / "jobs").exists()


def test_a_result_that_cannot_be_stored_leaves_no_files(
    clinician: ApiClient, db, scope, engine_out: Path, storage_dir: Path, tmp_path: Path
) -> None:
    case_id, job = _running_job(clinician, db, tmp_path, "broken result")
    broken = {key: value for key, value in _engine_result("review").items() if key != "flags"}
    with pytest.raises(KeyError):
        runner.save_result(job.id, engine_out, broken, get_storage(), scope=scope)
    assert not list((storage_dir / "cases" / str(case_id)).glob("jobs/**/*.nii.gz"))
    assert clinician.get(f"/api/cases/{case_id}").json()["status"] == "running"


def test_quality_issues_and_rescan_triage_are_stored_and_shown_on_the_case(
    clinician: ApiClient, store, tmp_path: Path
) -> None:
    case_id = upload_case(clinician, tmp_path, "gappy scan")
    row = store(case_id, _engine_result("rescan", quality=[{**MISSING, "debug": {"tissue": [1, 2]}}, CUT]))
    # Only the five known keys are kept.
    assert row.triage == "rescan" and row.priority == 3
    assert row.quality_issues == [MISSING, CUT]
    body = clinician.get(f"/api/cases/{case_id}").json()
    assert body["status"] == "succeeded"
    assert body["triage"] == "rescan" and body["rescan_recommended"] is True
    assert body["quality"] == [MISSING, CUT]
    [summary] = clinician.get("/api/cases").json()["items"]
    assert summary["triage"] == "rescan" and summary["rescan_recommended"] is True
    assert "quality" not in summary


def test_result_of_an_older_engine_without_quality_stores_no_issues(
    clinician: ApiClient, store, tmp_path: Path
) -> None:
    case_id = upload_case(clinician, tmp_path, "older engine")
    row = store(case_id, _engine_result("review"))
    assert row.quality_issues == [] and row.priority == 2
    body = clinician.get(f"/api/cases/{case_id}").json()
    assert body["quality"] == [] and body["rescan_recommended"] is False and body["triage"] == "review"


def test_malformed_quality_entries_are_cleaned_up_not_fatal() -> None:
    assert result_fields.quality_issues(None) == []
    assert result_fields.quality_issues({"kind": "cut_off"}) == []
    cleaned = result_fields.quality_issues(
        [
            "16 mm missing",
            {"kind": "cut_off"},
            {"kind": "missing_slices", "axis": True, "planes": [1], "extent_mm": float("nan"), "message": "  Gap.  "},
            {"kind": "motion", "axis": 7, "planes": (3, 5), "extent_mm": 4, "message": "Motion; rescan."},
        ]
    )
    assert cleaned == [
        {"kind": "cut_off", "axis": None, "planes": None, "extent_mm": None,
         "message": "Acquisition problem (cut off); rescan recommended."},
        {"kind": "missing_slices", "axis": None, "planes": None, "extent_mm": None, "message": "Gap."},
        {"kind": "motion", "axis": None, "planes": [3, 5], "extent_mm": 4.0, "message": "Motion; rescan."},
    ]


def test_smallest_flag_size_is_stored_and_shown_in_ml(clinician: ApiClient, store, tmp_path: Path) -> None:
    case_id = upload_case(clinician, tmp_path, "t1 scan")
    row = store(case_id, _engine_result("routine", details={"gamma": 0.05, "min_flag_mm3": 800.0}))
    assert row.min_flag_mm3 == 800.0
    assert clinician.get(f"/api/cases/{case_id}").json()["min_flag_ml"] == pytest.approx(0.8)
    # an engine that did not say stores nothing rather than a guess
    older = upload_case(clinician, tmp_path, "older engine", seed=1)
    assert store(older, _engine_result("routine")).min_flag_mm3 is None
    assert clinician.get(f"/api/cases/{older}").json()["min_flag_ml"] is None


def test_malformed_smallest_flag_size_is_dropped_not_fatal() -> None:
    assert result_fields.smallest_flag_mm3({"min_flag_mm3": 120}) == 120.0
    for details in (None, [], {}, {"min_flag_mm3": None}, {"min_flag_mm3": "800"}, {"min_flag_mm3": True},
                    {"min_flag_mm3": 0}, {"min_flag_mm3": -5.0}, {"min_flag_mm3": float("inf")}):
        assert result_fields.smallest_flag_mm3(details) is None, details


def test_worklist_puts_urgent_before_rescan_before_review_before_routine(
    clinician: ApiClient, db, tmp_path: Path
) -> None:
    # Uploaded in an order that newest-first would not sort by triage.
    triages = ["review", "urgent", "routine", "rescan"]
    ids = [upload_case(clinician, tmp_path, f"case {triage}", seed=seed) for seed, triage in enumerate(triages)]
    jobs = {job.case_id: job.id for job in db.scalars(select(Job))}
    for case_id, triage in zip(ids, triages, strict=True):
        # An urgent finding stays urgent (and first) even when the scan also needs repeating.
        quality = [MISSING] if triage in ("rescan", "urgent") else None
        finish_job(db, jobs[case_id], triage=triage, quality=quality)
    items = clinician.get("/api/cases").json()["items"]
    assert [item["triage"] for item in items] == ["urgent", "rescan", "review", "routine"]
    assert [item["rescan_recommended"] for item in items] == [True, True, False, False]
    ascending = clinician.get("/api/cases", params={"order": "asc"}).json()["items"]
    assert [item["triage"] for item in ascending] == ["routine", "review", "rescan", "urgent"]


def test_export_carries_the_quality_messages_and_smallest_flag(
    clinician: ApiClient, coordinator: ApiClient, db, tmp_path: Path
) -> None:
    gappy, complete = (upload_case(clinician, tmp_path, label, seed=i) for i, label in enumerate(("gappy", "whole")))
    jobs = {job.case_id: job.id for job in db.scalars(select(Job))}
    finish_job(db, jobs[gappy], triage="rescan", quality=[MISSING, CUT], min_flag_mm3=None)
    finish_job(db, jobs[complete], triage="routine", min_flag_mm3=800.0)
    rows = {row["case_id"]: row for row in csv.DictReader(io.StringIO(coordinator.get("/api/export.csv").text))}
    assert rows[str(gappy)]["triage"] == "rescan"
    assert rows[str(gappy)]["quality"] == f"{MISSING['message']}; {CUT['message']}"
    assert rows[str(complete)]["quality"] == ""
    as_json = {row["case_id"]: row for row in coordinator.get("/api/export.json").json()}
    assert as_json[gappy]["quality"] == rows[str(gappy)]["quality"] and as_json[complete]["quality"] == ""
    # the run's smallest flag, for audits of missed findings; empty when the run did not record it
    assert float(rows[str(complete)]["min_flag_ml"]) == pytest.approx(0.8) and rows[str(gappy)]["min_flag_ml"] == ""
    assert as_json[complete]["min_flag_ml"] == pytest.approx(0.8) and as_json[gappy]["min_flag_ml"] is None


def test_weak_regions_left_out_of_the_flags_are_stored_and_shown(
    clinician: ApiClient, coordinator: ApiClient, store, tmp_path: Path
) -> None:
    # The engine leaves out regions far weaker than its strongest flag; the reader must still be able to find them.
    case_id = upload_case(clinician, tmp_path, "flair scan")
    weak = [{"volume_mm3": 450.0, "centroid_mm": [6.8, -31.7, -5.1], "max_anomaly": 0.05, "peak_ratio": 0.14}]
    row = store(case_id, _engine_result("review", details={"min_peak_ratio": 0.25, "weak_regions": weak}))
    assert row.min_peak_ratio == 0.25
    body = clinician.get(f"/api/cases/{case_id}").json()
    assert body["min_peak_ratio"] == 0.25
    assert body["weak_regions"] == [{"volume_ml": pytest.approx(0.45), "centroid_mm": [6.8, -31.7, -5.1],
                                     "anchor_mm": None, "peak_ratio": 0.14}]
    # an engine that did not say: no ratio, nothing left out
    older = upload_case(clinician, tmp_path, "older engine", seed=1)
    assert store(older, _engine_result("routine")).weak_regions == []
    assert clinician.get(f"/api/cases/{older}").json()["weak_regions"] == []
    assert clinician.get(f"/api/cases/{older}").json()["min_peak_ratio"] is None
    # a coordinator auditing a missed finding sees, per case, how many regions were left out
    rows = {row["case_id"]: row for row in csv.DictReader(io.StringIO(coordinator.get("/api/export.csv").text))}
    assert rows[str(case_id)]["weak_regions"] == "1" and rows[str(older)]["weak_regions"] == "0"
    as_json = {row["case_id"]: row for row in coordinator.get("/api/export.json").json()}
    assert as_json[case_id]["weak_regions"] == 1 and as_json[older]["weak_regions"] == 0


def test_malformed_weak_regions_are_dropped_not_fatal() -> None:
    good = {"volume_mm3": 130, "centroid_mm": [1, 2.5, -3], "peak_ratio": 0}
    assert result_fields.weak_regions({"weak_regions": [good]}) == [
        {"volume_mm3": 130.0, "centroid_mm": [1.0, 2.5, -3.0], "peak_ratio": 0.0}]
    bad = [None, "x", {}, {**good, "volume_mm3": 0}, {**good, "peak_ratio": 1.5}, {**good, "peak_ratio": True},
           {**good, "centroid_mm": [1, 2]}, {**good, "centroid_mm": [1, 2, float("nan")]}, {**good, "centroid_mm": "0,0,0"}]
    assert result_fields.weak_regions({"weak_regions": bad + [good]}) == result_fields.weak_regions({"weak_regions": [good]})
    for details in (None, {}, {"weak_regions": "none"}):
        assert result_fields.weak_regions(details) == []
    assert result_fields.min_peak_ratio({"min_peak_ratio": 0}) == 0.0 and result_fields.min_peak_ratio({"min_peak_ratio": 1}) == 1.0
    for value in (None, -0.1, 1.01, float("nan"), "0.25", False):
        assert result_fields.min_peak_ratio({"min_peak_ratio": value}) is None, value


VALIDATION = {
    "data": "synthetic", "cases": 80, "seeds": [0, 1], "recorded": "2026-12-05",
    "lesions": [{"kind": "tumour", "diameter_mm": 10.0, "total": 4, "found": 1, "median_dice": 0.0},
                {"kind": "small", "diameter_mm": None, "total": 22, "found": 3, "median_dice": 0.0}],
    "normals": {"scans": 12, "flagged": 1, "rescan": 0}, "artefacts": {"scans": 40, "rescan": 39, "flagged": 3},
}


def test_what_the_model_found_in_testing_is_stored_and_shown(clinician: ApiClient, store, tmp_path: Path) -> None:
    # A silent scan is only worth what the model found in testing: the reader sees those figures beside the result.
    case_id = upload_case(clinician, tmp_path, "t1 scan")
    engine_says = {**VALIDATION, "settings": {"gamma": 0.1}, "model": "itermask3d-fast-t1 0.1.0/abc", "profile": "fast"}
    model = {"name": "itermask3d-fast-t1", "version": "0.1.0/abc", "trained": True, "validation": engine_says}
    row = store(case_id, _engine_result("routine", model=model))
    assert row.model_validation == VALIDATION  # the engine's own bookkeeping (settings, digest) is not kept
    assert clinician.get(f"/api/cases/{case_id}").json()["model_validation"] == VALIDATION
    # a model (or setting) without a record, or a result from before: null, and the page says none was recorded
    older = upload_case(clinician, tmp_path, "older engine", seed=1)
    assert store(older, _engine_result("routine")).model_validation is None
    assert clinician.get(f"/api/cases/{older}").json()["model_validation"] is None
    # the worklist row says it too, where a routine scan is triaged: 3 of the 4 lesions of 1 cm missed in testing
    rows = {row["id"]: row for row in clinician.get("/api/cases").json()["items"]}
    assert rows[case_id]["missed_in_testing"] == {"missed": 3, "total": 4}
    assert rows[older]["missed_in_testing"] is None


def test_a_malformed_validation_is_dropped_not_fatal() -> None:
    def with_validation(validation: Any) -> dict[str, Any]:
        return {"name": "m", "version": "1", "validation": validation}

    assert result_fields.model_validation(with_validation(VALIDATION)) == VALIDATION
    tumour = VALIDATION["lesions"][0]
    bad = [None, "80 cases", {}, {**VALIDATION, "cases": 0}, {**VALIDATION, "normals": {"scans": 12}},
           {**VALIDATION, "lesions": [{**tumour, "found": 5}]}, {**VALIDATION, "lesions": [{**tumour, "total": "4"}]},
           {**VALIDATION, "lesions": [{**tumour, "median_dice": 1.5}]},
           # PostgreSQL's json cannot hold Infinity: stored, it would fail the whole result
           {**VALIDATION, "lesions": [{**tumour, "diameter_mm": float("inf")}]}]
    for validation in bad:
        assert result_fields.model_validation(with_validation(validation)) is None, validation
    assert result_fields.model_validation(None) is None and result_fields.model_validation({"name": "m"}) is None


def test_flag_anchors_are_stored_and_sent_so_the_viewer_lands_inside_each_flag(
    clinician: ApiClient, store, tmp_path: Path
) -> None:
    """A curved flag's centroid can lie outside it; the engine's anchor is a point of the flag itself. Results of an
    engine without anchors (or with a malformed one) keep their flags and send none: the app uses the centroid."""
    case_id = upload_case(clinician, tmp_path, "flair scan")
    flag = {"label": 1, "voxel_count": 400, "volume_mm3": 3200.0, "centroid_mm": [-25.4, 18.6, 23.5],
            "centroid_voxel": [40, 50, 30], "anchor_mm": [-31.0, 18.0, 22.0], "bbox_voxel": [[30, 40, 20], [50, 60, 40]],
            "mean_anomaly": 0.4, "max_anomaly": 1.0}
    broken = {**flag, "label": 2, "anchor_mm": [1, "x", 3]}
    older = {key: value for key, value in flag.items() if key != "anchor_mm"} | {"label": 3}
    weak = [{"volume_mm3": 450.0, "centroid_mm": [6.8, -31.7, -5.1], "anchor_mm": [7.0, -30.0, -5.0], "peak_ratio": 0.14}]
    store(case_id, _engine_result("urgent", flags=[flag, broken, older], details={"weak_regions": weak}))
    body = clinician.get(f"/api/cases/{case_id}").json()
    assert [f["anchor_mm"] for f in body["flags"]] == [[-31.0, 18.0, 22.0], None, None]
    assert body["weak_regions"][0]["anchor_mm"] == [7.0, -30.0, -5.0]
