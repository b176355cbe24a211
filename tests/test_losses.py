"""Tests for course_lib.losses.

Reference numbers come from ``fixtures/losses.npz`` (made with torch.nn.functional by
``fixtures/make_layer_fixtures.py``), from finite differences or from closed forms.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from course_lib.gradcheck import check_loss
from course_lib.losses import accuracy, mse, softmax_cross_entropy

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = np.load(FIXTURES / "losses.npz")
DTYPES = ["float64", "float32"]
TOLERANCE = {"float64": 1e-10, "float32": 1e-5}


def assert_close(actual, expected, tol, what):
    np.testing.assert_allclose(
        actual, expected, rtol=tol, atol=tol * max(1.0, np.abs(expected).max()), err_msg=what
    )


# --- reference: torch.nn.functional ----------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["normal", "large"])
def test_cross_entropy_matches_torch(dtype, case):
    p = f"ce.{dtype}.{case}."
    logits, labels = REFERENCE[p + "logits"], REFERENCE[p + "labels"]
    assert logits.dtype == np.dtype(dtype)
    loss, dlogits = softmax_cross_entropy(logits, labels)
    assert type(loss) is float
    assert dlogits.dtype == logits.dtype and dlogits.shape == logits.shape
    assert_close(loss, REFERENCE[p + "loss"], TOLERANCE[dtype], "loss")
    assert_close(dlogits, REFERENCE[p + "dlogits"], TOLERANCE[dtype], "dlogits")


def test_large_logits_fixture_is_really_large():
    assert np.abs(REFERENCE["ce.float64.large.logits"]).max() > 1e3


@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_matches_torch(dtype):
    p = f"mse.{dtype}."
    loss, dpred = mse(REFERENCE[p + "pred"], REFERENCE[p + "target"])
    assert type(loss) is float and dpred.dtype == np.dtype(dtype)
    assert_close(loss, REFERENCE[p + "loss"], TOLERANCE[dtype], "loss")
    assert_close(dpred, REFERENCE[p + "dpred"], TOLERANCE[dtype], "dpred")


# --- finite-difference gradient checks (float64) ---------------------------------------------


@pytest.mark.parametrize("n, c", [(1, 3), (5, 4), (8, 10), (3, 1)])
def test_cross_entropy_gradient(n, c):
    rng = np.random.default_rng(n * 100 + c)
    logits = 2 * rng.standard_normal((n, c))
    labels = rng.integers(0, c, size=n)
    assert check_loss(softmax_cross_entropy, logits, labels) < 1e-6


@pytest.mark.parametrize("shape", [(1,), (5, 3), (2, 3, 4)])
def test_mse_gradient(shape):
    rng = np.random.default_rng(len(shape))
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    assert check_loss(mse, pred, target) < 1e-6


# --- closed forms ----------------------------------------------------------------------------


@pytest.mark.parametrize("c", [1, 2, 10])
def test_cross_entropy_of_equal_logits_is_log_c(c):
    labels = np.array([0, c - 1, 0])
    loss, dlogits = softmax_cross_entropy(np.full((3, c), 7.5), labels)
    assert loss == pytest.approx(math.log(c), abs=1e-15)
    expected = np.full((3, c), 1 / c)
    expected[np.arange(3), labels] -= 1
    np.testing.assert_allclose(dlogits, expected / 3, atol=1e-16)


def test_cross_entropy_is_shift_invariant_and_stable_for_huge_logits():
    rng = np.random.default_rng(1)
    logits, labels = rng.standard_normal((4, 5)), rng.integers(0, 5, size=4)
    loss, grad = softmax_cross_entropy(logits, labels)
    for shift in (1e3, -1e3, 1e5):
        shifted_loss, shifted_grad = softmax_cross_entropy(logits + shift, labels)
        assert shifted_loss == pytest.approx(loss, rel=1e-9, abs=1e-9)
        np.testing.assert_allclose(shifted_grad, grad, atol=1e-9)
    # a confident wrong answer: the loss is the logit gap, not inf
    huge, _ = softmax_cross_entropy(np.array([[0.0, 1e4]]), np.array([0]))
    assert huge == pytest.approx(1e4, rel=1e-12)


def test_cross_entropy_gradient_rows_sum_to_zero():
    rng = np.random.default_rng(2)
    _, dlogits = softmax_cross_entropy(rng.standard_normal((6, 4)), rng.integers(0, 4, size=6))
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-16)


def test_mse_closed_form():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    target = np.array([[1.0, 0.0], [0.0, 4.0]])
    loss, dpred = mse(pred, target)
    assert loss == (0 + 4 + 9 + 0) / 4
    np.testing.assert_array_equal(dpred, 2 * (pred - target) / 4)


def test_losses_do_not_modify_their_inputs():
    rng = np.random.default_rng(3)
    logits, labels = rng.standard_normal((4, 3)), rng.integers(0, 3, size=4)
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    copies = [a.copy() for a in (logits, labels, pred, target)]
    softmax_cross_entropy(logits, labels)
    mse(pred, target)
    accuracy(logits, labels)
    for original, copy in zip((logits, labels, pred, target), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


def test_non_finite_logits_give_a_nan_loss_for_the_training_loop_to_see():
    loss, _ = softmax_cross_entropy(np.array([[np.nan, 1.0], [0.0, 1.0]]), np.array([0, 1]))
    assert math.isnan(loss)


def test_accuracy():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [0.5, 0.2, 0.1]])
    assert accuracy(logits, np.array([0, 1, 2, 0])) == 1.0
    assert accuracy(logits, np.array([0, 0, 0, 0])) == 0.5
    assert type(accuracy(logits, np.array([1, 1, 1, 1]))) is float


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [softmax_cross_entropy, accuracy])
@pytest.mark.parametrize(
    "logits, labels, error, match",
    [
        (np.zeros((3, 4)), np.array([0, 1, 4]), ValueError, r"labels.*\[0, 3\]"),
        (np.zeros((3, 4)), np.array([0, -1, 2]), ValueError, r"labels.*\[0, 3\]"),
        (np.zeros((3, 4)), np.array([0.0, 1.0, 2.0]), TypeError, "labels.*integer"),
        (np.zeros((3, 4)), np.array([True, False, True]), TypeError, "labels.*integer"),
        (np.zeros((3, 4)), np.array([[0], [1], [2]]), ValueError, r"labels.*\(3,\)"),
        (np.zeros((3, 4)), np.array([0, 1]), ValueError, r"labels.*\(3,\)"),
        (np.zeros(4), np.array([0]), ValueError, "logits.*2-D"),
        (np.zeros((0, 4)), np.zeros(0, dtype=int), ValueError, "logits.*N, C >= 1"),
        (np.array([["a", "b"]]), np.array([0]), TypeError, "logits"),
    ],
)
def test_cross_entropy_and_accuracy_reject_bad_input(fn, logits, labels, error, match):
    with pytest.raises(error, match=match):
        fn(logits, labels)


@pytest.mark.parametrize(
    "pred, target, error, match",
    [
        (np.zeros((4, 1)), np.zeros(4), ValueError, r"same shape.*\(4, 1\).*\(4,\)"),
        (np.zeros((2, 3)), np.zeros((3, 2)), ValueError, "same shape"),
        (np.zeros(3), np.zeros(3, dtype=np.float32), TypeError, "same dtype"),
        (np.zeros(0), np.zeros(0), ValueError, "at least one element"),
        (np.array(["a"]), np.zeros(1), TypeError, "pred"),
    ],
)
def test_mse_rejects_bad_input(pred, target, error, match):
    with pytest.raises(error, match=match):
        mse(pred, target)
