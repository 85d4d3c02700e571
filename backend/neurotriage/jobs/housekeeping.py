"""Periodic housekeeping, run as a task on the ``default`` queue: plain functions, testable alone."""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import exists, func, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from neurotriage.audit.service import record
from neurotriage.auth.models import BrowserSession
from neurotriage.cases.ingest import INGEST_SPOOL_PREFIX, UPLOAD_SPOOL_PREFIX
from neurotriage.cases.models import Case
from neurotriage.core.storage import Storage
from neurotriage.db import utcnow
from neurotriage.jobs.models import Failure, Job, JobStatus, Worker
from neurotriage.jobs.service import MAX_ATTEMPTS, never_finished, transition
from neurotriage.jobs.workers import online_since, running_workers, takes_inference

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
        transition(session, job, JobStatus.failed, error=STALE_MESSAGE, failure=Failure.worker_stopped)
    return [job.id for job in stale]


def runs_left_by_dead_workers(session: Session, heartbeat_s: int) -> tuple[list[tuple[int, int]], list[int]]:
    """Running runs whose worker is gone, found within minutes rather than after twice the time limit: queued again
    with their next delivery number (the caller commits, then sends), or failed once started ``MAX_ATTEMPTS`` times
    (a scan that kills its worker would otherwise go round for ever). Returns ``(resend, failed)``.

    A worker killed mid-run (out of memory, a crash, a host restart) leaves its run 'running': the embedded broker
    has already handed its message out, and Redis hands it out again only after the visibility timeout (twice the
    time limit). Until then readers see it analysing, and nobody can cancel, re-run or delete the case. A run's
    worker is gone when its row stopped beating (``running_workers``), said it stopped, or started again since the
    run did (a restart under the same name). Runs started within the last few heartbeats, and runs that name no
    worker (started before migration 0021), are left to ``fail_stale_jobs``.
    """
    alive = exists().where(Worker.name == Job.worker, running_workers(heartbeat_s), Worker.started_at <= Job.started_at)
    orphans = session.scalars(
        select(Job).where(Job.status == JobStatus.running, Job.worker.is_not(None),
                          Job.started_at < online_since(heartbeat_s), ~alive)
        .order_by(Job.id).with_for_update(of=Job, skip_locked=True)
    ).all()
    resend, failed = [], []
    for job in orphans:
        if job.attempts >= MAX_ATTEMPTS:
            record(session, "job.worker_lost", case_id=job.case_id, job_id=job.id, worker=job.worker,
                   attempts=job.attempts)
            transition(session, job, JobStatus.failed, failure=Failure.worker_stopped, error=never_finished(job.attempts))
            failed.append(job.id)
            continue
        record(session, "job.resent", case_id=job.case_id, job_id=job.id, delivery=job.delivery + 1,
               reason="worker_lost", worker=job.worker)
        transition(session, job, JobStatus.queued)
        # No start any more: a queued run with one would look to runs_to_send_again like a run sent after others
        # that started first, and have them sent again as lost. The old worker's late writes are refused by the
        # delivery number (runner._still_this_run).
        job.delivery, job.resent_at, job.started_at = job.delivery + 1, utcnow(), None
        job.stage, job.progress, job.worker = None, 0, None
        resend.append((job.id, job.delivery))
    return resend, failed


def runs_to_send_again(
    session: Session, idle_for: timedelta, heartbeat_s: int, running_limit: timedelta
) -> list[tuple[int, int]]:
    """Runs whose queue message was lost, each with its next delivery number, raised here (the caller commits, then
    sends): ``[(job_id, delivery), ...]``.

    The broker keeps a message until a worker has finished with it, but one can still be lost: the API stopped
    between committing a run and sending it, or a broker restarted without its data. Such a run would wait forever.
    A run whose message was sent (queued, or last sent again) before ``idle_for`` has that message taken as lost when

    - a run sent after it started more than ``idle_for`` ago: the queue hands messages out in order, so its own
      would have been taken first (this is what finds a lost message on a busy site); or
    - an inference worker has been running for all of ``idle_for`` and, in that time, no run started or finished
      and none is running (one running past ``running_limit``, the task's hard limit, is a dead worker's row and
      does not count): an idle worker with a message waiting would have taken it.

    A lost message that turns up later carries the old number and is skipped (``jobs.runner``), so no run is
    analysed twice.
    """
    now = utcnow()
    settled = now - idle_for
    later = aliased(Job)
    sent = func.coalesce(Job.resent_at, Job.created_at)
    overtaken = exists().where(func.coalesce(later.resent_at, later.created_at) > sent, later.started_at < settled)
    waiting_since = (Job.status == JobStatus.queued, sent < settled)
    inference_workers = [
        worker for worker in session.scalars(
            select(Worker).where(running_workers(heartbeat_s), Worker.started_at <= settled)
        ) if takes_inference(worker)
    ]
    busy = session.scalar(select(Job.id).where(or_(
        (Job.status == JobStatus.running) & (Job.started_at >= now - running_limit),
        Job.started_at >= settled, Job.finished_at >= settled,
    )).limit(1))
    idle_site = bool(inference_workers) and busy is None
    waiting = session.execute(
        select(Job.id, Job.case_id, Job.delivery).where(*waiting_since, true() if idle_site else overtaken)
        .order_by(Job.id)
    ).all()
    resend = []
    for job_id, case_id, seen in waiting:
        if raise_delivery(session, job_id, seen):
            record(session, "job.resent", case_id=case_id, job_id=job_id, delivery=seen + 1)
            resend.append((job_id, seen + 1))
    return resend


def raise_delivery(session: Session, job_id: int, seen: int) -> bool:
    """Number the run's next message, if the run is still queued under the number ``seen``: a worker may have
    started it since it was read (SQLite, the embedded mode, takes no row locks; on PostgreSQL this waits for the
    worker's lock and then finds the run running), or another housekeeping pass raised it first."""
    raised = session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.queued, Job.delivery == seen)
        .values(delivery=seen + 1, resent_at=utcnow())
    )
    return raised.rowcount == 1  # type: ignore[attr-defined]


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
