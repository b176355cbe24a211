"""Lesson 00, gradient descent: the checkers of its exercises.

``check_gradient_descent``, ``check_optimal_step``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np

from course_lib.checks.core import run_cases
from course_lib.optimizers import SGD
from course_lib.problems import Quadratic, run_optimizer
from course_lib.validation import check_rng


def _random_spd(rng: np.random.Generator, n: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    eigenvalues = np.exp(rng.uniform(-2.0, 2.0, size=n))
    return (q * eigenvalues) @ q.T


def _reference_gradient_descent(grad, x0, lr, steps):
    return run_optimizer(SGD(lr), SimpleNamespace(grad=grad), x0, steps)


def check_gradient_descent(learner_fn: Callable[..., np.ndarray], seed: int = 0) -> bool:
    """Exercise: ``gradient_descent(grad, x0, lr, steps)`` returns the path.

    The path is an array of shape ``(steps + 1, 2)`` whose row ``t`` is the
    point after ``t`` updates ``x <- x - lr * grad(x)`` (row 0 is ``x0``).
    Cases: random rotated quadratics, several learning rates and lengths.
    """
    rng = check_rng("seed", seed)
    cases = []
    for _ in range(5):
        problem = Quadratic(
            kappa=float(rng.uniform(1, 50)), L=float(rng.uniform(0.5, 4)),
            angle=float(rng.uniform(0, 180)),
        )
        cases.append({
            "grad": problem.grad,
            "x0": rng.uniform(-3, 3, size=2),
            "lr": float(rng.uniform(0.05, 1.9) / problem.L),
            "steps": int(rng.integers(1, 30)),
        })
    return run_cases("gradient_descent", learner_fn, _reference_gradient_descent, cases)


def _reference_optimal_step(A):
    eigenvalues = np.linalg.eigvalsh(A)
    L, mu = eigenvalues[-1], eigenvalues[0]
    return 2.0 / (L + mu), (L - mu) / (L + mu), 2.0 / L


def check_optimal_step(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``optimal_step(A)`` for a symmetric positive definite Hessian.

    Returns ``(best_lr, rate, max_stable_lr)`` =
    ``(2/(L + mu), (kappa - 1)/(kappa + 1), 2/L)`` where ``L`` and ``mu`` are
    the largest and smallest eigenvalues of ``A`` and ``kappa = L/mu``.
    Cases: random SPD matrices from 2x2 to 6x6.
    """
    rng = check_rng("seed", seed)
    cases = [{"A": _random_spd(rng, n)} for n in (2, 2, 3, 4, 6)]
    return run_cases("optimal_step", learner_fn, _reference_optimal_step, cases)
