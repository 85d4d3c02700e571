from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FlagVerdictIn(BaseModel):
    verdict: Literal["accept", "reject", "unsure"]
    reason: str | None = Field(default=None, max_length=200)
    comment: str | None = Field(default=None, max_length=4000)
    # The version the client last saw; a different current version means someone else changed it (409).
    version: int | None = None
