from __future__ import annotations

from typing import Literal

from pydantic import Field

from neurotriage.core.inputs import RequestBody, Text


class FlagVerdictIn(RequestBody):
    verdict: Literal["accept", "reject", "unsure"]
    reason: Text | None = Field(default=None, max_length=200)
    comment: Text | None = Field(default=None, max_length=4000)
    # The version the client last saw; a different current version means someone else changed it (409).
    version: int | None = None


class CaseVerdictIn(RequestBody):
    verdict: Literal["normal", "abnormal", "artefact_rescan", "uncertain"]
    comment: Text | None = Field(default=None, max_length=4000)
    version: int | None = None


class MissedFindingIn(RequestBody):
    point_mm: tuple[float, float, float] = Field(description="World coordinates of the finding (mm, scanner RAS).")
    point_voxel: tuple[int, int, int] | None = Field(default=None, description="Voxel indices in the scan's grid.")
    radius_mm: float = Field(default=0.0, ge=0.0, le=50.0, description="0 for a point; else a small sphere.")
    comment: Text | None = Field(default=None, max_length=4000)


class ReviewTimeIn(RequestBody):
    seconds: float = Field(gt=0, le=3600, description="Seconds with the case open since the last report.")
