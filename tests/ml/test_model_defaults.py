"""A model's calibrated gamma and search schedule (its metadata's `inference` section, written by
`itermask3d calibrate`) are what an Analyzer runs by default; explicit arguments override them.
The shipped T1 model relies on this to run the coarse-fine search."""
import json

import nibabel as nib
import pytest

from itermask3d.api import Analyzer
from itermask3d.checkpoints import save_weights
from itermask3d.networks import build_network
from itermask3d.profiles import get_profile
from itermask3d.synthetic import make_case


@pytest.fixture
def calibrated_model(tmp_path):
    path = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), path,
                 {"profile": "tiny", "sequence": "t1", "inference": {"gamma": 0.07, "schedule": "uniform4"}})
    return path


def test_metadata_sets_the_defaults_and_arguments_override_them(calibrated_model):
    default = Analyzer(profile="tiny", device="cpu", model_path=calibrated_model, registration="moments")
    assert (default.schedule, default.gamma) == ("uniform4", 0.07)
    chosen = Analyzer(profile="tiny", device="cpu", model_path=calibrated_model, registration="moments",
                      schedule="spec", gamma=0.02)
    assert (chosen.schedule, chosen.gamma) == ("spec", 0.02)


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


def test_an_unknown_schedule_in_the_metadata_is_refused(tmp_path):
    path = tmp_path / "bad.pt"
    save_weights(build_network(get_profile("tiny")), path, {"inference": {"schedule": "fastest"}})
    with pytest.raises(ValueError, match="unknown search schedule 'fastest'"):
        Analyzer(profile="tiny", device="cpu", model_path=path, registration="moments")
