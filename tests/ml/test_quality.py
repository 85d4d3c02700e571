"""Acquisition checks (quality.check_acquisition): a scan with slices missing inside the brain, with its top
cut off, or with a region that was never imaged (one constant intensity, no noise) is sent for a rescan;
complete scans, lesions and motion (a complete scan: the signal checks look for it) are not."""
import numpy as np
import pytest

from itermask3d.flags import triage
from itermask3d.io import validate
from itermask3d.preprocessing import prepare_scan
from itermask3d.profiles import PROFILES
from itermask3d.quality import BLANK_MIN_ML, check_acquisition
from itermask3d.signal_checks import rescan_issues
from itermask3d.synthetic import make_case

THICK = dict(spacing_mm=(1.5, 1.5, 4.0), oblique=True)  # anisotropic, rotated, axes permuted


def _issues(case):
    return check_acquisition(validate(case.image))


@pytest.mark.parametrize("kind, extra", [
    ("normal", {}),
    ("lesion", {"lesion_type": "cavity", "lesion_size_mm": 12.0}),
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


@pytest.mark.parametrize("where", ["slab_top", "slab_middle"])
@pytest.mark.parametrize("grid", [dict(spacing_mm=(2.0, 2.0, 2.0)), THICK], ids=["2mm", "oblique-4mm"])
def test_a_slab_set_to_one_intensity_is_reported_as_blank_and_nothing_else(where, grid):
    """The spec's missing slab is filled with the brain's minimum, which is not zero: without this check the
    network inpaints it as dark tissue. The reader is told about the blank region only, not about the spike
    and bias field that its sharp edges imitate."""
    case = make_case("artefact", "t1", seed=5, artefact_type=where, **grid)
    scan = validate(case.image)
    issues = rescan_issues(prepare_scan(scan, PROFILES["fast"]))
    assert [i.kind for i in issues] == ["blank_region"], [i.message for i in issues]
    issue = issues[0]
    low, high = case.info["slab_mm"]
    voxels = np.argwhere(scan.foreground)
    z = voxels @ scan.affine[2, :3] + scan.affine[2, 3]
    in_slab = voxels[(z >= low) & (z <= high), issue.axis]
    assert in_slab.min() <= issue.planes[0] <= issue.planes[1] <= in_slab.max()
    assert "mL" in issue.message and "rescan" in issue.message


def test_a_blank_region_needs_to_be_noise_free_and_large():
    """A cube of one intensity in the middle of a 2 mm scan: 20 mm across (its inner 8 x 8 x 10 voxels, 5.1 mL,
    equal their in-plane neighbours) is reported; with faint noise on it, or only 10 mm across (0.36 mL), not."""
    case = make_case("normal", "t1", seed=8, spacing_mm=(2.0, 2.0, 2.0))
    data = np.asarray(case.image.dataobj, dtype=np.float32)
    centre = np.argwhere(data > 0).mean(axis=0).astype(int)
    level = 0.3 * float(data.max())

    def kinds(side: int, noise: float = 0.0) -> list[str]:
        cube = tuple(slice(c - side // 2, c - side // 2 + side) for c in centre)
        blanked = data.copy()
        blanked[cube] = level + np.random.default_rng(0).normal(0.0, noise, (side,) * 3)
        return [i.kind for i in check_acquisition(validate(type(case.image)(blanked, case.image.affine)))]

    assert kinds(10) == ["blank_region"]
    assert kinds(10, noise=1e-3 * level) == []
    assert kinds(5) == [] and 3 * 3 * 5 * 8 / 1000 < BLANK_MIN_ML


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
