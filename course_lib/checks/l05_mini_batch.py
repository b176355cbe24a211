"""Lesson 05, mini-batches: the checkers of its exercises.

``check_epoch_batches``, ``check_batch_gradient_variance``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sized
from typing import Any

import numpy as np

from course_lib.checks.core import check_learner_function, run_cases
from course_lib.validation import check_rng


def _epoch_order(batches: Any, n_samples: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The learner's batches of one epoch joined in order, and their sizes, after checks.

    Raises (and so reports) a wrong number or size of batches, non-integer or out-of-range
    indices, and samples visited twice or never. A generator is read lazily, one batch past
    the expected number at most, so one that never stops is cut off.
    """
    if batches is None:
        raise TypeError("got None (did you forget to return the list of batches?)")
    expected = -(-n_samples // batch_size)  # ceil(n_samples / batch_size)
    left = n_samples - (expected - 1) * batch_size
    sized = isinstance(batches, Sized)
    batches = [np.asarray(batch) for batch in
               (batches if sized else itertools.islice(batches, expected + 1))]
    if len(batches) != expected:
        got = len(batches) if sized or len(batches) <= expected else (
            f"more than {expected} (does your generator ever stop?)")
        raise ValueError(
            f"expected ceil({n_samples}/{batch_size}) = {expected} batches, the last one with "
            f"what is left over ({left} of {batch_size}; it is not dropped), got {got}"
        )
    for k, batch in enumerate(batches):
        if batch.ndim != 1 or not np.issubdtype(batch.dtype, np.integer):
            raise TypeError(f"batch {k} must be a 1-D array of integer sample indices, got "
                            f"{batch.dtype} of shape {batch.shape}")
        size = batch_size if k < expected - 1 else left
        if batch.size != size:
            raise ValueError(f"batch {k} must hold {size} samples, got {batch.size}")
    order = np.concatenate(batches)
    outside = order[(order < 0) | (order >= n_samples)]
    if outside.size:
        raise ValueError(f"index {outside[0]} is not a sample: indices run from 0 to "
                         f"{n_samples - 1}")
    counts = np.bincount(order, minlength=n_samples)
    twice, never = np.flatnonzero(counts > 1), np.flatnonzero(counts == 0)
    if twice.size or never.size:
        raise ValueError(
            f"every sample must be visited exactly once per epoch; samples {twice[:4].tolist()} "
            f"come more than once and {never[:4].tolist()} never (drawn with replacement?)"
        )
    return order, np.array([batch.size for batch in batches])


def check_epoch_batches(learner_fn: Callable[..., Any], seed: int = 0) -> bool:
    """Exercise: ``epoch_batches(n_samples, batch_size, rng)``, the index batches of one epoch.

    Returns a list of 1-D integer arrays: a random permutation of ``0 .. n_samples − 1``
    drawn from the generator ``rng``, cut into ``ceil(n_samples / batch_size)`` consecutive
    pieces of ``batch_size`` indices (the last one holds what is left). So every sample is
    visited exactly once per epoch, as ``course_lib.data.minibatches`` does.

    Each case calls the function with ``rng = np.random.default_rng(rng_seed)`` and checks
    the number and sizes of the batches, that every sample comes exactly once, that the order
    is shuffled (``n_samples >= 8``), that the same seed gives the same batches (all the
    randomness comes from ``rng``) and that two calls with one generator give two different
    epochs. The compared items are the batch sizes (0) and the sorted indices (1).
    """
    check_learner_function(learner_fn)
    rng = check_rng("seed", seed)
    cases = [{"n_samples": n, "batch_size": b, "rng_seed": int(rng.integers(1000))}
             for n, b in [(10, 3), (12, 4), (7, 7), (5, 8), (40, 1),
                          (int(rng.integers(20, 200)), int(rng.integers(2, 20)))]]

    def reference(n_samples, batch_size, rng_seed):
        order = np.random.default_rng(rng_seed).permutation(n_samples)
        batches = [order[k:k + batch_size] for k in range(0, n_samples, batch_size)]
        return np.array([b.size for b in batches]), np.arange(n_samples)

    def learner(n_samples, batch_size, rng_seed):
        def call(generator):
            return learner_fn(n_samples, batch_size, generator)

        first, sizes = _epoch_order(call(np.random.default_rng(rng_seed)), n_samples, batch_size)
        again, _ = _epoch_order(call(np.random.default_rng(rng_seed)), n_samples, batch_size)
        if not np.array_equal(first, again):
            raise ValueError(
                f"two calls with rng = np.random.default_rng({rng_seed}) gave different "
                "batches: draw every random number from rng (not from np.random)"
            )
        if n_samples >= 8:
            if np.array_equal(first, np.arange(n_samples)):
                raise ValueError("the samples come in their stored order 0, 1, 2, ...: "
                                 "shuffle them with rng (rng.permutation)")
            generator = np.random.default_rng(rng_seed)
            one, _ = _epoch_order(call(generator), n_samples, batch_size)
            two, _ = _epoch_order(call(generator), n_samples, batch_size)
            if np.array_equal(one, two):
                raise ValueError(
                    "two epochs drawn from one generator came out in the same order: use "
                    "rng itself, do not make a new generator inside the function"
                )
        return sizes, np.sort(first)

    return run_cases("epoch_batches", learner, reference, cases, rtol=0, atol=0)


def _reference_batch_gradient_variance(per_example_grads, batch_size):
    G = np.asarray(per_example_grads, dtype=np.float64)  # noqa: N806 - a matrix
    n = G.shape[0]
    # sigma² = (1/N) Σ_i ‖g_i − ḡ‖²
    sigma2 = np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1))
    # E‖g_B − ḡ‖² = sigma²/B · (N − B)/(N − 1)
    return sigma2 / batch_size * (n - batch_size) / (n - 1)


def check_batch_gradient_variance(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    r"""Exercise: ``batch_gradient_variance(per_example_grads, batch_size)``.

    ``per_example_grads`` has shape ``(N, P)``: row ``i`` is the gradient ``g_i`` of example
    ``i``'s loss (``N >= 2``). For a batch of ``B`` distinct examples drawn at random (without
    replacement, as in an epoch), return the expected squared distance of the batch-mean
    gradient from the full-batch gradient ``ḡ``::

        E‖g_B − ḡ‖² = (sigma² / B) · (N − B) / (N − 1),   sigma² = (1/N) Σ_i ‖g_i − ḡ‖²

    (zero at ``B = N``). Cases: random gradient matrices from 2 to 60 examples, ``B`` from 1
    to ``N``, gradients with a large common mean (it must be subtracted).
    """
    rng = check_rng("seed", seed)
    cases = []
    for n, p, batch_size, offset in [(10, 3, 1, 0.0), (10, 3, 10, 0.0), (20, 5, 7, 5.0),
                                     (2, 1, 1, 1.0), (60, 4, 30, 0.0), (33, 2, 32, 100.0)]:
        scales = 10.0 ** rng.uniform(-1, 1, size=p)
        cases.append({"per_example_grads": offset + scales * rng.standard_normal((n, p)),
                      "batch_size": batch_size})
    check_learner_function(learner_fn)

    def learner(per_example_grads, batch_size):  # by position: any argument names work
        return learner_fn(per_example_grads, batch_size)

    return run_cases("batch_gradient_variance", learner, _reference_batch_gradient_variance,
                     cases, rtol=1e-9, atol=1e-12)
