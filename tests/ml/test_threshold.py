import numpy as np
import pytest

from itermask3d.inference import iterative_mask_refinement, search_schedule
from itermask3d.threshold import (choose_threshold, fit_tangent, forced_fraction_mask, has_converged,
                                  shrink_ratio, smoothed_differences, tangent, tangent_derivative)


def test_forced_fraction_mask_sizes_are_exact(brain_ball):
    rng = np.random.default_rng(0)
    error = rng.random(brain_ball.shape).astype(np.float32)
    count = brain_ball.sum()
    for i in (1, 2, 37, 99, 100):
        mask, t = forced_fraction_mask(error, brain_ball, 1 - 0.01 * i)
        assert mask.sum() == round((1 - 0.01 * i) * count)
        assert not np.any(mask & ~brain_ball)
        if mask.any():
            assert error[mask].min() > t  # masked voxels are exactly those above t
        assert np.all(error[brain_ball & ~mask] <= t)


def test_forced_fraction_mask_handles_ties(brain_ball):
    error = np.zeros(brain_ball.shape, dtype=np.float32)  # all tied
    mask, t = forced_fraction_mask(error, brain_ball, 0.5)
    assert mask.sum() == round(0.5 * brain_ball.sum())


def test_forced_fraction_mask_equals_a_stable_sort_by_decreasing_error(brain_ball):
    rng = np.random.default_rng(4)
    error = rng.integers(0, 7, brain_ball.shape).astype(np.float32)  # many ties at every boundary
    index = np.flatnonzero(brain_ball)
    values = error.ravel()[index]
    order = np.argsort(-values, kind="stable")
    for keep in (0.0, 0.13, 0.5, 0.77, 0.99, 1.0):
        mask, t = forced_fraction_mask(error, brain_ball, keep)
        count = int(round(keep * len(values)))
        expected = np.zeros(error.size, dtype=bool)
        expected[index[order[:count]]] = True
        assert np.array_equal(mask.ravel(), expected)
        assert t == (values[order[count]] if count < len(values) else values.min())


class FakeReconstructor:
    """Reconstructs x perfectly except inside ``lesion``, plus small noise; records masks."""

    def __init__(self, x, lesion, rng):
        self.x, self.lesion, self.rng = x, lesion, rng
        self.masks = []

    def __call__(self, mask):
        self.masks.append(mask.copy())
        out = self.x + self.rng.normal(0, 0.02, self.x.shape) * mask
        out[self.lesion & mask] -= 0.8  # an anomaly cannot be reconstructed while masked
        return out.astype(np.float32)


def _setup(brain_ball, seed=0):
    rng = np.random.default_rng(seed)
    x = np.where(brain_ball, 0.6, 0.0).astype(np.float32)
    lesion = np.zeros_like(brain_ball)
    lesion[18:24, 20:26, 15:21] = True
    return x, lesion & brain_ball, rng


def test_search_masks_shrink_by_exactly_one_percent(brain_ball):
    x, lesion, rng = _setup(brain_ball)
    fake = FakeReconstructor(x, lesion, rng)
    result = iterative_mask_refinement(fake, x, brain_ball, gamma=0.02, schedule="spec")
    count = brain_ball.sum()
    assert result.search_steps == list(range(1, 101))
    expected = [round((1 - 0.01 * i) * count) / count for i in range(1, 101)]
    assert result.search_fractions == pytest.approx(expected, abs=0)
    # Pass 0 masks the whole brain, search passes use the 99 %, 98 %, ... masks.
    assert fake.masks[0].sum() == count
    for i in (1, 2, 50, 98):
        assert fake.masks[i].sum() == round((1 - 0.01 * i) * count)
    assert result.passes == len(fake.masks) == 100 + len(result.refine_sizes)


def test_refinement_finds_the_lesion(brain_ball):
    x, lesion, rng = _setup(brain_ball)
    result = iterative_mask_refinement(FakeReconstructor(x, lesion, rng), x, brain_ball, gamma=0.02)
    dice = 2 * np.sum(result.mask & lesion) / (result.mask.sum() + lesion.sum())
    assert dice > 0.9
    assert result.threshold < 0.5  # between normal (~0.0004) and lesion (~0.64) errors
    # First pass, whole brain masked: lesion voxels err by 0.8^2, the rest by the noise's variance.
    expected_initial = (lesion.sum() * 0.64 + (brain_ball.sum() - lesion.sum()) * 0.02**2) / brain_ball.sum()
    assert result.initial_mean_error == pytest.approx(expected_initial, rel=0.1)


def test_schedules():
    assert search_schedule("spec") == list(range(1, 101))
    assert search_schedule("uniform4") == list(range(4, 101, 4))
    assert search_schedule(3)[-1] == 100
    coarse = search_schedule("coarse-fine")
    assert coarse[-10:] == list(range(91, 101)) and coarse == sorted(coarse) and len(coarse) == 23
    fine = search_schedule("fine-tail")
    assert fine[:96] == list(range(1, 97)) and len(fine) == 136 and fine[-1] == 100
    assert np.allclose(np.diff(fine[95:]), 0.1)
    with pytest.raises(ValueError):
        search_schedule(0)
    with pytest.raises(ValueError):
        search_schedule("fastest")


def test_coarse_fine_schedule_masks_exact_fractions(brain_ball):
    x, lesion, rng = _setup(brain_ball)
    result = iterative_mask_refinement(FakeReconstructor(x, lesion, rng), x, brain_ball, gamma=0.02,
                                       schedule="coarse-fine")
    count = brain_ball.sum()
    assert result.search_fractions == [round((1 - 0.01 * i) * count) / count for i in result.search_steps]
    dice = 2 * np.sum(result.mask & lesion) / (result.mask.sum() + lesion.sum())
    assert dice > 0.9


def test_tangent_fit_recovers_parameters():
    i = np.arange(1, 101, dtype=float)
    rng = np.random.default_rng(0)
    t = tangent(i, 0.002, 0.015) * (1 + rng.normal(0, 0.01, i.shape))
    fit = fit_tangent(i, t)
    assert fit.ok and fit.r2 > 0.95
    assert fit.b == pytest.approx(0.015, rel=0.05)
    np.testing.assert_allclose(tangent_derivative(i, fit.a, fit.b),
                               0.002 * 0.015 / np.cos(0.015 * i) ** 2, rtol=0.2)


def test_tangent_choice_uses_derivative_threshold():
    i = np.arange(1, 101, dtype=float)
    a, b = 0.002, 0.015
    t = tangent(i, a, b)
    gamma = 0.001
    exceeds = tangent_derivative(i, a, b) > gamma
    assert exceeds.any() and not exceeds[:50].any()
    choice = choose_threshold(i, t, gamma=gamma)
    expected_k = int(i[np.argmax(exceeds)])
    assert choice.method == "tangent"
    assert abs(choice.k_star - expected_k) <= 1


def test_fallback_when_fit_is_poor():
    i = np.arange(1, 101, dtype=float)
    t = np.where(i < 60, 0.01 + 0.0001 * i, 0.5)  # a step: no tangent fits it
    choice = choose_threshold(i, t, gamma=0.02)
    assert choice.method == "finite-difference" and choice.r2 < 0.85
    assert 55 <= choice.k_star <= 60
    assert choice.threshold < 0.5


def test_smoothed_differences_width_five():
    i = np.arange(1, 21, dtype=float)
    t = np.zeros(20)
    t[10:] = 1.0  # a unit jump between i=10 and i=11
    d = smoothed_differences(i, t)
    assert d.max() == pytest.approx(1 / 5)
    assert np.sum(d > 0) == 5


def test_fine_steps_narrow_the_smoothing_window():
    # On 0.1 % steps a jump must not be spread over +-2 % (40 points): only +-2 of the fine steps.
    i = np.array(search_schedule("fine-tail"), dtype=float)
    t = np.where(i >= 99.5, 0.5, 0.02)  # the last 0.5 % of the brain errs much more
    d = smoothed_differences(i, t)
    assert np.sum(d > 0) == 5 and d.max() == pytest.approx(0.48 / 0.1 / 5)
    choice = choose_threshold(i, t, gamma=0.5)
    assert choice.k_star == pytest.approx(99.3)  # a fraction of a percent, not truncated to 99
    assert choice.threshold == pytest.approx(0.02)


def test_fine_tail_schedule_masks_exact_fractions(brain_ball):
    x, lesion, rng = _setup(brain_ball)
    fake = FakeReconstructor(x, lesion, rng)
    result = iterative_mask_refinement(fake, x, brain_ball, gamma=0.02, schedule="fine-tail")
    count = brain_ball.sum()
    assert result.search_fractions == [round((1 - 0.01 * i) * count) / count for i in result.search_steps]
    assert fake.masks[97].sum() == round(0.039 * count)  # step 96.1 (masks[i] is step i up to 96)
    dice = 2 * np.sum(result.mask & lesion) / (result.mask.sum() + lesion.sum())
    assert dice > 0.9


def test_no_derivative_above_gamma_keeps_last_threshold():
    i = np.arange(1, 101, dtype=float)
    t = 0.001 * i
    choice = choose_threshold(i, t, gamma=1.0)
    assert choice.k_star is None and choice.threshold == t[-1]


def test_stopping_rule():
    assert shrink_ratio(1000, 995) == pytest.approx(0.005)
    assert has_converged(1000, 995) and not has_converged(1000, 980)
    assert has_converged(0, 0)
    assert has_converged(100, 120)  # a growing mask stops as well


def test_phase_two_stops_when_shrinking_below_one_percent(brain_ball):
    x, lesion, rng = _setup(brain_ball)
    result = iterative_mask_refinement(FakeReconstructor(x, lesion, rng), x, brain_ball, gamma=0.02)
    sizes = [int(brain_ball.sum())] + result.refine_sizes
    ratios = [shrink_ratio(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    assert ratios[-1] < 0.01 and all(r >= 0.01 for r in ratios[:-1])


def test_phase_two_refuses_a_pass_limit_below_one(brain_ball):
    # Zero passes would leave no reconstruction to report.
    x, lesion, rng = _setup(brain_ball)
    with pytest.raises(ValueError, match="at least one pass"):
        iterative_mask_refinement(FakeReconstructor(x, lesion, rng), x, brain_ball, gamma=0.02, max_refine_passes=0)


def _curve_with_late_rise(last: float) -> tuple[np.ndarray, np.ndarray]:
    """Flat t_i = 0.01 up to step 95, a gradual rise over steps 96-99 (a large lesion's errors), then
    ``last``, the scan's single largest error, at step 100."""
    i = np.arange(1, 101, dtype=float)
    t = np.full(100, 0.01)
    t[95:99] = (0.03, 0.06, 0.09, 0.12)
    t[99] = last
    return i, t


def test_rise_test_finds_a_gradual_rise_that_the_spec_rule_misses():
    i, t = _curve_with_late_rise(0.2)
    spec = choose_threshold(i, t, gamma=0.1)
    assert spec.k_star is None and spec.threshold == 0.2  # nothing would be flagged
    choice = choose_threshold(i, t, gamma=0.1, rise_gamma=0.015)
    assert (choice.method, choice.k_star, choice.threshold) == ("rise", 96, 0.03)
    assert choose_threshold(i, t, gamma=0.1, rise_gamma=0.05).k_star is None  # a rise below its gamma


def test_rise_test_ignores_a_lone_largest_error_and_defers_to_the_spec_rule():
    # A normal scan's curve: flat to the end but for its largest single error.
    i = np.arange(1, 101, dtype=float)
    t = np.full(100, 0.02)
    t[99] = 0.3
    assert choose_threshold(i, t, gamma=0.1, rise_gamma=0.015).threshold == 0.3
    # Where the spec's rule fires before the last step, the rise test changes nothing.
    i, t = _curve_with_late_rise(1.0)
    spec = choose_threshold(i, t, gamma=0.1)
    assert spec.k_star == 98
    with_rise = choose_threshold(i, t, gamma=0.1, rise_gamma=0.015)
    assert (with_rise.k_star, with_rise.threshold, with_rise.method) == (98, spec.threshold, spec.method)


def test_rise_test_can_overrule_a_spec_step_that_the_largest_error_leaks_into():
    # The spec's derivative at steps 98-99 averages in the jump to t_100 (window +-2 steps), so it can fire
    # there on the largest error alone, after a lesion's rise has begun: T then sits above most of the lesion.
    i, t = _curve_with_late_rise(1.0)
    assert choose_threshold(i, t, gamma=0.1, rise_gamma=0.015, rise_late_steps=2).k_star == 98  # 98 not late
    late = choose_threshold(i, t, gamma=0.1, rise_gamma=0.015, rise_late_steps=3)
    assert (late.method, late.k_star, late.threshold) == ("rise", 96, 0.03)
    # At step 99 (one before the last) two late steps suffice.
    i, t = _curve_with_late_rise(0.45)
    assert choose_threshold(i, t, gamma=0.1).k_star == 99
    assert choose_threshold(i, t, gamma=0.1, rise_gamma=0.015, rise_late_steps=2).k_star == 96
    # The rise test only ever moves k* earlier: a rise that starts after the spec's step leaves it alone.
    t[95:99] = (0.011, 0.012, 0.013, 0.2)
    spec = choose_threshold(i, t, gamma=0.05)
    late = choose_threshold(i, t, gamma=0.05, rise_gamma=0.05, rise_late_steps=3)
    assert spec.k_star == 98 and (late.k_star, late.method) == (98, spec.method)
    assert choose_threshold(i, t, gamma=1.0, rise_gamma=0.05).k_star == 99  # where the rise test fires


def test_refinement_passes_the_rise_gamma_to_the_threshold_choice(brain_ball):
    x, lesion, rng = _setup(brain_ball)
    plain = iterative_mask_refinement(FakeReconstructor(x, lesion, np.random.default_rng(1)), x, brain_ball,
                                      gamma=100.0)
    assert plain.k_star is None and not plain.mask.any()  # gamma far too high: nothing found
    rising = iterative_mask_refinement(FakeReconstructor(x, lesion, np.random.default_rng(1)), x, brain_ball,
                                       gamma=100.0, rise_gamma=1e-4)
    assert rising.method == "rise" and np.sum(rising.mask & lesion) >= 0.9 * lesion.sum()
