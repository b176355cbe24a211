"""Lesson 01, feature scaling: the checkers of its exercises.

``check_zscore``, ``check_mean_normalize``, ``check_condition_number``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.checks.core import Case, run_cases
from course_lib.problems import LeastSquares
from course_lib.scaling import MeanNormalizer, ZScoreScaler
from course_lib.validation import check_rng


def _scaling_cases(rng: np.random.Generator) -> list[Case]:
    """Training and test matrices with columns on very different scales.

    Some cases hold constant training columns (exactly representable values,
    so their variance and range are exactly 0) and one has a single training
    row, where every column is constant.
    """
    cases = []
    for k in range(6):
        n_train, n_features = int(rng.integers(5, 40)), int(rng.integers(1, 6))
        scales = 10.0 ** rng.uniform(-2, 3, size=n_features)
        offsets = rng.uniform(-1, 1, size=n_features) * 10.0 ** rng.uniform(0, 3, size=n_features)
        X_train = rng.normal(size=(n_train, n_features)) * scales + offsets
        if k in (2, 4):
            X_train[:, int(rng.integers(n_features))] = rng.choice([0.0, 2.0, -3.5, 1024.0])
        if k == 5:
            X_train = X_train[:1]
        n_test = int(rng.integers(1, 8))
        X_test = rng.normal(size=(n_test, n_features)) * scales + offsets
        cases.append({"X_train": X_train, "X_test": X_test})
    return cases


def _reference_zscore(X_train, X_test):
    scaler = ZScoreScaler().fit(X_train)
    return scaler.mean_, scaler.scale_, scaler.transform(X_train), scaler.transform(X_test)


def check_zscore(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    r"""Exercise: ``zscore(X_train, X_test)`` fits on the training rows only.

    Returns ``(mean, scale, Z_train, Z_test)``: the per-column mean and
    population standard deviation of ``X_train`` (``scale = 1`` for a
    constant column), and both matrices transformed with them,
    ``z = (x - mean) / scale``. Cases: random columns on scales from 0.01 to
    1000, some constant training columns, one single-row training set.
    """
    cases = _scaling_cases(check_rng("seed", seed))
    return run_cases("zscore", learner_fn, _reference_zscore, cases)


def _reference_mean_normalize(X_train, X_test):
    scaler = MeanNormalizer().fit(X_train)
    return scaler.mean_, scaler.range_, scaler.transform(X_train), scaler.transform(X_test)


def check_mean_normalize(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    r"""Exercise: ``mean_normalize(X_train, X_test)`` fits on the training rows only.

    Returns ``(mean, range, Z_train, Z_test)``: the per-column mean and
    ``max - min`` of ``X_train`` (``range = 1`` for a constant column), and
    both matrices transformed with them, ``x' = (x - mean) / range``. Same
    cases as ``check_zscore``.
    """
    cases = _scaling_cases(check_rng("seed", seed))
    return run_cases("mean_normalize", learner_fn, _reference_mean_normalize, cases)


def _reference_condition_number(X):
    return LeastSquares(X, np.zeros(len(X)), bias=True).kappa


def check_condition_number(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    r"""Exercise: ``condition_number(X)`` of the least-squares Hessian with a bias.

    Returns :math:`\kappa = \lambda_{\max} / \lambda_{\min}` of
    :math:`H = \tilde X^\top \tilde X / n`, :math:`\tilde X = [X, \mathbf 1]`
    (a column of ones appended for the bias). Cases: raw, centred and
    standardized random matrices with 1 to 4 columns on different scales.
    """
    rng = check_rng("seed", seed)
    cases = []
    for k in range(6):
        n, d = int(rng.integers(20, 60)), int(rng.integers(1, 5))
        X = rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-1, 2, size=d) + rng.uniform(0, 20, d)
        if k % 3 == 1:
            X = X - X.mean(axis=0)
        elif k % 3 == 2:
            X = (X - X.mean(axis=0)) / X.std(axis=0)
        cases.append({"X": X})
    return run_cases("condition_number", learner_fn, _reference_condition_number, cases)
