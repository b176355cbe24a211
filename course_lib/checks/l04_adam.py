"""Lesson 04, Adam: the checkers of its exercises.

``check_adam_step``, ``check_bias_corrections``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.checks.core import check_learner_function, describe, returned, run_cases
from course_lib.optimizers import adam_update
from course_lib.validation import check_rng

_ADAM_NAMES = ("W", "b")


def _reference_adam_step(params, grads, m, v, t, lr, beta1, beta2, eps):
    new_params = {name: w.copy() for name, w in params.items()}
    new_state = {
        name: adam_update(new_params[name], grads[name],
                          {"t": t - 1, "m": m[name].copy(), "v": v[name].copy()},
                          lr=lr, beta1=beta1, beta2=beta2, eps=eps)
        for name in _ADAM_NAMES
    }
    return (tuple(new_params[k] for k in _ADAM_NAMES)
            + tuple(new_state[k]["m"] for k in _ADAM_NAMES)
            + tuple(new_state[k]["v"] for k in _ADAM_NAMES))


def _adam_variant(params, grads, m, v, t, lr, beta1, beta2, eps, *, g_weights=(True, True),
                  correct=True, eps_inside=False, t_shift=0, store_hat=False):
    """An Adam step done differently, flattened as compared: a mistake's wrong answer.

    ``g_weights`` says whether the moments weigh the gradient by ``(1 - beta1)`` and
    ``(1 - beta2)``; ``t + t_shift`` is the step number in the bias corrections; ``store_hat``
    returns the corrected moments as the new ones.
    """
    new_m = {k: beta1 * m[k] + (1 - beta1 if g_weights[0] else 1.0) * grads[k] for k in params}
    new_v = {k: beta2 * v[k] + (1 - beta2 if g_weights[1] else 1.0) * grads[k] ** 2
             for k in params}
    step = t + t_shift
    c1, c2 = (1 - beta1**step, 1 - beta2**step) if correct else (1.0, 1.0)
    m_hat = {k: new_m[k] / c1 for k in params}
    v_hat = {k: new_v[k] / c2 for k in params}
    new_params = {k: params[k] - lr * m_hat[k] / (np.sqrt(v_hat[k] + eps) if eps_inside
                                                  else np.sqrt(v_hat[k]) + eps)
                  for k in params}
    moments = (m_hat, v_hat) if store_hat else (new_m, new_v)
    return tuple(d[k] for d in (new_params, *moments) for k in _ADAM_NAMES)


_ADAM_MISTAKES = {
    "the first moment is missing the factor (1 - beta1): m <- beta1*m + (1 - beta1)*g":
        functools.partial(_adam_variant, g_weights=(False, True)),
    "the second moment is missing the factor (1 - beta2): v <- beta2*v + (1 - beta2)*g**2":
        functools.partial(_adam_variant, g_weights=(True, False)),
    "the step has no bias correction: m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t), "
    "then w <- w - lr*m_hat / (sqrt(v_hat) + eps)":
        functools.partial(_adam_variant, correct=False),
    "eps goes outside the square root: m_hat / (sqrt(v_hat) + eps), as in the Adam paper and "
    "PyTorch (fast.ai puts it inside)":
        functools.partial(_adam_variant, eps_inside=True),
    "t is off by one: it is already the number of this step (1 for the first), so use it as it "
    "is; your bias corrections use t + 1 (did you increment it first?)":
        functools.partial(_adam_variant, t_shift=1),
    "t is off by one: it is already the number of this step (1 for the first), so use it as it "
    "is; your bias corrections use t - 1, which divides by 1 - beta**0 = 0 at the first step":
        functools.partial(_adam_variant, t_shift=-1),
    "return the moments without bias correction as new_m and new_v; m_hat and v_hat are only "
    "for the step":
        functools.partial(_adam_variant, store_hat=True),
}


def _as_adam_items(learner_fn: Callable[..., Any]) -> Callable[..., tuple]:
    """Call the learner's ``adam_step`` and flatten its three dicts into the compared items.

    Raises (and so reports) a result of the wrong form; run_cases reports inputs changed in place.
    """

    def adapted(params, grads, m, v, t, lr, beta1, beta2, eps):
        result = learner_fn(params, grads, m, v, t, lr, beta1, beta2, eps)
        result = returned(result, ("new_params", "new_m", "new_v"))
        if result is None:
            return None
        for label, value in zip(("new_params", "new_m", "new_v"), result, strict=True):
            if not isinstance(value, dict) or set(value) != set(_ADAM_NAMES):
                raise TypeError(
                    f"{label} must be a dict with the keys {list(_ADAM_NAMES)}, "
                    f"got {describe(value)}"
                )
        return tuple(d[k] for d in result for k in _ADAM_NAMES)

    return adapted


def check_adam_step(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``adam_step(params, grads, m, v, t, lr, beta1, beta2, eps)``, one Adam step.

    ``params``, ``grads``, ``m`` and ``v`` are dicts with the keys ``"W"`` and ``"b"``; ``t`` is
    the number of this step (1 for the first). For each key::

        m_new = beta1 * m + (1 - beta1) * g
        v_new = beta2 * v + (1 - beta2) * g**2
        m_hat = m_new / (1 - beta1**t),   v_hat = v_new / (1 - beta2**t)
        w_new = w - lr * m_hat / (sqrt(v_hat) + eps)

    Return ``(new_params, new_m, new_v)``, three new dicts (``m`` and ``v`` *uncorrected*);
    nothing passed in may change. The items compared are, in order, ``new_params["W"]``,
    ``new_params["b"]``, ``new_m["W"]``, ``new_m["b"]``, ``new_v["W"]`` and ``new_v["b"]``.
    Cases: the first step (``t = 1``, ``m = v = 0``), later steps (``t`` up to 1000),
    gradients from 0.001 to 1000 in size, several betas, and an ``eps`` large enough to matter.
    A hint names the usual mistakes: no ``(1 − beta1)`` or ``(1 − beta2)``, no bias correction,
    ``eps`` inside the root, ``t`` off by one, the corrected moments returned.
    """
    check_learner_function(learner_fn)
    rng = check_rng("seed", seed)
    settings = [  # (t, lr, beta1, beta2, eps, gradient scale)
        (1, 0.001, 0.9, 0.999, 1e-8, 1.0),
        (2, 0.01, 0.9, 0.999, 1e-8, 1e3),
        (10, 0.1, 0.5, 0.99, 1e-8, 1.0),
        (1000, 0.003, 0.9, 0.999, 1e-8, 1e-3),
        (5, 0.05, 0.0, 0.9, 1e-2, 1e-2),
        (1, 0.02, 0.95, 0.9999, 1e-3, 1e-3),
    ]
    cases = []
    for t, lr, beta1, beta2, eps, scale in settings:
        shapes = {"W": (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                  "b": (int(rng.integers(1, 4)),)}
        first = t == 1
        cases.append({
            "params": {k: rng.standard_normal(s) for k, s in shapes.items()},
            "grads": {k: scale * rng.standard_normal(s) for k, s in shapes.items()},
            "m": {k: np.zeros(s) if first else scale * 0.3 * rng.standard_normal(s)
                  for k, s in shapes.items()},
            "v": {k: np.zeros(s) if first else scale**2 * rng.uniform(0.1, 2.0, size=s)
                  for k, s in shapes.items()},
            "t": t, "lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
        })
    print("adam_step: items compared: 0, 1 = new_params['W'], ['b']; 2, 3 = new_m['W'], ['b']; "
          "4, 5 = new_v['W'], ['b']")
    return run_cases("adam_step", _as_adam_items(learner_fn), _reference_adam_step, cases,
                     mistakes=_ADAM_MISTAKES)


def _reference_bias_corrections(beta1, beta2, t):
    t = np.asarray(t, dtype=np.float64)
    c1 = 1 - beta1**t
    c2 = 1 - beta2**t
    return c1, c2, c1 / np.sqrt(c2)


def check_bias_corrections(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    r"""Exercise: ``bias_corrections(beta1, beta2, t)`` for an array of step numbers ``t``.

    Returns three arrays shaped like ``t``:

    * ``c1 = 1 - beta1**t``: ``E[m_t] = c1 · E[g]`` (the first moment is too small by c1);
    * ``c2 = 1 - beta2**t``: ``E[v_t] = c2 · E[g²]``;
    * ``ratio = c1 / sqrt(c2)``: the step without bias correction divided by the step with
      it (``eps = 0``), ``(m / sqrt(v)) / ((m / c1) / sqrt(v / c2))``.

    Cases: ``t`` from 1 to 10⁵, Adam's default betas, fast.ai's ``beta2 = 0.99``, ``beta1 = 0``
    (RMSProp with a corrected denominator) and other pairs.
    """
    rng = check_rng("seed", seed)
    cases = [
        {"beta1": 0.9, "beta2": 0.999, "t": np.arange(1, 21)},
        {"beta1": 0.9, "beta2": 0.99, "t": np.array([1, 2, 5, 10, 100])},
        {"beta1": 0.99, "beta2": 0.999, "t": np.arange(1, 31)},
        {"beta1": 0.0, "beta2": 0.999, "t": np.array([1, 10, 1000, 100_000])},
        {"beta1": float(rng.uniform(0.5, 0.95)), "beta2": float(rng.uniform(0.95, 0.9999)),
         "t": rng.integers(1, 5000, size=8)},
    ]
    return run_cases("bias_corrections", learner_fn, _reference_bias_corrections, cases)
