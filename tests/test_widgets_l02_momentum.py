"""Lesson 02's explorer and the rate it shows."""

import numpy as np
import pytest

from course_lib import widgets
from course_lib.optimizers import Momentum
from course_lib.problems import Quadratic, run_optimizer
from course_lib.widgets.l02_momentum import momentum_rate


def measured_rate(optimizer, problem, steps=400, window=100):
    distance = np.linalg.norm(run_optimizer(optimizer, problem, (1.5, -2.0), steps), axis=1)
    return (distance[-1] / distance[-1 - window]) ** (1 / window)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize(("kappa", "lr", "beta"),
                         [(50, 5.0, 0.8), (50, 1.0, 0.5), (10, 2.0, 0.95), (200, 10.0, 0.9)])
def test_the_predicted_rate_is_the_measured_one(kappa, lr, beta, nesterov):
    problem = Quadratic(kappa=kappa, angle=20)
    predicted = momentum_rate(lr, beta, (problem.L, problem.mu), nesterov=nesterov)
    measured = measured_rate(Momentum(lr, beta, nesterov=nesterov), problem)
    assert measured == pytest.approx(predicted, rel=0.02)


def test_the_rate_passes_one_at_the_stability_bound():
    # heavy ball on curvature L = 1 is stable while lr (1 - beta) < 2 (1 + beta)
    bound = 2 * (1 + 0.9) / (1 - 0.9)
    assert momentum_rate(0.99 * bound, 0.9, (1.0,)) < 1
    assert momentum_rate(1.01 * bound, 0.9, (1.0,)) > 1


def test_the_title_tells_rate_or_divergence():
    explorer = widgets.momentum_explorer(kappa=50)
    explorer.set(beta=0.8, lr=5.0)
    title = explorer.figure.axes[0].get_title()
    assert title.startswith("momentum β = 0.80, lr = 5.00/L: rate 0.894")
    explorer.set(beta=0.0, lr=3.0)
    assert explorer.figure.axes[0].get_title().endswith("diverges")


def test_gradient_descent_stays_put():
    explorer = widgets.momentum_explorer()
    gd_line = explorer.figure.axes[1].lines[0]
    before = gd_line.get_ydata().copy()
    explorer.set(beta=0.2, lr=0.5)
    np.testing.assert_array_equal(gd_line.get_ydata(), before)

