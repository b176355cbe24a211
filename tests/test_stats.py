"""``course_lib.stats``: Student's t, ``summarize``, ``mean_and_band`` and ``bin_fractions``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.stats import (
    Summary,
    bin_fractions,
    mean_and_band,
    moving_average,
    summarize,
    t_quantile,
)

# --- Student's t ------------------------------------------------------------------------------

# Two-sided critical values from printed t tables (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
T_TABLE = [
    (0.975, 1, 12.706), (0.975, 2, 4.303), (0.975, 3, 3.182), (0.975, 4, 2.776),
    (0.975, 5, 2.571), (0.975, 10, 2.228), (0.975, 20, 2.086), (0.975, 30, 2.042),
    (0.975, 60, 2.000), (0.975, 120, 1.980), (0.975, math.inf, 1.960),
    (0.95, 5, 2.015), (0.95, 10, 1.812), (0.995, 10, 3.169), (0.995, 1, 63.657),
    (0.9, 7, 1.415), (0.999, 15, 3.733),
]


@pytest.mark.parametrize(("p", "df", "expected"), T_TABLE)
def test_t_quantile_matches_printed_tables(p, df, expected):
    assert round(t_quantile(p, df), 3) == expected


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.floats(0.001, 0.999), st.floats(0.5 - 1e-7, 0.5 + 1e-7)))
def test_t_quantile_matches_closed_forms_for_one_and_two_degrees_of_freedom(p):
    # df = 1 is the Cauchy distribution; df = 2 has F(t) = 1/2 + t / (2 sqrt(t² + 2)).
    # Near p = 1/2 (t near 0) the absolute accuracy applies: t = 1e-8 still comes out right,
    # although x = df / (df + t²) rounds to 1 there.
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-9, abs=1e-12)
    closed = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    assert t_quantile(p, 2) == pytest.approx(closed, rel=1e-9, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.51, 0.999), st.integers(1, 200))
def test_t_quantile_is_symmetric_and_shrinks_towards_the_normal_with_df(p, df):
    t = t_quantile(p, df)
    assert t_quantile(1 - p, df) == pytest.approx(-t, rel=1e-9)
    assert t > t_quantile(p, df + 1) > t_quantile(p, math.inf) > 0


@pytest.mark.parametrize(
    ("p", "df", "message"),
    [(0.0, 3, "p must be in"), (1.0, 3, "p must be in"), (0.9, 0, "df must be"),
     (0.9, -2, "df must be"), (0.9, math.nan, "df must be"), (0.9, True, "df must be")],
)
def test_t_quantile_refuses_bad_arguments(p, df, message):
    with pytest.raises(ValueError, match=message):
        t_quantile(p, df)


# --- summarize --------------------------------------------------------------------------------


def test_summarize_textbook_example():
    # 1..5: mean 3, s = sqrt(2.5), t_{0.975, 4} = 2.7764451 (tables), half = t s / sqrt(5)
    s = summarize([1, 2, 3, 4, 5])
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert (s.mean, s.n, s.n_nonfinite, s.confidence) == (3.0, 5, 0, 0.95)
    assert s.std == pytest.approx(math.sqrt(2.5), rel=1e-12)
    assert s.low == pytest.approx(3 - half, rel=1e-9) and s.high == pytest.approx(3 + half)
    assert str(s) == f"3 ± {half:.4g} (95% CI, n=5)"


@pytest.mark.parametrize(("confidence", "n"), [(0.95, 5), (0.95, 30), (0.8, 3)])
def test_intervals_cover_the_true_mean_as_often_as_promised(confidence, n):
    rng = np.random.default_rng(123)
    samples = rng.normal(loc=2.0, scale=3.0, size=(2000, n))
    covered = [(s.low <= 2.0 <= s.high) for s in map(lambda x: summarize(x, confidence), samples)]
    assert confidence - 0.03 <= np.mean(covered) <= confidence + 0.03


def test_non_finite_values_are_counted_apart():
    s = summarize([1.0, np.nan, 2.0, np.inf, 3.0, -np.inf])
    assert (s.mean, s.n, s.n_nonfinite) == (2.0, 3, 3)
    assert s.std == 1.0 and "3 nan/inf" in str(s)


@pytest.mark.parametrize(("values", "n"), [([np.nan, np.inf], 0), ([4.0, np.nan], 1)])
def test_too_few_finite_values_give_nan_spread_not_an_error(values, n):
    s = summarize(values)
    assert s.n == n and s.n_nonfinite == 2 - n
    assert math.isnan(s.std) and math.isnan(s.low) and math.isnan(s.high)
    assert (s.mean == 4.0) if n else math.isnan(s.mean)


def test_equal_values_give_a_zero_width_interval():
    s = summarize([0.5] * 4)
    assert (s.mean, s.std, s.low, s.high) == (0.5, 0.0, 0.5, 0.5)


@pytest.mark.parametrize(
    ("values", "confidence", "error", "message"),
    [([1, 2], 1.0, ValueError, "confidence must be in"), ([1, 2], 0, ValueError, "confidence"),
     ([[1, 2]], 0.95, TypeError, "1-D sequence"), (["a"], 0.95, TypeError, "1-D sequence"),
     ([True, False], 0.95, TypeError, "1-D sequence")],
)
def test_summarize_refuses_bad_arguments(values, confidence, error, message):
    with pytest.raises(error, match=message):
        summarize(values, confidence)


# --- mean_and_band -------------------------------------------------------------------------


def test_std_band_is_the_mean_plus_minus_the_sample_std_of_the_finite_runs(noisy_curves):
    curves = noisy_curves()
    curves[0, 10:] = np.nan  # a diverged run
    curves[3, 4] = np.inf
    mean, low, high = mean_and_band(curves)
    finite = np.where(np.isfinite(curves), curves, np.nan)
    np.testing.assert_allclose(mean, np.nanmean(finite, axis=0), rtol=1e-12)
    std = np.nanstd(finite, axis=0, ddof=1)
    np.testing.assert_allclose(low, mean - std, rtol=1e-12)
    np.testing.assert_allclose(high, mean + std, rtol=1e-12)


def test_ci_band_matches_summarize_step_by_step(noisy_curves):
    curves = noisy_curves(seed=1)
    curves[1, 20:] = np.nan
    for confidence in (0.9, 0.95):
        mean, low, high = mean_and_band(curves, band="ci", confidence=confidence)
        for k in range(curves.shape[1]):
            s = summarize(curves[:, k], confidence=confidence)
            assert (mean[k], low[k], high[k]) == pytest.approx((s.mean, s.low, s.high), rel=1e-12)


def test_ci_band_of_two_runs_uses_the_cauchy_quantile():
    # with one degree of freedom Student's t is the Cauchy distribution: t_p = tan(π(p − 1/2))
    a, b = np.array([[1.0, 2.0], [3.0, 7.0]])
    _, low, high = mean_and_band(np.array([a, b]), band="ci")
    s = np.abs(a - b) / math.sqrt(2)
    half = math.tan(math.pi * 0.475) * s / math.sqrt(2)
    np.testing.assert_allclose(high - low, 2 * half, rtol=1e-9)


def test_steps_with_fewer_than_two_finite_runs():
    curves = np.array([[1.0, np.nan, np.nan], [3.0, 5.0, np.inf]])
    mean, low, high = mean_and_band(curves, band="ci")
    np.testing.assert_array_equal(mean, [2.0, 5.0, np.nan])  # one run: its value; none: NaN
    assert np.isfinite(low[0]) and np.isfinite(high[0])
    assert np.isnan(low[1:]).all() and np.isnan(high[1:]).all()


def test_mean_and_band_leaves_its_input_alone(noisy_curves):
    curves = noisy_curves()
    curves[2, 5] = np.nan
    before = curves.copy()
    mean_and_band(curves, band="ci")
    np.testing.assert_array_equal(curves, before)


@pytest.mark.parametrize(
    "curves, kwargs, error, match",
    [
        (np.ones(5), {}, ValueError, "2-D"),
        (np.ones((3, 0)), {}, ValueError, "2-D"),
        (np.ones((3, 4)), {"band": "minmax"}, ValueError, "band"),
        (np.ones((3, 4)), {"band": "ci", "confidence": 1.5}, ValueError, "confidence"),
        (np.ones((3, 4)), {"band": "ci", "confidence": "high"}, TypeError, "confidence"),
    ],
)
def test_mean_and_band_rejects_bad_input(curves, kwargs, error, match):
    with pytest.raises(error, match=match):
        mean_and_band(curves, **kwargs)


# --- bin_fractions -----------------------------------------------------------------------------


def test_bin_fractions_count_the_finite_values_in_each_bin():
    np.testing.assert_allclose(bin_fractions([0.1, 0.2, 0.7, np.nan], [0, 0.5, 1]), [2 / 3, 1 / 3])
    # values outside the edges count in the total but in no bin
    np.testing.assert_allclose(bin_fractions([[-5.0, 0.2], [0.3, 9.0]], [0, 0.5, 1]), [0.5, 0.0])
    np.testing.assert_array_equal(bin_fractions([np.nan, np.inf], [0, 1]), [0.0])


def test_summary_is_exported_and_frozen():
    s = summarize([1.0, 2.0])
    assert isinstance(s, Summary)
    with pytest.raises(AttributeError):
        s.mean = 0.0



# --- moving_average ---------------------------------------------------------------------------


def test_moving_average_is_the_bias_corrected_average_and_stops_at_divergence():
    np.testing.assert_allclose(moving_average(np.full(20, 3.0), 0.9), 3.0, rtol=1e-15)
    values = np.array([1.0, 3.0, 2.0, np.inf, 5.0])
    np.testing.assert_array_equal(moving_average(values, 0.0)[:3], values[:3])
    # β = 0.5: m = 0.5, 1.75, 1.875 over the weights 0.5, 0.75, 0.875
    np.testing.assert_allclose(moving_average(values, 0.5)[:3], [1.0, 1.75 / 0.75, 1.875 / 0.875],
                               rtol=1e-15)
    assert np.all(np.isnan(moving_average(values, 0.5)[3:]))
    with pytest.raises(ValueError, match="beta"):
        moving_average(values, 1.0)
