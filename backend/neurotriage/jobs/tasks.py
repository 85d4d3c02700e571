"""Celery tasks: ids in, a plain function called, nothing else. Imported only by the worker."""

from __future__ import annotations

from neurotriage.celery_app import INFERENCE_TASK, celery_app
from neurotriage.jobs.runner import run_inference_job


@celery_app.task(name=INFERENCE_TASK)
def run_inference(job_id: int) -> str:
    return run_inference_job(int(job_id))
