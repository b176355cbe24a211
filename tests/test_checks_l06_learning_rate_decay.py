"""The lesson-06 checkers: right answers pass, the usual mistakes fail with a useful line."""

import math

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks.l06_learning_rate_decay import (
    _reference_inverse_time_staircase,
    _reference_noise_floor,
    _reference_warmup_cosine,
)


def good_inverse_time_staircase(lr0, epoch, decay_rate, interval):
    return lr0 / (1 + decay_rate * math.floor(epoch / interval))


def good_warmup_cosine(t, lr0, warmup_steps, total_steps):
    if t < warmup_steps:
        return lr0 * (t + 1) / (warmup_steps + 1)
    return lr0 * (1 + math.cos(math.pi * (t - warmup_steps) / (total_steps - warmup_steps))) / 2


def good_noise_floor(lr, L, sigma):  # noqa: N803
    return lr * sigma**2 / (2 * (2 - lr * L))


# --- the references are the formulas of the lesson ---------------------------------------------


def test_the_staircase_reference_is_the_deep_learning_specialization_formula():
    for epoch in range(12):
        assert _reference_inverse_time_staircase(0.5, epoch, 0.3, 4) == pytest.approx(
            0.5 / (1 + 0.3 * np.floor(epoch / 4)), rel=1e-15)


def test_the_warmup_cosine_reference_ramps_then_follows_the_cosine():
    lrs = [_reference_warmup_cosine(t, 0.2, 4, 24) for t in range(24)]
    np.testing.assert_allclose(lrs[:5], 0.2 * np.arange(1, 6) / 5, rtol=1e-15)  # peak at t = w
    k = np.arange(20)
    np.testing.assert_allclose(lrs[4:], 0.1 * (1 + np.cos(np.pi * k / 20)), rtol=1e-13)


def test_the_noise_floor_reference_is_the_fixed_point_of_the_second_moment_recursion():
    lr, L, sigma = 0.7, 2.0, 0.5  # noqa: N806
    v = sigma**2 * lr**2 / (1 - (1 - lr * L) ** 2)  # v = (1 − ηL)² v + η² σ²
    assert _reference_noise_floor(lr, L, sigma) == pytest.approx(L * v / 2, rel=1e-14)


# --- right answers pass --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_correct_answers_pass(seed, capsys):
    assert checks.check_inverse_time_staircase(good_inverse_time_staircase, seed=seed)
    assert checks.check_warmup_cosine(good_warmup_cosine, seed=seed)
    assert checks.check_noise_floor(good_noise_floor, seed=seed)
    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert out.count("all 5 of 5 cases passed") == 3


def test_argument_names_do_not_matter_for_the_noise_floor():
    assert checks.check_noise_floor(lambda a, b, c: a * c**2 / (2 * (2 - a * b)))


# --- the usual mistakes fail, saying where --------------------------------------------------------


def test_staircase_without_the_floor_fails_at_an_epoch_inside_an_interval(capsys):
    assert not checks.check_inverse_time_staircase(
        lambda lr0, epoch, decay_rate, interval: lr0 / (1 + decay_rate * epoch / interval))
    out = capsys.readouterr().out
    assert "inverse_time_staircase case 2: FAIL" in out
    # the largest miss: epoch 2 of an interval of 3, where ⌊2/3⌋ = 0 but 2/3 was used
    assert "at index (2,)" in out


def test_staircase_that_decays_one_interval_late_fails():
    def late(lr0, epoch, decay_rate, interval):
        return lr0 / (1 + decay_rate * max(epoch - 1, 0) // interval)

    assert not checks.check_inverse_time_staircase(late)


def test_a_ramp_from_zero_fails_at_step_zero(capsys):
    def from_zero(t, lr0, warmup_steps, total_steps):
        if t < warmup_steps:
            return lr0 * t / warmup_steps
        return good_warmup_cosine(t, lr0, warmup_steps, total_steps)

    assert not checks.check_warmup_cosine(from_zero)
    out = capsys.readouterr().out
    assert "warmup_cosine case 1: pass" in out  # no warm-up: nothing to get wrong
    assert "warmup_cosine case 2: FAIL" in out and "at index (0,), got 0.0" in out


def test_a_cosine_that_is_not_shifted_past_the_warmup_fails():
    def unshifted(t, lr0, warmup_steps, total_steps):
        if t < warmup_steps:
            return lr0 * (t + 1) / (warmup_steps + 1)
        return lr0 * (1 + math.cos(math.pi * t / total_steps)) / 2

    assert not checks.check_warmup_cosine(unshifted)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda lr, L, sigma: lr * sigma**2 / 4,  # the small-rate approximation
        lambda lr, L, sigma: lr * sigma**2 / (L * (2 - lr * L)),  # E[x²], not E[f]
        lambda lr, L, sigma: lr * sigma / (2 * (2 - lr * L)),  # σ, not σ²
    ],
)
def test_wrong_noise_floors_fail(wrong, capsys):
    assert not checks.check_noise_floor(wrong)
    assert "noise_floor case 1: FAIL" in capsys.readouterr().out


def test_returning_nothing_is_reported(capsys):
    assert not checks.check_inverse_time_staircase(lambda lr0, epoch, d, k: None)
    assert not checks.check_noise_floor(lambda lr, L, sigma: None)
    out = capsys.readouterr().out
    assert "returned None at epoch=0" in out
    assert "did you forget to return the result?" in out


def test_returning_an_array_instead_of_one_rate_is_reported(capsys):
    assert not checks.check_warmup_cosine(lambda t, lr0, w, T: np.full(3, lr0))
    assert "must return one number" in capsys.readouterr().out



@pytest.mark.parametrize("as_text", [str, lambda rate: f"{rate:.17g}", lambda rate: np.str_(rate)])
def test_the_right_rates_as_text_are_reported(as_text, capsys):
    def staircase_text(lr0, epoch, decay_rate, interval):
        return as_text(good_inverse_time_staircase(lr0, epoch, decay_rate, interval))

    assert not checks.check_inverse_time_staircase(staircase_text)
    out = capsys.readouterr().out
    assert "inverse_time_staircase case 1: FAIL, raised TypeError: must return one number, got '" \
        in out and "' at epoch=0" in out

