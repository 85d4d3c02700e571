"""The calibration rule that picks (gamma, smallest flag) from per-pair results on synthetic cases."""
from itermask3d.calibration import MAX_NORMAL_FLAGS, choose_setting


def _row(flags, dice):
    return {"mean_normal_flags": flags, "mean_lesion_dice": dice, "lesion_detection_rate": 1.0}


def test_best_dice_among_settings_that_keep_normals_clean():
    table = {(0.01, 120.0): _row(3.0, 0.8), (0.05, 120.0): _row(0.5, 0.4), (0.1, 120.0): _row(0.0, 0.5),
             (0.2, 120.0): _row(0.0, 0.1)}
    assert choose_setting(table, max_normal_flags=0.5) == (0.1, 120.0)


def test_ties_go_to_the_larger_gamma():
    assert choose_setting({(0.05, 120.0): _row(0.0, 0.5), (0.1, 120.0): _row(0.0, 0.5)}, 0.5) == (0.1, 120.0)


def test_a_larger_smallest_flag_may_buy_a_lower_gamma():
    # At gamma 0.02 the normals' scattered small components are flags at 120 mm^3 but not at 800.
    table = {(0.02, 120.0): _row(2.0, 0.8), (0.02, 800.0): _row(0.25, 0.75),
             (0.1, 120.0): _row(0.0, 0.4), (0.1, 800.0): _row(0.0, 0.4)}
    assert choose_setting(table, max_normal_flags=0.5) == (0.02, 800.0)


def test_near_best_dice_prefers_the_smallest_flag_size():
    # Within the tolerance the smaller size wins, so small lesions stay reportable.
    table = {(0.1, 120.0): _row(0.25, 0.595), (0.02, 800.0): _row(0.0, 0.6)}
    assert choose_setting(table, max_normal_flags=0.5, dice_tolerance=0.01) == (0.1, 120.0)
    assert choose_setting(table, max_normal_flags=0.5, dice_tolerance=0.001) == (0.02, 800.0)


def test_fewest_flags_when_no_setting_is_clean_enough():
    table = {(0.01, 120.0): _row(5.0, 0.5), (0.05, 120.0): _row(4.0, 0.3), (0.05, 800.0): _row(1.0, 0.3)}
    assert choose_setting(table, max_normal_flags=0.5) == (0.05, 800.0)


def test_default_bound_refuses_flagging_a_third_of_normals_and_allows_one_in_twelve():
    # T1's session-8 choice: 4 flags on 12 calibration normals for a little more lesion Dice; in a worklist
    # that is one flagged normal scan in three. FLAIR's setting (1 flag on 12 normals) stays allowed.
    t1 = {(0.05, 800.0): _row(4 / 12, 0.18), (0.1, 120.0): _row(0.0, 0.13)}
    assert choose_setting(t1, MAX_NORMAL_FLAGS) == (0.1, 120.0)
    flair = {(0.1, 120.0): _row(1 / 12, 0.48), (0.2, 120.0): _row(0.0, 0.2)}
    assert choose_setting(flair, MAX_NORMAL_FLAGS) == (0.1, 120.0)


def test_the_rise_test_is_chosen_only_when_it_earns_its_place():
    # keys (gamma, smallest flag, rise gamma); rise gamma 0 is the spec's rule alone
    tie = {(0.1, 120.0, 0.0): _row(0.0, 0.5), (0.1, 120.0, 0.02): _row(0.0, 0.5), (0.1, 120.0, 0.01): _row(0.0, 0.5)}
    assert choose_setting(tie, MAX_NORMAL_FLAGS) == (0.1, 120.0, 0.0)
    better = {(0.1, 120.0, 0.0): _row(0.0, 0.5), (0.1, 120.0, 0.02): _row(0.0, 0.6), (0.1, 120.0, 0.01): _row(1.0, 0.7)}
    assert choose_setting(better, MAX_NORMAL_FLAGS) == (0.1, 120.0, 0.02)  # 0.01 flags the normals
    close = {(0.1, 120.0, 0.01): _row(0.0, 0.6), (0.1, 120.0, 0.02): _row(0.0, 0.6)}
    assert choose_setting(close, MAX_NORMAL_FLAGS) == (0.1, 120.0, 0.02)  # the larger, the more like the spec
    dirty = {(0.1, 800.0, 0.02): _row(1.0, 0.6), (0.1, 800.0, 0.0): _row(1.0, 0.5), (0.05, 800.0, 0.0): _row(2.0, 0.6)}
    assert choose_setting(dirty, MAX_NORMAL_FLAGS) == (0.1, 800.0, 0.0)


def test_calibration_writes_the_choice_that_the_analyzer_then_runs(tmp_path, monkeypatch):
    import json

    from itermask3d.api import Analyzer
    from itermask3d.calibration import calibrate_entry
    from itermask3d.checkpoints import save_weights
    from itermask3d.networks import build_network
    from itermask3d.profiles import get_profile

    # Calibration must run the network exactly as inference does (mixed precision on CUDA included).
    built = []
    inference_reconstructor = Analyzer.reconstructor

    def counted(self, *args, **kwargs):
        built.append(1)
        return inference_reconstructor(self, *args, **kwargs)

    monkeypatch.setattr(Analyzer, "reconstructor", counted)
    path = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), path, {"profile": "tiny", "sequence": "t1"})
    report = calibrate_entry("tiny", "t1", path, schedule="uniform10", normals=1, lesions=1,
                             gammas=(0.05, 10.0), min_flag_sizes=(256.0, 2000.0))
    section = json.loads(path.with_suffix(".json").read_text())["inference"]
    assert section == report["chosen"] and len(built) == 2  # one per calibration scan
    rows = {(row["gamma"], row["min_flag_mm3"]): row for row in section["calibration"]["table"]}
    assert set(rows) == {(0.05, 256.0), (0.05, 2000.0), (10.0, 256.0), (10.0, 2000.0)}
    for gamma in (0.05, 10.0):  # the same masks: a larger smallest flag can only drop flags
        assert rows[(gamma, 2000.0)]["mean_normal_flags"] <= rows[(gamma, 256.0)]["mean_normal_flags"]
    assert section["calibration"]["max_normal_flags"] == MAX_NORMAL_FLAGS  # the default bound was used
    expected = choose_setting(rows, MAX_NORMAL_FLAGS)
    assert (section["gamma"], section["min_flag_mm3"]) == expected
    analyzer = Analyzer(profile="tiny", device="cpu", model_path=path)
    assert (analyzer.gamma, analyzer.min_flag_mm3, analyzer.schedule) == (*expected, "uniform10")


def test_calibration_refuses_sizes_that_are_not_volumes_before_any_work(tmp_path):
    import pytest

    from itermask3d.calibration import calibrate_entry

    with pytest.raises(ValueError, match="positive volumes"):
        calibrate_entry("tiny", "t1", tmp_path / "absent.pt", min_flag_sizes=(120.0, 0.0), write=False)
    with pytest.raises(ValueError, match="number >= 0"):
        calibrate_entry("tiny", "t1", tmp_path / "absent.pt", max_normal_flags=-0.5, write=False)


def test_calibration_searches_rise_gammas_and_the_analyzer_runs_the_choice(tmp_path):
    import json

    import pytest

    from itermask3d.api import Analyzer
    from itermask3d.calibration import calibrate_entry
    from itermask3d.checkpoints import save_weights
    from itermask3d.networks import build_network
    from itermask3d.profiles import get_profile

    path = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), path, {"profile": "tiny", "sequence": "t1"})
    with pytest.raises(ValueError, match="rise-test gammas"):
        calibrate_entry("tiny", "t1", path, schedule="uniform10", normals=1, lesions=1, rise_gammas=(-0.1,))
    report = calibrate_entry("tiny", "t1", path, schedule="uniform10", normals=1, lesions=1,
                             gammas=(10.0,), min_flag_sizes=(256.0,), rise_gammas=(0.0, 1e-6))
    section = json.loads(path.with_suffix(".json").read_text())["inference"]
    assert section == report["chosen"]
    rows = {(r["gamma"], r["min_flag_mm3"], r["rise_gamma"]): r for r in section["calibration"]["table"]}
    assert set(rows) == {(10.0, 256.0, 0.0), (10.0, 256.0, 1e-6)}
    expected = choose_setting(rows, MAX_NORMAL_FLAGS)
    assert (section["gamma"], section["min_flag_mm3"], section["rise_gamma"]) == expected
    analyzer = Analyzer(profile="tiny", device="cpu", model_path=path)
    assert analyzer.rise_gamma == (expected[2] or None)
    assert Analyzer(profile="tiny", device="cpu", model_path=path, rise_gamma=0.0).rise_gamma is None  # 0: off
    with pytest.raises(ValueError, match="rise test's gamma must be a number >= 0"):
        Analyzer(profile="tiny", device="cpu", model_path=path, rise_gamma=-1.0)


def test_calibrating_from_the_cli_keeps_the_peak_ratio_and_late_steps_it_does_not_choose(tmp_path, capsys,
                                                                                       monkeypatch):
    import json

    from itermask3d import calibration, threshold
    from itermask3d.checkpoints import save_weights
    from itermask3d.cli import main
    from itermask3d.networks import build_network
    from itermask3d.profiles import get_profile

    path = tmp_path / "tiny_t1.pt"
    save_weights(build_network(get_profile("tiny")), path,
                 {"profile": "tiny", "sequence": "t1", "inference": {"gamma": 0.3, "min_peak_ratio": 0.25,
                                                                    "rise_late_steps": 3}})
    # The table must measure the threshold rule the model will run, late steps included.
    late_steps_seen = []

    def recording_choice(*args, **kwargs):
        late_steps_seen.append(kwargs.get("rise_late_steps"))
        return threshold.choose_threshold(*args, **kwargs)

    monkeypatch.setattr(calibration, "choose_threshold", recording_choice)
    code = main(["calibrate", "--profile", "tiny", "--model", str(path), "--schedule", "uniform10",
                 "--normals", "1", "--lesions", "1", "--min-flag-sizes", "256"])
    assert code == 0, capsys.readouterr().err
    assert late_steps_seen and set(late_steps_seen) == {3}
    section = json.loads(path.with_suffix(".json").read_text())["inference"]
    assert section["calibration"]["cases"].startswith("1 normal + 1 lesion")
    assert section["min_peak_ratio"] == 0.25 and section["min_flag_mm3"] == 256.0
    assert section["rise_late_steps"] == 3  # a rule the calibration ran with and does not choose
