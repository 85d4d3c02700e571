"""A model's recorded validation: benchmark runs summarised into its metadata, and carried into the results
made with the settings that were tested (and only those), so the reader learns what a silent scan is worth."""
import json
import re

import pytest
import torch

from itermask3d.api import Analyzer
from itermask3d.benchmark import benchmark_entry
from itermask3d.checkpoints import read_metadata, save_weights
from itermask3d.networks import build_network
from itermask3d.profiles import get_profile
from itermask3d.validation import record_validation_entry, summarise_cases, variant_settings


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), path,
                 {"profile": "tiny", "sequence": "t1", "inference": {"gamma": 0.07, "schedule": "uniform4",
                                                                     "min_flag_mm3": 900.0}})
    return path


def _entry(case, flags=0, rescan=False, dice=None, hit_rate=None, lesions=1):
    entry = {"case": f"{case}.nii.gz", "flags": flags, "rescan": rescan}
    if dice is not None:
        entry.update(dice=dice, lesion_hit_rate=hit_rate, lesions=lesions)
    return entry


def _run_file(tmp_path, analyzer, seed, entries, variant="uniform4", **meta):
    settings = analyzer.settings()
    run = {"meta": {"model": f"{analyzer.model_info['name']} {analyzer.model_info['version']}", "seed": seed,
                    "cases_per_group": 1, "gamma": settings["gamma"], "rise_gamma": None,
                    "rise_late_steps": settings["rise_late_steps"], "min_flag_mm3": settings["min_flag_mm3"],
                    "min_peak_ratio": settings["min_peak_ratio"], "scaling": settings["scaling"], **meta},
           "cases": {variant: entries}}
    path = tmp_path / f"run{seed}.json"
    path.write_text(json.dumps(run))
    return path


def test_counts_pool_lesions_by_kind_and_size_and_small_lesions_one_by_one():
    entries = [_entry("normal_00"), _entry("normal_01", flags=2), _entry("normal_02", rescan=True),
               _entry("lesion_tumour_r5_00", dice=0.0, hit_rate=0.0), _entry("lesion_tumour_r5_01", flags=1,
                                                                              dice=0.7, hit_rate=1.0),
               # a cavity whose truth falls into two pieces, one of them flagged: the cavity was found
               _entry("lesion_cavity_r12_00", flags=1, dice=0.4, hit_rate=0.5, lesions=2),
               _entry("lesion_small_00", flags=1, dice=0.1, hit_rate=0.25, lesions=4),
               _entry("lesion_small_01", dice=0.0, hit_rate=0.0, lesions=3),
               _entry("artefact_noise_00", rescan=True), _entry("artefact_bias_00", flags=1)]
    summary = summarise_cases(entries)
    assert summary["normals"] == {"scans": 3, "flagged": 1, "rescan": 1}
    assert summary["artefacts"] == {"scans": 2, "rescan": 1, "flagged": 1}
    assert summary["lesions"] == [
        {"kind": "tumour", "diameter_mm": 10.0, "total": 2, "found": 1, "median_dice": 0.35},
        {"kind": "cavity", "diameter_mm": 24.0, "total": 1, "found": 1, "median_dice": 0.4},
        {"kind": "small", "diameter_mm": None, "total": 7, "found": 1, "median_dice": 0.05}]


def test_two_seeds_are_recorded_in_the_metadata_and_reach_the_result(model, tmp_path, small_lesion_case):
    analyzer = Analyzer(profile="tiny", sequence="t1", device="cpu", model_path=model)
    runs = [_run_file(tmp_path, analyzer, 0, [_entry("normal_00"), _entry("lesion_tumour_r8_00", 0, dice=0.0,
                                                                               hit_rate=0.0)]),
            _run_file(tmp_path, analyzer, 1, [_entry("normal_00", flags=1), _entry("lesion_tumour_r8_00", 1,
                                                                                     dice=0.6, hit_rate=1.0)])]
    validation = record_validation_entry(runs, model, profile="tiny", sequence="t1")
    assert validation["seeds"] == [0, 1] and validation["cases"] == 4
    assert validation["lesions"] == [{"kind": "tumour", "diameter_mm": 16.0, "total": 2, "found": 1,
                                      "median_dice": 0.3}]
    assert validation["normals"] == {"scans": 2, "flagged": 1, "rescan": 0}
    assert read_metadata(model)["validation"] == validation
    assert read_metadata(model)["inference"]["gamma"] == 0.07  # the rest of the metadata is kept

    scan_path = small_lesion_case[0]
    result = Analyzer(profile="tiny", sequence="t1", device="cpu", model_path=model).analyse(
        scan_path, tmp_path / "out")
    assert result["model"]["validation"] == validation
    # with a setting other than the tested one the figures do not describe the result, so none are given
    result = Analyzer(profile="tiny", sequence="t1", device="cpu", model_path=model, gamma=0.5).analyse(
        scan_path, tmp_path / "out2")
    assert "validation" not in result["model"]


def test_a_validation_of_other_weights_is_not_shown(model, tmp_path, small_lesion_case):
    analyzer = Analyzer(profile="tiny", sequence="t1", device="cpu", model_path=model)
    record_validation_entry([_run_file(tmp_path, analyzer, 0, [_entry("normal_00")])], model, "tiny", "t1")
    # the weights change (further training) and the metadata stays: the old figures no longer apply
    before = model.read_bytes()
    torch.manual_seed(5)
    save_weights(build_network(get_profile("tiny")), model, read_metadata(model))
    assert model.read_bytes() != before and "validation" in read_metadata(model)
    scan_path = small_lesion_case[0]
    result = Analyzer(profile="tiny", sequence="t1", device="cpu", model_path=model).analyse(scan_path, tmp_path / "o")
    assert "validation" not in result["model"]


@pytest.mark.parametrize("change, message", [
    ({"model": "itermask3d-tiny-t1 0.1.0/0000000000"}, "benchmarked itermask3d-tiny-t1 0.1.0/0000000000, not"),
    ({"gamma": 0.2}, "with the model's default settings (uniform4, gamma 0.07)"),
    ({"cases_per_group": "1, limit 3"}, "ran a subset of the benchmark"),
])
def test_runs_that_do_not_describe_the_model_are_refused_and_nothing_is_written(model, tmp_path, change, message):
    analyzer = Analyzer(profile="tiny", sequence="t1", device="cpu", model_path=model)
    run = _run_file(tmp_path, analyzer, 0, [_entry("normal_00")], **change)
    with pytest.raises(ValueError, match=re.escape(message)):
        record_validation_entry([run], model, "tiny", "t1")
    assert "validation" not in read_metadata(model)


def test_the_same_seed_twice_is_refused(model, tmp_path):
    analyzer = Analyzer(profile="tiny", sequence="t1", device="cpu", model_path=model)
    run = _run_file(tmp_path, analyzer, 3, [_entry("normal_00")])
    with pytest.raises(ValueError, match="repeats seed 3"):
        record_validation_entry([run, run], model, "tiny", "t1")


def test_a_real_benchmark_run_names_the_models_settings(model, tmp_path, capsys):
    """The benchmark's own meta maps back onto the settings it ran with (and a --limit run is refused)."""
    from itermask3d.cli import main

    work = tmp_path / "work"
    benchmark_entry(work, work / "report.md", profile="tiny", sequence="t1", device="cpu",
                    schedules=["uniform4"], cases_per_group=1, limit=1, model_path=model)
    meta = json.loads((work / "benchmark.json").read_text())["meta"]
    analyzer = Analyzer(profile="tiny", sequence="t1", device="cpu", model_path=model)
    assert variant_settings(meta, "uniform4") == analyzer.settings()
    assert variant_settings(meta, "coarse-fine") != analyzer.settings()  # another schedule is another setting
    code = main(["record-validation", "--benchmark", str(work), "--profile", "tiny", "--model", str(model)])
    assert code == 2
    assert capsys.readouterr().err.strip().endswith("ran a subset of the benchmark (--limit); record whole runs only")
    code = main(["record-validation", "--benchmark", str(tmp_path / "nowhere"), "--profile", "tiny", "--model", str(model)])
    assert code == 2 and "nowhere cannot be read as a benchmark run" in capsys.readouterr().err


def test_a_run_whose_meta_lacks_a_setting_is_one_clear_error(model, tmp_path):
    analyzer = Analyzer(profile="tiny", sequence="t1", device="cpu", model_path=model)
    run = _run_file(tmp_path, analyzer, 0, [_entry("normal_00")])
    content = json.loads(run.read_text())
    del content["meta"]["rise_late_steps"], content["meta"]["scaling"]
    run.write_text(json.dumps(content))
    with pytest.raises(ValueError, match="benchmark meta lacks rise_late_steps, scaling: rerun itermask3d benchmark"):
        record_validation_entry([run], model, "tiny", "t1")
    assert "validation" not in read_metadata(model)
