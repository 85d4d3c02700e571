"""Which workers are running, as their heartbeats say, and what readers are told about the queue.

The API cannot see the Celery workers. Each worker therefore keeps a row in ``workers`` fresh from a thread of its
own (``HeartbeatLoop``, started by the worker's ready signal in ``jobs.tasks``). A worker that stops cleanly marks
its row stopped; one that dies stops beating and is shown offline once three heartbeats are missed. Without this, a site
whose inference worker is down would queue uploads in silence.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, select, update
from sqlalchemy.orm import Session

from neurotriage.celery_app import GPU_QUEUE
from neurotriage.db import session_scope, utcnow
from neurotriage.jobs.models import Job, JobStatus, Worker

log = logging.getLogger(__name__)

# Heartbeats a worker may miss before it is shown offline (one late write is not an outage).
MISSED_BEATS = 3


def record_heartbeat(session: Session, name: str, queues: list[str], started_at: datetime) -> None:
    """Create or refresh the worker's row (only the worker itself writes it)."""
    worker = session.get(Worker, name)
    if worker is None:
        worker = Worker(name=name)
        session.add(worker)
    worker.queues = ",".join(sorted(queues))
    worker.started_at = started_at
    worker.last_seen_at = utcnow()
    worker.stopped_at = None
    session.flush()


def mark_stopped(session: Session, name: str) -> None:
    """The worker shut down cleanly: its row stays (the admin page says when it stopped) but it no longer runs."""
    session.execute(update(Worker).where(Worker.name == name).values(stopped_at=utcnow()))


def forget_silent_workers(session: Session, silent_for: timedelta) -> int:
    """Remove the rows of workers silent for ``silent_for`` (they died, or their host was renamed)."""
    result = session.execute(delete(Worker).where(Worker.last_seen_at < utcnow() - silent_for))
    return int(result.rowcount or 0)


def online_since(heartbeat_s: int) -> datetime:
    """A worker seen at or after this moment counts as running, unless it said it stopped."""
    return utcnow() - timedelta(seconds=heartbeat_s * MISSED_BEATS)


def running_workers(heartbeat_s: int) -> ColumnElement[bool]:
    """The workers that beat lately and have not shut down (a ``where`` clause on ``Worker``)."""
    return and_(Worker.last_seen_at >= online_since(heartbeat_s), Worker.stopped_at.is_(None))


def takes_inference(worker: Worker) -> bool:
    return GPU_QUEUE in worker.queues.split(",")


class HeartbeatLoop(threading.Thread):
    """Writes the worker's heartbeat every ``interval_s`` seconds until ``stop()``, which marks the row stopped.

    A thread rather than a Celery timer: with the solo pool a timer would not fire while a scan is analysed, and
    a worker busy for minutes would look dead. A database outage is logged and the next beat tries again."""

    def __init__(self, name: str, queues: list[str], interval_s: float) -> None:
        super().__init__(name="neurotriage-heartbeat", daemon=True)
        self.worker_name, self.queues, self.interval_s = name, queues, interval_s
        self.started_at = utcnow()
        self._stopped = threading.Event()

    def beat(self) -> bool:
        try:
            with session_scope() as session:
                record_heartbeat(session, self.worker_name, self.queues, self.started_at)
        except Exception:
            log.warning("worker %s: heartbeat not written (database unavailable?)", self.worker_name, exc_info=True)
            return False
        return True

    def run(self) -> None:
        while not self._stopped.is_set():
            self.beat()
            self._stopped.wait(self.interval_s)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=self.interval_s)
        try:
            with session_scope() as session:
                mark_stopped(session, self.worker_name)
        except Exception:
            log.warning("worker %s: not marked stopped; it will show as not responding", self.worker_name)


@dataclass(frozen=True)
class QueueState:
    """The runs waiting and running, and the workers that beat recently and have not stopped (``online``) or not."""

    queued: int
    running: int
    oldest_queued_at: datetime | None
    workers: list[Worker]
    online: list[Worker]

    @property
    def inference_workers_online(self) -> int:
        return sum(1 for worker in self.online if takes_inference(worker))

    def delay_notice(self) -> str | None:
        """What a reader must be told when queued runs cannot start; None when nothing is held up."""
        if self.queued == 0 or self.inference_workers_online > 0:
            return None
        runs = "1 run is" if self.queued == 1 else f"{self.queued} runs are"
        return (f"No analysis worker is running, so {runs} waiting and will not start until one is. "
                "Tell an administrator.")


def queue_state(session: Session, heartbeat_s: int) -> QueueState:
    counts = dict(session.execute(
        select(Job.status, func.count()).where(Job.status.in_([JobStatus.queued, JobStatus.running]))
        .group_by(Job.status)
    ).all())
    oldest = session.scalar(select(func.min(Job.created_at)).where(Job.status == JobStatus.queued))
    workers = list(session.scalars(select(Worker).order_by(Worker.name)))
    running = set(session.scalars(select(Worker.name).where(running_workers(heartbeat_s))))
    return QueueState(
        queued=int(counts.get(JobStatus.queued, 0)),
        running=int(counts.get(JobStatus.running, 0)),
        oldest_queued_at=oldest,
        workers=workers,
        online=[worker for worker in workers if worker.name in running],
    )
