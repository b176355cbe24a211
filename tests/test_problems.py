"""``course_lib.problems``: the objectives of the 2-D lessons and the one optimizer runner.

Quadratic, Rosenbrock, LeastSquares (lesson 01), Rescaled (03) and NoisyQuadratic (06): losses
and gradients against closed forms and finite differences; ``run_optimizer`` against the
optimizer's own ``step``, taken by hand.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import schedules
from course_lib.data import load_wine, train_test_split
from course_lib.gradcheck import numerical_gradient
from course_lib.optimizers import SGD, Adam, AdamW, Momentum, RMSProp
from course_lib.problems import (
    LeastSquares,
    NoisyQuadratic,
    Quadratic,
    Rescaled,
    Rosenbrock,
    distance_to_minimiser,
    run_optimizer,
)
from course_lib.scaling import MeanNormalizer, ZScoreScaler


@pytest.mark.parametrize("kappa, L, angle", [(1, 1, 0), (10, 2, 30), (1000, 0.5, -75)])
def test_quadratic_curvatures_gradient_and_minimiser(kappa, L, angle):
    problem = Quadratic(kappa=kappa, L=L, angle=angle, minimiser=(0.5, -1.0))
    assert problem.mu == pytest.approx(L / kappa)
    assert np.linalg.eigvalsh(problem.hessian) == pytest.approx([L / kappa, L])
    np.testing.assert_allclose(problem.grad(problem.minimiser), 0, atol=1e-15)
    assert problem.loss(problem.minimiser) == 0.0
    x = np.array([0.3, 2.0])
    np.testing.assert_allclose(problem.grad(x), numerical_gradient(problem.loss, x), rtol=1e-7)


def test_quadratic_steep_direction_follows_the_angle():
    problem = Quadratic(kappa=50, L=3.0, angle=30.0)
    steep = np.array([math.cos(math.radians(30)), math.sin(math.radians(30))])
    np.testing.assert_allclose(problem.grad(steep), 3.0 * steep)
    shallow = np.array([-steep[1], steep[0]])
    np.testing.assert_allclose(problem.grad(shallow), 3.0 / 50 * shallow)


def test_loss_is_vectorised_over_leading_axes():
    problem = Quadratic(kappa=7, angle=10)
    points = np.random.default_rng(0).normal(size=(4, 5, 2))
    values = problem.loss(points)
    assert values.shape == (4, 5)
    assert values[2, 3] == pytest.approx(problem.loss(points[2, 3]))
    rosen = Rosenbrock()
    assert rosen.loss(points)[1, 4] == pytest.approx(rosen.loss(points[1, 4]))


def test_rosenbrock_gradient_and_minimum():
    problem = Rosenbrock(a=1.5, b=20)
    np.testing.assert_allclose(problem.minimiser, [1.5, 2.25])
    assert problem.loss(problem.minimiser) == 0.0
    np.testing.assert_allclose(problem.grad(problem.minimiser), 0, atol=1e-12)
    x = np.array([-0.7, 0.4])
    np.testing.assert_allclose(problem.grad(x), numerical_gradient(problem.loss, x), rtol=1e-7)


def test_run_optimizer_matches_the_closed_form_of_gradient_descent():
    problem = Quadratic(kappa=20, L=2.0, angle=40, minimiser=(1.0, -1.0))
    x0 = np.array([-2.0, 3.0])
    lr = 0.6
    path = run_optimizer(SGD(lr), problem, x0, 25)
    assert path.shape == (26, 2)
    step = np.eye(2) - lr * problem.hessian
    for t in (0, 1, 7, 25):
        expected = problem.minimiser + np.linalg.matrix_power(step, t) @ (x0 - problem.minimiser)
        np.testing.assert_allclose(path[t], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x0, [-2.0, 3.0])  # the caller's start is not moved


def test_run_optimizer_marks_a_diverged_path_with_nan():
    problem = Quadratic(kappa=10, L=1.0)
    path = run_optimizer(SGD(2.5), problem, np.array([1.0, 1.0]), 2000)
    assert np.isfinite(path[:100]).all()
    assert np.isnan(path[-1]).all()
    first_nan = np.argmax(np.isnan(path[:, 0]))
    assert np.isnan(path[first_nan:]).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [({"kappa": 0.5}, "kappa"), ({"L": 0}, "L"), ({"L": float("nan")}, "L"),
     ({"angle": "30"}, "angle"), ({"minimiser": (1, 2, 3)}, "minimiser")],
)
def test_quadratic_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Quadratic(**kwargs)


def test_rosenbrock_bad_input():
    with pytest.raises(ValueError, match="b"):
        Rosenbrock(b=-1)


# --- run_optimizer: the reference is the optimizer's own step, taken by hand ------------------

OPTIMIZERS = {
    "SGD": lambda: SGD(1e-3),
    "Momentum": lambda: Momentum(0.01, 0.9),
    "Nesterov": lambda: Momentum(0.01, 0.9, nesterov=True),
    "RMSProp": lambda: RMSProp(0.01),
    "Adam": lambda: Adam(0.1),
    "Adam-no-correction": lambda: Adam(0.1, bias_correction=False),
    "AdamW": lambda: AdamW(0.05, weight_decay=0.1),
}
PROBLEMS = {
    "Quadratic": Quadratic(kappa=30, angle=20, minimiser=(0.5, -0.25)),
    "Rosenbrock": Rosenbrock(),
    "Rescaled": Rescaled(Rosenbrock(), (1, 3)),
}


def stepped_path(optimizer, problem, x0, steps, schedule=None):
    """What run_optimizer documents, with optimizer.step: stop where the run leaves the plane."""
    params = {"x": np.array(x0, dtype=np.float64)}
    path = np.full((steps + 1, len(params["x"])), np.nan)
    path[0] = params["x"]
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            g = problem.grad(params["x"])
            if not np.isfinite(g).all():
                break
            if schedule is not None:
                optimizer.lr = schedule(t - 1)
            optimizer.step(params, {"x": g})
            if not np.isfinite(params["x"]).all():
                break
            path[t] = params["x"]
    return path


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_the_runner_takes_the_steps_of_optimizer_step(kind, problem):
    x0 = np.array([-1.5, 2.0])
    np.testing.assert_array_equal(run_optimizer(OPTIMIZERS[kind](), PROBLEMS[problem], x0, 300),
                                  stepped_path(OPTIMIZERS[kind](), PROBLEMS[problem], x0, 300))


@pytest.mark.parametrize("lr", [0.003, 0.02, 1.0])  # diverges after a while / soon / at once
def test_a_diverging_run_is_nan_from_where_optimizer_step_stops(lr):
    x0 = np.array([-1.5, 2.0])
    path = run_optimizer(SGD(lr), Rosenbrock(), x0, 200)
    np.testing.assert_array_equal(path, stepped_path(SGD(lr), Rosenbrock(), x0, 200))
    assert np.isnan(path[-1]).all()
    first_nan = np.argmax(np.isnan(path[:, 0]))
    assert np.isnan(path[first_nan:]).all() and np.isfinite(path[:first_nan]).all()


def test_the_runner_works_in_any_dimension():
    rng = np.random.default_rng(2)
    problem = LeastSquares(rng.normal(size=(30, 4)), rng.normal(size=30), bias=True)  # d = 5
    path = run_optimizer(Momentum(1 / problem.L), problem, np.zeros(5), 400)
    assert path.shape == (401, 5)
    np.testing.assert_array_equal(path, stepped_path(Momentum(1 / problem.L), problem,
                                                     np.zeros(5), 400))
    assert distance_to_minimiser(path[-1], problem) < 1e-6 * distance_to_minimiser(path[0], problem)


def test_a_schedule_sets_the_rate_of_each_step():
    schedule = schedules.step_decay(0.004, 50, 0.5)
    path = run_optimizer(Adam(1.0), Rosenbrock(), (-1.0, 1.5), 200, lr=schedule)
    np.testing.assert_array_equal(
        path, stepped_path(Adam(1.0), Rosenbrock(), (-1.0, 1.5), 200, schedule=schedule))


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_each_run_of_a_batch_takes_the_path_it_would_take_alone(kind):
    rng = np.random.default_rng(3)
    starts = rng.uniform(-1.5, 1.5, size=(4, 2))
    lrs = [0.002, 0.01, 0.03, 0.3]
    bowls = [Quadratic(kappa=20, angle=rng.uniform(0, 180)) for _ in range(4)]
    mixed = bowls[:3] + [Rosenbrock()]
    batches = {  # (problem, x0, lr) -> the (problem, start, lr) of run k
        "starts": ((PROBLEMS["Rosenbrock"], starts, None),
                   lambda k: (PROBLEMS["Rosenbrock"], starts[k], None)),
        "bowls": ((bowls, starts, None), lambda k: (bowls[k], starts[k], None)),
        "mixed problems": ((mixed, starts[0], None), lambda k: (mixed[k], starts[0], None)),
        "learning rates": ((bowls[0], starts[1], lrs), lambda k: (bowls[0], starts[1], lrs[k])),
        "all three": ((mixed, starts, lrs), lambda k: (mixed[k], starts[k], lrs[k])),
    }
    for name, ((problem, x0, lr), run) in batches.items():
        paths = run_optimizer(OPTIMIZERS[kind](), problem, x0, 120, lr=lr)
        assert paths.shape == (4, 121, 2), name
        for k in range(4):
            problem_k, start_k, lr_k = run(k)
            optimizer = OPTIMIZERS[kind]()
            if lr_k is not None:
                optimizer.lr = lr_k
            alone = stepped_path(optimizer, problem_k, start_k, 120)
            np.testing.assert_array_equal(paths[k], alone, err_msg=f"{name}, run {k}")


def test_a_diverging_run_of_a_batch_turns_nan_and_the_others_carry_on():
    problems = [Quadratic(kappa=2, L=1.0), Quadratic(kappa=2, L=10.0)]  # lr = 0.5 > 2/10
    paths = run_optimizer(SGD(0.5), problems, np.ones((2, 2)), 2000)
    np.testing.assert_array_equal(paths[1], stepped_path(SGD(0.5), problems[1], np.ones(2), 2000))
    assert np.isnan(paths[1, -1]).all()
    assert np.isfinite(paths[0]).all() and np.linalg.norm(paths[0, -1]) < 1e-10


def test_the_runner_moves_neither_the_start_nor_the_optimizer():
    starts = np.array([[1.0, 2.0], [-1.0, 0.5]])
    before = starts.copy()
    optimizer = Adam(0.1)
    run_optimizer(optimizer, Quadratic(), starts, 5, lr=[0.1, 0.2])
    np.testing.assert_array_equal(starts, before)
    assert optimizer.state == {} and optimizer.lr == 0.1


def test_zero_steps_returns_the_start():
    path = run_optimizer(SGD(0.1), Rosenbrock(), np.array([0.0, 0.0]), 0)
    np.testing.assert_array_equal(path, [[0.0, 0.0]])
    paths = run_optimizer(SGD(0.1), Rosenbrock(), np.zeros(2), 0, lr=[0.1, 0.2])
    np.testing.assert_array_equal(paths, np.zeros((2, 1, 2)))


@pytest.mark.parametrize(
    "optimizer, problem, x0, steps, lr, error, match",
    [
        (SGD(0.1), Quadratic(), np.zeros((2, 2, 2)), 5, None, ValueError, "x0"),
        (SGD(0.1), Quadratic(), np.zeros(0), 5, None, ValueError, "x0"),
        (SGD(0.1), Quadratic(), np.array([np.nan, 0.0]), 5, None, ValueError, "x0"),
        (SGD(0.1), Quadratic(), np.zeros(2), -1, None, ValueError, "steps"),
        (SGD(0.1), Quadratic(), np.zeros(2), 2.5, None, TypeError, "steps"),
        (SGD(0.1), [Quadratic()] * 3, np.zeros((2, 2)), 5, None, ValueError,
         "x0 gives 2, problem gives 3"),
        (SGD(0.1), Quadratic(), np.zeros((2, 2)), 5, [0.1, 0.2, 0.3], ValueError,
         "x0 gives 2, lr gives 3"),
        (SGD(0.1), Quadratic(), np.zeros(2), 5, [0.1, -0.2], ValueError, "lr"),
        (SGD(0.1), Quadratic(), np.zeros(2), 5, 0.0, ValueError, "lr"),
        (SGD(0.1), Quadratic(), np.zeros(2), 5, np.ones((2, 2)), ValueError, "lr"),
        (SGD(0.1), Quadratic(), np.zeros(2), 5, lambda t: -1.0, ValueError, "lr"),
        (object(), Quadratic(), np.zeros(2), 5, None, TypeError, "optimizer"),
    ],
)
def test_run_optimizer_bad_input(optimizer, problem, x0, steps, lr, error, match):
    with pytest.raises(error, match=match):
        run_optimizer(optimizer, problem, x0, steps, lr=lr)


# --- gradients of stacks of points are the gradients of the points -----------------------------


@pytest.mark.parametrize("problem", [*PROBLEMS.values(), NoisyQuadratic(sigma=0.0)],
                         ids=[*PROBLEMS, "NoisyQuadratic"])
def test_the_gradient_of_a_stack_is_the_gradient_of_each_point_bit_for_bit(problem):
    d = 1 if isinstance(problem, NoisyQuadratic) else 2
    points = np.random.default_rng(1).normal(size=(3, 4, d))
    stacked = problem.grad(points)
    assert stacked.shape == points.shape
    for index in np.ndindex(3, 4):
        np.testing.assert_array_equal(stacked[index], problem.grad(points[index]))


def test_noisy_quadratic_owns_its_generator():
    first, again = NoisyQuadratic(L=2.0, sigma=0.5, rng=3), NoisyQuadratic(L=2.0, sigma=0.5, rng=3)
    x = np.array([[1.0], [-2.0]])
    noise = np.random.default_rng(3).standard_normal((2, 2, 1))
    for draw in range(2):  # the second call draws new noise
        np.testing.assert_array_equal(first.grad(x), 2.0 * x + 0.5 * noise[draw])
    np.testing.assert_array_equal(again.grad(x), 2.0 * x + 0.5 * noise[0])
    generator = np.random.default_rng(4)
    assert NoisyQuadratic(rng=generator).rng is generator
    with pytest.raises(TypeError, match="rng"):
        NoisyQuadratic(rng=1.5)
    with pytest.raises(ValueError, match="rng"):
        NoisyQuadratic(rng=-1)


def test_distance_to_minimiser_over_the_last_axis():
    problem = Quadratic(minimiser=(1.0, -1.0))
    paths = np.array([[[4.0, 3.0], [1.0, -1.0]], [[np.inf, 0.0], [np.nan, np.nan]]])
    np.testing.assert_array_equal(distance_to_minimiser(paths, problem), [[5.0, 0.0],
                                                                          [np.inf, np.nan]])
    assert distance_to_minimiser([1.0, 2.0], problem) == 3.0


def test_distance_to_minimiser_of_the_paths_of_several_problems():
    problems = [Quadratic(minimiser=(1.0, 0.0)), Rosenbrock()]  # minimisers (1, 0) and (1, 1)
    paths = np.array([[[1.0, 0.0], [4.0, 4.0]], [[1.0, 1.0], [1.0, 3.0]]])
    np.testing.assert_array_equal(distance_to_minimiser(paths, problems), [[0.0, 5.0], [0.0, 2.0]])
    np.testing.assert_array_equal(distance_to_minimiser(paths[:, 1], problems), [5.0, 2.0])
    with pytest.raises(ValueError, match="one row per problem"):
        distance_to_minimiser(np.zeros((3, 2)), problems)


# --- LeastSquares ------------------------------------------------------------------------------


def regression_data(seed=0, n=40, scales=(1.0, 100.0, 0.1)):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(scales))) * scales + rng.uniform(0, 5, len(scales))
    y = rng.normal(size=n) + X @ rng.normal(size=len(scales))
    return X, y


@pytest.mark.parametrize("bias", [False, True])
def test_loss_is_half_the_mean_squared_residual(bias):
    X, y = regression_data()
    problem = LeastSquares(X, y, bias=bias)
    design = np.column_stack([X, np.ones(len(X))]) if bias else X
    W = np.random.default_rng(1).normal(size=(4, 5, problem.n_params))
    direct = 0.5 * np.mean((W @ design.T - y) ** 2, axis=-1)
    assert problem.loss(W).shape == (4, 5)
    np.testing.assert_allclose(problem.loss(W), direct, rtol=1e-10)
    assert isinstance(problem.loss(W[0, 0]), float)


@pytest.mark.parametrize("bias", [False, True])
def test_least_squares_gradient_and_hessian(bias):
    X, y = regression_data(seed=2, scales=(1.0, 3.0))
    problem = LeastSquares(X, y, bias=bias)
    design = np.column_stack([X, np.ones(len(X))]) if bias else X
    w = np.random.default_rng(3).normal(size=problem.n_params)
    np.testing.assert_allclose(problem.grad(w), design.T @ (design @ w - y) / len(y), rtol=1e-10)
    np.testing.assert_allclose(problem.grad(w), numerical_gradient(problem.loss, w),
                               rtol=1e-6, atol=1e-8)
    columns = [numerical_gradient(lambda v, i=i: problem.grad(v)[i], w) for i in range(w.size)]
    np.testing.assert_allclose(problem.hessian, np.array(columns), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(problem.hessian, design.T @ design / len(y), rtol=1e-12)


def test_bias_adds_the_column_means_and_a_one():
    # H~ = [[X^T X / n, mean], [mean^T, 1]]
    X, y = regression_data(seed=4)
    H = LeastSquares(X, y, bias=True).hessian
    np.testing.assert_allclose(H[:-1, :-1], X.T @ X / len(X), rtol=1e-12)
    np.testing.assert_allclose(H[:-1, -1], X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(H[-1, :-1], X.mean(axis=0), rtol=1e-12)
    assert H[-1, -1] == 1.0


def test_scaling_the_columns_gives_D_H_D():
    X, y = regression_data(seed=5)
    D = np.diag([2.0, 0.01, 30.0])
    H = LeastSquares(X, y).hessian
    np.testing.assert_allclose(LeastSquares(X @ D, y).hessian, D @ H @ D, rtol=1e-12)


@pytest.mark.parametrize("scaler", [ZScoreScaler, MeanNormalizer])
def test_centred_columns_decouple_the_bias(scaler):
    X, y = regression_data(seed=6)
    H = LeastSquares(scaler().fit_transform(X), y, bias=True).hessian
    np.testing.assert_allclose(H[:-1, -1], 0.0, atol=1e-14)
    if scaler is ZScoreScaler:  # the weight block is the correlation matrix
        np.testing.assert_allclose(H[:-1, :-1], np.corrcoef(X, rowvar=False), atol=1e-12)


def test_least_squares_minimiser_curvatures_and_condition_number():
    X, y = regression_data(seed=7)
    problem = LeastSquares(X, y, bias=True)
    np.testing.assert_allclose(problem.minimiser,
                    np.linalg.lstsq(problem.design, y, rcond=None)[0], rtol=1e-12)
    np.testing.assert_allclose(problem.grad(problem.minimiser), 0.0, atol=1e-9)
    assert problem.loss(problem.minimiser) == pytest.approx(problem.min_value, rel=1e-9)
    eigenvalues = np.linalg.eigvalsh(problem.hessian)
    assert problem.L == pytest.approx(eigenvalues[-1])
    assert problem.mu == pytest.approx(eigenvalues[0])
    assert problem.kappa == pytest.approx(eigenvalues[-1] / eigenvalues[0])
    assert "kappa=" in repr(problem)


def test_dependent_columns_have_infinite_condition_number():
    X, y = regression_data(seed=8, scales=(1.0, 2.0))
    X = np.column_stack([X, X[:, 0] + X[:, 1]])
    problem = LeastSquares(X, y)
    assert problem.mu == 0.0 or problem.kappa > 1e12
    X1 = np.ones((10, 1))  # a column of ones next to the bias column: rank 1
    assert LeastSquares(X1, np.arange(10.0), bias=True).kappa > 1e12


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), bias=st.booleans())
def test_no_point_beats_the_minimiser(seed, bias):
    X, y = regression_data(seed=seed, n=15)
    problem = LeastSquares(X, y, bias=bias)
    w = problem.minimiser + np.random.default_rng(seed).normal(size=(20, problem.n_params))
    assert np.all(problem.loss(w) >= problem.min_value - 1e-9 * (1 + problem.min_value))


def test_gradient_descent_converges_below_two_over_L_and_diverges_above():
    X, y = regression_data(seed=9, scales=(1.0, 10.0))
    problem = LeastSquares(X - X.mean(axis=0), y - y.mean())
    x0 = np.zeros(2)
    path = run_optimizer(SGD(1.9 / problem.L), problem, x0, 20 * int(problem.kappa) + 200)
    np.testing.assert_allclose(path[-1], problem.minimiser, rtol=1e-6)
    path = run_optimizer(SGD(2.1 / problem.L), problem, x0, 200)
    assert not np.isfinite(path[-1]).all() or np.linalg.norm(path[-1]) > 1e6


def test_least_squares_inputs_are_not_modified_and_not_shared():
    X, y = regression_data(seed=10)
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
def test_least_squares_bad_input(X, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        LeastSquares(X, y, **kwargs)


def test_parameter_vectors_of_the_wrong_length_are_refused():
    problem = LeastSquares(*regression_data(seed=11), bias=True)
    with pytest.raises(ValueError, match=r"w must have shape \(\.\.\., 4\)"):
        problem.loss(np.zeros(3))
    with pytest.raises(ValueError, match="w must have shape"):
        problem.grad(1.0)


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


# --- Rescaled ------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [Quadratic(kappa=7, L=2.0, angle=25, minimiser=(0.5, -1.0)),
                                  Rosenbrock()])
@pytest.mark.parametrize("scales", [(1.0, 10.0), (0.5, 3.0), (2.0, 0.1)])
def test_rescaled_is_the_problem_in_new_units(base, scales):
    problem = Rescaled(base, scales)
    rng = np.random.default_rng(0)
    for _ in range(5):
        z = rng.uniform(-1.5, 1.5, size=2)
        assert problem.loss(z) == pytest.approx(base.loss(z * np.array(scales)), rel=1e-14)
        numeric = numerical_gradient(problem.loss, z)
        assert np.allclose(problem.grad(z), numeric, rtol=1e-6, atol=1e-6 * np.abs(numeric).max())
    # the minimiser moves to x*/s, with the same minimum value and a zero gradient there
    assert np.allclose(problem.minimiser * scales, base.minimiser)
    assert problem.loss(problem.minimiser) == pytest.approx(base.min_value, abs=1e-20)
    assert np.allclose(problem.grad(problem.minimiser), 0.0, atol=1e-12)
    assert problem.min_value == base.min_value


def test_rescaled_loss_takes_a_grid_of_points():
    problem = Rescaled(Quadratic(kappa=3), (1, 1000))
    grid = np.random.default_rng(1).uniform(-1, 1, size=(4, 5, 2))
    assert problem.loss(grid).shape == (4, 5)


def test_an_axis_aligned_centred_bowl_scales_each_gradient_by_s_squared():
    bowl = Quadratic(kappa=5, L=1.0, angle=0)
    problem = Rescaled(bowl, (3.0, 1000.0))
    for z in np.random.default_rng(2).uniform(-2, 2, size=(5, 2)):
        assert np.allclose(problem.grad(z), np.array([9.0, 1e6]) * bowl.grad(z), rtol=1e-14)


@pytest.mark.parametrize(
    "scales, error, match",
    [
        ((1.0, 2.0, 3.0), ValueError, "scales"),
        ((1.0, 0.0), ValueError, "scales"),
        ((-1.0, 2.0), ValueError, "scales"),
        ((1.0, np.nan), ValueError, "scales"),
        (("a", "b"), TypeError, "scales"),
    ],
)
def test_rescaled_rejects_bad_scales(scales, error, match):
    with pytest.raises(error, match=match):
        Rescaled(Quadratic(), scales)


def test_rescaled_rejects_something_that_is_not_a_problem():
    with pytest.raises(TypeError, match="problem must have"):
        Rescaled(object(), (1, 2))


def test_rescaled_repr_names_the_problem_and_the_scales():
    assert repr(Rescaled(Quadratic(kappa=5), (1, 1000))) == (
        "Rescaled(Quadratic(kappa=5, L=1, angle=0), scales=(1, 1000))"
    )


# --- NoisyQuadratic: closed forms ---------------------------------------------------------------


@pytest.mark.parametrize("lr_times_L", [0.05, 0.5, 1.0, 1.5, 1.9])
@pytest.mark.parametrize("L", [0.5, 3.0])
def test_expected_loss_at_a_constant_rate_settles_at_the_noise_floor(lr_times_L, L):  # noqa: N803
    problem = NoisyQuadratic(L=L, sigma=0.7)
    lr = lr_times_L / L
    floor = lr * 0.7**2 / (2 * (2 - lr * L))
    assert problem.noise_floor(lr) == pytest.approx(floor, rel=1e-14)
    curve = problem.expected_loss(lr, x0=2.0, steps=3000)
    assert curve[-1] == pytest.approx(floor, rel=1e-9)


def test_expected_loss_follows_the_second_moment_recursion():
    problem = NoisyQuadratic(L=2.0, sigma=0.5)
    schedule = schedules.exponential_decay(0.3, 0.9)
    curve = problem.expected_loss(schedule, x0=-1.5, steps=4)
    v = 1.5**2
    expected = [v]
    for t in range(4):
        lr = 0.3 * 0.9**t
        v = (1 - 2.0 * lr) ** 2 * v + lr**2 * 0.5**2
        expected.append(v)
    np.testing.assert_allclose(curve, 0.5 * 2.0 * np.array(expected), rtol=1e-14)


def test_the_one_over_t_schedule_gives_sigma_squared_over_2_L_t_from_any_start():
    L, sigma = 2.5, 0.8  # noqa: N806
    problem = NoisyQuadratic(L=L, sigma=sigma)
    curve = problem.expected_loss(lambda t: 1 / (L * (t + 1)), x0=7.0, steps=200)
    t = np.arange(1, 201)
    np.testing.assert_allclose(curve[1:], sigma**2 / (2 * L * t), rtol=1e-12)


def noisy_sgd(problem, schedule, x0, steps, chains):
    """SGD on a NoisyQuadratic, chains advanced together: paths of shape (chains, steps + 1)."""
    paths = run_optimizer(SGD(0.1), problem, np.full((chains, 1), x0), steps, lr=schedule)
    return paths[:, :, 0]


def test_sgd_on_the_noisy_quadratic_draws_the_documented_noise():
    problem = NoisyQuadratic(L=1.5, sigma=0.3, rng=7)
    schedule = schedules.step_decay(0.4, 3, 0.5)
    paths = noisy_sgd(problem, schedule, x0=1.0, steps=10, chains=4)
    rng = np.random.default_rng(7)
    x = np.full(4, 1.0)
    np.testing.assert_array_equal(paths[:, 0], x)
    for t in range(10):
        x = x - schedule(t) * (1.5 * x + 0.3 * rng.standard_normal(4))
        np.testing.assert_allclose(paths[:, t + 1], x, rtol=1e-14)


def test_without_noise_sgd_and_expected_loss_agree_exactly():
    problem = NoisyQuadratic(L=1.0, sigma=0.0)
    schedule = schedules.cosine_decay(0.8, 50)
    path = noisy_sgd(problem, schedule, x0=3.0, steps=40, chains=1)[0]
    np.testing.assert_allclose(problem.loss(path), problem.expected_loss(schedule, 3.0, 40),
                               rtol=1e-12)


def test_the_simulated_stationary_loss_matches_the_noise_floor():
    problem = NoisyQuadratic(L=1.0, sigma=1.0, rng=0)
    paths = noisy_sgd(problem, 1.5, x0=0.0, steps=600, chains=1000)
    measured = problem.loss(paths[:, 100:]).mean()
    assert measured == pytest.approx(problem.noise_floor(1.5), rel=0.05)


def test_a_number_is_a_constant_schedule():
    problem = NoisyQuadratic(L=1.0, sigma=1.0)
    np.testing.assert_array_equal(problem.expected_loss(0.3, 1.0, 20),
                                  problem.expected_loss(schedules.constant(0.3), 1.0, 20))


def test_a_rate_above_two_over_L_diverges():
    problem = NoisyQuadratic(L=1.0, sigma=1.0)
    assert np.isinf(problem.expected_loss(2.5, 1.0, 2000)[-1])
    paths = noisy_sgd(problem, 2.5, 1.0, 2000, chains=2)
    assert np.isnan(paths[:, -1]).all() and np.isfinite(paths[:, :10]).all()
    with pytest.raises(ValueError, match="below 2/L"):
        problem.noise_floor(2.0)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: NoisyQuadratic(L=0.0), ValueError, "L"),
        (lambda: NoisyQuadratic(sigma=-1.0), ValueError, "sigma"),
        (lambda: NoisyQuadratic().expected_loss("fast", 1.0, 5), TypeError, "schedule"),
        (lambda: NoisyQuadratic().expected_loss(-0.1, 1.0, 5), ValueError, "schedule"),
        (lambda: NoisyQuadratic(rng="seed"), TypeError, "rng"),
        (lambda: NoisyQuadratic().noise_floor(0.0), ValueError, "lr"),
    ],
)
def test_noisy_quadratic_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()
