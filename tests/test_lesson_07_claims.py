"""Lesson 07's exact numbers, kept here so that the lesson can state its claims in words.

The lesson asserts that batch norm survives learning rates ten times larger than the plain
network. On its grid (0.01 ... 3; the 10-layer network, 4 epochs of SGD on mini-batches of 64,
seeds 0-4) that rests on two numbers, pinned here: the largest learning rate at which no seed
diverges is 0.3 for the plain network (at 1 some seed diverges) and 3, the top of the grid, with
batch norm.
"""

from __future__ import annotations

import numpy as np

from course_lib.data import digits_subset
from course_lib.losses import softmax_cross_entropy
from course_lib.networks import mlp
from course_lib.optimizers import SGD
from course_lib.training import fit


def final_losses(batch_norm: bool, lr: float) -> np.ndarray:
    X, y = digits_subset(512, seed=0)
    losses = []
    for seed in range(5):
        model = mlp("l07_batch_normalization", batch_norm=batch_norm, rng=seed)
        history = fit(model, softmax_cross_entropy, SGD(lr), X, y, epochs=4, batch_size=64,
                      seed=seed, track_grad_norms=False)
        losses.append(history.train_loss[-1])
    return np.array(losses)


def test_the_largest_learning_rate_without_divergence_is_03_plain_and_3_with_batch_norm():
    assert np.all(np.isfinite(final_losses(False, 0.3)))
    assert not np.all(np.isfinite(final_losses(False, 1.0)))
    assert np.all(np.isfinite(final_losses(True, 3.0)))
