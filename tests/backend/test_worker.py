"""A real Celery worker process runs real engine inference on a small volume, end to end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from itermask3d.profiles import get_profile
from neurotriage.celery_app import INFERENCE_TASK, make_celery
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
        users={"clin": "clinician"},
        extra_env={"NEUROTRIAGE_ALLOW_UNTRAINED_MODEL": "true"},  # the tiny profile ships no weights
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
    assert done["error"].startswith("The scan could not be analysed:")
    assert "too little brain" in done["error"]


def _job_id(stack: Stack, case_id: int) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.env["NEUROTRIAGE_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT max(id) FROM jobs WHERE case_id = :c"), {"c": case_id}).scalar())
    finally:
        engine.dispose()
