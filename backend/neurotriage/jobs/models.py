"""Inference runs (jobs), their results and the lesion flags a result holds.

A job's status moves queued -> running -> succeeded | failed | cancelled; the row is the source of
truth, Celery only carries the job id.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neurotriage.db import Base, UTCDateTime, utcnow


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class Screening(StrEnum):
    """What a run looks for. ``lesions``: the network's anomaly search and the rescan checks. ``checks``: the rescan
    checks alone, for a sequence no installed model can read (T2 today); such a result has no flags, maps or score,
    and the scan still needs a full read."""

    lesions = "lesions"
    checks = "checks"


class Failure(StrEnum):
    """Why a run failed, kept beside its error text so that what the app offers does not hang on wording.
    ``scan_refused``: the engine refused the scan itself (2D, too little brain, not skull-stripped, ...), so running
    it again would fail the same way; every other kind is the server's, and a re-run may succeed."""

    scan_refused = "scan_refused"
    # the scan clearly looks like another sequence than it was sent as: a re-run as that sequence may succeed
    sequence_mismatch = "sequence_mismatch"
    no_model = "no_model"
    missing_scan = "missing_scan"
    time_limit = "time_limit"
    storage_full = "storage_full"
    internal = "internal"
    queue_unavailable = "queue_unavailable"
    worker_stopped = "worker_stopped"


# Worklist order, most pressing first: a scan that must be repeated (rescan) comes before flags to review and
# after an urgent finding. Migration 0003 renumbered stored rows when rescan was added; change both together.
TRIAGE_PRIORITY = {"urgent": 4, "rescan": 3, "review": 2, "routine": 1}


class Job(Base):
    __tablename__ = "jobs"
    # SQLite (the embedded mode) would otherwise hand a deleted row's id to the next one (see migration 0013).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.queued, index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    stage: Mapped[str | None] = mapped_column(String(64), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Which message is the run's current one: each send carries it, and housekeeping raises it when it sends again
    # a message the broker lost, so a lost message that turns up later is skipped (migration 0014).
    delivery: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # When housekeeping last sent it again; None: sent once, when it was created (migration 0015).
    resent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # A Failure for a failed run, else None; None also on runs that failed before migration 0016 for reasons other
    # than a refused scan.
    failure: Mapped[str | None] = mapped_column(String(24), default=None)
    # For a sequence_mismatch: the sequence the scan looks like ("t1", "t2", "flair"), which the re-run offers.
    looks_like: Mapped[str | None] = mapped_column(String(8), default=None)
    model_profile: Mapped[str] = mapped_column(String(32))
    # Decided when the run is requested, from what the workers reported (jobs.service.screening_for).
    screening: Mapped[str] = mapped_column(String(16), default=Screening.lesions, server_default=Screening.lesions)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The node name (``celery@host``) of the worker that last started the run, so housekeeping can tell a run whose
    # worker died from one still being analysed (migration 0021; None before, or when run outside a worker).
    worker: Mapped[str | None] = mapped_column(String(255), default=None)


class Result(Base):
    __tablename__ = "results"
    # SQLite (the embedded mode) would otherwise hand a deleted row's id to the next one (see migration 0013).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    # One result per job: a re-delivered task finds this row and does not write a second one.
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # What this result looked for (its job's screening, kept here so readers of results need no join).
    screening: Mapped[str] = mapped_column(String(16), default=Screening.lesions, server_default=Screening.lesions)
    # The network's figures; None for a checks-only result, which has no network (migration 0008).
    score: Mapped[float | None] = mapped_column(Float)
    mean_error: Mapped[float | None] = mapped_column(Float)
    mask_volume_mm3: Mapped[float | None] = mapped_column(Float)
    triage: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, index=True)
    threshold: Mapped[float | None] = mapped_column(Float)
    passes: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    model_name: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(100))
    model_trained: Mapped[bool] = mapped_column(Boolean)
    # Smallest region the engine reports as a flag (mm^3): anything smaller is never shown, so the reader
    # must know it. None for results written before the engine said (migration 0004).
    min_flag_mm3: Mapped[float | None] = mapped_column(Float, default=None)
    # A region is flagged only if its peak anomaly reaches this fraction of the strongest flag's; weaker ones
    # are kept in weak_regions ({volume_mm3, centroid_mm, peak_ratio}) so the reader can still look at them.
    # None / [] for results written before the engine did this (migration 0005).
    min_peak_ratio: Mapped[float | None] = mapped_column(Float, default=None)
    weak_regions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What the model found when benchmarked (jobs.schemas.ModelValidation, as the engine sent it for the
    # settings it tested); None when the engine sent none or the result predates it (migration 0006).
    model_validation: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # Storage keys of the result volumes, keyed by kind (anomaly_map, anomaly_mask, reconstruction); {} for checks.
    files: Mapped[dict[str, str]] = mapped_column(JSON)
    # Acquisition problems calling for a rescan (engine's result.json "quality"): each {kind, axis, planes,
    # extent_mm, message}; [] when the scan looked complete or an older engine did not check.
    quality_issues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    flags: Mapped[list[Flag]] = relationship(order_by="Flag.label", lazy="selectin")

    @property
    def min_flag_ml(self) -> float | None:
        """The smallest flag in mL, the unit the API gives flag volumes in."""
        return None if self.min_flag_mm3 is None else self.min_flag_mm3 / 1000.0


class Flag(Base):
    """One connected component of the final anomaly mask (label k in anomaly_mask)."""

    __tablename__ = "flags"
    # SQLite (the embedded mode) would otherwise hand a deleted row's id to the next one (see migration 0013).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"), index=True)
    label: Mapped[int] = mapped_column(Integer)
    voxel_count: Mapped[int] = mapped_column(Integer)
    volume_mm3: Mapped[float] = mapped_column(Float)
    centroid_mm: Mapped[list[float]] = mapped_column(JSON)
    centroid_voxel: Mapped[list[int]] = mapped_column(JSON)
    # A point of the flag itself, where "Go to flag" goes: a curved region's centroid can lie outside it.
    # None for results stored before the engine reported it (the viewer falls back to the centroid).
    anchor_mm: Mapped[list[float] | None] = mapped_column(JSON, default=None)
    bbox_voxel: Mapped[list[list[int]]] = mapped_column(JSON)
    mean_anomaly: Mapped[float] = mapped_column(Float)
    max_anomaly: Mapped[float] = mapped_column(Float)


class InstalledModel(Base):
    """What the inference workers said they can run, one row per (profile, sequence).

    A worker replaces every row when it starts (all workers of a site run the same image and settings), so
    the API, which never loads the engine, can offer only what will run and refuse the rest up front.
    No rows: no worker has reported yet, and the worker's own check is the only one.
    """

    __tablename__ = "installed_models"

    profile: Mapped[str] = mapped_column(String(32), primary_key=True)
    sequence: Mapped[str] = mapped_column(String(16), primary_key=True)
    available: Mapped[bool] = mapped_column(Boolean)
    # Why not, in the engine's words (e.g. "no trained paper-profile model for T1 scans ..."); None if available.
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    # False where the worker runs random weights because it was told to (the tests' tiny profile).
    trained: Mapped[bool] = mapped_column(Boolean)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Worker(Base):
    """A running Celery worker, as its own heartbeat says (jobs.workers): the API cannot see the workers, and
    without this a site whose inference worker is down would queue uploads in silence.

    ``name`` is Celery's node name (``celery@host``); a worker that stops cleanly marks its row stopped, one that
    dies stops beating and is shown offline, and housekeeping removes rows silent for a day.
    """

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The queues it takes tasks from, comma-separated ("gpu,default").
    queues: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when it shut down cleanly, so the admin page tells a stop from a crash; a restart under the same name
    # clears it.
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
