"""The calibration rule that picks gamma from per-gamma results on synthetic cases."""
from itermask3d.calibration import choose_gamma


def _row(flags, dice):
    return {"mean_normal_flags": flags, "mean_lesion_dice": dice, "lesion_detection_rate": 1.0}


def test_best_dice_among_gammas_that_keep_normals_clean():
    table = {0.01: _row(3.0, 0.8), 0.05: _row(0.5, 0.4), 0.1: _row(0.0, 0.5), 0.2: _row(0.0, 0.1)}
    assert choose_gamma(table, max_normal_flags=0.5) == 0.1


def test_ties_go_to_the_larger_gamma():
    assert choose_gamma({0.05: _row(0.0, 0.5), 0.1: _row(0.0, 0.5)}, max_normal_flags=0.5) == 0.1


def test_largest_gamma_when_none_is_clean_enough():
    table = {0.01: _row(5.0, 0.5), 0.02: _row(5.0, 0.4), 0.05: _row(4.0, 0.3)}
    assert choose_gamma(table, max_normal_flags=0.5) == 0.05
