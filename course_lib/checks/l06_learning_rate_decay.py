"""Lesson 06, learning-rate decay: the checkers of its exercises.

``check_inverse_time_staircase``, ``check_warmup_cosine``, ``check_noise_floor``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.checks.core import check_learner_function, describe, real_numbers, run_cases
from course_lib.problems import NoisyQuadratic
from course_lib.schedules import cosine_decay, inverse_time_decay, warmup
from course_lib.validation import check_rng


def _rates_over(learner_fn: Callable[..., float], name: str, times: range,
                call: Callable[[Callable, int], Any]) -> np.ndarray:
    """``[call(learner_fn, t) for t in times]`` as a float array; a non-number is reported."""
    rates = []
    for t in times:
        value = call(learner_fn, t)
        if value is None:
            raise TypeError(f"returned None at {name}={t} (did you forget to return the rate?)")
        try:
            number = real_numbers(value)  # refuses text, which float() would read
        except TypeError:
            number = None
        if number is None or number.ndim:
            raise TypeError(f"must return one number, got {describe(value)} at {name}={t}")
        rates.append(number.item())
    return np.array(rates)


def _reference_inverse_time_staircase(lr0, epoch, decay_rate, interval):
    return inverse_time_decay(lr0, decay_rate, decay_steps=interval, staircase=True)(epoch)


def check_inverse_time_staircase(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    """Exercise: ``inverse_time_staircase(lr0, epoch, decay_rate, interval)``, one rate.

    The Deep Learning Specialization's fixed-interval decay (its ``schedule_lr_decay``)::

        lr = lr0 / (1 + decay_rate · ⌊epoch / interval⌋)

    Each case calls the function for ``epoch = 0 … epochs−1`` and compares the whole
    sequence, so a mismatch ``at index (k,)`` is at ``epoch = k``. Cases: intervals from 1 to
    7 epochs, decay rates from 0 to 2.
    """
    check_learner_function(learner_fn)
    rng = check_rng("seed", seed)
    cases = []
    for interval, decay_rate in [(1, 1.0), (3, 0.5), (5, 0.3), (int(rng.integers(2, 8)), 0.0),
                                 (int(rng.integers(2, 8)), float(rng.uniform(0.1, 2.0)))]:
        cases.append({"lr0": float(rng.uniform(0.01, 1.0)), "decay_rate": decay_rate,
                      "interval": interval, "epochs": 3 * interval + 2})

    def reference(lr0, decay_rate, interval, epochs):
        return np.array([_reference_inverse_time_staircase(lr0, e, decay_rate, interval)
                         for e in range(epochs)])

    def learner(lr0, decay_rate, interval, epochs):
        return _rates_over(learner_fn, "epoch", range(epochs),
                           lambda fn, e: fn(lr0, e, decay_rate, interval))

    return run_cases("inverse_time_staircase", learner, reference, cases, rtol=1e-9)


def _reference_warmup_cosine(t, lr0, warmup_steps, total_steps):
    return warmup(cosine_decay(lr0, total_steps - warmup_steps), warmup_steps)(t)


def check_warmup_cosine(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    """Exercise: ``warmup_cosine(t, lr0, warmup_steps, total_steps)``, the rate of step ``t``.

    A linear warm-up over ``w = warmup_steps`` steps, then a cosine decay over the remaining
    ``T − w`` steps (``T = total_steps``), as ``warmup(cosine_decay(lr0, T − w), w)``::

        lr(t) = lr0 · (t + 1) / (w + 1)                           for t < w
        lr(t) = lr0 · (1 + cos(π · (t − w) / (T − w))) / 2        for w <= t < T

    Each case calls the function for ``t = 0 … T−1`` and compares the whole sequence, so a
    mismatch ``at index (k,)`` is at ``t = k``. Cases: no warm-up, short and long warm-ups.
    """
    check_learner_function(learner_fn)
    rng = check_rng("seed", seed)
    cases = []
    for warmup_steps, total_steps in [(0, 20), (5, 30), (1, 8), (int(rng.integers(5, 20)), 60),
                                      (int(rng.integers(1, 10)), int(rng.integers(20, 50)))]:
        cases.append({"lr0": float(rng.uniform(0.01, 1.0)), "warmup_steps": warmup_steps,
                      "total_steps": total_steps})

    def reference(lr0, warmup_steps, total_steps):
        return np.array([_reference_warmup_cosine(t, lr0, warmup_steps, total_steps)
                         for t in range(total_steps)])

    def learner(lr0, warmup_steps, total_steps):
        return _rates_over(learner_fn, "t", range(total_steps),
                           lambda fn, t: fn(t, lr0, warmup_steps, total_steps))

    return run_cases("warmup_cosine", learner, reference, cases, rtol=1e-9, atol=1e-12)


def _reference_noise_floor(lr, L, sigma):  # noqa: N803 - the standard name of the curvature
    return NoisyQuadratic(L=L, sigma=sigma).noise_floor(lr)


def check_noise_floor(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    """Exercise: ``noise_floor(lr, L, sigma)``, the stationary expected loss of SGD.

    For ``f(x) = L·x²/2`` with noisy gradients ``L·x + σ·ξ`` (``E ξ = 0``, ``E ξ² = 1``) and a
    constant rate ``lr`` with ``0 < lr·L < 2``, return ``lim E[f(x_t)]``, the noise floor
    (``problems.NoisyQuadratic.noise_floor``). Cases: ``lr·L`` from 0.01 to 1.9 (where the
    small-rate approximation ``lr·σ²/4`` is far off), curvatures and noise levels from 0.1 to 10.
    """
    check_learner_function(learner_fn)
    rng = check_rng("seed", seed)
    cases = []
    for lr_times_L in [0.01, 0.5, 1.0, 1.9, float(rng.uniform(0.05, 1.95))]:
        L = float(10 ** rng.uniform(-1, 1))  # noqa: N806
        cases.append({"lr": lr_times_L / L, "L": L, "sigma": float(10 ** rng.uniform(-1, 1))})

    def learner(lr, L, sigma):  # noqa: N803 - called by position: any argument names work
        return learner_fn(lr, L, sigma)

    return run_cases("noise_floor", learner, _reference_noise_floor, cases, rtol=1e-9)
