"""Acquisition checks (quality.check_acquisition): a scan with slices missing inside the brain, or
with its top cut off, is sent for a rescan; complete scans, lesions and the spec's artefacts are not."""
import numpy as np
import pytest

from itermask3d.flags import triage
from itermask3d.io import validate
from itermask3d.quality import check_acquisition
from itermask3d.synthetic import make_case

THICK = dict(spacing_mm=(1.5, 1.5, 4.0), oblique=True)  # anisotropic, rotated, axes permuted


def _issues(case):
    return check_acquisition(validate(case.image))


@pytest.mark.parametrize("kind, extra", [
    ("normal", {}),
    ("lesion", {"lesion_type": "cavity", "lesion_size_mm": 12.0}),
    ("artefact", {"artefact_type": "slab_top"}),  # set to the brain's minimum, not zero: the network's job
    ("artefact", {"artefact_type": "motion"}),
])
@pytest.mark.parametrize("grid", [dict(spacing_mm=(2.0, 2.0, 2.0)), THICK], ids=["2mm", "oblique-4mm"])
def test_complete_scans_pass(kind, extra, grid):
    assert _issues(make_case(kind, "t1", seed=5, **grid, **extra)) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_slices_missing_inside_the_brain_are_reported(seed):
    case = make_case("artefact", "t1", seed=seed, artefact_type="slices_missing", **THICK)
    issues = _issues(case)
    assert [i.kind for i in issues] == ["missing_slices"], [i.message for i in issues]
    issue = issues[0]
    assert issue.axis == case.info["axis"]
    assert list(issue.planes) == case.info["planes"]
    assert issue.extent_mm == pytest.approx(case.info["thickness_mm"], abs=0.1)
    assert "rescan" in issue.message and f"{issue.planes[0]}-{issue.planes[1]}" in issue.message


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_brain_with_its_top_cut_off_is_reported(seed):
    case = make_case("artefact", "t1", seed=seed, artefact_type="slices_cut", **THICK)
    issues = _issues(case)
    assert [i.kind for i in issues] == ["cut_off"], [i.message for i in issues]
    first, last = case.info["planes"]
    assert issues[0].axis == case.info["axis"]
    assert issues[0].planes[0] in (first - 1, last + 1)  # the last plane left next to the removed ones


def test_a_single_missing_slice_is_reported():
    case = make_case("normal", "t1", seed=8, spacing_mm=(2.0, 2.0, 2.0))
    data = np.asarray(case.image.dataobj, dtype=np.float32).copy()
    j = np.flatnonzero(data.any(axis=(0, 2)))
    middle = int(j.mean())
    data[:, middle, :] = 0
    scan = validate(type(case.image)(data, case.image.affine))
    issues = check_acquisition(scan)
    assert [(i.kind, i.axis, tuple(i.planes)) for i in issues] == [("missing_slices", 1, (middle, middle))]


def test_triage_puts_urgent_findings_before_a_rescan():
    small = {"volume_mm3": 500.0}
    large = {"volume_mm3": 4000.0}
    assert triage([], rescan=True) == "rescan"
    assert triage([small], rescan=True) == "rescan"
    assert triage([large], rescan=True) == "urgent"
    assert triage([small]) == "review"
    assert triage([]) == "routine"


def test_thick_slices_taper_without_a_cut():
    # 7 mm slices, the thickest accepted: the end plane holds 0.13 of the largest, the most measured.
    case = make_case("normal", "t1", seed=206, spacing_mm=(0.9, 0.9, 7.0), oblique=True)
    assert _issues(case) == []
