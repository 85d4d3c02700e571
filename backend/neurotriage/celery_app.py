"""The Celery application shared by the API (which only sends tasks by name) and the worker.

The API process never imports task code or the engine: ``send_task("inference.run", ...)`` is enough.
Delivery settings make a task survive a worker crash: acknowledged only after it finishes, re-queued if
the worker dies, one task prefetched at a time, and a visibility timeout longer than the hard limit so
the broker does not hand a still-running task to a second worker.
"""

from __future__ import annotations

from celery import Celery

from neurotriage.config import Settings, get_settings

INFERENCE_TASK = "inference.run"
HOUSEKEEPING_TASK = "housekeeping.run"
GPU_QUEUE = "gpu"
DEFAULT_QUEUE = "default"


def _transport_options(settings: Settings) -> dict[str, int]:
    # Only Redis-like brokers redeliver unacknowledged tasks after a visibility timeout; the embedded
    # SQLAlchemy transport passes its options to create_engine and must get none.
    if settings.broker_url.startswith(("redis", "rediss")):
        return {"visibility_timeout": settings.task_time_limit_s * 2}
    return {}


def make_celery(settings: Settings) -> Celery:
    app = Celery("neurotriage", broker=settings.broker_url)
    app.conf.update(
        task_default_queue=DEFAULT_QUEUE,
        task_routes={INFERENCE_TASK: {"queue": GPU_QUEUE}, HOUSEKEEPING_TASK: {"queue": DEFAULT_QUEUE}},
        # Run by the scheduler a worker starts with `neurotriage worker --beat` (exactly one per site).
        beat_schedule={"housekeeping": {"task": HOUSEKEEPING_TASK, "schedule": 600.0}},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_time_limit=settings.task_time_limit_s,
        task_soft_time_limit=settings.task_time_limit_s - 60,
        broker_transport_options=_transport_options(settings),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Task messages carry ids only; JSON keeps them inspectable.
        task_serializer="json",
        accept_content=["json"],
    )
    return app


celery_app = make_celery(get_settings())
