"""Rows the worker would write, inserted directly for API tests that need a finished analysis."""

from __future__ import annotations

from typing import Any

from neurotriage.jobs.models import TRIAGE_PRIORITY, Flag, Job, JobStatus, Result
from sqlalchemy.orm import Session


def finish_job(
    db: Session,
    job_id: int,
    n_flags: int = 2,
    triage: str = "review",
    quality: list[dict[str, Any]] | None = None,
    min_flag_mm3: float | None = 120.0,
) -> Result:
    job = db.get(Job, job_id)
    assert job is not None
    job.status = JobStatus.succeeded
    job.progress = 100
    result = Result(
        job_id=job.id,
        case_id=job.case_id,
        score=0.02,
        mean_error=0.004,
        mask_volume_mm3=2400.0,
        triage=triage,
        priority=TRIAGE_PRIORITY[triage],
        threshold=0.05,
        passes=110,
        seconds=12.5,
        model_name="itermask3d-fast-t1",
        model_version="test",
        model_trained=True,
        files={},
        quality_issues=quality or [],
        min_flag_mm3=min_flag_mm3,
    )
    db.add(result)
    db.flush()
    for label in range(1, n_flags + 1):
        db.add(
            Flag(
                result_id=result.id,
                label=label,
                voxel_count=100 // label,
                volume_mm3=800.0 / label,
                centroid_mm=[1.0, 2.0, 3.0],
                centroid_voxel=[10, 12, 11],
                bbox_voxel=[[8, 10, 9], [12, 14, 13]],
                mean_anomaly=0.5,
                max_anomaly=0.9,
            )
        )
    db.commit()
    return result
