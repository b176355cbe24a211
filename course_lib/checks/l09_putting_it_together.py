"""Lesson 09, putting it together: the checkers of its exercises.

``check_epochs_to_target``, ``check_t_interval``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_lib.checks.core import run_cases
from course_lib.stats import summarize
from course_lib.validation import check_rng


def _reference_epochs_to_target(curve, target):
    hits = np.flatnonzero(np.asarray(curve, dtype=np.float64) >= target)
    return float(hits[0]) if hits.size else math.inf


def check_epochs_to_target(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    """Exercise: ``epochs_to_target(curve, target)``, the first epoch that reached the target.

    ``curve[k]`` is the validation accuracy after ``k`` epochs (``curve[0]``: before
    training). Return the first ``k`` with ``curve[k] >= target``, or ``math.inf`` when no
    epoch reached it; a NaN (a run that diverged) never counts as reaching it. This is
    ``History.epochs_to("val_accuracy", target)``. Cases: noisy rising curves of 5 to 20
    epochs, a target reached at epoch 0, one reached exactly, one never reached, one after a
    dip, a NaN tail.
    """
    rng = check_rng("seed", seed)

    def rising(n):
        # 1 - e^(-k/τ) towards a random plateau, plus noise: a typical accuracy curve
        k = np.arange(n)
        plateau = rng.uniform(0.8, 0.99)
        curve = plateau * (1 - np.exp(-k / rng.uniform(1, 4))) + rng.normal(0, 0.02, n)
        return np.clip(curve + 0.1, 0, 1)

    cases = [{"curve": rising(int(rng.integers(5, 21))), "target": float(t)}
             for t in (0.9, 0.95)]
    never = rising(8)
    cases.append({"curve": never, "target": float(never.max() + 0.01)})  # not reached: inf
    exact = np.sort(rising(10))
    cases.append({"curve": exact, "target": float(exact[6])})  # reached exactly: >=, not >
    cases.append({"curve": np.array([0.2, 0.6, 0.5, 0.4, 0.7, 0.9]), "target": 0.65})
    cases.append({"curve": np.array([0.97, 0.1, 0.2]), "target": 0.95})  # epoch 0 counts
    cases.append({"curve": np.array([0.1, 0.5, 0.8, np.nan, np.nan]), "target": 0.9})
    with np.errstate(invalid="ignore"):  # comparing inf with a wrong answer computes inf − inf
        return run_cases("epochs_to_target", learner_fn, _reference_epochs_to_target, cases)


def _reference_t_interval(values, confidence):
    s = summarize(values, confidence)
    return s.mean, s.low, s.high


def check_t_interval(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``t_interval(values, confidence)``, the mean and its Student-t interval.

    Leave out the values that are not finite (a run that diverged, a target never reached),
    then, for the ``n`` that remain, return ``(mean, low, high)`` with::

        s = sqrt( Σ (x_i − mean)² / (n − 1) ),   low, high = mean ∓ t_{(1+c)/2, n−1} · s / √n

    (``c = confidence``; ``course_lib.stats.t_quantile(p, df)`` gives ``t``). This is
    ``stats.summarize``. Cases: 2 to 10 values, confidences 0.9, 0.95 and 0.99, one
    case with an ``inf`` and a ``nan`` among the values.
    """
    rng = check_rng("seed", seed)
    cases = []
    for n, confidence in [(5, 0.95), (2, 0.95), (10, 0.9), (3, 0.99), (7, 0.95)]:
        cases.append({"values": rng.normal(rng.uniform(0.5, 5), rng.uniform(0.05, 1), n),
                      "confidence": confidence})
    with_failures = rng.normal(3.0, 0.5, 6)
    with_failures[[1, 4]] = [np.inf, np.nan]
    cases.append({"values": with_failures, "confidence": 0.95})
    return run_cases("t_interval", learner_fn, _reference_t_interval, cases, rtol=1e-6)
