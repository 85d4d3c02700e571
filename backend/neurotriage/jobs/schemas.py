from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class JobOut(BaseModel):
    id: int
    case_id: int
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: int
    stage: str | None
    attempts: int
    error: str | None
    model_profile: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunRequest(BaseModel):
    model_profile: str | None = None
