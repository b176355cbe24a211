"""Tests of what lesson 01 added: problems.LeastSquares and widgets.feature_scaling_explorer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from course_lib.data import load_wine, train_test_split
from course_lib.optimizers import SGD
from course_lib.problems import LeastSquares, run_optimizer
from course_lib.scaling import MeanNormalizer, ZScoreScaler


def data(seed=0, n=40, scales=(1.0, 100.0, 0.1)):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(scales))) * scales + rng.uniform(0, 5, len(scales))
    y = rng.normal(size=n) + X @ rng.normal(size=len(scales))
    return X, y


def numerical_grad(f, w, h=1e-6):
    g = np.zeros_like(w)
    for i in range(w.size):
        e = np.zeros_like(w)
        e[i] = h
        g[i] = (f(w + e) - f(w - e)) / (2 * h)
    return g


@pytest.mark.parametrize("bias", [False, True])
def test_loss_is_half_the_mean_squared_residual(bias):
    X, y = data()
    problem = LeastSquares(X, y, bias=bias)
    design = np.column_stack([X, np.ones(len(X))]) if bias else X
    W = np.random.default_rng(1).normal(size=(4, 5, problem.n_params))
    direct = 0.5 * np.mean((W @ design.T - y) ** 2, axis=-1)
    assert problem.loss(W).shape == (4, 5)
    assert_allclose(problem.loss(W), direct, rtol=1e-10)
    assert isinstance(problem.loss(W[0, 0]), float)


@pytest.mark.parametrize("bias", [False, True])
def test_gradient_and_hessian(bias):
    X, y = data(seed=2, scales=(1.0, 3.0))
    problem = LeastSquares(X, y, bias=bias)
    design = np.column_stack([X, np.ones(len(X))]) if bias else X
    w = np.random.default_rng(3).normal(size=problem.n_params)
    assert_allclose(problem.grad(w), design.T @ (design @ w - y) / len(y), rtol=1e-10)
    assert_allclose(problem.grad(w), numerical_grad(problem.loss, w), rtol=1e-6, atol=1e-8)
    columns = [numerical_grad(lambda v, i=i: problem.grad(v)[i], w) for i in range(w.size)]
    assert_allclose(problem.hessian, np.array(columns), rtol=1e-6, atol=1e-8)
    assert_allclose(problem.hessian, design.T @ design / len(y), rtol=1e-12)


def test_bias_adds_the_column_means_and_a_one():
    # H~ = [[X^T X / n, mean], [mean^T, 1]]
    X, y = data(seed=4)
    H = LeastSquares(X, y, bias=True).hessian
    assert_allclose(H[:-1, :-1], X.T @ X / len(X), rtol=1e-12)
    assert_allclose(H[:-1, -1], X.mean(axis=0), rtol=1e-12)
    assert_allclose(H[-1, :-1], X.mean(axis=0), rtol=1e-12)
    assert H[-1, -1] == 1.0


def test_scaling_the_columns_gives_D_H_D():
    X, y = data(seed=5)
    D = np.diag([2.0, 0.01, 30.0])
    H = LeastSquares(X, y).hessian
    assert_allclose(LeastSquares(X @ D, y).hessian, D @ H @ D, rtol=1e-12)


@pytest.mark.parametrize("scaler", [ZScoreScaler, MeanNormalizer])
def test_centred_columns_decouple_the_bias(scaler):
    X, y = data(seed=6)
    H = LeastSquares(scaler().fit_transform(X), y, bias=True).hessian
    assert_allclose(H[:-1, -1], 0.0, atol=1e-14)
    if scaler is ZScoreScaler:  # the weight block is the correlation matrix
        assert_allclose(H[:-1, :-1], np.corrcoef(X, rowvar=False), atol=1e-12)


def test_minimiser_curvatures_and_condition_number():
    X, y = data(seed=7)
    problem = LeastSquares(X, y, bias=True)
    assert_allclose(problem.minimiser,
                    np.linalg.lstsq(problem.design, y, rcond=None)[0], rtol=1e-12)
    assert_allclose(problem.grad(problem.minimiser), 0.0, atol=1e-9)
    assert problem.loss(problem.minimiser) == pytest.approx(problem.min_value, rel=1e-9)
    eigenvalues = np.linalg.eigvalsh(problem.hessian)
    assert problem.L == pytest.approx(eigenvalues[-1])
    assert problem.mu == pytest.approx(eigenvalues[0])
    assert problem.kappa == pytest.approx(eigenvalues[-1] / eigenvalues[0])
    assert "kappa=" in repr(problem)


def test_dependent_columns_have_infinite_condition_number():
    X, y = data(seed=8, scales=(1.0, 2.0))
    X = np.column_stack([X, X[:, 0] + X[:, 1]])
    problem = LeastSquares(X, y)
    assert problem.mu == 0.0 or problem.kappa > 1e12
    X1 = np.ones((10, 1))  # a column of ones next to the bias column: rank 1
    assert LeastSquares(X1, np.arange(10.0), bias=True).kappa > 1e12


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), bias=st.booleans())
def test_no_point_beats_the_minimiser(seed, bias):
    X, y = data(seed=seed, n=15)
    problem = LeastSquares(X, y, bias=bias)
    w = problem.minimiser + np.random.default_rng(seed).normal(size=(20, problem.n_params))
    assert np.all(problem.loss(w) >= problem.min_value - 1e-9 * (1 + problem.min_value))


def test_gradient_descent_converges_below_two_over_L_and_diverges_above():
    X, y = data(seed=9, scales=(1.0, 10.0))
    problem = LeastSquares(X - X.mean(axis=0), y - y.mean())
    x0 = np.zeros(2)
    path = run_optimizer(SGD(1.9 / problem.L), problem, x0, 20 * int(problem.kappa) + 200)
    assert_allclose(path[-1], problem.minimiser, rtol=1e-6)
    path = run_optimizer(SGD(2.1 / problem.L), problem, x0, 200)
    assert not np.isfinite(path[-1]).all() or np.linalg.norm(path[-1]) > 1e6


def test_inputs_are_not_modified_and_not_shared():
    X, y = data(seed=10)
    X0, y0 = X.copy(), y.copy()
    problem = LeastSquares(X, y)
    X[0, 0] = 1e9
    assert np.array_equal(problem.design, X0)
    assert np.array_equal(y, y0)


@pytest.mark.parametrize(
    "X, y, kwargs, error, match",
    [
        (np.ones(5), np.ones(5), {}, ValueError, "X must be 2-D"),
        (np.ones((5, 2)), np.ones((5, 1)), {}, ValueError, "y must be 1-D"),
        (np.ones((5, 2)), np.ones(4), {}, ValueError, "one target per row"),
        (np.full((3, 2), np.nan), np.ones(3), {}, ValueError, "X contains NaN"),
        (np.ones((3, 2)), np.array([1.0, np.inf, 0.0]), {}, ValueError, "y contains NaN"),
        (np.ones((0, 2)), np.ones(0), {}, ValueError, "at least one row"),
        (np.ones((3, 2)), np.ones(3), {"bias": 1}, TypeError, "bias must be True or False"),
        (np.array([["a", "b"]]), np.ones(1), {}, TypeError, "X must be a numeric array"),
    ],
)
def test_bad_input(X, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        LeastSquares(X, y, **kwargs)


def test_parameter_vectors_of_the_wrong_length_are_refused():
    problem = LeastSquares(*data(seed=11), bias=True)
    with pytest.raises(ValueError, match=r"w must have shape \(\.\.\., 4\)"):
        problem.loss(np.zeros(3))
    with pytest.raises(ValueError, match="w must have shape"):
        problem.grad(1.0)


# ----------------------------------------------------------------- the explorer

widgets = pytest.importorskip("course_lib.widgets")


def test_explorer_problems_hold_the_bias_at_its_optimum():
    setups = widgets.feature_scaling_setups()
    assert list(setups) == ["raw", "mean-normalized", "z-score"]
    for setup in setups.values():
        full, plane = setup["full"], setup["plane"]
        assert_allclose(plane.minimiser, full.minimiser[:2], rtol=1e-8)
        assert plane.min_value == pytest.approx(full.min_value, rel=1e-9)
    kappas = [setups[name]["full"].kappa for name in setups]
    assert kappas[0] > 1e5 > kappas[1] > kappas[2]


@pytest.mark.parametrize("name", ["mean-normalized", "z-score"])
def test_centred_path_is_gradient_descent_on_the_drawn_surface(name):
    # The bias is decoupled, so the weights follow 2-D gradient descent on the slice b = b*.
    setup = widgets.feature_scaling_setups()[name]
    full, plane = setup["full"], setup["plane"]
    lr = 1.0 / full.L
    path3 = run_optimizer(SGD(lr), full, np.zeros(3), 30)
    path2 = run_optimizer(SGD(lr), plane, np.zeros(2), 30)
    assert_allclose(path3[:, :2], path2, rtol=1e-9, atol=1e-12)


def test_raw_path_is_not_on_the_slice():
    setup = widgets.feature_scaling_setups()["raw"]
    full, plane = setup["full"], setup["plane"]
    path3 = run_optimizer(SGD(1.0 / full.L), full, np.zeros(3), 30)
    path2 = run_optimizer(SGD(1.0 / full.L), plane, np.zeros(2), 30)
    assert not np.allclose(path3[:, :2], path2)


def test_explorer_redraws_when_a_control_moves():
    explorer = widgets.feature_scaling_explorer(steps=20)
    first = explorer.image.value
    explorer.set(scaler="z-score")
    second = explorer.image.value
    explorer.controls["lr"].value = 0.5
    assert len({first, second, explorer.image.value}) == 3
    assert len(explorer.redraw_ms) == 3
    assert all(math.isfinite(ms) for ms in explorer.redraw_ms)


def test_explorer_survives_a_diverging_learning_rate():
    explorer = widgets.feature_scaling_explorer(steps=20)
    for name in ["raw", "mean-normalized", "z-score"]:
        explorer.set(scaler=name, lr=2.2)
    assert "diverges" in explorer.figure.axes[0].get_title()


def test_explorer_refuses_unknown_columns():
    with pytest.raises(ValueError, match="unknown"):
        widgets.feature_scaling_setups(features=("alcohol", "colour"))


def wine_problem(scaler):
    """Lesson 01's least-squares problem: alcohol from the other 12 Wine features."""
    wine = load_wine()
    target = list(wine.feature_names).index("alcohol")
    X_all, y_all = np.delete(wine.X, target, axis=1), wine.X[:, target]
    X_train, _, y_train, _ = train_test_split(X_all, y_all, test_fraction=0.25, rng=0)
    return LeastSquares(scaler.fit_transform(X_train), y_train, bias=True)


def steps_to_one_percent(problem, lr, limit=2000):
    """Gradient descent from 0: the first step whose loss is within 1 % of the optimum's."""
    w = np.zeros(problem.n_params)
    for step in range(1, limit + 1):
        w = w - lr * problem.grad(w)
        if problem.loss(w) - problem.min_value <= 0.01 * problem.min_value:
            return step
    return math.inf


def test_lesson_01_step_counts_on_the_wine_data():
    # The numbers lesson 01 prints; its cells assert only the claims they support.
    mean_normalized, z_scored = wine_problem(MeanNormalizer()), wine_problem(ZScoreScaler())
    p = mean_normalized
    assert steps_to_one_percent(p, 2 / (p.L + p.mu)) == 639
    assert steps_to_one_percent(p, 0.9 * 2 / p.L) == 51
    assert steps_to_one_percent(z_scored, 0.9 * 2 / z_scored.L) == 13
