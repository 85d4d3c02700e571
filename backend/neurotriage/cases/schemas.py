from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

JobStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
TriageName = Literal["routine", "review", "urgent"]
FileKind = Literal["scan", "anomaly_map", "anomaly_mask"]


class ModelInfo(BaseModel):
    name: str
    version: str
    trained: bool


class FlagVerdictOut(BaseModel):
    verdict: Literal["accept", "reject", "unsure"]
    reason: str | None
    comment: str | None
    reviewer: str
    updated_at: datetime
    version: int


class FlagOut(BaseModel):
    id: int
    label: int
    voxel_count: int
    volume_ml: float
    centroid_mm: list[float]
    centroid_voxel: list[int]
    bbox_voxel: list[list[int]]
    mean_anomaly: float
    max_anomaly: float
    verdict: FlagVerdictOut | None


class CaseVerdictOut(BaseModel):
    verdict: Literal["normal", "abnormal", "artefact_rescan", "uncertain"]
    comment: str | None
    reviewer: str
    updated_at: datetime
    version: int


class MissedFindingOut(BaseModel):
    id: int
    point_mm: list[float]
    point_voxel: list[int] | None
    radius_mm: float
    comment: str | None
    reviewer: str
    created_at: datetime


class ClaimOut(BaseModel):
    claimed_by: str
    claimed_until: datetime


ReviewState = Literal["unreviewed", "in_progress", "reviewed"]


class CaseSummary(BaseModel):
    id: int
    label: str
    sequence: str
    uploaded_at: datetime
    status: JobStatusName
    progress: int
    stage: str | None
    score: float | None
    triage: TriageName | None
    flag_count: int
    reviewed: bool
    review_state: ReviewState
    claimed_by: str | None
    claimed_until: datetime | None
    model: ModelInfo | None


class CaseDetail(CaseSummary):
    error: str | None
    attempts: int
    source_format: str
    dicom_meta: dict[str, str]
    flags: list[FlagOut]
    case_verdict: CaseVerdictOut | None
    findings: list[MissedFindingOut]
    review_seconds: float
    threshold: float | None
    passes: int | None
    seconds: float | None


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int
