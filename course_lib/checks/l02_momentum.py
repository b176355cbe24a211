"""Lesson 02, momentum: the checkers of its exercises.

``check_momentum_step``, ``check_optimal_momentum``, ``check_ema_weights``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.checks.core import check_learner_function, describe, run_cases
from course_lib.validation import check_rng


def _reference_momentum_step(params, grads, velocity, lr, beta):
    new_velocity = {name: beta * velocity[name] + (1 - beta) * grads[name] for name in params}
    new_params = {name: params[name] - lr * new_velocity[name] for name in params}
    return new_params, new_velocity


def _flatten_momentum_step(result, names) -> tuple:
    """``(new_params, new_velocity)`` as one tuple of arrays, parameters first."""
    if result is None:
        raise TypeError("got None (did you forget to return (new_params, new_velocity)?)")
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise TypeError(
            f"return the tuple (new_params, new_velocity), got {describe(result)}"
        )
    for label, value in zip(("new_params", "new_velocity"), result, strict=True):
        if not isinstance(value, dict) or set(value) != set(names):
            keys = sorted(value) if isinstance(value, dict) else type(value).__name__
            raise ValueError(f"{label} must be a dict with the keys {sorted(names)}, got {keys}")
    new_params, new_velocity = result
    return tuple(new_params[name] for name in names) + tuple(new_velocity[name] for name in names)


def _momentum_variant(v_gain: Callable[[float, float], float],
                      w_gain: Callable[[float, float], float], *, old_velocity: bool = False,
                      flip_velocity: bool = False) -> Callable[..., tuple]:
    """A momentum step done differently, flattened as compared: a mistake's wrong answer.

    ``v ← beta·v + v_gain(lr, beta)·g`` and ``w ← w − w_gain(lr, beta)·v``, with the old
    velocity in the step if ``old_velocity``, and the new velocity returned negated if
    ``flip_velocity``.
    """

    def step(params, grads, velocity, lr, beta):
        new_v = {k: beta * velocity[k] + v_gain(lr, beta) * grads[k] for k in params}
        step_v = velocity if old_velocity else new_v
        new_w = {k: params[k] - w_gain(lr, beta) * step_v[k] for k in params}
        sign = -1 if flip_velocity else 1
        return _flatten_momentum_step((new_w, {k: sign * v for k, v in new_v.items()}),
                                      list(params))

    return step


_COURSE_FORM = "the course's form is v <- beta*v + (1 - beta)*g, w <- w - lr*v"
_MOMENTUM_MISTAKES = {
    "the velocity is missing the factor (1 - beta): v <- beta*v + (1 - beta)*g. Without it "
    "this is the heavy-ball (PyTorch) form, whose learning rate is lr*(1 - beta)":
        _momentum_variant(lambda lr, beta: 1.0, lambda lr, beta: lr),
    "your new weights are right but your velocity has the opposite sign (CS231n's sign "
    f"convention); {_COURSE_FORM}":
        _momentum_variant(lambda lr, beta: 1 - beta, lambda lr, beta: lr, flip_velocity=True),
    "your velocity has the opposite sign: v <- beta*v - (1 - beta)*g, w <- w + lr*v is "
    "CS231n's sign convention, which gives the same weights only if the velocity passed in "
    f"has that sign too (here: only the case that starts from v = 0); {_COURSE_FORM}":
        _momentum_variant(lambda lr, beta: beta - 1, lambda lr, beta: -lr),
    "this is CS231n's sgd_momentum, v <- beta*v - lr*g, w <- w + v: its velocity has the "
    "opposite sign and holds the learning rate (its learning rate is lr*(1 - beta)); "
    f"{_COURSE_FORM}":
        _momentum_variant(lambda lr, beta: -lr, lambda lr, beta: -1.0),
    "the step uses the old velocity: update v first, then step with the new one, "
    "w <- w - lr*v":
        _momentum_variant(lambda lr, beta: 1 - beta, lambda lr, beta: lr, old_velocity=True),
}


def check_momentum_step(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``momentum_step(params, grads, velocity, lr, beta)``, one step on dicts.

    Returns ``(new_params, new_velocity)``, two new dicts with the keys of
    ``params``, for the exponential-moving-average form of ``Momentum``::

        v ← beta·v + (1 − beta)·g
        w ← w − lr·v

    The inputs must not change. A mismatch is reported as ``item k``: the
    new parameters come first, then the new velocities, each in the order of
    ``params``' keys. Cases: dicts of one to three arrays of several shapes,
    zero and non-zero velocities, beta from 0 to 0.99. A hint names the usual
    mistakes: no ``(1 − beta)``, CS231n's sign convention (``v ← beta·v − ...``,
    ``w ← w + ...``), a step with the old velocity.
    """
    check_learner_function(learner_fn)
    rng = check_rng("seed", seed)
    shapes = [(3,), (2, 3), (4, 1), (5,)]
    cases = []
    for k, beta in enumerate([0.9, 0.0, 0.5, 0.99, float(rng.uniform(0.1, 0.95))]):
        names = ["W", "b", "gamma"][: 1 + k % 3]
        params = {n: rng.normal(size=shapes[i]) for i, n in enumerate(names)}
        cases.append({
            "params": params,
            "grads": {n: rng.normal(size=w.shape) for n, w in params.items()},
            "velocity": {n: rng.normal(size=w.shape) if k else np.zeros(w.shape)
                         for n, w in params.items()},  # case 1 starts from v = 0
            "lr": float(rng.uniform(0.01, 1.0)),
            "beta": beta,
        })

    def reference(params, grads, velocity, lr, beta):
        return _flatten_momentum_step(
            _reference_momentum_step(params, grads, velocity, lr, beta), list(params))

    def learner(params, grads, velocity, lr, beta):
        names = list(params)  # before the learner's function might change params
        return _flatten_momentum_step(learner_fn(params, grads, velocity, lr, beta), names)

    return run_cases("momentum_step", learner, reference, cases, mistakes=_MOMENTUM_MISTAKES)


def _reference_optimal_momentum(L, mu):  # noqa: N803 - the standard name of the curvature
    root_kappa = np.sqrt(L / mu)
    rate = (root_kappa - 1) / (root_kappa + 1)
    return 1 / np.sqrt(L * mu), rate**2, rate


def check_optimal_momentum(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``optimal_momentum(L, mu)``, the tuned momentum on a quadratic.

    For curvatures between ``mu`` and ``L`` (``kappa = L / mu``), returns
    ``(lr, beta, rate)`` for ``course_lib.optimizers.Momentum`` (the EMA
    form)::

        beta = ((sqrt(kappa) − 1) / (sqrt(kappa) + 1))²
        lr   = 1 / sqrt(L·mu)              (heavy ball: 4 / (sqrt(L) + sqrt(mu))² = lr·(1 − beta))
        rate = (sqrt(kappa) − 1) / (sqrt(kappa) + 1)

    Cases: random ``L`` from 0.1 to 20 and ``kappa`` from 1 (a round bowl)
    to 10⁴.
    """
    rng = check_rng("seed", seed)
    cases = []
    for kappa in [100.0, 1.0, 10.0, float(np.exp(rng.uniform(0, 9.2))), 1e4]:
        L = float(np.exp(rng.uniform(np.log(0.1), np.log(20))))  # noqa: N806
        cases.append({"L": L, "mu": L / kappa})
    return run_cases("optimal_momentum", learner_fn, _reference_optimal_momentum, cases)


def _reference_ema_weights(beta, t):
    return (1 - beta) * beta ** np.arange(t)


def check_ema_weights(learner_fn: Callable[..., np.ndarray], seed: int = 0) -> bool:
    """Exercise: ``ema_weights(beta, t)``, the unrolled velocity.

    ``v_t = sum_k w_k·g_(t−k)`` after ``t`` steps of ``v ← beta·v + (1 − beta)·g``
    from ``v_0 = 0``; return the array ``(w_0, ..., w_(t−1))``, so ``w_0`` is
    the weight of the newest gradient. Cases: beta from 0 to 0.99, t from 1
    to 60.
    """
    rng = check_rng("seed", seed)
    cases = [{"beta": beta, "t": t} for beta, t in
             [(0.9, 10), (0.5, 1), (0.0, 4), (0.99, 60), (float(rng.uniform(0.1, 0.95)), 25)]]
    return run_cases("ema_weights", learner_fn, _reference_ema_weights, cases)
