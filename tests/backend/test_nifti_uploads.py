"""NIfTI files as they reach the upload: NIfTI-2, compressed or not whatever their name says, extra singleton
dimensions, damaged or lying about their size. Each is stored as the volume it holds, or refused in words
without the server's paths, storing nothing."""

from __future__ import annotations

import gzip
import resource
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.backend.conftest import ApiClient
from tests.backend.helpers import assert_nothing_stored
from tests.backend.volumes import brain_like

AFFINE = np.diag([2.0, 2.0, 2.0, 1.0])


def _upload(client: ApiClient, path: Path, name: str | None = None):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post("/api/cases", files={"files": (name or path.name, handle)}, data={"sequence": "t1"})


def _stored_volume(storage_dir: Path, case_id: int) -> nib.Nifti1Image:
    return nib.load(storage_dir / "cases" / str(case_id) / "scan.nii.gz")



@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("nifti2", "brain.nii.gz"),  # the engine reads NIfTI-2; the upload used to say "data code 0 not supported"
        ("gzip named .nii", "brain.nii"),
        ("plain named .nii.gz", "brain.nii.gz"),  # a browser inflated it and kept the name
        ("5D of singletons", "brain.nii.gz"),
    ],
)
def test_a_volume_is_stored_as_it_is_whatever_its_wrapping(
    clinician: ApiClient, storage_dir: Path, tmp_path: Path, kind: str, name: str
) -> None:
    data = brain_like()
    image: nib.Nifti1Image = nib.Nifti1Image(data, AFFINE)
    if kind == "nifti2":
        image = nib.Nifti2Image(data, AFFINE)
    elif kind == "5D of singletons":
        image = nib.Nifti1Image(data[..., None, None], AFFINE)
    path = tmp_path / ("upload.nii" if kind == "plain named .nii.gz" else "upload.nii.gz")
    nib.save(image, str(path))
    if kind == "gzip named .nii":
        assert path.read_bytes()[:2] == b"\x1f\x8b"
    response = _upload(clinician, path, name)
    assert response.status_code == 201, response.text
    stored = _stored_volume(storage_dir, response.json()["id"])
    assert stored.shape == data.shape
    np.testing.assert_array_equal(stored.get_fdata(), data)
    np.testing.assert_allclose(stored.affine, AFFINE)


def test_a_damaged_compressed_file_is_refused_in_words(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    """Bytes garbled inside the deflate stream raise zlib's own error, which used to become a 500."""
    raw = gzip.compress(nib.Nifti1Image(brain_like(), AFFINE).to_bytes())
    refused = 0
    for start in range(200, 2200, 400):
        damaged = bytearray(raw)
        damaged[start:start + 64] = bytes(64)
        path = tmp_path / f"damaged{start}.nii.gz"
        path.write_bytes(bytes(damaged))
        response = _upload(clinician, path)
        assert response.status_code == 422, response.text
        refused += "damaged" in response.json()["detail"]
    assert refused == 5
    assert_nothing_stored(db, storage_dir)


def test_a_file_shorter_than_its_header_says_is_refused_before_its_data_is_read(
    clinician: ApiClient, db, storage_dir: Path, tmp_path: Path
) -> None:
    """A 100-byte upload whose header asks for 256^3 x 16 float64 voxels (2 GiB) used to make the server allocate
    them before finding the data missing."""
    header = nib.Nifti1Header()
    header.set_data_shape((256, 256, 256, 16))
    header.set_data_dtype(np.float64)
    header.set_sform(AFFINE, code=1)
    path = tmp_path / "liar.nii.gz"
    path.write_bytes(gzip.compress(header.binaryblock + b"\0" * 4))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    response = _upload(clinician, path)
    assert response.status_code == 422
    assert response.json()["detail"] == "Expected a 3D volume, got 4 dimensions (256, 256, 256, 16)."
    header.set_data_shape((512, 512, 400))
    path.write_bytes(gzip.compress(header.binaryblock + b"\0" * 4))
    response = _upload(clinician, path)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("The NIfTI file is damaged: it is shorter than its header says")
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 300, f"the server's peak memory grew by {grown_mib:.0f} MiB"
    assert_nothing_stored(db, storage_dir)


def test_a_truncated_plain_file_is_refused_without_the_servers_paths(
    clinician: ApiClient, storage_dir: Path, tmp_path: Path
) -> None:
    whole = nib.Nifti1Image(brain_like(), AFFINE).to_bytes()
    path = tmp_path / "cut.nii"
    path.write_bytes(whole[: len(whole) // 2])
    response = _upload(clinician, path)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "shorter than its header says" in detail and "/" not in detail


@pytest.mark.parametrize(
    ("values", "stored_type"),
    [
        (lambda brain: brain.round() * 500, np.int32),  # whole numbers past uint16: exact, not rounded to float32
        (lambda brain: brain / 7.0, np.float32),  # fractions: float32, not the converter's float64
    ],
    ids=["whole numbers", "fractions"],
)
def test_voxels_are_stored_compactly_with_their_values(
    clinician: ApiClient, storage_dir: Path, tmp_path: Path, values, stored_type  # type: ignore[no-untyped-def]
) -> None:
    data = values(brain_like().astype(np.float64))
    path = tmp_path / "float64.nii.gz"
    nib.save(nib.Nifti1Image(data, AFFINE), str(path))
    response = _upload(clinician, path)
    assert response.status_code == 201, response.text
    stored = _stored_volume(storage_dir, response.json()["id"])
    assert stored.get_data_dtype() == stored_type
    np.testing.assert_allclose(stored.get_fdata(), data, rtol=1e-6 if stored_type == np.float32 else 0)
