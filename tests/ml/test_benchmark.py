"""The benchmark's case list and report, on hand-made per-case entries (no network runs)."""
import pytest

from itermask3d.benchmark import (benchmark_cases, lesion_of_case, stratified_subset, summarise_schedule,
                                  write_report)
from itermask3d.synthetic.artefacts import ARTEFACTS


def test_case_list_covers_every_group():
    specs = benchmark_cases(cases_per_group=2, seed=0)
    assert len(specs) >= 30
    assert len({s["name"] for s in specs}) == len(specs)
    assert {s["artefact_type"] for s in specs if s["kind"] == "artefact"} == set(ARTEFACTS)
    assert {(s["lesion_type"], s.get("lesion_size_mm")) for s in specs if s["kind"] == "lesion"} >= {
        ("tumour", 12.0), ("cavity", 5.0), ("small", None)}
    assert any(s["oblique"] for s in specs) and any(len(set(s["spacing_mm"])) > 1 for s in specs)
    assert benchmark_cases(2, seed=0) == specs  # fixed: the same cases on every run


def test_case_names_give_their_lesion():
    assert lesion_of_case("lesion_tumour_r12_01.nii.gz") == ("tumour", 12.0)
    assert lesion_of_case("lesion_cavity_r5_00") == ("cavity", 5.0)
    assert lesion_of_case("lesion_small_01.nii.gz") == ("small", None)
    assert lesion_of_case("normal_03.nii.gz") is None and lesion_of_case("artefact_slab_top_00") is None


def test_stratified_subset_takes_every_group():
    subset = stratified_subset(benchmark_cases(2), 6)
    assert [s["kind"] for s in subset] == ["normal", "lesion", "artefact"] * 2


def _entry(case, score, mean_error, threshold, dice=None, stray_flags=0):
    entry = {"case": case, "score": score, "mean_error": mean_error, "threshold": threshold, "flags": int(score > 0),
             "seconds": 10.0, "passes": 120}
    if dice is not None:
        entry.update(dice=dice, lesion_hit_rate=float(dice > 0), stray_flags=stray_flags)
    return entry


def _report_text(tmp_path, summary, cases, **meta):
    report = tmp_path / "BENCHMARK.md"
    write_report(report, {"spec": summary}, {"date": "today", "profile": "fast", "sequence": "t1", "device": "cpu",
                                              "hardware": "cpu", "model": "m 1", "trained": True, "cases": cases,
                                              "cases_per_group": 1, "seed": 0, **meta})
    return report.read_text()


def test_summary_and_report_show_each_scan_score(tmp_path):
    # Mask fraction separates lesions perfectly; mean error ranks them backwards; T ranks artefacts only.
    entries = [_entry(f"normal_{n:02d}.nii.gz", 0.0, 0.02 + 0.01 * n, 0.05) for n in range(3)]
    entries += [_entry("lesion_tumour_r12_00.nii.gz", 0.01, 0.001, 0.05, dice=0.7),
                _entry("lesion_cavity_r5_00.nii.gz", 0.02, 0.002, 0.05, dice=0.2),
                _entry("artefact_noise_00.nii.gz", 0.0, 0.001, 0.5)]
    summary = summarise_schedule(entries)
    assert summary["lesion_vs_normal"]["auroc"] == 1.0
    assert summary["scan_score_aurocs"]["mean_error"]["lesion"] == 0.0
    assert summary["scan_score_aurocs"]["threshold"]["artefact"] == 1.0
    assert summary["median_dice_lesions_1cm_plus"] == pytest.approx(0.45)  # r5 mm = 1 cm across counts
    assert summary["rows"]["lesion tumour r12 mm"]["dice"] == 0.7
    text = _report_text(tmp_path, summary, cases=6)
    assert "| median Dice, lesions >= 1 cm | >= 0.6 | 0.450 |" in text
    assert "score = mean error over the brain: lesion vs normal 0.000, artefact vs normal 0.000" in text
    assert "(trained: True, intensity scaling `p1-p99`)" in text  # meta names none: the spec's
    assert "rise test" not in text and "mm^3" not in text  # meta names no gamma or smallest flag
    text = _report_text(tmp_path, summary, cases=6, gamma=0.2, min_flag_mm3=250.0)
    assert ("chooses its threshold with gamma 0.2 and flags connected regions of at least 250 mm^3 "
            "(the model's `gamma` and `min_flag_mm3`)") in text
    text = _report_text(tmp_path, summary, cases=6, rise_gamma=0.01, rise_late_steps=1)
    assert "must rise by more than 0.01 per step) to the spec's rule." in text and "last 1 steps" not in text
    text = _report_text(tmp_path, summary, cases=6, rise_gamma=0.01, rise_late_steps=3)
    assert "where the spec's rule stops at one of the last 3 steps, the rise test may move the step earlier" in text


def test_share_of_flagged_normals_is_reported_where_the_median_hides_it(tmp_path):
    # Two of six normals carry flags: the median is 0, the share is one in three.
    entries = [_entry(f"normal_{n:02d}.nii.gz", 0.002 if n < 2 else 0.0, 0.02, 0.05) for n in range(6)]
    entries.append(_entry("lesion_cavity_r12_00.nii.gz", 0.01, 0.02, 0.05, dice=0.7, stray_flags=3))
    entries.append(_entry("lesion_tumour_r5_00.nii.gz", 0.01, 0.02, 0.05, dice=0.6))
    summary = summarise_schedule(entries)
    assert summary["mean_stray_flags_lesion"] == pytest.approx(1.5)
    assert summary["median_flags_normal"] == 0.0
    assert summary["flagged_rate_normal"] == pytest.approx(1 / 3)
    text = _report_text(tmp_path, summary, cases=7)
    assert "| median flags per normal scan | <= 1 | 0.000 |" in text
    assert "| normal scans with any flag |  | 0.333 |" in text
    assert "| flags off the lesion per lesion scan (mean) |  | 1.500 |" in text


def test_rescan_recommendations_are_reported_beside_the_spec_score(tmp_path):
    # The rescan checks catch the missing slices the spec's score misses; the report keeps both apart.
    entries = [_entry(f"normal_{n:02d}.nii.gz", 0.001 * (n + 1), 0.02, 0.05) for n in range(3)]
    gap = _entry("artefact_slices_missing_00.nii.gz", 0.0, 0.02, 0.05)
    noise = _entry("artefact_noise_00.nii.gz", 0.0, 0.02, 0.05)
    for entry in entries + [noise]:
        entry.update(rescan=False, score_with_checks=entry["score"])
    gap.update(rescan=True, score_with_checks=1.0)
    summary = summarise_schedule(entries + [gap, noise])
    assert summary["rows"]["artefact slices missing"]["rescan"] == 1.0
    assert summary["rows"]["artefact noise"]["rescan"] == 0.0 and summary["rescan_rate_normal"] == 0.0
    assert summary["artefact_vs_normal"]["auroc"] == 0.0  # spec score: both artefacts rank below every normal
    assert summary["scan_score_aurocs"]["score_with_checks"]["artefact"] == pytest.approx(0.5)
    text = _report_text(tmp_path, summary, cases=5)
    assert "| artefact slices missing | 1 | n/a | n/a | 0.000 | 1.000 |" in text
    assert "| AUROC artefact vs normal, with the rescan checks |  | 0.500 |" in text


def test_a_missing_model_is_refused_before_any_case_is_built(tmp_path, capsys):
    from itermask3d.cli import main

    code = main(["benchmark", "--work", str(tmp_path / "work"), "--profile", "tiny",
                 "--model", str(tmp_path / "candidate.pt"), "--report", str(tmp_path / "report.md")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "\n" not in err and "model file not found" in err
    assert not (tmp_path / "work").exists() and not (tmp_path / "report.md").exists()


@pytest.mark.parametrize("variant, message", [("spec+normative", "names no normative error scale"),
                                              ("spec+rise", "needs a rise gamma")])
def test_a_variant_the_model_cannot_run_fails_before_building(tmp_path, capsys, variant, message):
    from itermask3d.checkpoints import save_weights
    from itermask3d.cli import main
    from itermask3d.networks import build_network
    from itermask3d.profiles import get_profile

    model = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), model, {"profile": "tiny", "sequence": "t1"})
    code = main(["benchmark", "--work", str(tmp_path / "work"), "--profile", "tiny", "--model", str(model),
                 "--schedules", f"spec,{variant}", "--report", str(tmp_path / "report.md")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and message in err
    assert not (tmp_path / "work").exists()


def test_variant_names_parse_and_unknown_options_are_refused():
    from itermask3d.benchmark import parse_variant

    assert parse_variant("spec") == ("spec", frozenset())
    assert parse_variant("coarse-fine+normative+rise") == ("coarse-fine", frozenset({"normative", "rise"}))
    with pytest.raises(ValueError, match=r"unknown variant option \+fast"):
        parse_variant("spec+fast")


def test_plain_and_normative_variants_run_side_by_side_on_one_scan(tmp_path, small_lesion_case):
    import json

    import numpy as np

    from itermask3d.api import Analyzer
    from itermask3d.benchmark import run_schedules
    from itermask3d.checkpoints import save_weights
    from itermask3d.networks import build_network
    from itermask3d.normative import normative_path, save_error_scale
    from itermask3d.profiles import get_profile

    model = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), model,
                 {"profile": "tiny", "sequence": "t1", "inference": {"normative": {"file": normative_path(model).name}}})
    save_error_scale(np.full(get_profile("tiny").shape, 3.0, dtype=np.float32), normative_path(model))
    analyzer = Analyzer(profile="tiny", device="cpu", model_path=model, registration="moments")
    out = {v: tmp_path / v for v in ("uniform10", "uniform10+normative")}
    run_schedules(analyzer, small_lesion_case[0], out, seed=0)
    plain, scaled = (json.loads((out[v] / "result.json").read_text())["details"] for v in out)
    assert (plain["normative"], scaled["normative"]) == (False, True)
    assert plain["search_steps"] == scaled["search_steps"] == list(range(10, 101, 10))
    assert analyzer.error_scale is not None and analyzer.schedule == "uniform10"  # the model's scale is kept


def test_a_rise_variant_runs_beside_the_plain_schedule_and_leaves_the_model_setting(tmp_path, small_lesion_case):
    import json

    from itermask3d.api import Analyzer
    from itermask3d.benchmark import run_schedules
    from itermask3d.checkpoints import save_weights
    from itermask3d.networks import build_network
    from itermask3d.profiles import get_profile

    model = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), model,
                 {"profile": "tiny", "sequence": "t1", "inference": {"rise_gamma": 0.02}})
    analyzer = Analyzer(profile="tiny", device="cpu", model_path=model, registration="moments")
    out = {v: tmp_path / v for v in ("uniform10", "uniform10+rise")}
    run_schedules(analyzer, small_lesion_case[0], out, seed=0, rise_gamma=0.5)
    plain, rise = (json.loads((out[v] / "result.json").read_text())["details"] for v in out)
    assert (plain["rise_gamma"], rise["rise_gamma"]) == (None, 0.5)
    assert analyzer.rise_gamma == 0.02  # the model's own setting is restored


def test_cases_rendered_in_parallel_match_those_rendered_one_by_one(tmp_path):
    """A GPU machine renders the benchmark's cases several at a time; they must be the cases a CPU run scores."""
    import nibabel as nib
    import numpy as np

    from itermask3d.benchmark import build_cases

    specs = [s for s in benchmark_cases(1, seed=3) if s["kind"] in ("lesion", "artefact")][:2]
    build_cases(tmp_path / "parallel", specs, "flair", workers=2)
    build_cases(tmp_path / "serial", specs[1:], "flair")
    name = specs[1]["name"]
    for suffix in (".nii.gz", "_truth.nii.gz"):
        parallel = nib.load(str(tmp_path / "parallel" / f"{name}{suffix}"))
        serial = nib.load(str(tmp_path / "serial" / f"{name}{suffix}"))
        assert np.array_equal(parallel.affine, serial.affine)
        assert np.array_equal(np.asarray(parallel.dataobj), np.asarray(serial.dataobj))
    assert sorted(p.name for p in (tmp_path / "parallel").glob("*.nii.gz")) == sorted(
        f"{s['name']}{suffix}" for s in specs for suffix in (".nii.gz", "_truth.nii.gz"))
    assert not list((tmp_path / "parallel").glob("*partial*"))  # each scan is written whole, then renamed


def test_shards_split_the_cases_and_a_last_run_reports_them_all_without_rerunning(tmp_path):
    """Several processes share a GPU machine's cores, each running and evaluating its share; the last run
    only gathers, and reports what one run over every case reports."""
    import json

    from itermask3d.benchmark import benchmark_entry

    def run(work, shard=None):
        return benchmark_entry(work, work / "report.md", profile="tiny", sequence="t1", device="cpu",
                               schedules=["coarse-fine"], cases_per_group=1, limit=3, shard=shard)

    def stamps(work, name):
        return {p.parent.name: p.stat().st_mtime_ns for p in work.glob(f"results/coarse-fine/*/{name}")}

    sharded = tmp_path / "sharded"
    assert run(sharded, (0, 2)) is None and not (sharded / "report.md").exists()
    first = stamps(sharded, "result.json")
    assert run(sharded, (1, 2)) is None and not (sharded / "report.md").exists()
    results, evaluations = stamps(sharded, "result.json"), stamps(sharded, "evaluation.json")
    assert len(first) == 2 and len(results) == 3 and all(results[name] == t for name, t in first.items())
    assert evaluations.keys() == results.keys()

    assert run(sharded) == sharded / "report.md"
    assert stamps(sharded, "result.json") == results and stamps(sharded, "evaluation.json") == evaluations
    assert "3 synthetic cases" in (sharded / "report.md").read_text()

    whole = tmp_path / "whole"
    run(whole)
    assert not stamps(whole, "evaluation.json")  # only shards keep their evaluations

    def cases(work):
        return [{k: v for k, v in e.items() if k != "seconds"}
                for e in json.loads((work / "benchmark.json").read_text())["cases"]["coarse-fine"]]
    assert cases(sharded) == cases(whole)

    # a kept evaluation is reused only while it is newer than its result: a rerun result is evaluated afresh
    result_dir = next(sharded.glob("results/coarse-fine/*"))
    kept = json.loads((result_dir / "evaluation.json").read_text())
    (result_dir / "evaluation.json").write_text(json.dumps({**kept, "flags": 99}))
    run(sharded)
    assert 99 in [e["flags"] for e in json.loads((sharded / "benchmark.json").read_text())["cases"]["coarse-fine"]]
    (result_dir / "result.json").touch()
    run(sharded)
    assert cases(sharded) == cases(whole)
    with pytest.raises(ValueError, match="shard 2/2"):
        run(sharded, (2, 2))


def test_a_shard_out_of_range_is_one_clear_line(capsys):
    from itermask3d.cli import main

    assert main(["benchmark", "--shard", "2/2"]) != 0
    err = capsys.readouterr().err
    assert "shard 2/2: I must be 0 to N-1" in err and "Traceback" not in err
