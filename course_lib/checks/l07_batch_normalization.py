"""Lesson 07, batch normalization: the checkers of its exercises.

``check_batchnorm_forward``, ``check_batchnorm_backward``, ``check_running_stats``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from course_lib.checks.core import Case, check_learner_function, returned, run_cases
from course_lib.layers import BatchNorm
from course_lib.validation import check_rng


def _batch_norm_cases(rng: np.random.Generator) -> list[Case]:
    """Batches ``x`` of shape ``(N, D)`` with ``gamma``, ``beta`` and ``eps``.

    Columns on different scales and offsets, the smallest batch (``N = 2``), a single column,
    a constant column (its variance is 0: only ``eps`` keeps the division finite) and a
    large ``eps``.
    """
    cases = []
    for k, (n, d, eps) in enumerate([(8, 3, 1e-5), (2, 4, 1e-5), (5, 1, 1e-5), (16, 5, 1e-3),
                                     (33, 2, 1e-5), (12, 3, 0.1)]):
        scales = 10.0 ** rng.uniform(-1, 1, size=d)
        x = rng.normal(size=(n, d)) * scales + rng.uniform(-3, 3, size=d)
        if k == 3:
            x[:, 1] = 2.5  # a constant column
        cases.append({"x": x, "gamma": rng.uniform(0.5, 2.0, size=d),
                      "beta": rng.uniform(-1, 1, size=d), "eps": eps})
    return cases


def _batch_norm_layer(gamma: np.ndarray, beta: np.ndarray, eps: float, momentum: float = 0.1):
    layer = BatchNorm(gamma.size, momentum=momentum, eps=eps)
    layer.params["gamma"][...] = gamma
    layer.params["beta"][...] = beta
    return layer


def _reference_batchnorm_forward(x, gamma, beta, eps):
    return _batch_norm_layer(gamma, beta, eps).forward(x, training=True)


_FORWARD_MISTAKES = {
    "you normalised with the unbiased variance (divide by N - 1); batch norm divides by N":
        lambda x, gamma, beta, eps:
            gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + eps) + beta,
    "eps goes inside the square root: sqrt(var + eps)":
        lambda x, gamma, beta, eps:
            gamma * (x - x.mean(axis=0)) / (np.sqrt(x.var(axis=0)) + eps) + beta,
    "the statistics are per column (axis=0), over the rows of the batch":
        lambda x, gamma, beta, eps: gamma * (x - x.mean(axis=1, keepdims=True))
            / np.sqrt(x.var(axis=1, keepdims=True) + eps) + beta,
}


def check_batchnorm_forward(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``batchnorm_forward(x, gamma, beta, eps)`` in training mode -> ``(out, cache)``.

    For a batch ``x`` of shape ``(N, D)``, per column::

        mu   = mean_n x                       var = mean_n (x - mu)**2   (biased: divide by N)
        xhat = (x - mu) / sqrt(var + eps)     out = gamma * xhat + beta

    Return the pair ``(out, cache)``; ``cache`` is whatever your backward pass will need (it
    is not compared). ``x`` must not change. Cases: batches of 2 to 33 rows, columns on
    different scales, a constant column, a large ``eps``.
    """
    check_learner_function(learner_fn)

    def output(result):
        result = returned(result, ("out", "cache"))
        return None if result is None else result[0]

    def learner(x, gamma, beta, eps):
        return output(learner_fn(x, gamma, beta, eps))

    cases = _batch_norm_cases(check_rng("seed", seed))
    return run_cases("batchnorm_forward", learner, _reference_batchnorm_forward, cases,
                     mistakes=_FORWARD_MISTAKES)


def _reference_batchnorm_backward(dy, x, gamma, eps):
    layer = _batch_norm_layer(gamma, np.zeros_like(gamma), eps)
    layer.forward(x, training=True)
    dx = layer.backward(dy)
    return dx, layer.grads["gamma"].copy(), layer.grads["beta"].copy()


def _backward_without(dy, x, gamma, eps, *, mu_term: bool, var_term: bool) -> tuple:
    """The backward pass with ``dx`` missing the term that comes from ``mu`` or ``var``."""
    std = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) / std
    dx_hat = dy - (dy.mean(axis=0) if mu_term else 0) - (
        xhat * (dy * xhat).mean(axis=0) if var_term else 0)
    return (gamma * dx_hat / std, *_reference_batchnorm_backward(dy, x, gamma, eps)[1:])


_BACKWARD_MISTAKES = {
    "dx = gamma * dy / sqrt(var + eps) treats mu and var as constants; they depend on every "
    "row of x, which adds the two sums":
        functools.partial(_backward_without, mu_term=False, var_term=False),
    "dx is missing the term - xhat * sum_n(dy * xhat), which comes from var":
        functools.partial(_backward_without, mu_term=True, var_term=False),
    "dx is missing the term - sum_n dy, which comes from mu":
        functools.partial(_backward_without, mu_term=False, var_term=True),
}


def check_batchnorm_backward(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``batchnorm_backward(dy, x, gamma, eps)`` -> ``(dx, dgamma, dbeta)``.

    The gradients of training-mode batch norm (``beta`` does not enter them) for the upstream
    gradient ``dy = dL/dout``, with ``xhat`` and ``var`` recomputed from ``x``::

        dbeta  = sum_n dy                   dgamma = sum_n dy * xhat
        dx     = gamma / (N * sqrt(var + eps)) * (N * dy - sum_n dy - xhat * sum_n (dy * xhat))

    Nothing passed in may change. Items compared: 0 = ``dx``, 1 = ``dgamma``, 2 = ``dbeta``.
    Cases: those of ``check_batchnorm_forward`` with a random ``dy``.
    """
    check_learner_function(learner_fn)
    rng = check_rng("seed", seed)
    cases = []
    for case in _batch_norm_cases(rng):
        cases.append({"dy": rng.normal(size=case["x"].shape), "x": case["x"],
                      "gamma": case["gamma"], "eps": case["eps"]})

    def learner(dy, x, gamma, eps):
        return returned(learner_fn(dy, x, gamma, eps), ("dx", "dgamma", "dbeta"))

    print("batchnorm_backward: items compared: 0 = dx, 1 = dgamma, 2 = dbeta")
    return run_cases("batchnorm_backward", learner, _reference_batchnorm_backward, cases,
                     mistakes=_BACKWARD_MISTAKES)


def _reference_running_stats(running_mean, running_var, x, momentum):
    layer = _batch_norm_layer(np.ones(x.shape[1]), np.zeros(x.shape[1]), 1e-5, momentum)
    layer.running_mean[...] = running_mean
    layer.running_var[...] = running_var
    layer.forward(x, training=True)
    return layer.running_mean.copy(), layer.running_var.copy()


_RUNNING_STATS_MISTAKES = {
    "momentum is the weight of the new batch in PyTorch's sense, (1 - momentum) * running + "
    "momentum * batch; you used Keras's sense, momentum * running + (1 - momentum) * batch":
        lambda running_mean, running_var, x, momentum: (
            momentum * running_mean + (1 - momentum) * x.mean(axis=0),
            momentum * running_var + (1 - momentum) * x.var(axis=0, ddof=1)),
    "the running variance stores the unbiased batch variance (divide by N - 1)":
        lambda running_mean, running_var, x, momentum: (
            (1 - momentum) * running_mean + momentum * x.mean(axis=0),
            (1 - momentum) * running_var + momentum * x.var(axis=0)),
}


def check_running_stats(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``update_running_stats(running_mean, running_var, x, momentum)``, PyTorch's way.

    One training batch ``x`` of shape ``(N, D)`` updates the running statistics with
    ``momentum`` the weight of the *new* batch (``torch.nn.BatchNorm1d``, ``course_lib``)::

        new_mean = (1 - momentum) * running_mean + momentum * mean_n x
        new_var  = (1 - momentum) * running_var  + momentum * var_unbiased(x)

    where ``var_unbiased`` divides by ``N - 1``. Return ``(new_mean, new_var)`` as new arrays;
    the inputs must not change. Items compared: 0 = ``new_mean``, 1 = ``new_var``. Cases:
    momentum 0.1 (the default), 0.01, 0.5, 1 (keep only the batch) and 0 (keep only the
    running values), batches of 2 to 40 rows.
    """
    check_learner_function(learner_fn)
    rng = check_rng("seed", seed)
    cases = []
    for momentum, n in [(0.1, 16), (0.01, 8), (0.5, 2), (1.0, 5), (0.0, 10),
                        (float(rng.uniform(0.05, 0.3)), 40)]:
        d = int(rng.integers(1, 5))
        cases.append({
            "running_mean": rng.normal(size=d),
            "running_var": rng.uniform(0.5, 2.0, size=d),
            "x": rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d) + rng.normal(size=d),
            "momentum": momentum,
        })

    def learner(running_mean, running_var, x, momentum):
        return returned(learner_fn(running_mean, running_var, x, momentum),
                         ("new_mean", "new_var"))

    print("update_running_stats: items compared: 0 = new_mean, 1 = new_var")
    return run_cases("update_running_stats", learner, _reference_running_stats, cases,
                     mistakes=_RUNNING_STATS_MISTAKES)
