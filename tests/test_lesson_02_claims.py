"""Regression numbers of lesson 02 (momentum), recomputed with ``course_lib``.

The lesson states these claims in words and asserts them with margins; the exact values are
pinned here.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.optimizers import SGD, Momentum
from course_lib.problems import NoisyQuadratic, Quadratic, distance_to_minimiser, run_optimizer


def steps_to_shrink(distances: np.ndarray, factor: float = 1e-4) -> float:
    """The first step after which the distance stays below ``factor`` × the starting one."""
    above = ~(distances <= factor * distances[0])
    return float(np.inf) if above[-1] else float(len(distances) - np.argmax(above[::-1]))


def test_kappa_100_gradient_descent_461_steps_tuned_momentum_65():
    kappa = 100
    problem = Quadratic(kappa=kappa, L=1.0, angle=30)
    x0 = np.array([-2.5, 2.0])
    root = np.sqrt(kappa)
    runs = {"gd": SGD(2 / (problem.L + problem.mu)),
            "momentum": Momentum(root / problem.L, ((root - 1) / (root + 1)) ** 2)}
    steps = {name: steps_to_shrink(distance_to_minimiser(run_optimizer(opt, problem, x0, 600),
                                                         problem))
             for name, opt in runs.items()}
    assert steps == {"gd": 461.0, "momentum": 65.0}


@pytest.mark.parametrize(("lr", "beta"), [(0.1, 0.0), (0.1, 0.9), (1.0, 0.99)])
def test_noise_floor_of_the_heavy_ball(lr, beta):
    # E[f] = (1 + β)·η·σ² / (2·(2(1 + β) − h)), h = η(1 − β)L, in course_lib's EMA form
    h = lr * (1 - beta)
    floor = (1 + beta) * lr / (2 * (2 * (1 + beta) - h))
    bowl = NoisyQuadratic(L=1.0, sigma=1.0, rng=3)
    paths = run_optimizer(Momentum(lr, beta), bowl, np.zeros((400, 1)), 4000)
    measured = bowl.loss(paths[:, 1000:, 0]).mean()
    assert abs(measured / floor - 1) < 0.05
