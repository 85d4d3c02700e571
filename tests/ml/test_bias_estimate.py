"""Bias-field measure (bias_estimate.bias_field_spread): a quadratic field fitted to the template's white matter
on the aligned scan; a planted field is measured at its size, a lesion does not read as a field, and the rescan
checks report a strong field and leave normal and lesion scans alone."""
import numpy as np
import pytest

from itermask3d import bias_estimate, signal_checks
from itermask3d.io import validate
from itermask3d.preprocessing import prepare_scan
from itermask3d.profiles import PROFILES
from itermask3d.synthetic import make_case

FAST = PROFILES["fast"]
GRIDS = {"2mm": dict(spacing_mm=(2.0, 2.0, 2.0)), "oblique-4mm": dict(spacing_mm=(1.5, 1.5, 4.0), oblique=True)}


def _world(image) -> np.ndarray:
    """World (mm) coordinates of every voxel of ``image``: (I, J, K, 3)."""
    index = np.indices(image.shape, dtype=np.float64).reshape(3, -1).T
    return (index @ image.affine[:3, :3].T + image.affine[:3, 3]).reshape(*image.shape, 3)


def _prepared(image, data=None):
    if data is not None:
        image = type(image)(data.astype(np.float32), image.affine)
    return prepare_scan(validate(image), FAST)


def test_robust_fit_recovers_a_polynomial_despite_outliers():
    rng = np.random.default_rng(0)
    design = bias_estimate.polynomial_terms(rng.uniform(0, 50, (4000, 3)), degree=2)
    assert design.shape == (4000, 10) and np.all(design[:, 0] == 1)
    truth = rng.normal(0, 0.2, design.shape[1])
    values = design @ truth + rng.normal(0, 0.01, len(design))
    values[rng.random(len(design)) < 0.1] += 2.0  # a tenth of the voxels belong to something else
    assert np.abs(bias_estimate.robust_fit(design, values) - truth).max() < 0.01


def test_a_planted_field_is_measured_at_its_size():
    case = make_case("normal", "t1", seed=6, **GRIDS["2mm"])
    data = np.asarray(case.image.dataobj, dtype=np.float32)
    own = bias_estimate.bias_field_spread(_prepared(case.image))
    world = _world(case.image)
    centre = world[data > 0].mean(axis=0)
    # brighter towards the right, and towards the top more than the bottom: a degree-2 field
    z = world[..., 2] - centre[2]
    log_field = 0.007 * (world[..., 0] - centre[0]) + 0.004 * z + 0.0001 * z ** 2
    planted = bias_estimate.bias_field_spread(_prepared(case.image, data * np.exp(log_field)))
    truth = float(np.std(log_field[data > 0]))
    assert 0.25 < truth < 0.45
    # the scan's own mild field adds at most its own spread to the planted one's
    assert abs(planted - truth) <= 0.1 * truth + own, (planted, truth, own)


def test_a_dark_lesion_in_white_matter_does_not_read_as_a_field():
    case = make_case("normal", "t1", seed=6, **GRIDS["2mm"])
    data = np.asarray(case.image.dataobj, dtype=np.float32)
    clean = _prepared(case.image)
    # 15 mm radius, at a third of the intensity, in the right centrum semiovale (MNI 26, -10, 28)
    centre = (clean.mni_to_scan @ np.array([26.0, -10.0, 28.0, 1.0]))[:3]
    inside = np.linalg.norm(_world(case.image) - centre, axis=-1) < 15.0
    lesioned = np.where(inside, data / 3, data)
    change = bias_estimate.bias_field_spread(_prepared(case.image, lesioned)) - bias_estimate.bias_field_spread(clean)
    assert abs(change) < 0.02


def test_a_strong_bias_field_is_reported_and_a_mild_one_is_not():
    from itermask3d.synthetic.anatomy import bias_field

    case = make_case("normal", "t1", seed=6, **GRIDS["2mm"])
    data = np.asarray(case.image.dataobj, dtype=np.float32)
    strong = signal_checks.rescan_issues(_prepared(case.image, data * bias_field(data.shape, np.random.default_rng(0), 0.8)))
    assert [issue.kind for issue in strong] == ["bias_field"]
    assert "white matter" in strong[0].message and "N4" in strong[0].message
    mild = _prepared(case.image, data * bias_field(data.shape, np.random.default_rng(0), 0.1))
    assert signal_checks.rescan_issues(mild) == []


@pytest.mark.parametrize("grid", GRIDS.values(), ids=GRIDS.keys())
@pytest.mark.parametrize("kind, extra", [("normal", {}), ("lesion", {"lesion_type": "tumour", "lesion_size_mm": 14.0})])
def test_normal_and_lesion_scans_are_not_sent_for_rescan(kind, extra, grid):
    prepared = _prepared(make_case(kind, "flair", seed=7, **grid, **extra).image)
    assert bias_estimate.bias_field_spread(prepared) < signal_checks.BIAS_LIMIT
    assert signal_checks.rescan_issues(prepared) == []


def test_too_little_white_matter_is_not_judged():
    case = make_case("normal", "t1", seed=6, **GRIDS["2mm"])
    prepared = _prepared(case.image)
    prepared.brain[:] = False
    prepared.brain[40:46, 40:46, 40:46] = True
    assert bias_estimate.bias_field_spread(prepared) is None
