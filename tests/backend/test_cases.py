from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from neurotriage.audit.models import AuditEvent
from neurotriage.audit.service import VIEW_WINDOW, record_view
from neurotriage.cases.models import Case
from neurotriage.db import utcnow
from neurotriage.jobs.models import Job
from sqlalchemy import func, select

from tests.backend.conftest import ApiClient
from tests.backend.helpers import assert_nothing_stored
from tests.backend.factories import finish_job
from tests.backend.volumes import brain_like, write_gzip_bomb, write_nifti


def _upload(client: ApiClient, path: Path, **form: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post("/api/cases", files=[("files", (path.name, handle))], data=form)


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model))


def test_upload_stores_case_queues_job_with_id_only(clinician: ApiClient, db, broker, tmp_path: Path) -> None:
    response = _upload(clinician, write_nifti(tmp_path / "Doe_John.nii.gz"), label="study 7")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["label"] == "study 7" and body["status"] == "queued" and body["flags"] == []
    job = db.scalars(select(Job).where(Job.case_id == body["id"])).one()
    messages = broker.lrange("gpu", 0, -1)
    assert len(messages) == 1
    message = json.loads(messages[0])
    assert message["headers"]["task"] == "inference.run"
    assert message["headers"]["argsrepr"] == f"[{job.id}, {job.delivery}]" and job.delivery == 1
    assert "Doe" not in messages[0].decode()


def test_default_label_does_not_repeat_the_filename(clinician: ApiClient, tmp_path: Path) -> None:
    body = _upload(clinician, write_nifti(tmp_path / "Doe_John.nii.gz")).json()
    assert "Doe" not in body["label"] and body["label"].startswith("case-")


def test_stored_scan_drops_header_free_text(clinician: ApiClient, tmp_path: Path) -> None:
    # Every free-text field of NIfTI-1; converters fill even the unused ones (intent_name, data_type).
    planted = {
        "descrip": "PatientName=Doe^John",
        "aux_file": "Doe^John.txt",
        "intent_name": "Doe^John",
        "db_name": "Doe^John",
        "data_type": "Doe^John",  # 10 bytes left over from ANALYZE 7.5
    }
    source = write_nifti(tmp_path / "scan.nii", free_text=planted)
    assert all(nib.load(source).header[field].tobytes().strip(b"\x00") for field in planted)
    response = _upload(clinician, source)
    assert response.status_code == 201, response.text
    case_id = response.json()["id"]
    download = clinician.get(f"/api/cases/{case_id}/files/scan")
    assert download.status_code == 200
    stored = tmp_path / "stored.nii.gz"
    stored.write_bytes(download.content)
    image = nib.load(stored)
    assert {field: image.header[field].tobytes().strip(b"\x00") for field in planted} == dict.fromkeys(planted, b"")
    assert b"Doe" not in stored.read_bytes() and b"Doe" not in image.header.binaryblock
    np.testing.assert_allclose(image.get_fdata(), brain_like())
    np.testing.assert_allclose(image.affine, nib.load(source).affine)


def test_duplicate_upload_is_refused(clinician: ApiClient, tmp_path: Path) -> None:
    path = write_nifti(tmp_path / "scan.nii.gz")
    first = _upload(clinician, path).json()["id"]
    second = _upload(clinician, path)
    assert second.status_code == 409
    assert second.json()["detail"] == f"This scan was already uploaded as case {first}; open that case."
    # sent as another sequence, it says where the sequence is corrected (a scan is one case, whatever its sequence)
    as_flair = _upload(clinician, path, sequence="flair")
    assert as_flair.status_code == 409
    assert as_flair.json()["detail"] == (f"This scan was already uploaded as case {first}, as T1. To analyse it as "
                                         "FLAIR, re-run it from that case's page as FLAIR.")


def test_wrong_file_type_is_415_and_leaves_nothing(clinician: ApiClient, db, storage_dir, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    response = _upload(clinician, path)
    assert response.status_code == 415
    assert "NIfTI" in response.json()["detail"]
    assert_nothing_stored(db, storage_dir)


def test_corrupt_nifti_is_422_with_reason(clinician: ApiClient, db, storage_dir, tmp_path: Path) -> None:
    path = tmp_path / "broken.nii"
    path.write_bytes(b"\x00" * 400)
    response = _upload(clinician, path)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("This file is not a NIfTI image")
    assert_nothing_stored(db, storage_dir)


def test_a_mask_uploaded_instead_of_its_scan_is_refused_at_once(clinician: ApiClient, db, storage_dir, tmp_path) -> None:
    """It was accepted and failed in the worker, after the reader had moved on."""
    labels = (brain_like() > 0).astype(np.uint8)
    labels[labels.shape[0] // 2:] *= 2  # two labels, as a segmentation has
    response = _upload(clinician, write_nifti(tmp_path / "lesion_truth.nii.gz", labels))
    assert response.status_code == 422
    assert response.json()["detail"].startswith("The volume holds only 2 distinct values besides zero: it looks like "
                                                "a mask or a segmentation")
    assert_nothing_stored(db, storage_dir)
    # an 8-bit scan keeps its hundreds of grey levels and is taken
    scan = np.clip(brain_like() * 2, 0, 255).astype(np.uint8)
    assert _upload(clinician, write_nifti(tmp_path / "eight_bit.nii.gz", scan)).status_code == 201


def test_a_text_file_named_nii_gz_is_called_no_nifti_in_words(clinician: ApiClient, db, storage_dir, tmp_path) -> None:
    path = tmp_path / "scan.nii.gz"
    path.write_text("patient notes, not an image\n" * 20)
    response = _upload(clinician, path)
    assert response.status_code == 422
    assert response.json()["detail"] == ("This file is not a NIfTI image: it does not start with a NIfTI header. "
                                         "Upload the scan as .nii or .nii.gz, or its DICOM files.")
    assert_nothing_stored(db, storage_dir)


def test_4d_volume_is_refused(clinician: ApiClient, db, tmp_path: Path) -> None:
    path = write_nifti(tmp_path / "fmri.nii.gz", data=np.ones((16, 16, 16, 5), np.float32))
    response = _upload(clinician, path)
    assert response.status_code == 422 and "3D" in response.json()["detail"]


def test_absurd_voxel_size_is_refused(clinician: ApiClient, tmp_path: Path) -> None:
    response = _upload(clinician, write_nifti(tmp_path / "big.nii.gz", spacing=50.0))
    assert response.status_code == 422 and "Voxel size" in response.json()["detail"]


def test_gzip_bomb_is_refused(clinician: ApiClient, db, storage_dir, tmp_path: Path) -> None:
    # The test limit is 8 MiB per upload; inflating is capped at four times that.
    response = _upload(clinician, write_gzip_bomb(tmp_path / "bomb.nii.gz", 40 << 20))
    assert response.status_code == 413 and "inflates" in response.json()["detail"]
    assert_nothing_stored(db, storage_dir)


def test_oversized_upload_is_413_while_streaming(clinician: ApiClient, db, tmp_path: Path) -> None:
    path = tmp_path / "huge.nii"
    path.write_bytes(b"\x01" * (9 << 20))

    def chunks():  # type: ignore[no-untyped-def]
        # A chunked body has no Content-Length, so only the streaming count can stop it.
        boundary = b"--xyz"
        yield boundary + b'\r\nContent-Disposition: form-data; name="files"; filename="huge.nii"\r\n\r\n'
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk
        yield b"\r\n" + boundary + b"--\r\n"

    response = clinician.post(
        "/api/cases", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=xyz"}
    )
    assert response.status_code == 413
    assert _count(db, Case) == 0


def test_worklist_sorts_by_triage_priority_then_newest(clinician: ApiClient, db, tmp_path: Path) -> None:
    ids = []
    for seed in range(3):
        path = write_nifti(tmp_path / f"s{seed}.nii.gz", data=brain_like(seed=seed))
        ids.append(_upload(clinician, path, label=f"case {seed}").json()["id"])
    jobs = {job.case_id: job.id for job in db.scalars(select(Job))}
    finish_job(db, jobs[ids[0]], triage="urgent")
    finish_job(db, jobs[ids[1]], triage="routine")
    page = clinician.get("/api/cases").json()
    # urgent, then routine (a finished analysis outranks an unfinished one), then the queued case
    assert [item["id"] for item in page["items"]] == [ids[0], ids[1], ids[2]]
    assert page["total"] == 3
    queued = clinician.get("/api/cases", params={"status": "queued"}).json()
    assert [item["id"] for item in queued["items"]] == [ids[2]]
    assert clinician.get("/api/cases", params={"page_size": 1000}).status_code == 422


def test_case_detail_lists_flags_and_records_the_view(clinician: ApiClient, db, tmp_path: Path) -> None:
    case_id = _upload(clinician, write_nifti(tmp_path / "s.nii.gz")).json()["id"]
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    finish_job(db, job.id, n_flags=2)
    body = clinician.get(f"/api/cases/{case_id}").json()
    assert body["status"] == "succeeded" and body["flag_count"] == 2
    assert [flag["label"] for flag in body["flags"]] == [1, 2]
    assert body["flags"][0]["volume_ml"] == 0.8
    assert body["model"] == {"name": "itermask3d-fast-t1", "version": "test", "trained": True}
    views = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.viewed")).all()
    assert [event.case_id for event in views] == [case_id]


def test_a_case_page_asking_again_is_one_view_in_the_audit_trail(
    clinician: ApiClient, coordinator: ApiClient, users, db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page asks every 2 s while a run moves: the trail records who looked, not every poll."""
    case_id = _upload(clinician, write_nifti(tmp_path / "s.nii.gz")).json()["id"]

    def views() -> list[tuple[int | None, str | None]]:
        return [(e.actor_id, e.client_ip) for e in db.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.viewed").order_by(AuditEvent.id))]

    for _ in range(5):
        assert clinician.get(f"/api/cases/{case_id}").status_code == 200
    coordinator.get(f"/api/cases/{case_id}")
    assert views() == [(users["clinician"], "testclient"), (users["coordinator"], "testclient")]
    # from another workstation, or once the window has passed, it is a view of its own
    assert record_view(db, actor_id=users["clinician"], case_id=case_id, client_ip="10.1.2.3") is True
    assert record_view(db, actor_id=users["clinician"], case_id=case_id, client_ip="10.1.2.3") is False
    later = utcnow() + VIEW_WINDOW + timedelta(seconds=1)  # audit rows cannot be backdated: the clock moves on
    monkeypatch.setattr("neurotriage.audit.service.utcnow", lambda: later)
    clinician.get(f"/api/cases/{case_id}")
    assert views()[-1] == (users["clinician"], "testclient") and len(views()) == 4


def test_missing_case_and_missing_result_file_are_404(clinician: ApiClient, tmp_path: Path) -> None:
    assert clinician.get("/api/cases/999999").status_code == 404
    case_id = _upload(clinician, write_nifti(tmp_path / "s.nii.gz")).json()["id"]
    response = clinician.get(f"/api/cases/{case_id}/files/anomaly_map")
    assert response.status_code == 404 and "not available yet" in response.json()["detail"]


def test_colour_or_complex_volumes_and_oversized_grids_are_422_and_leave_nothing(
    clinician: ApiClient, db, storage_dir, tmp_path: Path, monkeypatch
) -> None:
    rgb = np.zeros((16, 16, 16), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    rgb["R"] = 100
    colour = write_nifti(tmp_path / "colour.nii.gz", data=rgb)
    response = _upload(clinician, colour)
    assert response.status_code == 422 and "colour (RGB)" in response.json()["detail"]
    complex_scan = write_nifti(tmp_path / "complex.nii.gz", data=brain_like().astype(np.complex64))
    response = _upload(clinician, complex_scan)
    assert response.status_code == 422 and "complex" in response.json()["detail"]
    monkeypatch.setattr("neurotriage.cases.nifti.MAX_VOXELS", brain_like().size - 1)
    response = _upload(clinician, write_nifti(tmp_path / "scan.nii.gz"))
    assert response.status_code == 422 and "million voxels" in response.json()["detail"]
    assert_nothing_stored(db, storage_dir)


def test_voxel_sizes_are_checked_in_the_engines_range_as_the_engine_measures_them(
    clinician: ApiClient, db, tmp_path: Path
) -> None:
    """What the upload accepts, the worker can read: 7.5 mm slices would be accepted here and fail after queueing.
    The voxel size is the affine's, as the engine takes it, whatever the header's pixdim says."""
    response = _upload(clinician, write_nifti(tmp_path / "thick.nii.gz", spacing=7.5))
    assert response.status_code == 422
    assert response.json()["detail"] == "Voxel size 7.5 x 7.5 x 7.5 mm is outside 0.2 to 7 mm, the range the analysis reads."
    image = nib.Nifti1Image(brain_like(), np.diag([2.0, 2.0, 2.0, 1.0]))
    image.header.set_zooms((20.0, 20.0, 20.0))  # a stale pixdim beside a 2 mm sform
    image.set_sform(np.diag([2.0, 2.0, 2.0, 1.0]), code=1)
    stale = tmp_path / "stale_pixdim.nii.gz"
    nib.save(image, str(stale))
    assert _upload(clinician, stale).status_code == 201


def test_the_upload_limits_are_the_engines() -> None:
    """Copied because the API does not import the engine; a change on one side alone would let uploads through
    that the worker then refuses (or refuse scans it could read)."""
    from itermask3d import io as engine_io
    from neurotriage.cases import brain_checks, nifti

    assert (nifti.MIN_SPACING_MM, nifti.MAX_SPACING_MM) == (engine_io.MIN_SPACING_MM, engine_io.MAX_SPACING_MM)
    assert nifti.MAX_VOXELS == engine_io.MAX_VOXELS
    assert nifti.ORIENTATION_UNKNOWN == engine_io.ORIENTATION_UNKNOWN
    for name in ("MAX_BACKGROUND_FRACTION", "MAX_NEGATIVE_FRACTION", "MAX_BRAIN_ML", "MIN_PART_FRACTION"):
        assert getattr(brain_checks, name) == getattr(engine_io, name), name
    for volume in (brain_like(), _head_like(), _z_scored(), -brain_like(), np.zeros((8, 8, 8), np.float32),
                   _head_on_zeros(), _two_parts()):
        assert brain_checks.border_fraction(volume) == engine_io._border_fraction(volume)
        assert brain_checks.tissue_threshold(volume) == engine_io.tissue_threshold(volume)
        np.testing.assert_array_equal(brain_checks.brain_mask(volume), engine_io.foreground_mask(volume))


def _head_on_zeros() -> np.ndarray:
    """A head whose background a converter set to zero: clean faces, but scalp and skull around the brain."""
    head = np.zeros((40, 44, 40), np.float32)
    head[4:36, 4:40, 4:36] = 40.0
    head[8:32, 8:36, 8:32] = np.where(brain_like() > 0, brain_like(), 60.0)
    return head


def _two_parts() -> np.ndarray:
    """A brain and, apart from it, a speck under a tenth of its size: the speck is not brain."""
    data = np.zeros((40, 40, 40), np.float32)
    data[4:28, 6:34, 8:32] = brain_like()
    data[33:36, 33:36, 33:36] = 80.0
    return data


def _head_like() -> np.ndarray:
    """A brain in a head in noisy air, as a scanner writes it: signal on every face of the volume."""
    rng = np.random.default_rng(1)
    scalp = brain_like((30, 34, 30)) * 0.5 + 40.0
    scalp[3:27, 3:31, 3:27] = np.where(brain_like() > 0, brain_like(), 60.0)
    return (scalp + np.abs(rng.normal(0.0, 3.0, scalp.shape))).astype(np.float32)


def _z_scored() -> np.ndarray:
    data = brain_like()
    inside = data > 0
    return np.where(inside, (data - data[inside].mean()) / data[inside].std(), 0.0).astype(np.float32)


def test_a_scan_that_is_not_brain_extracted_or_is_normalised_is_refused_at_upload(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    """The engine refuses both; refused at upload, they never become a case whose job fails."""
    response = _upload(clinician, write_nifti(tmp_path / "head.nii.gz", _head_like()))
    assert response.status_code == 422
    assert response.json()["detail"].startswith("The scan does not look skull-stripped: 100 % of the volume's outer")
    response = _upload(clinician, write_nifti(tmp_path / "z.nii.gz", _z_scored()))
    assert response.status_code == 422 and "it looks intensity-normalised" in response.json()["detail"]
    # its background set to zero by a converter: the faces are clean, the tissue is more than any brain
    response = _upload(clinician, write_nifti(tmp_path / "zeroed.nii.gz", _head_on_zeros(), spacing=4.5))
    assert response.status_code == 422
    assert "does not look skull-stripped: it holds 3359 mL of tissue, more than any brain" in response.json()["detail"]
    assert_nothing_stored(db, storage_dir)


def test_a_volume_without_orientation_is_refused(clinician: ApiClient, db, storage_dir: Path, tmp_path: Path) -> None:
    """Neither qform nor sform: nibabel would make one up from the voxel sizes, and flags could land on the wrong
    side. A qform alone (an sform code of 0) is enough."""
    image = nib.Nifti1Image(brain_like(), np.diag([2.0, 2.0, 2.0, 1.0]))
    image.set_sform(None, code=0)
    image.set_qform(None, code=0)
    unoriented = tmp_path / "unoriented.nii.gz"
    nib.save(image, str(unoriented))
    response = _upload(clinician, unoriented)
    assert response.status_code == 422
    assert "sform and qform codes are both 0" in response.json()["detail"]
    assert_nothing_stored(db, storage_dir)
    image.set_qform(np.diag([2.0, 2.0, 2.0, 1.0]), code=1)
    qform_only = tmp_path / "qform_only.nii.gz"
    nib.save(image, str(qform_only))
    assert _upload(clinician, qform_only).status_code == 201
