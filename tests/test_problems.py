import math

import numpy as np
import pytest

from course_lib import schedules
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


def numerical_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("kappa, L, angle", [(1, 1, 0), (10, 2, 30), (1000, 0.5, -75)])
def test_quadratic_curvatures_gradient_and_minimiser(kappa, L, angle):
    problem = Quadratic(kappa=kappa, L=L, angle=angle, minimiser=(0.5, -1.0))
    assert problem.mu == pytest.approx(L / kappa)
    assert np.linalg.eigvalsh(problem.hessian) == pytest.approx([L / kappa, L])
    np.testing.assert_allclose(problem.grad(problem.minimiser), 0, atol=1e-15)
    assert problem.loss(problem.minimiser) == 0.0
    x = np.array([0.3, 2.0])
    np.testing.assert_allclose(problem.grad(x), numerical_grad(problem.loss, x), rtol=1e-7)


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
    np.testing.assert_allclose(problem.grad(x), numerical_grad(problem.loss, x), rtol=1e-7)


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
