"""The learning-rate range test (Smith, 2017; fast.ai's ``lr_find``): one short run whose
rate grows geometrically, one mini-batch per rate, read off where the loss starts to fall and
where it blows up::

    test = lr_range_test(model, softmax_cross_entropy, SGD(1.0), X, y, lr_min=1e-4, lr_max=10)
    plt.semilogx(test.lrs, test.smoothed)
    test.steepest_lr, test.min_loss_lr      # a learning rate to start from is in between

The model and the optimizer are given back as they were: the test only looks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_lib.stats import moving_average
from course_lib.training import LossFn, Model, OptimizerLike, fit, steps_per_epoch
from course_lib.validation import check_beta, check_positive, check_positive_int

__all__ = ["RangeTest", "lr_range_test"]


@dataclass(repr=False, eq=False)
class RangeTest:
    """What ``lr_range_test`` measured, step by step.

    ``lrs[t]`` is the rate of step ``t`` and ``losses[t]`` the loss of its mini-batch, before
    the update; NaN once the run diverged. ``smoothed`` is their exponential moving average
    (``beta``), bias-corrected as in Adam, which the noise of single mini-batches calls for.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray

    @property
    def min_loss_lr(self) -> float:
        """The rate at which the smoothed loss was lowest: beyond it, training gets worse."""
        return float(self.lrs[np.nanargmin(self.smoothed)])

    @property
    def steepest_lr(self) -> float:
        """The rate, up to ``min_loss_lr``, at which the smoothed loss fell fastest per
        decade of rate: the usual suggestion for the rate to train with. The first tenth of
        the steps is left out, where the average still follows the first few mini-batches."""
        start, end = len(self.lrs) // 10, int(np.nanargmin(self.smoothed)) + 1
        if end - start < 2:
            return float(self.lrs[end - 1])
        slope = np.gradient(self.smoothed[start:end], np.log(self.lrs[start:end]))
        return float(self.lrs[start + np.nanargmin(slope)])

    def __repr__(self) -> str:
        return (f"RangeTest({len(self.lrs)} steps, lr {self.lrs[0]:.3g} to {self.lrs[-1]:.3g}, "
                f"steepest_lr={self.steepest_lr:.3g}, min_loss_lr={self.min_loss_lr:.3g})")


def lr_range_test(
    model: Model,
    loss: LossFn,
    optimizer: OptimizerLike,
    X: np.ndarray,
    y: np.ndarray,
    *,
    lr_min: float = 1e-6,
    lr_max: float = 10.0,
    steps: int = 100,
    batch_size: int = 32,
    seed: int = 0,
    beta: float = 0.9,
) -> RangeTest:
    """Train for ``steps`` mini-batches with the rate going from ``lr_min`` to ``lr_max``.

        lr(t) = lr_min · (lr_max / lr_min)^(t / (steps − 1))

    It runs ``fit`` (the same mini-batches, shuffled with ``seed``), so whole epochs are
    trained and only the first ``steps`` are reported; a run that diverges stops there. The
    model's weights and buffers and the optimizer's state are restored afterwards.
    """
    lr_min = check_positive("lr_min", lr_min)
    lr_max = check_positive("lr_max", lr_max)
    if lr_max <= lr_min:
        raise ValueError(f"lr_max must be above lr_min, got lr_min={lr_min}, lr_max={lr_max}")
    steps = check_positive_int("steps", steps)
    if steps < 2:
        raise ValueError(f"steps must be >= 2 to span lr_min to lr_max, got {steps}")
    beta = check_beta("beta", beta)
    batch_size = check_positive_int("batch_size", batch_size)
    epochs = math.ceil(steps / steps_per_epoch(model, len(X), batch_size))

    def schedule(t: int) -> float:
        # lr_min·(lr_max / lr_min)^(t / (steps − 1)), held at lr_max after the last step
        return lr_min * (lr_max / lr_min) ** (min(t, steps - 1) / (steps - 1))

    saved_model, saved_optimizer = model.state_dict(), optimizer.state_dict()
    try:
        history = fit(model, loss, optimizer, X, y, epochs=epochs, batch_size=batch_size,
                      schedule=schedule, seed=seed, evaluate=False, track_grad_norms=False)
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
    lrs = np.array([schedule(t) for t in range(steps)])
    losses = history.step_loss[:steps].copy()
    return RangeTest(lrs, losses, moving_average(losses, beta))
