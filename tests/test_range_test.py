"""Tests for course_lib.range_test: the learning-rate range test.

References: the run is ``fit`` with a geometric schedule (compared with that run, loss for
loss), and on least squares full-batch gradient descent turns unstable at lr = 2/λ_max of the
Hessian, which is where the measured loss must stop falling.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib.data import load_digits
from course_lib.layers import Dense, Sequential
from course_lib.losses import mse, softmax_cross_entropy
from course_lib.networks import mlp
from course_lib.optimizers import SGD, Adam
from course_lib.range_test import RangeTest, lr_range_test
from course_lib.training import fit

DIGITS = load_digits()
X_DIGITS, Y_DIGITS = DIGITS.X[:400] / 16, DIGITS.y[:400]


def regression(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 2.0, 0.5]
    return X, X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(n, 1))


def test_the_rates_grow_geometrically_and_the_losses_are_those_of_fit_with_that_schedule():
    test = lr_range_test(mlp(depth=2, rng=0), softmax_cross_entropy, SGD(1.0), X_DIGITS,
                         Y_DIGITS, lr_min=1e-3, lr_max=10.0, steps=30, batch_size=32, seed=5)
    assert test.lrs[0] == 1e-3 and test.lrs[-1] == pytest.approx(10.0, rel=1e-14)
    np.testing.assert_allclose(test.lrs[1:] / test.lrs[:-1], 10 ** (4 / 29), rtol=1e-12)
    model = mlp(depth=2, rng=0)
    history = fit(model, softmax_cross_entropy, SGD(1.0), X_DIGITS, Y_DIGITS, epochs=3,
                  batch_size=32, seed=5, evaluate=False, schedule=lambda t: test.lrs[min(t, 29)])
    np.testing.assert_array_equal(test.losses, history.step_loss[:30])


def test_the_smoothed_loss_is_the_bias_corrected_moving_average():
    test = lr_range_test(mlp(depth=2, rng=0), softmax_cross_entropy, SGD(1.0), X_DIGITS,
                         Y_DIGITS, steps=12, beta=0.5)
    average, expected = 0.0, []
    for t, value in enumerate(test.losses):
        average = 0.5 * average + 0.5 * value
        expected.append(average / (1 - 0.5 ** (t + 1)))
    np.testing.assert_allclose(test.smoothed, expected, rtol=1e-14)
    assert test.smoothed[0] == test.losses[0]


def test_the_model_and_the_optimizer_come_back_as_they_were(same_state):
    model, optimizer = mlp(depth=2, batch_norm=True, rng=0), Adam(1e-3)
    fit(model, softmax_cross_entropy, optimizer, X_DIGITS, Y_DIGITS, epochs=1, batch_size=64)
    model_before, optimizer_before = model.state_dict(), optimizer.state_dict()
    lr_range_test(model, softmax_cross_entropy, optimizer, X_DIGITS, Y_DIGITS, lr_max=1e3,
                  steps=40)
    same_state(model.state_dict(), model_before)
    same_state(optimizer.state_dict(), optimizer_before)
    # and training goes on as if no test had run
    fit(model, softmax_cross_entropy, optimizer, X_DIGITS, Y_DIGITS, epochs=1, batch_size=64)


def test_on_least_squares_the_loss_stops_falling_where_gradient_descent_turns_unstable():
    X, y = regression()
    with_bias = np.hstack([X, np.ones((len(X), 1))])
    unstable = 2 / np.linalg.eigvalsh(2 / len(X) * with_bias.T @ with_bias).max()  # 2 / λ_max
    test = lr_range_test(Sequential(Dense(3, 1, rng=0)), mse, SGD(1.0), X, y, lr_min=1e-4,
                         lr_max=1e3, steps=200, batch_size=len(X))  # full batch: plain GD
    # the loss falls until near 2/λ_max, and climbs only beyond it (an unstable mode needs a
    # few steps to grow from the little that is left of it, so the minimum comes a bit later)
    assert unstable / 3 < test.min_loss_lr
    best_so_far = np.fmin.accumulate(test.losses)
    blown_up = np.flatnonzero(~(test.losses <= 10 * best_so_far))  # NaN counts as blown up
    assert blown_up.size and test.lrs[blown_up[0]] > unstable
    assert test.steepest_lr <= test.min_loss_lr
    # beyond instability the loss explodes, and the run stops as diverged (NaN from there on)
    assert not np.all(np.isfinite(test.losses))
    first_nan = int(np.argmax(~np.isfinite(test.losses)))
    assert test.lrs[first_nan] > unstable
    assert np.all(np.isnan(test.smoothed[first_nan:]))
    assert "steepest_lr" in repr(test) and isinstance(test, RangeTest)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"lr_min": 0.0}, ValueError, "lr_min"),
        ({"lr_min": 1.0, "lr_max": 0.5}, ValueError, "lr_max must be above lr_min"),
        ({"steps": 1}, ValueError, "steps must be >= 2"),
        ({"steps": 10.0}, TypeError, "steps"),
        ({"beta": 1.0}, ValueError, "beta"),
        ({"batch_size": 0}, ValueError, "batch_size"),
    ],
)
def test_bad_arguments_are_refused_naming_them(kwargs, error, message):
    model = mlp(depth=2, rng=0)
    before = model.params["0.W"].copy()
    with pytest.raises(error, match=message):
        lr_range_test(model, softmax_cross_entropy, SGD(1.0), X_DIGITS, Y_DIGITS, **kwargs)
    np.testing.assert_array_equal(model.params["0.W"], before)
    assert math.isfinite(before.sum())
