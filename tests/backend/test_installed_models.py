"""The API offers and accepts only what the workers said they can run (their report of installed models)."""

from __future__ import annotations

from pathlib import Path

import pytest
from neurotriage.cases.models import Case
from neurotriage.config import Settings
from neurotriage.jobs.inventory import model_reports, publish_installed_models
from neurotriage.jobs.models import Job
from neurotriage.jobs.service import ModelReport, installed_models, replace_installed_models
from sqlalchemy import func, select

from tests.backend.conftest import ApiClient
from tests.backend.helpers import analysed_case
from tests.backend.volumes import brain_like, write_nifti

NO_PAPER = "no trained paper-profile model for T1 scans (paper_t1.pt is not installed)"


def _report(db, *available: tuple[str, str]) -> None:
    """A worker's report: the pairs given are available, every other fast/paper pair is not."""
    pairs = [(p, s) for p in ("fast", "paper") for s in ("t1", "t2", "flair")]
    replace_installed_models(db, [
        ModelReport(p, s, (p, s) in available, (p, s) in available, None if (p, s) in available else NO_PAPER)
        for p, s in pairs
    ])
    db.commit()


def _upload(client: ApiClient, tmp_path: Path, sequence: str):  # type: ignore[no-untyped-def]
    path = write_nifti(tmp_path / f"scan_{sequence}.nii.gz", data=brain_like(seed=5))
    with path.open("rb") as handle:
        return client.post("/api/cases", files=[("files", (path.name, handle))], data={"sequence": sequence})


def test_before_any_worker_reports_the_catalogue_is_empty_and_says_so(admin: ApiClient, db) -> None:
    catalogue = admin.get("/api/models").json()
    assert catalogue == {"default_profile": "fast", "reported_at": None, "models": [], "checks_only_sequences": []}


def test_the_catalogue_lists_what_the_worker_reported(clinician: ApiClient, db) -> None:
    _report(db, ("fast", "t1"), ("fast", "flair"))
    catalogue = clinician.get("/api/models").json()
    assert catalogue["reported_at"] is not None and len(catalogue["models"]) == 6
    available = {(m["profile"], m["sequence"]) for m in catalogue["models"] if m["available"]}
    assert available == {("fast", "t1"), ("fast", "flair")}
    paper_t1 = next(m for m in catalogue["models"] if (m["profile"], m["sequence"]) == ("paper", "t1"))
    assert paper_t1["reason"] == NO_PAPER and paper_t1["trained"] is False


def test_a_new_report_replaces_the_old_one(clinician: ApiClient, db) -> None:
    _report(db, ("fast", "t1"), ("paper", "t1"))
    _report(db, ("fast", "t1"))
    available = {(m["profile"], m["sequence"]) for m in clinician.get("/api/models").json()["models"] if m["available"]}
    assert available == {("fast", "t1")}


def test_a_rerun_with_a_profile_that_cannot_run_is_refused_before_queueing(
    clinician: ApiClient, db, broker, tmp_path: Path
) -> None:
    case = analysed_case(clinician, db, tmp_path)
    _report(db, ("fast", "t1"), ("fast", "flair"))
    broker.delete("gpu")
    response = clinician.post(f"/api/cases/{case['id']}/runs", json={"model_profile": "paper"})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "No trained T1 model is installed for the 'paper' profile. Profiles with a T1 model: fast."
    )
    assert db.scalar(select(func.count()).select_from(Job).where(Job.case_id == case["id"])) == 1
    assert broker.llen("gpu") == 0
    assert clinician.post(f"/api/cases/{case['id']}/runs", json={"model_profile": "fast"}).status_code == 201


def test_an_upload_the_default_profile_cannot_analyse_is_refused_and_nothing_is_stored(
    clinician: ApiClient, db, broker, tmp_path: Path, storage_dir: Path
) -> None:
    # Only the paper profile reads FLAIR here, and uploads run the default (fast): a full analysis is one
    # re-run away, so the upload is refused rather than checked only (a sequence no profile reads: test_checks_only).
    _report(db, ("fast", "t1"), ("paper", "flair"))
    broker.delete("gpu")
    refused = _upload(clinician, tmp_path, "flair")
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "No trained FLAIR model is installed for the 'fast' profile. Profiles with a FLAIR model: paper."
    )
    assert db.scalar(select(func.count()).select_from(Case)) == 0
    assert list(storage_dir.rglob("*.nii.gz")) == [] and broker.llen("gpu") == 0
    assert _upload(clinician, tmp_path, "t1").status_code == 201


def test_the_workers_report_comes_from_the_engine_catalogue() -> None:
    reports = {(r.profile, r.sequence): r for r in model_reports(Settings(available_profiles=["fast", "paper"]))}
    assert len(reports) == 6
    assert reports["fast", "t1"].available and reports["fast", "t1"].trained
    assert not reports["paper", "t1"].available and reports["paper", "t1"].reason.startswith(NO_PAPER)


@pytest.mark.parametrize("profile", ["paper", "tiny"])
def test_a_worker_told_to_run_random_weights_reports_them_as_untrained(profile: str) -> None:
    settings = Settings(model_profile=profile, available_profiles=[profile], allow_untrained_model=True)
    reports = model_reports(settings)
    assert all(r.available and not r.trained for r in reports) and len(reports) == 3


def test_a_worker_that_cannot_report_still_starts_and_keeps_the_last_report(db, caplog) -> None:
    _report(db, ("fast", "t1"))
    # a profile the engine does not know stands in for any failure while reporting (engine or database)
    settings = Settings(available_profiles=["fast", "huge"])
    assert publish_installed_models(settings) is None
    assert "could not report this worker's installed models" in caplog.text
    assert {(r.profile, r.sequence) for r in installed_models(db) if r.available} == {("fast", "t1")}
