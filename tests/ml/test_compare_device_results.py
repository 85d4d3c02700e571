"""scripts/compare_device_results.py: another device's benchmark results beside this CPU's, case by case."""
import json

import pytest

from itermask3d.api import Analyzer
from itermask3d.benchmark import benchmark_cases, build_cases, run_schedules


def test_a_rerun_of_the_same_cases_on_the_same_device_agrees_exactly(tmp_path, load_script):
    # The "other device" here is this CPU too: the script must rebuild the very case and noise seed the
    # benchmark ran, so its rerun reproduces the result to the last digit.
    spec = next(s for s in benchmark_cases(1, seed=0) if s["kind"] == "lesion" and s["spacing_mm"][2] >= 2.0)
    build_cases(tmp_path / "cases", [spec], "t1")
    analyzer = Analyzer("tiny", "t1", "cpu")  # random weights: fast, and the comparison needs no trained model
    run_schedules(analyzer, tmp_path / "cases" / f"{spec['name']}.nii.gz",
                  {"coarse-fine": tmp_path / "results" / "coarse-fine" / spec["name"]}, seed=0)

    compare = load_script("compare_device_results").compare
    rows = compare(tmp_path / "results" / "coarse-fine", "t1", "coarse-fine", cases_per_group=1, profile="tiny")

    assert [r["case"] for r in rows] == [spec["name"]]
    other, here = rows[0]["other"], rows[0]["cpu"]
    assert other["device"] == here["device"] == "cpu"
    for key in ("threshold", "passes", "score", "triage", "flags", "flagged_mm3"):
        assert other[key] == here[key], key


def test_results_of_other_cases_are_refused_by_name(tmp_path, load_script):
    folder = tmp_path / "results" / "spec" / "not_a_benchmark_case"
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps({}))
    with pytest.raises(SystemExit, match="not_a_benchmark_case"):
        load_script("compare_device_results").compare(tmp_path / "results" / "spec", "t1", "spec", profile="tiny")
