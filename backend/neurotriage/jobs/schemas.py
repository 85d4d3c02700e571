from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from neurotriage.core.inputs import RequestBody, Text


class JobOut(BaseModel):
    id: int
    case_id: int
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: int
    stage: str | None
    attempts: int
    error: str | None
    model_profile: str
    screening: Literal["lesions", "checks"] = Field(
        description='"checks": the rescan checks alone, because no installed model reads the scan\'s sequence'
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunRequest(RequestBody):
    model_profile: Text | None = None
    sequence: Literal["t1", "t2", "flair"] | None = Field(
        default=None,
        description="Run it as this sequence from now on: for a case uploaded as the wrong one (audited as "
                    "case.sequence_changed). Omitted: the case's own.",
    )


class LesionValidation(BaseModel):
    """One kind and size of synthetic lesion in a model's tests: how many there were and how many it flagged."""

    # Counts sent as text are a malformed record, not numbers to guess; an infinite diameter could not be stored.
    model_config = ConfigDict(strict=True, allow_inf_nan=False)

    kind: str = Field(description='"tumour", "cavity" or "small" (sets of small lesions; a newer engine may add kinds)')
    diameter_mm: float | None = Field(ge=0, description="Lesion diameter; null for sets of small lesions")
    total: int = Field(ge=1, description="Lesions tested (for small lesions, the lesions of every set)")
    found: int = Field(ge=0, description="Lesions that a flag touched")
    median_dice: float = Field(ge=0, le=1, description="Median Dice of the flagged region with the lesion, per scan")

    @model_validator(mode="after")
    def _found_within_total(self) -> LesionValidation:
        if self.found > self.total:
            raise ValueError("found exceeds total")
        return self


class ScanCounts(BaseModel):
    model_config = ConfigDict(strict=True)

    scans: int = Field(ge=0)
    flagged: int = Field(ge=0, description="Scans with at least one flag")
    rescan: int = Field(ge=0, description="Scans sent for a rescan by the acquisition checks")


class ModelValidation(BaseModel):
    """What the model that made a result found when it was benchmarked (``itermask3d record-validation``): the
    engine sends it only for results made with the settings that were tested. As stored and as served."""

    model_config = ConfigDict(strict=True)

    data: str = Field(description='Where the test scans came from: "synthetic" (the engine\'s generator)')
    cases: int = Field(ge=1, description="Test scans in all")
    seeds: list[int] = Field(description="Benchmark seeds pooled (each draws other cases)")
    recorded: str = Field(description="Date the figures were recorded (YYYY-MM-DD)")
    lesions: list[LesionValidation]
    normals: ScanCounts
    artefacts: ScanCounts


class InstalledModelOut(BaseModel):
    profile: str
    sequence: str = Field(description='"t1", "t2" or "flair"')
    available: bool = Field(description="A run with this profile on a scan of this sequence will be accepted")
    trained: bool = Field(description="False where the worker runs random weights (test installations only)")
    reason: str | None = Field(description="Why it is not available, in the engine's words; null when it is")


class ModelCatalogueOut(BaseModel):
    """What the inference workers can run, as the last one to start reported it."""

    default_profile: str = Field(description="The profile an upload is analysed with")
    reported_at: datetime | None = Field(
        description="When a worker last reported; null when none has, and every profile is accepted meanwhile"
    )
    models: list[InstalledModelOut]
    checks_only_sequences: list[str] = Field(
        description="Sequences no profile has a model for: their scans are accepted for the rescan checks alone "
        "(no lesion screening). Empty until a worker has reported."
    )


class WorkerOut(BaseModel):
    name: str = Field(description="Celery's node name (celery@host)")
    queues: list[str]
    started_at: datetime
    last_seen_at: datetime = Field(description="Its latest heartbeat")
    online: bool = Field(description="Its heartbeat is recent (within three heartbeat intervals) and it has not "
                                     "stopped")
    stopped_at: datetime | None = Field(description="When it shut down cleanly; null while it runs, and for a "
                                                    "worker that stopped beating without saying so (a crash)")


class QueueStatusOut(BaseModel):
    """The runs waiting and running, and whether a worker is there to run them."""

    queued: int
    running: int
    oldest_queued_at: datetime | None
    inference_workers_online: int = Field(description="Running workers that take analyses (the gpu queue)")
    delay_notice: str | None = Field(description="Set when queued runs cannot start (no analysis worker is running): "
                                                 "the words to show every reader")
    workers: list[WorkerOut] | None = Field(description="Every worker that has beaten in the last day; for "
                                                        "administrators only, null for other roles")
