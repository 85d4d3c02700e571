"""A real Celery worker process runs real engine inference on a small volume, end to end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from itermask3d.profiles import get_profile
from neurotriage.celery_app import HOUSEKEEPING_TASK, INFERENCE_TASK, make_celery
from neurotriage.config import Settings

from tests.backend.volumes import brain_like, write_nifti
from tests.stack import Stack, running_stack, wait_for_job
from tests.synth import synth_scan

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("worker-stack"),
        profile="tiny",
        broker_db=13,
        users={"clin": "clinician", "admin": "admin"},
        extra_env={
            "NEUROTRIAGE_ALLOW_UNTRAINED_MODEL": "true",  # the tiny profile ships no weights
            # Beat often, and take a queued run's message for lost after 2 idle seconds (10 minutes in production),
            # so the tests below need not wait.
            "NEUROTRIAGE_WORKER_HEARTBEAT_S": "5",
            "NEUROTRIAGE_LOST_MESSAGE_AFTER_S": "2",
        },
    ) as live:
        yield live


def _upload(stack: Stack, path: Path) -> dict:
    with stack.client("clin") as client, path.open("rb") as handle:
        response = client.post("/api/cases", files=[("files", (path.name, handle))])
    assert response.status_code == 201, response.text
    return response.json()


def test_the_worker_reports_what_it_can_run_when_it_starts(stack: Stack) -> None:
    deadline = time.monotonic() + 60  # the worker reports before it takes tasks; the API may be up first
    with stack.client("clin") as client:
        while (catalogue := client.get("/api/models").json())["reported_at"] is None and time.monotonic() < deadline:
            time.sleep(0.5)
    # The tiny stack may run random weights: available, marked untrained; profiles without weights are not.
    tiny = {m["sequence"]: m for m in catalogue["models"] if m["profile"] == "tiny"}
    assert catalogue["default_profile"] == "tiny" and catalogue["reported_at"] is not None
    assert set(tiny) == {"t1", "t2", "flair"} and all(m["available"] and not m["trained"] for m in tiny.values())
    fast_t1 = next(m for m in catalogue["models"] if (m["profile"], m["sequence"]) == ("fast", "t1"))
    assert fast_t1["available"] and fast_t1["trained"]


def test_worker_analyses_an_upload_and_results_line_up_with_the_scan(stack: Stack, tmp_path: Path) -> None:
    scan = synth_scan(tmp_path, "lesion", seed=3)
    case = _upload(stack, scan)
    with stack.client("clin") as client:
        done = wait_for_job(client, case["id"], stack)
        assert done["status"] == "succeeded", f"{done['error']}\n{stack.log_tail()}"
        assert done["progress"] == 100 and done["stage"] == "done"
        assert done["model"]["name"] == "itermask3d-tiny-t1" and done["passes"] > 1
        # the reader is told the smallest region the model flags, and no flag is smaller
        assert done["min_flag_ml"] == pytest.approx(get_profile("tiny").min_flag_mm3 / 1000.0)
        assert all(flag["volume_ml"] >= done["min_flag_ml"] for flag in done["flags"])
        source = nib.load(scan)
        volumes = {}
        for kind in ("anomaly_map", "anomaly_mask"):
            response = client.get(f"/api/cases/{case['id']}/files/{kind}")
            assert response.status_code == 200
            (tmp_path / f"{kind}.nii.gz").write_bytes(response.content)
            volumes[kind] = nib.load(tmp_path / f"{kind}.nii.gz")
            assert volumes[kind].shape == source.shape
            np.testing.assert_allclose(volumes[kind].affine, source.affine, atol=1e-4)
    anomaly = volumes["anomaly_map"].get_fdata()
    assert anomaly.min() >= 0.0 and anomaly.max() <= 1.0
    mask = np.asarray(volumes["anomaly_mask"].dataobj)
    assert int(mask.max()) == done["flag_count"] == len(done["flags"])
    for flag in done["flags"]:
        assert int((mask == flag["label"]).sum()) == flag["voxel_count"]
    # the run names the worker that ran it, by the name its heartbeat keeps: housekeeping sends a run again when
    # that worker is gone (tests/backend/test_dead_worker_runs.py)
    with stack.client("admin") as client:
        beating = [worker["name"] for worker in client.get("/api/queue").json()["workers"]]
    assert _sql(stack, "SELECT worker FROM jobs WHERE case_id = :c", c=case["id"]) in beating


def test_redelivered_task_does_not_duplicate_the_result(stack: Stack, tmp_path: Path) -> None:
    case = _upload(stack, synth_scan(tmp_path, "normal", seed=4))
    with stack.client("clin") as client:
        first = wait_for_job(client, case["id"], stack)
        assert first["status"] == "succeeded", first["error"]
        # Deliver the same task again, as the broker would after a worker crash.
        celery = make_celery(Settings(broker_url=stack.env["NEUROTRIAGE_BROKER_URL"]))
        job_id = _job_id(stack, case["id"])
        celery.send_task(INFERENCE_TASK, args=[job_id], queue="gpu")
        time.sleep(5)
        again = client.get(f"/api/cases/{case['id']}").json()
    assert [flag["id"] for flag in again["flags"]] == [flag["id"] for flag in first["flags"]]
    assert again["status"] == "succeeded" and again["seconds"] == first["seconds"]
    assert "already succeeded; nothing to do" in (stack.logs / "worker.log").read_text()


def test_engine_input_error_fails_the_job_with_a_readable_message(stack: Stack, tmp_path: Path) -> None:
    # A brain of some 35 mL: the upload has no reason to refuse it, the engine does (too little brain).
    path = write_nifti(tmp_path / "small_brain.nii.gz", brain_like(), spacing=2.0)
    case = _upload(stack, path)
    with stack.client("clin") as client:
        done = wait_for_job(client, case["id"], stack)
    assert done["status"] == "failed"
    # of "it", the scan the reader uploaded: not of the file name storage gave it
    assert done["error"].startswith("The scan could not be analysed: it contains too little brain (")
    assert "scan.nii.gz" not in done["error"]
    # running it again would fail the same way, so the case page offers no retry
    with stack.client("clin") as client:
        assert client.get(f"/api/cases/{case['id']}").json()["retry_can_help"] is False


def test_a_scan_sent_as_the_wrong_sequence_fails_in_words_and_runs_again_as_the_right_one(
    stack: Stack, tmp_path: Path
) -> None:
    t2_scan = synth_scan(tmp_path, "normal", 3, "t2")
    case = _upload(stack, t2_scan)  # the upload form's default sequence: T1
    with stack.client("clin") as client:
        failed = wait_for_job(client, case["id"], stack)
        assert failed["status"] == "failed" and failed["failure"] == "sequence_mismatch"
        assert "it looks like a T2 scan" in failed["error"] and "sent as T1" in failed["error"]
        assert failed["retry_can_help"] is True and failed["looks_like"] == "t2"
        assert client.post(f"/api/cases/{case['id']}/runs", json={"sequence": "t2"}).status_code == 201
        again = wait_for_job(client, case["id"], stack)
    assert again["status"] == "succeeded" and again["sequence"] == "t2"


def test_administrators_see_the_running_worker_by_its_heartbeat(stack: Stack) -> None:
    deadline = time.monotonic() + 60
    with stack.client("admin") as client:
        while not (status := client.get("/api/queue").json())["workers"] and time.monotonic() < deadline:
            time.sleep(0.5)
    [worker] = status["workers"]
    assert worker["online"] and set(worker["queues"]) == {"gpu", "default"}
    assert status["inference_workers_online"] == 1 and status["delay_notice"] is None


def test_a_run_whose_message_was_lost_is_sent_again_and_the_lost_message_is_skipped(
    stack: Stack, tmp_path: Path
) -> None:
    case = _upload(stack, synth_scan(tmp_path, "normal", seed=6))
    with stack.client("clin") as client:
        assert wait_for_job(client, case["id"], stack)["status"] == "succeeded"
    # A queued run whose message 1 never reached the broker; housekeeping already took it for lost once (2).
    job_id = int(_sql(stack, "INSERT INTO jobs (case_id, status, progress, attempts, model_profile, screening, "
                             "created_at, delivery) VALUES (:c, 'queued', 0, 0, 'tiny', 'lesions', now() - "
                             "interval '1 minute', 2) RETURNING id", c=case["id"]))
    celery = make_celery(Settings(broker_url=stack.env["NEUROTRIAGE_BROKER_URL"]))
    celery.send_task(INFERENCE_TASK, args=[job_id, 1], queue="gpu")  # message 1 turns up after all
    deadline = time.monotonic() + 60
    while f"job {job_id}: message 1 was superseded" not in (stack.logs / "worker.log").read_text():
        assert time.monotonic() < deadline, stack.log_tail()
        time.sleep(0.5)
    assert _sql(stack, "SELECT status FROM jobs WHERE id = :j", j=job_id) == "queued"
    time.sleep(3)  # the worker has idled past NEUROTRIAGE_LOST_MESSAGE_AFTER_S
    celery.send_task(HOUSEKEEPING_TASK, queue="default")
    with stack.client("clin") as client:
        done = wait_for_job(client, case["id"], stack, timeout_s=120)
    assert done["status"] == "succeeded" and done["result_run_id"] == job_id
    assert _sql(stack, "SELECT delivery FROM jobs WHERE id = :j", j=job_id) == 3
    assert _sql(stack, "SELECT count(*) FROM audit_events WHERE action = 'job.resent'") == 1


def _sql(stack: Stack, statement: str, **params: object) -> object:
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.env["NEUROTRIAGE_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            return connection.execute(text(statement), params).scalar()
    finally:
        engine.dispose()


def _job_id(stack: Stack, case_id: int) -> int:
    return int(_sql(stack, "SELECT max(id) FROM jobs WHERE case_id = :c", c=case_id))  # type: ignore[arg-type]
