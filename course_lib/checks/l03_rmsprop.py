"""Lesson 03, RMSProp: the checkers of its exercises.

``check_rmsprop_step``, ``check_effective_learning_rates``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.checks.core import check_learner_function, describe, returned, run_cases
from course_lib.optimizers import RMSProp, rmsprop_update
from course_lib.validation import check_rng

_RMSPROP_NAMES = ("W", "b")


def _reference_rmsprop_step(params, grads, s, lr, beta, eps):
    new_params = {name: w.copy() for name, w in params.items()}
    new_s = {name: rmsprop_update(new_params[name], grads[name], {"s": s[name].copy()},
                                  lr=lr, beta=beta, eps=eps)["s"]
             for name in _RMSPROP_NAMES}
    return tuple(new_params[k] for k in _RMSPROP_NAMES) + tuple(new_s[k] for k in _RMSPROP_NAMES)


def _rmsprop_variant(params, grads, s, lr, beta, eps, *, one_minus_beta=True, eps_inside=False,
                     old_s=False):
    """An RMSProp step done differently, flattened as compared: a mistake's wrong answer."""
    new_s = {k: beta * s[k] + (1 - beta if one_minus_beta else 1.0) * grads[k] ** 2
             for k in _RMSPROP_NAMES}
    step_s = s if old_s else new_s
    new_params = {k: params[k] - lr * grads[k] / (np.sqrt(step_s[k] + eps) if eps_inside
                                                  else np.sqrt(step_s[k]) + eps)
                  for k in _RMSPROP_NAMES}
    return tuple(new_params[k] for k in _RMSPROP_NAMES) + tuple(new_s[k] for k in _RMSPROP_NAMES)


_RMSPROP_MISTAKES = {
    "the average is missing the factor (1 - beta): s <- beta*s + (1 - beta)*g**2":
        functools.partial(_rmsprop_variant, one_minus_beta=False),
    "eps goes outside the square root: w <- w - lr*g / (sqrt(s) + eps), as in PyTorch and "
    "course_lib (d2l puts it inside)":
        functools.partial(_rmsprop_variant, eps_inside=True),
    "the step divides by the old average: update s first, then step with the new one, "
    "w <- w - lr*g / (sqrt(s) + eps)":
        functools.partial(_rmsprop_variant, old_s=True),
}


def _as_rmsprop_items(learner_fn: Callable[..., Any]) -> Callable[..., tuple]:
    """Call the learner's ``rmsprop_step`` and flatten its two dicts into the compared items.

    Raises (and so reports) a result of the wrong form; run_cases reports inputs changed in place.
    """

    def adapted(params, grads, s, lr, beta, eps):
        result = learner_fn(params, grads, s, lr, beta, eps)
        result = returned(result, ("new_params", "new_s"))
        if result is None:
            return None
        for label, value in zip(("new_params", "new_s"), result, strict=True):
            if not isinstance(value, dict) or set(value) != set(_RMSPROP_NAMES):
                raise TypeError(
                    f"{label} must be a dict with the keys {list(_RMSPROP_NAMES)}, "
                    f"got {describe(value)}"
                )
        new_params, new_s = result
        return (tuple(new_params[k] for k in _RMSPROP_NAMES)
                + tuple(new_s[k] for k in _RMSPROP_NAMES))

    return adapted


def check_rmsprop_step(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``rmsprop_step(params, grads, s, lr, beta, eps)`` -> ``(new_params, new_s)``.

    ``params``, ``grads`` and ``s`` are dicts with the keys ``"W"`` and ``"b"``; for each key::

        s_new = beta * s + (1 - beta) * g**2
        w_new = w - lr * g / (sqrt(s_new) + eps)

    Nothing passed in may change. The items compared are, in order, ``new_params["W"]``,
    ``new_params["b"]``, ``new_s["W"]`` and ``new_s["b"]``. Cases: random shapes, a first step
    (``s = 0``), gradients of very different sizes, and an ``eps`` large enough to matter. A
    hint names the usual mistakes: no ``(1 − beta)``, ``eps`` inside the root, a step with the
    old ``s``.
    """
    check_learner_function(learner_fn)
    rng = check_rng("seed", seed)
    cases = []
    settings = [  # (lr, beta, eps, gradient scale, first step?)
        (0.01, 0.9, 1e-8, 1.0, True),
        (0.001, 0.99, 1e-8, 1.0, False),
        (0.1, 0.5, 1e-3, 1e-3, False),
        (0.05, 0.9, 1e-2, 1e-2, True),
        (0.003, 0.999, 1e-8, 1e3, False),
    ]
    for lr, beta, eps, scale, first in settings:
        shapes = {"W": (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                  "b": (int(rng.integers(1, 4)),)}
        grads = {k: scale * rng.standard_normal(shape) for k, shape in shapes.items()}
        s = {k: np.zeros(shape) if first else scale**2 * rng.uniform(0.1, 2.0, size=shape)
             for k, shape in shapes.items()}
        cases.append({
            "params": {k: rng.standard_normal(shape) for k, shape in shapes.items()},
            "grads": grads, "s": s, "lr": lr, "beta": beta, "eps": eps,
        })
    print("rmsprop_step: items compared: 0 = new_params['W'], 1 = new_params['b'], "
          "2 = new_s['W'], 3 = new_s['b']")
    return run_cases("rmsprop_step", _as_rmsprop_items(learner_fn), _reference_rmsprop_step,
                     cases, mistakes=_RMSPROP_MISTAKES)


def _reference_effective_learning_rates(grads, lr, beta, eps):
    optimizer = RMSProp(lr, beta=beta, eps=eps)
    params = {"w": np.zeros(grads.shape[1])}
    rows = []
    for g in grads:
        optimizer.step(params, {"w": np.array(g, dtype=np.float64)})
        rows.append(lr / (np.sqrt(optimizer.state["w"]["s"]) + eps))
    return np.array(rows)


def check_effective_learning_rates(learner_fn: Callable[..., np.ndarray], seed: int = 0) -> bool:
    """Exercise: ``effective_learning_rates(grads, lr, beta, eps)``.

    ``grads`` has shape ``(T, n)``: the gradients of ``n`` coordinates over ``T`` steps. Return
    the array of shape ``(T, n)`` whose row ``t`` is ``lr / (sqrt(s_t) + eps)``, the
    per-coordinate learning rate RMSProp uses at step ``t``, after ``s`` has taken in
    ``grads[t]`` (``s`` starts at 0). Cases: coordinates whose gradients differ by up to
    ``10^6`` in size, a coordinate whose gradient is always 0, several betas and eps.
    """
    rng = check_rng("seed", seed)
    cases = []
    for lr, beta, eps in [(0.01, 0.9, 1e-8), (0.001, 0.99, 1e-8), (0.1, 0.5, 1e-4),
                          (0.05, 0.9, 1e-2), (0.01, 0.0, 1e-8)]:
        steps, n = int(rng.integers(1, 12)), int(rng.integers(2, 5))
        sizes = 10.0 ** rng.uniform(-3, 3, size=n)
        grads = sizes * rng.standard_normal((steps, n))
        if eps >= 1e-4:
            grads[:, 0] = 0.0  # a coordinate that never gets a gradient: lr / eps
        cases.append({"grads": grads, "lr": lr, "beta": beta, "eps": eps})
    return run_cases("effective_learning_rates", learner_fn,
                     _reference_effective_learning_rates, cases)
