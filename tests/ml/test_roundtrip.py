"""Native-grid round trip: scan grid -> profile grid (MNI) -> scan grid."""
import numpy as np
import pytest

from itermask3d import registration
from itermask3d.io import validate
from itermask3d.preprocessing import prepare_scan
from itermask3d.profiles import PROFILES
from itermask3d.resampling import resample
from itermask3d.synthetic import make_case


@pytest.fixture(scope="module")
def oblique_case():
    case = make_case("lesion", "t1", seed=5, spacing_mm=(1.4, 1.8, 3.0), oblique=True,
                     lesion_type="cavity", lesion_size_mm=10)
    assert not np.allclose(np.abs(case.image.affine[:3, :3]) > 1e-6, np.eye(3, dtype=bool))  # oblique
    return case


def test_lesion_comes_back_within_one_voxel(oblique_case):
    scan = validate(oblique_case.image)
    profile = PROFILES["fast"]
    prepared = prepare_scan(scan, profile, registration="moments")
    truth = np.asarray(oblique_case.truth.dataobj) > 0
    on_grid = resample(truth.astype(np.float32), scan.affine, profile.grid_affine, profile.shape,
                       prepared.mni_to_scan, order=1)
    back = prepared.to_native(on_grid)
    assert back.shape == truth.shape
    back_mask = back > 0.5
    centroid_in = np.argwhere(truth).mean(axis=0)
    centroid_out = np.argwhere(back_mask).mean(axis=0)
    assert np.all(np.abs(centroid_in - centroid_out) <= 1.0), (centroid_in, centroid_out)
    dice = 2 * np.sum(truth & back_mask) / (truth.sum() + back_mask.sum())
    assert dice > 0.75


def test_registration_puts_the_lesion_at_its_template_position(oblique_case):
    scan = validate(oblique_case.image)
    profile = PROFILES["fast"]
    prepared = prepare_scan(scan, profile, registration="affine")
    assert (prepared.registration, prepared.registration_fallback) == ("affine", None)
    truth = np.asarray(oblique_case.truth.dataobj) > 0
    on_grid = resample(truth.astype(np.float32), scan.affine, profile.grid_affine, profile.shape,
                       prepared.mni_to_scan, order=1) > 0.5
    centroid_mm = profile.grid_affine[:3, :3] @ np.argwhere(on_grid).mean(axis=0) + profile.grid_affine[:3, 3]
    expected = np.array(oblique_case.info["centre_mni_mm"])
    # The blob is irregular and the subject deformed: allow a few millimetres.
    assert np.linalg.norm(centroid_mm - expected) < 6.0
    # Brain on the grid should look like the template brain (about 1.5 - 2 L).
    assert 1.2e6 < prepared.brain.sum() * profile.spacing_mm**3 < 2.4e6


def test_a_rejected_affine_registration_is_reported_as_moments(oblique_case, monkeypatch):
    # Results must not claim an affine alignment that was thrown away.
    monkeypatch.setattr(registration, "_plausible", lambda candidate, reference: False)
    scan = validate(oblique_case.image)
    prepared = prepare_scan(scan, PROFILES["fast"], registration="affine")
    assert prepared.registration == "moments"
    assert "implausible" in prepared.registration_fallback
    np.testing.assert_allclose(prepared.mni_to_scan, registration.moments_alignment(scan.foreground, scan.affine))


def test_to_native_keeps_shape_and_values(oblique_case):
    scan = validate(oblique_case.image)
    prepared = prepare_scan(scan, PROFILES["fast"], registration="moments")
    ones = prepared.to_native(np.ones(PROFILES["fast"].shape, np.float32))
    assert ones.shape == scan.data.shape
    assert np.all(ones[scan.foreground] > 0.99)
