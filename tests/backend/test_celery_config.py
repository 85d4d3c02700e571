"""Delivery guarantees the job pipeline relies on (a lost worker must not lose or duplicate a run)."""

from __future__ import annotations

from neurotriage.celery_app import (
    GPU_QUEUE,
    HOUSEKEEPING_TASK,
    INFERENCE_TASK,
    make_celery,
)
from neurotriage.config import Settings


def test_tasks_survive_worker_loss_and_are_not_redelivered_while_running() -> None:
    settings = Settings(broker_url="redis://127.0.0.1:6379/0", task_time_limit_s=1800)
    conf = make_celery(settings).conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit == 1800
    assert conf.task_routes[INFERENCE_TASK] == {"queue": GPU_QUEUE}
    assert conf.task_routes[HOUSEKEEPING_TASK] == {"queue": "default"}
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]


def test_embedded_broker_gets_no_redis_only_options() -> None:
    settings = Settings(broker_url="sqla+sqlite:////tmp/broker.sqlite")
    assert make_celery(settings).conf.broker_transport_options == {}
