"""Turning case, job and result rows into the API's response models."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neurotriage.cases.models import Case
from neurotriage.cases.schemas import CaseDetail, CaseSummary, FlagOut, FlagVerdictOut, ModelInfo
from neurotriage.cases.service import is_reviewed
from neurotriage.jobs.models import Flag, Job, Result
from neurotriage.reviews.models import FlagVerdict
from neurotriage.users.models import User


def case_summary(session: Session, case: Case, job: Job, result: Result | None) -> CaseSummary:
    return CaseSummary(
        id=case.id,
        label=case.label,
        sequence=case.sequence,
        uploaded_at=case.uploaded_at,
        status=job.status,  # type: ignore[arg-type]
        progress=job.progress,
        stage=job.stage,
        score=result.score if result else None,
        triage=result.triage if result else None,  # type: ignore[arg-type]
        flag_count=len(result.flags) if result else 0,
        reviewed=is_reviewed(session, case.id),
        model=ModelInfo(name=result.model_name, version=result.model_version, trained=result.model_trained)
        if result
        else None,
    )


def verdict_out(verdict: FlagVerdict) -> FlagVerdictOut:
    return FlagVerdictOut(
        verdict=verdict.verdict,  # type: ignore[arg-type]
        reason=verdict.reason,
        comment=verdict.comment,
        reviewer=verdict.reviewer.username,
        updated_at=verdict.updated_at,
        version=verdict.version,
    )


def flag_out(flag: Flag, verdict: FlagVerdict | None) -> FlagOut:
    return FlagOut(
        id=flag.id,
        label=flag.label,
        voxel_count=flag.voxel_count,
        volume_ml=flag.volume_mm3 / 1000.0,
        centroid_mm=flag.centroid_mm,
        centroid_voxel=flag.centroid_voxel,
        bbox_voxel=flag.bbox_voxel,
        mean_anomaly=flag.mean_anomaly,
        max_anomaly=flag.max_anomaly,
        verdict=verdict_out(verdict) if verdict else None,
    )


def case_detail(session: Session, viewer: User, case: Case, job: Job, result: Result | None) -> CaseDetail:
    """The case as ``viewer`` sees it: each flag carries the viewer's own verdict."""
    flags: list[FlagOut] = []
    if result is not None:
        mine = {
            v.flag_id: v
            for v in session.scalars(
                select(FlagVerdict)
                .join(Flag, Flag.id == FlagVerdict.flag_id)
                .where(Flag.result_id == result.id, FlagVerdict.reviewer_id == viewer.id)
            )
        }
        flags = [flag_out(flag, mine.get(flag.id)) for flag in result.flags]
    summary = case_summary(session, case, job, result)
    return CaseDetail(
        **summary.model_dump(),
        error=job.error,
        flags=flags,
        threshold=result.threshold if result else None,
        passes=result.passes if result else None,
        seconds=result.seconds if result else None,
    )
