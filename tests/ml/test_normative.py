"""The normative error scale: built from normal scans only, it keeps a region that every normal brain
reconstructs poorly from outranking a lesion, and it travels with the weights it was built for."""
import json

import numpy as np
import pytest

from itermask3d.api import Analyzer
from itermask3d.checkpoints import read_metadata, save_weights
from itermask3d.cli import main
from itermask3d.inference import anomaly_error, iterative_mask_refinement
from itermask3d.networks import build_network
from itermask3d.normative import (MAX_SCALE, error_scale_from, late_search_error, load_error_scale, normative_entry,
                                  normative_path, save_error_scale)
from itermask3d.profiles import get_profile


class HardRegionReconstructor:
    """A model that in-fills x well except in ``hard`` (a region every brain has, e.g. the cerebellum)
    and in ``lesion`` (only where the scan has one), each while masked; small noise elsewhere."""

    def __init__(self, x, hard, lesion, rng, hard_error=0.45, lesion_error=0.3):
        self.x, self.hard, self.lesion, self.rng = x, hard, lesion, rng
        self.hard_error, self.lesion_error = hard_error, lesion_error

    def __call__(self, mask):
        out = self.x + self.rng.normal(0, 0.02, self.x.shape) * mask
        out[self.hard & mask] -= self.hard_error
        out[self.lesion & mask] -= self.lesion_error
        return out.astype(np.float32)


def _regions(brain_ball):
    hard = np.zeros_like(brain_ball)
    hard[6:12, 18:26, 14:22] = True  # 0.2 x 0.2 x 0.2 of the grid: about 2 % of the brain
    lesion = np.zeros_like(brain_ball)
    lesion[24:30, 20:26, 15:21] = True
    return hard & brain_ball, lesion & brain_ball


def _scale_from_normals(brain_ball, hard, count=3):
    x = np.where(brain_ball, 0.6, 0.0).astype(np.float32)
    total = np.zeros(brain_ball.shape)
    for seed in range(count):
        fake = HardRegionReconstructor(x, hard, np.zeros_like(hard), np.random.default_rng(seed))
        total += late_search_error(fake, x, brain_ball, "spec")
    return error_scale_from(total / count, brain_ball.astype(np.float64))


def test_the_scale_keeps_a_normal_hard_region_out_of_the_mask_and_the_lesion_in(brain_ball):
    hard, lesion = _regions(brain_ball)
    scale = _scale_from_normals(brain_ball, hard)
    assert scale[hard].mean() > 3.0 and np.median(scale[brain_ball & ~hard]) == 1.0
    x = np.where(brain_ball, 0.6, 0.0).astype(np.float32)

    def refine(scan_lesion, error_scale):
        fake = HardRegionReconstructor(x, hard, scan_lesion, np.random.default_rng(7))
        return iterative_mask_refinement(fake, x, brain_ball, gamma=0.02, error_scale=error_scale).mask

    no_lesion = np.zeros_like(lesion)
    # With the plain error a normal scan's hard region stays masked: a false flag on every normal.
    assert (refine(no_lesion, None) & hard).sum() > 0.5 * hard.sum()
    assert (refine(lesion, None) & hard).sum() > 0.5 * hard.sum()
    # Divided by the normals' scale, the normal scan comes out clean and the lesion is still found.
    assert refine(no_lesion, scale).sum() < 0.1 * hard.sum()
    scaled = refine(lesion, scale)
    assert (scaled & lesion).sum() > 0.9 * lesion.sum()
    assert (scaled & hard).sum() < 0.1 * hard.sum()


def test_only_the_late_search_passes_count(brain_ball):
    x = np.where(brain_ball, 0.6, 0.0).astype(np.float32)
    count = brain_ball.sum()

    def wrong_while_mostly_masked(mask):  # errs by 1 everywhere while more than half the brain is masked
        return x + (1.0 if mask.sum() > 0.5 * count else 0.0)

    assert late_search_error(wrong_while_mostly_masked, x, brain_ball, "spec").max() == 0.0
    region = np.zeros_like(brain_ball)
    region[18:22, 20:24, 16:20] = True

    def always_wrong_in_region(mask):
        return x + region

    late = late_search_error(always_wrong_in_region, x, brain_ball, "spec")
    assert np.all(late[region & brain_ball] == pytest.approx(1.0)) and late[~region].max() == 0.0


def test_scale_is_one_where_errors_are_typical_and_capped_where_they_are_extreme(brain_ball):
    coverage = brain_ball.astype(np.float64)
    uniform = error_scale_from(np.where(brain_ball, 0.01, 0.0), coverage)
    # normalised smoothing: the brain's edge is not darkened by the zeros outside it, and nothing is below 1
    assert np.all(uniform == 1.0)
    errors = np.where(brain_ball, 0.01, 0.0)
    errors[14:26, 16:28, 12:24] = 0.05  # five times the typical error
    errors[30:34, 20:24, 16:20] = 10.0  # a thousand times
    scale = error_scale_from(errors, coverage)
    assert scale[20, 22, 18] == pytest.approx(5.0, rel=0.05)
    assert scale.max() == MAX_SCALE and scale.min() == 1.0
    assert np.all(scale[~brain_ball] >= 1.0)


def test_anomaly_error_is_the_squared_error_divided_by_the_scale(brain_ball):
    x = np.where(brain_ball, 0.5, 0.0).astype(np.float32)
    r = x - 0.2
    scale = np.full(x.shape, 4.0, dtype=np.float32)
    assert anomaly_error(x, r, brain_ball)[brain_ball] == pytest.approx(0.04)
    assert anomaly_error(x, r, brain_ball, scale)[brain_ball] == pytest.approx(0.01)
    assert anomaly_error(x, r, brain_ball, scale)[~brain_ball].max() == 0.0
    with pytest.raises(ValueError, match="error scale of shape"):
        iterative_mask_refinement(lambda m: x, x, brain_ball, gamma=0.02, error_scale=scale[:-1])


@pytest.fixture
def tiny_model(tmp_path):
    path = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), path, {"profile": "tiny", "sequence": "t1",
                                                             "inference": {"gamma": 0.05, "schedule": "uniform5"}})
    return path


def _name_scale(path, scale, file_name=None):
    target = normative_path(path)
    save_error_scale(scale, target)
    metadata = read_metadata(path)
    metadata["inference"]["normative"] = {"file": file_name or target.name}
    path.with_suffix(".json").write_text(json.dumps(metadata))


def test_the_analyzer_applies_the_weights_scale_unless_told_not_to(tiny_model, small_lesion_case, tmp_path):
    shape = get_profile("tiny").shape
    with pytest.raises(ValueError, match="names no normative error scale"):
        Analyzer(profile="tiny", device="cpu", model_path=tiny_model, normative=True)
    _name_scale(tiny_model, np.full(shape, 2.0, dtype=np.float32))
    scaled = Analyzer(profile="tiny", device="cpu", model_path=tiny_model, registration="moments")
    plain = Analyzer(profile="tiny", device="cpu", model_path=tiny_model, registration="moments", normative=False)
    assert scaled.error_scale is not None and plain.error_scale is None
    scan = small_lesion_case[0]
    with_scale = scaled.analyse(scan, tmp_path / "scaled", seed=0)
    without = plain.analyse(scan, tmp_path / "plain", seed=0)
    assert with_scale["details"]["normative"] is True and without["details"]["normative"] is False
    # the same reconstructions (same seed), every error halved
    assert with_scale["details"]["search_thresholds"] == pytest.approx(
        [t / 2 for t in without["details"]["search_thresholds"]], rel=1e-3, abs=1e-6)


@pytest.mark.parametrize("problem, message", [
    ("missing", "cannot be read"), ("shape", "does not fit"), ("below_one", "does not fit"),
    ("path", "no valid normative error scale file"),
])
def test_a_broken_scale_is_refused_in_one_sentence(tiny_model, small_lesion_case, problem, message, capsys):
    profile = get_profile("tiny")
    scale = np.ones(profile.shape, dtype=np.float32)
    if problem == "shape":
        scale = scale[:-1]
    if problem == "below_one":
        scale[0, 0, 0] = 0.5
    _name_scale(tiny_model, scale, file_name="../elsewhere.npz" if problem == "path" else None)
    if problem == "missing":
        normative_path(tiny_model).unlink()
    with pytest.raises(ValueError, match=message):
        load_error_scale(tiny_model, read_metadata(tiny_model), profile)
    assert main(["infer", str(small_lesion_case[0]), "--out", str(tiny_model.parent / "o"), "--profile", "tiny",
                 "--model", str(tiny_model)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tiny_model.parent / "o").exists()


def test_building_the_scale_writes_it_beside_the_weights(tiny_model):
    summary = normative_entry("tiny", "t1", tiny_model, normals=2, seed=1, spacing_mm=(3.0, 3.0, 3.0))
    assert summary["file"] == normative_path(tiny_model).name and normative_path(tiny_model).is_file()
    metadata = read_metadata(tiny_model)
    assert metadata["inference"]["normative"]["normals"] == 2
    assert metadata["inference"]["gamma"] == 0.05  # the rest of the calibration is left as it was
    scale = load_error_scale(tiny_model, metadata, get_profile("tiny"))
    assert scale.min() >= 1.0 and scale.max() <= MAX_SCALE


def test_the_cli_refuses_untrained_weights_in_one_line(tmp_path, capsys):
    missing = tmp_path / "none.pt"
    assert main(["normative", "--profile", "tiny", "--model", str(missing), "--normals", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "model file not found" in err
    assert main(["normative", "--profile", "tiny", "--normals", "1"]) == 2
    assert "at least 2 normal scans" in capsys.readouterr().err


def test_calibration_runs_with_the_scale_and_keeps_it(tiny_model):
    from itermask3d.calibration import calibrate_entry

    _name_scale(tiny_model, np.full(get_profile("tiny").shape, 2.0, dtype=np.float32))
    calibrate_entry("tiny", "t1", tiny_model, schedule="uniform10", normals=1, lesions=1, gammas=(0.05,),
                    min_flag_sizes=(256.0,))
    section = read_metadata(tiny_model)["inference"]
    assert section["calibration"]["normative"] is True
    assert section["normative"]["file"] == normative_path(tiny_model).name
    assert Analyzer(profile="tiny", device="cpu", model_path=tiny_model).error_scale is not None
