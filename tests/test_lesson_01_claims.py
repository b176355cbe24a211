"""Regression numbers of lesson 01 (feature scaling), recomputed with ``course_lib``.

The lesson states these claims in words and asserts them with margins; the exact values, which
would only change if the data, the split or the library changed, are pinned here.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.data import load_wine, train_test_split
from course_lib.optimizers import SGD
from course_lib.problems import LeastSquares, run_optimizer
from course_lib.scaling import MeanNormalizer, ZScoreScaler

FRACTIONS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]


@pytest.fixture(scope="module")
def lesson():
    wine = load_wine()
    names = list(wine.feature_names)
    target = names.index("alcohol")
    X_all, y_all = np.delete(wine.X, target, axis=1), wine.X[:, target]
    X_train, X_test, y_train, y_test = train_test_split(X_all, y_all, test_fraction=0.25, rng=0)
    problems = {"raw": LeastSquares(X_train, y_train, bias=True)}
    for name, scaler in [("mean-normalized", MeanNormalizer()), ("z-score", ZScoreScaler())]:
        problems[name] = LeastSquares(scaler.fit(X_train).transform(X_train), y_train, bias=True)
    return X_train, X_test, problems


def steps_to_target(problem: LeastSquares, lr: float, steps: int) -> int:
    """First step whose training loss is within 1 % of the optimum, by running gradient descent."""
    w0 = np.zeros(problem.n_params)
    excess = problem.loss(run_optimizer(SGD(lr), problem, w0, steps)) - problem.min_value
    below = excess <= 0.01 * problem.min_value
    assert below.any(), "the target was not reached"
    return int(np.argmax(below))


def test_the_split_holds_133_training_and_45_test_wines(lesson):
    X_train, X_test, _ = lesson
    assert (len(X_train), len(X_test)) == (133, 45)


def test_condition_numbers(lesson):
    problems = lesson[2]
    assert f"{problems['raw'].kappa:.2g}" == "1.7e+08"
    assert round(problems["mean-normalized"].kappa) == 229
    assert round(problems["z-score"].kappa, 1) == 44.8


@pytest.mark.parametrize(("name", "at_best_fraction", "at_optimal_step"),
                         [("z-score", 13, 30), ("mean-normalized", 51, 639)])
def test_steps_to_one_percent_above_the_optimum(lesson, name, at_best_fraction, at_optimal_step):
    p = lesson[2][name]
    by_fraction = {f: steps_to_target(p, f * 2 / p.L, 1000) for f in FRACTIONS}
    assert min(by_fraction.values()) == at_best_fraction
    assert min(by_fraction, key=by_fraction.get) == 0.9
    assert steps_to_target(p, 2 / (p.L + p.mu), 1000) == at_optimal_step
