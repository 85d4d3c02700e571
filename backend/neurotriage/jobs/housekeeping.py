"""Periodic housekeeping, run as a task on the ``default`` queue: plain functions, testable alone."""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from neurotriage.auth.models import BrowserSession
from neurotriage.cases.ingest import INGEST_SPOOL_PREFIX, UPLOAD_SPOOL_PREFIX
from neurotriage.cases.models import Case
from neurotriage.core.storage import Storage
from neurotriage.db import utcnow
from neurotriage.jobs.models import Job, JobStatus
from neurotriage.jobs.service import transition

STALE_MESSAGE = "The worker stopped while analysing this scan; re-run the case."


def fail_stale_jobs(session: Session, older_than: timedelta) -> list[int]:
    """Fail runs still 'running' long after any worker could be on them (its hard time limit passed).

    A worker killed mid-task has its message re-delivered by the broker; this catches the rest (a broker
    that lost the message), so no case shows 'running' forever.
    """
    cutoff = utcnow() - older_than
    stale = session.scalars(
        select(Job).where(Job.status == JobStatus.running, Job.started_at < cutoff).with_for_update(skip_locked=True)
    ).all()
    for job in stale:
        transition(session, job, JobStatus.failed, error=STALE_MESSAGE)
    return [job.id for job in stale]


def end_idle_sessions(session: Session, idle: timedelta) -> int:
    """Mark browser sessions idle past the limit as ended (they are refused anyway; this tidies up)."""
    result = session.execute(
        update(BrowserSession)
        .where(BrowserSession.ended_at.is_(None), BrowserSession.last_seen_at < utcnow() - idle)
        .values(ended_at=utcnow())
    )
    return int(result.rowcount or 0)


def remove_orphan_case_files(session: Session, storage: Storage, older_than: timedelta) -> list[str]:
    """Remove stored case folders that no case row owns: what an API process killed between storing an upload and
    committing its case leaves behind (de-identified, but nobody can reach or delete them), and what a case
    deletion could not remove. Only folders untouched for ``older_than``, so an upload still on its way to its
    commit keeps its files. Returns the folders removed; one that cannot be is logged and tried again next time."""
    cutoff = time.time() - older_than.total_seconds()
    candidates = {}
    for key, modified in storage.folders("cases"):
        name = key.rsplit("/", 1)[-1]
        if name.isdigit() and modified < cutoff:
            candidates[int(name)] = key
    ids = sorted(candidates)
    owned: set[int] = set()
    for start in range(0, len(ids), 500):  # SQLite limits the parameters of one statement
        owned.update(session.scalars(select(Case.id).where(Case.id.in_(ids[start:start + 500]))))
    orphans = [candidates[case_id] for case_id in ids if case_id not in owned]
    return [key for key in orphans if storage.delete_tree(key)]


UPLOAD_SPOOL_PREFIXES = (UPLOAD_SPOOL_PREFIX, INGEST_SPOOL_PREFIX)


def remove_stale_upload_spools(temp_root: Path, older_than: timedelta) -> list[Path]:
    """Remove upload spools a killed API process left in its temporary folder: they hold the raw upload, patient
    identifiers included. Run where the API runs (at its start), since that folder is the API's own."""
    cutoff = time.time() - older_than.total_seconds()
    stale = [
        path for path in temp_root.iterdir()
        if path.is_dir() and path.name.startswith(UPLOAD_SPOOL_PREFIXES) and path.stat().st_mtime < cutoff
    ]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale
