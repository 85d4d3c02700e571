"""Uploads that fail for reasons outside the file: a race with an identical upload, a full disk, an unexpected
error, the job queue down. Each gets a JSON sentence the app can show, and leaves no half-written case."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import pytest
from neurotriage.cases.models import Case
from neurotriage.core.security_headers import CONTENT_SECURITY_POLICY
from neurotriage.core.storage import LocalStorage
from neurotriage.jobs.models import Job
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session

from tests.backend.conftest import ApiClient
from tests.backend.volumes import write_nifti


def _upload(client: ApiClient, path: Path, **form: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post("/api/cases", files=[("files", (path.name, handle))], data=form)


def _stored_files(storage_dir: Path) -> list[Path]:
    return [path for path in storage_dir.rglob("*") if path.is_file()]


def test_the_same_scan_committed_by_another_upload_meanwhile_is_a_409_naming_it(
    clinician: ApiClient, db: Session, engine, users, storage_dir: Path, tmp_path: Path, caplog
) -> None:
    """Two uploads of one file at the same moment both pass the duplicate check; the unique constraint decides.
    The other upload commits on its own connection just before this one inserts its case. The loser must get the
    same answer as a plain duplicate, and the label must not reach the log."""
    path = write_nifti(tmp_path / "scan.nii.gz")
    inserted: list[int] = []

    def other_upload_commits_first(session: Session, _context, _instances) -> None:  # type: ignore[no-untyped-def]
        new = [obj for obj in session.new if isinstance(obj, Case)]
        if new and not inserted:
            with engine.begin() as other:
                inserted.append(other.execute(
                    insert(Case).values(
                        label="the other upload", sequence="t1", scan_key="cases/other/scan.nii.gz",
                        content_sha256=new[0].content_sha256, uploaded_by_id=users["clinician"],
                        source_format="nifti", dicom_meta={},
                    ).returning(Case.id)
                ).scalar_one())

    event.listen(db, "before_flush", other_upload_commits_first)
    try:
        with caplog.at_level(logging.DEBUG):
            response = _upload(clinician, path, label="Doe Jane 1965-03-14")
        assert response.status_code == 409, response.text
        assert response.json()["detail"] == f"This scan was already uploaded as case {inserted[0]}; open that case."
        assert db.scalars(select(Case.id)).all() == inserted
        assert db.scalar(select(func.count()).select_from(Job)) == 0
        assert _stored_files(storage_dir) == []
        assert "Doe" not in caplog.text
    finally:
        event.remove(db, "before_flush", other_upload_commits_first)
        with engine.begin() as other:
            other.execute(delete(Case).where(Case.id.in_(inserted)))


def test_statement_errors_do_not_carry_row_values(db: Session, users) -> None:
    """What uvicorn logs for an unexpected database error is the exception's text: it must not hold the label."""
    from neurotriage.db import make_engine

    engine = make_engine(str(db.get_bind().engine.url.render_as_string(hide_password=False)))
    try:
        with engine.connect() as connection:
            with pytest.raises(Exception) as raised:
                connection.execute(insert(Case).values(label="Doe Jane 1965-03-14", sequence="t1", scan_key="k",
                                                       content_sha256="x", uploaded_by_id=-1, source_format="nifti",
                                                       dicom_meta={}))
    finally:
        engine.dispose()
    assert "uploaded_by_id" in str(raised.value) and "Doe" not in str(raised.value)


def test_a_full_disk_is_a_507_sentence_and_leaves_nothing(
    clinician: ApiClient, db: Session, storage_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    def disk_full(self, key: str, source: Path) -> None:  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(LocalStorage, "put_file", disk_full)
    response = _upload(clinician, write_nifti(tmp_path / "scan.nii.gz"))
    assert response.status_code == 507
    assert response.json()["detail"].startswith("The server's storage is full, so the upload was not kept")
    assert db.scalar(select(func.count()).select_from(Case)) == 0
    assert _stored_files(storage_dir) == []


def test_an_unexpected_error_is_a_json_sentence_not_plain_text(app, users, tmp_path: Path, monkeypatch) -> None:
    def broken(self, key: str, source: Path) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("storage driver bug")

    monkeypatch.setattr(LocalStorage, "put_file", broken)
    client = ApiClient(app, raise_server_exceptions=False)
    client.login("clin")
    response = _upload(client, write_nifti(tmp_path / "scan.nii.gz"))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert "server log" in response.json()["detail"] and "storage driver bug" not in response.text
    # answered outside the middleware, yet with the same headers as every other answer
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"


def test_with_the_queue_down_the_stored_case_is_named_and_a_second_upload_points_to_it(
    clinician: ApiClient, db: Session, tmp_path: Path, monkeypatch
) -> None:
    def queue_down(job_id: int) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("neurotriage.cases.router.enqueue", queue_down)
    path = write_nifti(tmp_path / "scan.nii.gz")
    response = _upload(clinician, path)
    assert response.status_code == 503
    case_id = db.scalar(select(Case.id))
    assert response.json()["detail"] == (
        f"The scan was stored as case {case_id}, but the job queue is unavailable: re-run the case from its page "
        "once the queue is back."
    )
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    assert job.status == "failed" and "re-run" in (job.error or "") and job.failure == "queue_unavailable"
    again = _upload(clinician, path)
    assert again.status_code == 409 and f"case {case_id}" in again.json()["detail"]


def test_on_sqlite_a_failed_upload_leaves_no_case_row_either(tmp_path: Path) -> None:
    """``make demo`` runs on SQLite, whose driver opens a transaction only at the first write: a step that commits
    early there (a released savepoint does) would keep a case without its scan, and refuse the scan ever after."""
    from neurotriage.cases.ingest import IngestOptions, UploadedFile, ingest_upload
    from neurotriage.db import make_engine
    from neurotriage.migrate import upgrade_to_head
    from neurotriage.users.service import create_user

    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    upgrade_to_head(url)
    engine = make_engine(url)

    class FullDisk(LocalStorage):
        def put_file(self, key: str, source: Path) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    options = IngestOptions(label=None, sequence="t1", model_profile="fast", max_inflated_bytes=1 << 26,
                            pseudonym_key=b"k" * 32)
    scan = write_nifti(tmp_path / "scan.nii.gz")
    try:
        with Session(engine) as session:
            user = create_user(session, "demo", "correct horse battery", ["clinician"])
            session.commit()
            with pytest.raises(OSError):
                ingest_upload(session, FullDisk(tmp_path / "storage"), user, [UploadedFile("scan.nii.gz", scan)], options)
            session.rollback()  # what the upload route does with any failure
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Case)) == 0
            assert session.scalar(select(func.count()).select_from(Job)) == 0
    finally:
        engine.dispose()


def test_a_full_disk_while_converting_dicom_is_a_507_not_a_bad_series(
    clinician: ApiClient, db: Session, storage_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """The converter's writes fail on a full disk as anywhere else; the series is not to blame (no 422)."""
    import dicom2nifti.convert_dicom

    from tests.backend.dicom_factory import marked_volume, upload, write_series

    def disk_full(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(dicom2nifti.convert_dicom, "dicom_series_to_nifti", disk_full)
    response = upload(clinician, write_series(tmp_path / "series", marked_volume()))
    assert response.status_code == 507, response.text
    assert db.scalar(select(func.count()).select_from(Case)) == 0
    assert _stored_files(storage_dir) == []
