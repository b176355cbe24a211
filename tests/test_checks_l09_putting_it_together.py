"""The lesson-09 checkers: right answers pass, the usual mistakes fail with a useful line."""

import math

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks.l09_putting_it_together import (
    _reference_epochs_to_target,
    _reference_t_interval,
)
from course_lib.stats import summarize, t_quantile
from course_lib.training import History


def good_epochs_to_target(curve, target):
    for k, value in enumerate(curve):
        if value >= target:
            return k
    return math.inf


def good_t_interval(values, confidence):
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    half = t_quantile((1 + confidence) / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return x.mean(), x.mean() - half, x.mean() + half


# --- the reference answers agree with the library ---------------------------------------------


@pytest.mark.parametrize("target", [0.0, 0.5, 0.8, 0.9, 0.95, 1.0])
def test_the_epochs_reference_is_history_epochs_to(target):
    curve = np.array([0.1, 0.55, 0.8, np.nan, 0.93, 0.9, 0.96])
    history = History(epochs=6, steps_per_epoch=1, step_loss=np.zeros(6), step_lr=np.zeros(6),
                      val_accuracy=curve)
    assert _reference_epochs_to_target(curve, target) == history.epochs_to(
        "val_accuracy", target)


def test_the_t_interval_reference_matches_the_t_table():
    # Student's t table: t_{0.975, 4} = 2.7764; mean 2, s = sqrt(2.5) for 0..4
    values = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    mean, low, high = _reference_t_interval(values, 0.95)
    half = 2.7764 * math.sqrt(2.5) / math.sqrt(5)
    assert mean == 2.0
    assert (high - low) / 2 == pytest.approx(half, rel=1e-4)
    assert (high + low) / 2 == pytest.approx(2.0, rel=1e-12)


def test_the_t_interval_reference_leaves_out_what_is_not_finite():
    values = np.array([1.0, np.inf, 2.0, np.nan, 4.0])
    assert _reference_t_interval(values, 0.9) == _reference_t_interval(
        np.array([1.0, 2.0, 4.0]), 0.9)


# --- correct answers pass --------------------------------------------------------------------


def test_correct_solutions_pass_every_case(capsys):
    assert checks.check_epochs_to_target(good_epochs_to_target) is True
    assert checks.check_t_interval(good_t_interval) is True
    out = capsys.readouterr().out.splitlines()
    assert "epochs_to_target: all 7 of 7 cases passed" in out
    assert out[-1] == "t_interval: all 6 of 6 cases passed"


def test_other_seeds_make_other_cases_that_a_correct_answer_passes(capsys):
    for seed in range(1, 4):
        assert checks.check_epochs_to_target(good_epochs_to_target, seed=seed)
        assert checks.check_t_interval(good_t_interval, seed=seed)


def test_a_numpy_answer_and_a_summarize_answer_pass(capsys):
    def numpy_epochs(curve, target):
        hits = np.flatnonzero(np.asarray(curve) >= target)
        return int(hits[0]) if hits.size else float("inf")

    def via_summarize(values, confidence):
        s = summarize(values, confidence)
        return [s.mean, s.low, s.high]  # a list is fine too

    assert checks.check_epochs_to_target(numpy_epochs)
    assert checks.check_t_interval(via_summarize)


# --- the usual mistakes fail, with a line that says what differs ------------------------------


def failing_lines(capsys):
    return [line for line in capsys.readouterr().out.splitlines() if "FAIL" in line]


def test_strictly_greater_misses_a_target_reached_exactly(capsys):
    def strict(curve, target):
        hits = np.flatnonzero(np.asarray(curve) > target)
        return int(hits[0]) if hits.size else math.inf

    assert checks.check_epochs_to_target(strict) is False
    fails = failing_lines(capsys)
    assert len(fails) == 1
    assert "expected 6.0, got 7.0" in fails[0]


def test_argmax_says_epoch_0_when_the_target_is_never_reached(capsys):
    def argmax(curve, target):
        return int(np.argmax(np.asarray(curve) >= target))

    assert checks.check_epochs_to_target(argmax) is False
    assert any("expected inf, got 0.0" in line for line in failing_lines(capsys))


@pytest.mark.parametrize("never", [None, -1, "len"])
def test_never_reached_must_be_inf(capsys, never):
    def other_sentinel(curve, target):
        k = good_epochs_to_target(curve, target)
        if k != math.inf:
            return k
        return len(curve) if never == "len" else never

    assert checks.check_epochs_to_target(other_sentinel) is False
    assert failing_lines(capsys)


def test_an_epoch_counted_from_one_fails(capsys):
    def from_one(curve, target):
        return good_epochs_to_target(curve, target) + 1

    assert checks.check_epochs_to_target(from_one) is False
    assert "case 6: FAIL, expected 0.0, got 1.0" in "\n".join(failing_lines(capsys))


def test_changing_the_curve_is_reported(capsys):
    def sorts_in_place(curve, target):
        k = good_epochs_to_target(curve, target)
        curve.sort()
        return k

    assert checks.check_epochs_to_target(sorts_in_place) is False
    assert any("changed its input 'curve'" in line for line in failing_lines(capsys))


def test_the_normal_quantile_instead_of_t_fails(capsys):
    def normal(values, confidence):
        x = np.asarray(values, dtype=float)
        x = x[np.isfinite(x)]
        half = 1.959964 * x.std(ddof=1) / math.sqrt(x.size)
        return x.mean(), x.mean() - half, x.mean() + half

    assert checks.check_t_interval(normal) is False
    assert len(failing_lines(capsys)) == 6  # even n = 10 at 90 %: 1.96 is not t


@pytest.mark.parametrize("mistake", ["ddof0", "p=confidence", "df=n", "keeps inf"])
def test_the_usual_interval_mistakes_fail(capsys, mistake):
    def wrong(values, confidence):
        x = np.asarray(values, dtype=float)
        if mistake != "keeps inf":
            x = x[np.isfinite(x)]
        n = x.size
        p = confidence if mistake == "p=confidence" else (1 + confidence) / 2
        df = n if mistake == "df=n" else n - 1
        s = x.std(ddof=0 if mistake == "ddof0" else 1)
        with np.errstate(invalid="ignore"):
            half = t_quantile(p, df) * s / math.sqrt(n)
            return x.mean(), x.mean() - half, x.mean() + half

    assert checks.check_t_interval(wrong) is False
    fails = failing_lines(capsys)
    if mistake == "keeps inf":
        assert len(fails) == 1 and "case 6" in fails[0]
    else:
        assert len(fails) == 6


def test_returning_only_the_half_width_fails(capsys):
    def half_only(values, confidence):
        mean, low, high = good_t_interval(values, confidence)
        return (high - low) / 2

    assert checks.check_t_interval(half_only) is False
    assert any("expected a tuple of 3 values" in line for line in failing_lines(capsys))

