"""Files the database names but storage lacks (a backup restored from two moments, a lost disk): the app says which
file is missing instead of failing blindly, and ``neurotriage check-storage`` lists them all for the operator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from neurotriage.audit.models import AuditEvent
from neurotriage.cases.models import Case
from neurotriage.cases.storage_check import check_storage, report_lines
from neurotriage.core.storage import LocalStorage
from neurotriage.jobs.models import Job
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.backend.conftest import ApiClient
from tests.backend.factories import finish_job
from tests.backend.helpers import committed_case, upload_case


def _analysed_with_files(clinician: ApiClient, db: Session, storage_dir: Path, tmp_path: Path, seed: int) -> int:
    """A case whose run wrote an anomaly map and a mask into storage."""
    case_id = upload_case(clinician, tmp_path, f"case {seed}", seed=seed)
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    result = finish_job(db, job.id)
    result.files = {kind: f"cases/{case_id}/jobs/{job.id}/{kind}.nii.gz" for kind in ("anomaly_map", "anomaly_mask")}
    for key in result.files.values():
        (storage_dir / key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(storage_dir / db.get(Case, case_id).scan_key, storage_dir / key)  # type: ignore[union-attr]
    db.flush()
    return case_id


def test_a_missing_file_is_named_to_the_reader_and_nothing_is_audited_as_sent(
    clinician: ApiClient, db: Session, storage_dir: Path, tmp_path: Path
) -> None:
    case_id = _analysed_with_files(clinician, db, storage_dir, tmp_path, seed=0)
    assert clinician.get(f"/api/cases/{case_id}/files/anomaly_map").status_code == 200
    job_id = db.scalars(select(Job.id).where(Job.case_id == case_id)).one()
    (storage_dir / f"cases/{case_id}/jobs/{job_id}/anomaly_map.nii.gz").unlink()
    downloads = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.file_downloaded"))
    response = clinician.get(f"/api/cases/{case_id}/files/anomaly_map")
    assert response.status_code == 500
    assert response.json()["detail"] == (
        f"The anomaly map of case {case_id} is missing from the server's storage, so it cannot be shown. Tell an "
        "administrator (neurotriage check-storage lists every missing file)."
    )
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.file_downloaded")) == downloads
    assert clinician.get(f"/api/cases/{case_id}/files/scan").status_code == 200  # the rest is still shown


def test_a_new_case_never_finds_another_cases_files_in_its_folder(
    clinician: ApiClient, db: Session, storage_dir: Path, tmp_path: Path
) -> None:
    """A restored database hands out case ids again; the files of a later upload under that id are not the new
    case's (nor may they outlive it as part of it)."""
    first = upload_case(clinician, tmp_path, "first", seed=0)
    leftover = storage_dir / f"cases/{first + 1}/jobs/7/anomaly_map.nii.gz"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"another patient's map")
    second = upload_case(clinician, tmp_path, "second", seed=1)
    assert second == first + 1
    assert sorted(p.relative_to(storage_dir).as_posix() for p in (storage_dir / f"cases/{second}").rglob("*")
                  if p.is_file()) == [f"cases/{second}/scan.nii.gz"]


def test_check_storage_lists_every_missing_file_and_the_folders_no_case_owns(
    clinician: ApiClient, db: Session, storage_dir: Path, tmp_path: Path
) -> None:
    whole, lost_scan, lost_run = (_analysed_with_files(clinician, db, storage_dir, tmp_path, seed) for seed in range(3))
    storage = LocalStorage(storage_dir)
    healthy = check_storage(db, storage)
    assert (healthy.cases, healthy.checked, healthy.missing, healthy.unowned_folders) == (3, 9, [], [])

    scan_key = db.get(Case, lost_scan).scan_key  # type: ignore[union-attr]
    (storage_dir / scan_key).unlink()
    shutil.rmtree(storage_dir / f"cases/{lost_run}/jobs")
    (storage_dir / "cases/999").mkdir()  # an upload stored after the database copy was taken
    report = check_storage(db, storage)
    lost_job = db.scalars(select(Job.id).where(Job.case_id == lost_run)).one()
    assert [(m.case_id, m.kind, m.job_id) for m in report.missing] == [
        (lost_scan, "scan", None), (lost_run, "anomaly_map", lost_job), (lost_run, "anomaly_mask", lost_job)]
    assert report.unowned_folders == ["cases/999"]
    lines = report_lines(report)
    assert lines[0] == f"case {lost_scan}: scan missing ({scan_key})"
    assert lines[1].startswith(f"case {lost_run}: anomaly map of run {lost_job} missing (cases/{lost_run}/jobs/")
    assert lines[-2].startswith("1 case folder(s) belong to no case (cases/999)")
    assert lines[-1].startswith("9 file(s) named by the database, 3 missing: restore them")
    assert whole not in {m.case_id for m in report.missing}


def test_the_command_exits_1_while_files_are_missing(
    sqlite_sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """``neurotriage check-storage`` as an operator runs it: its own process, on an embedded (SQLite) database."""
    storage_dir = tmp_path / "storage"
    assert committed_case(sqlite_sessions, "restored")[0] == 1
    (storage_dir / "cases/1").mkdir(parents=True)
    (storage_dir / "cases/1/scan.nii.gz").write_bytes(b"scan")
    env = {**os.environ, "NEUROTRIAGE_DATABASE_URL": str(sqlite_sessions.kw["bind"].url),
           "NEUROTRIAGE_STORAGE_DIR": str(storage_dir)}
    command = [str(Path(sys.executable).parent / "neurotriage"), "check-storage"]
    present = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert present.returncode == 0, present.stderr
    assert present.stdout.splitlines() == ["1 file(s) named by the database, 0 missing"]
    (storage_dir / "cases/1/scan.nii.gz").unlink()
    missing = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1, missing.stderr
    assert missing.stdout.splitlines()[0] == "case 1: scan missing (cases/1/scan.nii.gz)"

    # After a restore: the files of a case the restored database does not know (uploaded after its copy was taken)
    # would be found by the next case given that id. They go at once with --remove-unowned; the rest stays.
    (storage_dir / "cases/1/scan.nii.gz").write_bytes(b"scan")
    (storage_dir / "cases/2/jobs/7").mkdir(parents=True)
    (storage_dir / "cases/2/jobs/7/anomaly_map.nii.gz").write_bytes(b"another patient's map")
    listed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0 and "1 case folder(s) belong to no case (cases/2)" in listed.stdout
    assert (storage_dir / "cases/2").exists()
    cleaned = subprocess.run([*command, "--remove-unowned"], env=env, capture_output=True, text=True, timeout=120)
    assert cleaned.returncode == 0, cleaned.stderr
    assert cleaned.stdout.splitlines()[-1] == "removed 1 of 1 case folder(s) no case owns"
    assert not (storage_dir / "cases/2").exists() and (storage_dir / "cases/1/scan.nii.gz").exists()

    # More folders to remove than cases in the database: the wrong database, or a restore that stopped half-way
    # (an empty schema). Nothing is removed unless forced.
    for case_id in (3, 4):
        (storage_dir / f"cases/{case_id}").mkdir()
        (storage_dir / f"cases/{case_id}/scan.nii.gz").write_bytes(b"a restored scan")
    refused = subprocess.run([*command, "--remove-unowned"], env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert "Not removing 2 case folder(s): the database knows only 1 case(s)" in refused.stderr
    assert (storage_dir / "cases/3").exists() and (storage_dir / "cases/4").exists()
    forced = subprocess.run([*command, "--remove-unowned", "--force"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert forced.returncode == 0 and not (storage_dir / "cases/3").exists()
