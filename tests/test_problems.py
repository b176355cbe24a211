import math

import numpy as np
import pytest

from course_lib.optimizers import SGD
from course_lib.problems import Quadratic, Rosenbrock, run_optimizer


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


def test_zero_steps_returns_the_start():
    path = run_optimizer(SGD(0.1), Rosenbrock(), np.array([0.0, 0.0]), 0)
    np.testing.assert_array_equal(path, [[0.0, 0.0]])


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


@pytest.mark.parametrize(
    "x0, steps, match",
    [(np.zeros(3), 5, "x0"), (np.array([np.nan, 0.0]), 5, "x0"), (np.zeros(2), -1, "steps"),
     (np.zeros(2), 2.5, "steps")],
)
def test_run_optimizer_bad_input(x0, steps, match):
    with pytest.raises((ValueError, TypeError), match=match):
        run_optimizer(SGD(0.1), Quadratic(), x0, steps)
