"""Lesson 08, residual layers: the checkers of its exercises.

``check_residual_forward_backward``, ``check_backprop_jacobians``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from course_lib.checks.core import run_cases
from course_lib.layers import BatchNorm, Dense, ReLU, Sequential
from course_lib.validation import check_rng


def _reference_residual_forward_backward(block_forward, block_backward, x, dy):
    # y = x + F(x);  dL/dx = dL/dy + dL/dy · ∂F/∂x  (the block's backward gives the second term)
    y = x + block_forward(x)
    dx = dy + block_backward(dy)
    return y, dx


def check_residual_forward_backward(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``residual_forward_backward(block_forward, block_backward, x, dy)``.

    Given a block's ``forward(x)`` and ``backward(dy)`` (``backward`` is valid after
    ``forward``), return ``(y, dx)`` for the skip connection around it:
    ``y = x + block_forward(x)`` and ``dx = dy + block_backward(dy)``. Cases: random
    ``Dense, ReLU, Dense`` blocks of several widths and weight scales, one with a
    ``BatchNorm`` inside; ``block_forward`` runs in training mode, as in a training step.
    """
    rng = check_rng("seed", seed)
    cases = []
    for width, batch, std, norm in [(3, 4, 0.5, False), (5, 2, 0.1, False), (4, 6, 1.0, False),
                                    (6, 3, 2.0, False), (4, 5, 0.5, True)]:
        middle = [BatchNorm(width)] if norm else []
        block = Sequential(Dense(width, width, rng=rng, init=std), *middle, ReLU(),
                           Dense(width, width, rng=rng, init=std))
        for layer in block:  # non-zero biases, so a forgotten term shows
            if "b" in layer.params:
                layer.params["b"][...] = rng.normal(size=width)
        cases.append({
            "block_forward": functools.partial(block.forward, training=True),  # a training step
            "block_backward": block.backward,
            "x": rng.normal(size=(batch, width)),
            "dy": rng.normal(size=(batch, width)),
        })
    return run_cases("residual_forward_backward", learner_fn,
                     _reference_residual_forward_backward, cases)


def _reference_backprop_jacobians(g, jacobians, skip):
    # dL/dx_{k-1} = dL/dx_k · (I + J_k)  (or · J_k without the skip), for k = L, ..., 1
    for J in jacobians[::-1]:
        g = g + g @ J if skip else g @ J
    return g


def check_backprop_jacobians(learner_fn: Callable[..., np.ndarray], seed: int = 0) -> bool:
    """Exercise: ``backprop_jacobians(g, jacobians, skip)``.

    The network is ``x_k = f_k(x_{k-1})`` for ``k = 1 … L``; ``jacobians`` has shape
    ``(L, w, w)`` with ``jacobians[k-1] = J_k = ∂f_k/∂x_{k-1}`` (rows: outputs, columns:
    inputs), and ``g = dL/dx_L`` is a vector of length ``w``. Return ``dL/dx_0``::

        skip=False:  g · J_L · J_{L-1} ⋯ J_1
        skip=True:   g · (I + J_L) · (I + J_{L-1}) ⋯ (I + J_1)      (x_k = x_{k-1} + f_k(x_{k-1}))

    Cases: random non-symmetric Jacobians of several sizes and scales, with and without skip.
    """
    rng = check_rng("seed", seed)
    cases = []
    for depth, width, scale, skip in [(1, 3, 0.5, False), (3, 4, 0.3, True), (4, 3, 1.2, False),
                                      (5, 5, 0.2, True), (6, 2, 0.8, True), (2, 4, 0.7, False)]:
        cases.append({
            "g": rng.normal(size=width),
            "jacobians": rng.normal(scale=scale, size=(depth, width, width)),
            "skip": skip,
        })
    return run_cases("backprop_jacobians", learner_fn, _reference_backprop_jacobians, cases)
