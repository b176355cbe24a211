"""Tests for course_lib.gradcheck: the finite-difference tools the other tests rely on.

A checker that always says "fine" would make every gradient test pass, so the tests here
show that it finds deliberately wrong gradients, not only that it accepts right ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.gradcheck import check_layer, check_loss, max_relative_error, numerical_gradient
from course_lib.layers import BatchNorm, Dense, ReLU, Sequential
from course_lib.losses import mse

# --- numerical_gradient ----------------------------------------------------------------------


def test_numerical_gradient_of_a_cubic_matches_the_derivative():
    x = np.random.default_rng(0).standard_normal((3, 4))
    grad = numerical_gradient(lambda v: np.sum(v**3), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-7, atol=1e-8)


def test_numerical_gradient_of_a_quadratic_form():
    rng = np.random.default_rng(1)
    A, x = rng.standard_normal((4, 4)), rng.standard_normal(4)
    grad = numerical_gradient(lambda v: v @ A @ v, x)
    np.testing.assert_allclose(grad, (A + A.T) @ x, rtol=1e-7, atol=1e-8)


def test_numerical_gradient_restores_x_exactly_and_works_on_views():
    rng = np.random.default_rng(2)
    base = rng.standard_normal((4, 3))
    x = base.T  # not C-contiguous: perturbed through the view, into base
    before = base.copy()
    grad = numerical_gradient(lambda v: np.sum(np.sin(v)), x)
    np.testing.assert_array_equal(base, before)
    np.testing.assert_allclose(grad, np.cos(x), rtol=1e-7, atol=1e-9)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.arange(4.0)
    before = x.copy()
    calls = []

    def f(v):
        calls.append(v.copy())
        if len(calls) == 3:
            raise ArithmeticError("boom")
        return float(v.sum())

    with pytest.raises(ArithmeticError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    assert not np.array_equal(calls[2], before)  # the failing call did see a perturbed x


def test_numerical_gradient_perturbs_through_a_shared_reference():
    # what check_layer relies on: f reads the parameter array, not its argument
    layer = Dense(2, 1, rng=0)
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    grad = numerical_gradient(lambda _: float(layer.forward(x).sum()), layer.params["W"])
    np.testing.assert_allclose(grad, x.sum(axis=0)[:, None], rtol=1e-8)


@pytest.mark.parametrize(
    "x, h, error, match",
    [
        (np.zeros(3, dtype=np.float32), 1e-6, TypeError, "float64"),
        (np.zeros(3, dtype=np.int64), 1e-6, TypeError, "float64"),
        ([0.0, 1.0], 1e-6, TypeError, "float64"),
        (np.zeros(3), 0.0, ValueError, "h"),
        (np.zeros(3), -1e-6, ValueError, "h"),
    ],
)
def test_numerical_gradient_rejects_bad_input(x, h, error, match):
    with pytest.raises(error, match=match):
        numerical_gradient(np.sum, x, h)


# --- max_relative_error ----------------------------------------------------------------------


def test_max_relative_error_formula():
    a = np.array([1.0, 0.0, -2.0, 3.0])
    b = np.array([1.1, 0.0, -2.0, 3.0])
    assert max_relative_error(a, b) == pytest.approx(0.1 / 2.1, rel=1e-12)
    assert max_relative_error(b, a) == max_relative_error(a, b)
    assert max_relative_error(a, a) == 0.0
    assert max_relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert max_relative_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert max_relative_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0


def test_max_relative_error_floor_compares_tiny_elements_absolutely():
    a, b = np.array([5.0, 1e-12]), np.array([5.0, 0.0])
    assert max_relative_error(a, b) == 1.0
    assert max_relative_error(a, b, floor=1e-3) == pytest.approx(1e-9, rel=1e-12)
    # the floor does not touch elements above it
    assert max_relative_error([2.0], [2.2], floor=1e-3) == pytest.approx(0.2 / 4.2, rel=1e-12)


def test_max_relative_error_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        max_relative_error(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="floor"):
        max_relative_error(np.zeros(3), np.zeros(3), floor=-1.0)


# --- check_layer -----------------------------------------------------------------------------


class WrongBiasDense(Dense):
    """A Dense layer whose backward forgets to sum the bias gradient over the batch."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["b"][...] = dy[0]
        return dx


class NaiveBatchNorm(BatchNorm):
    """The classic mistake: treating the batch mean and variance as constants in backward."""

    def forward(self, x, training=True):
        # the 1/sqrt(var + eps) that normalises this forward: the batch's, or the running one
        var = x.var(axis=0) if training else self.running_var
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        return super().forward(x, training)

    def backward(self, dy):
        super().backward(dy)
        return dy * self.params["gamma"] * self.inv_std


def test_check_layer_finds_a_wrong_parameter_gradient():
    rng = np.random.default_rng(3)
    errors = check_layer(WrongBiasDense(3, 2, rng=rng), rng.standard_normal((4, 3)))
    assert errors["b"] > 1e-2
    assert errors["W"] < 1e-6 and errors["x"] < 1e-6


def test_check_layer_finds_the_naive_batchnorm_backward():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 3))
    errors = check_layer(NaiveBatchNorm(3), x, training=True)
    assert errors["x"] > 1e-2
    assert errors["gamma"] < 1e-6 and errors["beta"] < 1e-6
    # in eval mode the statistics are constants, so the naive form is right there
    assert check_layer(NaiveBatchNorm(3), x, training=False)["x"] < 1e-6


def test_check_layer_finds_a_wrong_input_gradient_inside_a_sequential():
    class LeakyReLUForwardOnly(ReLU):
        def forward(self, x, training=True):
            super().forward(x, training)
            return np.where(x > 0, x, 0.1 * x)  # backward still the plain ReLU's

    rng = np.random.default_rng(5)
    model = Sequential(Dense(3, 4, rng=rng), LeakyReLUForwardOnly(), Dense(4, 2, rng=rng))
    errors = check_layer(model, rng.standard_normal((5, 3)))
    assert errors["x"] > 1e-2 and errors["0.W"] > 1e-2
    assert errors["2.W"] < 1e-6  # the layer after the bug is unaffected


def test_check_layer_restores_params_running_stats_and_input():
    rng = np.random.default_rng(6)
    model = Sequential(Dense(3, 4, rng=rng), BatchNorm(4), ReLU(), Dense(4, 2, rng=rng))
    model.forward(rng.standard_normal((8, 3)), training=True)  # non-trivial running statistics
    params = {name: p.copy() for name, p in model.params.items()}
    buffers = {name: b.copy() for name, b in model.buffers.items()}
    x = rng.standard_normal((5, 3))
    x_before = x.copy()
    errors = check_layer(model, x, training=True)
    assert set(errors) == {"x"} | set(model.params)
    for name, p in model.params.items():
        np.testing.assert_array_equal(p, params[name], err_msg=name)
    for name, b in model.buffers.items():
        np.testing.assert_array_equal(b, buffers[name], err_msg=name)
    np.testing.assert_array_equal(x, x_before)


def test_check_layer_is_reproducible_for_a_fixed_rng():
    rng = np.random.default_rng(7)
    layer, x = Dense(3, 2, rng=rng), rng.standard_normal((4, 3))
    assert check_layer(layer, x, rng=11) == check_layer(layer, x, rng=11)


def test_check_layer_rejects_float32():
    with pytest.raises(TypeError, match="float64"):
        check_layer(Dense(3, 2, dtype=np.float32), np.zeros((4, 3), dtype=np.float32))


# --- check_loss ------------------------------------------------------------------------------


def test_check_loss_accepts_a_right_gradient_and_finds_a_wrong_one():
    rng = np.random.default_rng(8)
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert check_loss(mse, pred, target) < 1e-6

    def mse_missing_factor_two(p, t):
        loss, grad = mse(p, t)
        return loss, grad / 2

    assert check_loss(mse_missing_factor_two, pred, target) == pytest.approx(1 / 3, rel=1e-4)


def test_check_loss_does_not_modify_pred():
    rng = np.random.default_rng(9)
    pred, target = rng.standard_normal(5), rng.standard_normal(5)
    before = pred.copy()
    check_loss(mse, pred, target)
    np.testing.assert_array_equal(pred, before)


def test_check_loss_rejects_float32():
    with pytest.raises(TypeError, match="float64"):
        check_loss(mse, np.zeros(3, dtype=np.float32), np.zeros(3, dtype=np.float32))
