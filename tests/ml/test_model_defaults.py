"""A model's calibrated gamma, smallest flag, rise test and search schedule (its metadata's `inference`
section, written by `itermask3d calibrate`) are what an Analyzer runs by default; explicit
arguments override them. The shipped T1 model relies on this to run the coarse-fine search, the
FLAIR model for its gamma, rise test and smallest flag."""
import json

import nibabel as nib
import numpy as np
import pytest

from itermask3d.api import Analyzer
from itermask3d.checkpoints import save_weights
from itermask3d.inference import RefinementResult
from itermask3d.io import load_scan
from itermask3d.networks import build_network
from itermask3d.profiles import get_profile
from itermask3d.synthetic import make_case


@pytest.fixture
def calibrated_model(tmp_path):
    path = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), path,
                 {"profile": "tiny", "sequence": "t1",
                  "inference": {"gamma": 0.07, "schedule": "uniform4", "min_flag_mm3": 900.0,
                                "rise_gamma": 0.01, "min_peak_ratio": 0.3, "rise_late_steps": 3}})
    return path


def test_metadata_sets_the_defaults_and_arguments_override_them(calibrated_model):
    default = Analyzer(profile="tiny", device="cpu", model_path=calibrated_model, registration="moments")
    assert (default.schedule, default.gamma, default.min_flag_mm3) == ("uniform4", 0.07, 900.0)
    assert default.rise_gamma == 0.01 and default.min_peak_ratio == 0.3 and default.rise_late_steps == 3
    # rise_gamma 0 switches the model's rise test off (infer --rise-gamma 0), it does not fall back to the metadata.
    chosen = Analyzer(profile="tiny", device="cpu", model_path=calibrated_model, registration="moments",
                      schedule="spec", gamma=0.02, min_flag_mm3=300.0, rise_gamma=0.0, min_peak_ratio=0.0,
                      rise_late_steps=1)
    assert (chosen.schedule, chosen.gamma, chosen.min_flag_mm3, chosen.rise_gamma) == ("spec", 0.02, 300.0, None)
    assert chosen.min_peak_ratio == 0.0 and chosen.rise_late_steps == 1


def test_late_steps_written_as_a_whole_float_are_read_as_that_number(calibrated_model):
    analyzer = Analyzer(profile="tiny", device="cpu", model_path=calibrated_model, registration="moments",
                        rise_late_steps=2.0)
    assert analyzer.rise_late_steps == 2 and isinstance(analyzer.rise_late_steps, int)


@pytest.mark.parametrize("late", [0, -1, 0.0, 2.5, float("nan"), True, "3"])
def test_late_steps_that_are_not_a_whole_number_from_one_are_refused(calibrated_model, late):
    with pytest.raises(ValueError, match="late steps must be a whole number >= 1"):
        Analyzer(profile="tiny", device="cpu", model_path=calibrated_model, registration="moments",
                 rise_late_steps=late)


@pytest.mark.parametrize("size", [0.0, -5.0])
def test_a_smallest_flag_that_is_not_a_volume_is_refused(calibrated_model, size):
    # 0 must not fall back to the default silently.
    with pytest.raises(ValueError, match="smallest flag must be a positive volume"):
        Analyzer(profile="tiny", device="cpu", model_path=calibrated_model, registration="moments", min_flag_mm3=size)


def test_without_a_calibrated_size_the_profile_default_applies(tmp_path):
    path = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), path, {"profile": "tiny", "sequence": "t1",
                                                             "inference": {"gamma": 0.07}})
    analyzer = Analyzer(profile="tiny", device="cpu", model_path=path, registration="moments")
    assert analyzer.min_flag_mm3 == get_profile("tiny").min_flag_mm3


def test_analysis_runs_the_models_schedule(calibrated_model, tmp_path):
    case = make_case("normal", "t1", seed=4, spacing_mm=(3.0, 3.0, 3.0))
    scan = tmp_path / "scan.nii.gz"
    nib.save(case.image, str(scan))
    analyzer = Analyzer(profile="tiny", device="cpu", model_path=calibrated_model, registration="moments")
    result = analyzer.analyse(scan, tmp_path / "out", seed=0)
    assert result["details"]["search_steps"] == list(range(4, 101, 4))
    # 25 search passes plus at most 10 shrinking passes (tiny profile), not the spec's 100 + shrinking.
    assert 25 <= result["passes"] <= 25 + get_profile("tiny").max_refine_passes + 2
    written = json.loads((tmp_path / "out" / "result.json").read_text())
    assert (written["details"]["schedule"], written["details"]["gamma"]) == ("uniform4", 0.07)
    assert (written["details"]["registration"], written["details"]["registration_fallback"]) == ("moments", None)
    assert written["details"]["scaling"] == "p1-p99"  # the metadata names none: the spec's


def test_an_unknown_schedule_in_the_metadata_is_refused(tmp_path):
    path = tmp_path / "bad.pt"
    save_weights(build_network(get_profile("tiny")), path, {"inference": {"schedule": "fastest"}})
    with pytest.raises(ValueError, match="unknown search schedule 'fastest'"):
        Analyzer(profile="tiny", device="cpu", model_path=path, registration="moments")


@pytest.mark.parametrize("content", ["{\"inference\": {\"gamma\": 0.1", "[0.1, 120]"])
def test_unreadable_metadata_is_refused_rather_than_replaced_by_defaults(calibrated_model, content):
    # Falling back to the profile's gamma and schedule would change every result without a word.
    calibrated_model.with_suffix(".json").write_text(content)
    with pytest.raises(ValueError, match="tiny_t1.json .*restore it"):
        Analyzer(profile="tiny", device="cpu", model_path=calibrated_model, registration="moments")


def _two_regions(analyzer, tmp_path, weak_error=1.0):
    """A prepared normal scan and a final mask on the 4 mm grid with a 512 mm^3 component (error
    ``weak_error``) and a 1728 mm^3 one (error 1) inside the brain."""
    case = make_case("normal", "t1", seed=4, spacing_mm=(3.0, 3.0, 3.0))
    scan = tmp_path / "scan.nii.gz"
    nib.save(case.image, str(scan))
    prepared = analyzer.prepare(load_scan(scan))
    centre = np.array(np.nonzero(prepared.brain)).mean(axis=1).astype(int)
    mask = np.zeros(prepared.brain.shape, dtype=bool)
    error = np.zeros(prepared.brain.shape, dtype=np.float32)
    i, j, k = centre + [-6, 0, 0]
    mask[i:i + 2, j:j + 2, k:k + 2] = True
    error[i:i + 2, j:j + 2, k:k + 2] = weak_error
    i, j, k = centre + [4, 0, 0]
    mask[i - 1:i + 2, j - 1:j + 2, k - 1:k + 2] = True
    error[i - 1:i + 2, j - 1:j + 2, k - 1:k + 2] = 1.0
    assert (mask <= prepared.brain).all()
    refined = RefinementResult(reconstruction=prepared.x, error=error, mask=mask, threshold=0.05,
                               passes=1, search_steps=[100], search_thresholds=[0.5], search_fractions=[0.0],
                               k_star=None, method="finite-difference", r2=0.0)
    return prepared, refined


def test_a_region_far_weaker_than_the_strongest_flag_is_listed_not_flagged(calibrated_model, tmp_path):
    analyzer = Analyzer(profile="tiny", device="cpu", model_path=calibrated_model, registration="moments",
                        min_flag_mm3=10.0)  # the model's peak ratio, 0.3
    prepared, refined = _two_regions(analyzer, tmp_path, weak_error=0.1)
    result = analyzer.write_results(prepared, refined, tmp_path / "out", 0.0)
    assert len(result["flags"]) == 1 and result["flags"][0]["volume_mm3"] > 1000.0
    assert result["details"]["min_peak_ratio"] == 0.3
    [weak] = result["details"]["weak_regions"]
    assert weak["peak_ratio"] < 0.3 and 0 < weak["volume_mm3"] < 1000.0 and len(weak["centroid_mm"]) == 3
    labels = nib.load(str(tmp_path / "out" / "anomaly_mask.nii.gz")).get_fdata()
    assert int(labels.max()) == 1
    analyzer.min_peak_ratio = 0.0  # off: both are flags
    every = analyzer.write_results(prepared, refined, tmp_path / "all", 0.0)
    assert len(every["flags"]) == 2 and every["details"]["weak_regions"] == []
    assert every["score"] == result["score"]  # the scan-level score still counts the weak region


def test_flags_smaller_than_the_models_smallest_flag_are_not_reported(calibrated_model, tmp_path):
    analyzer = Analyzer(profile="tiny", device="cpu", model_path=calibrated_model, registration="moments")
    prepared, refined = _two_regions(analyzer, tmp_path)
    flags = {}
    for size in (10.0, 900.0):
        analyzer.min_flag_mm3 = size
        flags[size] = analyzer.write_results(prepared, refined, tmp_path / f"out{size:.0f}", 0.0)["flags"]
    assert len(flags[10.0]) == 2
    assert len(flags[900.0]) == 1 and flags[900.0][0]["volume_mm3"] >= 900.0
    labels = nib.load(str(tmp_path / "out900" / "anomaly_mask.nii.gz")).get_fdata()
    assert int(labels.max()) == 1


def test_a_fine_tail_model_writes_its_fractional_steps(tmp_path):
    path = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), path, {"profile": "tiny", "sequence": "t1",
                                                             "inference": {"gamma": 0.07, "schedule": "fine-tail"}})
    case = make_case("normal", "t1", seed=4, spacing_mm=(3.0, 3.0, 3.0))
    scan = tmp_path / "scan.nii.gz"
    nib.save(case.image, str(scan))
    Analyzer(profile="tiny", device="cpu", model_path=path, registration="moments").analyse(scan, tmp_path / "out")
    details = json.loads((tmp_path / "out" / "result.json").read_text())["details"]
    assert details["schedule"] == "fine-tail"
    assert details["search_steps"][95:98] == [96, 96.1, 96.2] and len(details["search_thresholds"]) == 136
    k_star = details["k_star"]
    assert k_star is None or k_star in details["search_steps"]  # a step of the schedule, never truncated
