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
    model: ModelInfo | None


class CaseDetail(CaseSummary):
    error: str | None
    flags: list[FlagOut]
    threshold: float | None
    passes: int | None
    seconds: float | None


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int
