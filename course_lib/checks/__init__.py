"""Checkers for the exercises.

Each ``check_*`` function takes the learner's function, runs it on random
cases next to the reference answer, prints one line per case (``pass``, or
the first mismatch with the inputs that produced it) and returns ``True``
only when every case passes. The learner's inputs are fresh copies on every
call, and a function that changes its inputs is reported, because callers
of a numerical routine rely on their arrays staying put.

The checkers depend on nothing but their arguments: a learner may print,
add cells or rename things around their function without breaking them.

Each case may take ``core.TIME_LIMIT`` seconds (5); a function that runs
longer (an endless loop, a generator that never stops) is stopped and
reported, and the check ends there. Answers must be real numbers: text,
``True``/``False``, complex numbers or ``None`` among the values fail with
what they are. After a failure, a ``hint:`` line names a classic mistake
(a missing ``(1 − beta)``, ``eps`` inside the square root, ...) when the
function's answers are exactly that mistake's on every case that failed.

``core`` holds what they share (``run_cases``, ``Case`` and the helpers
``describe``, ``same`` and ``returned``); each lesson's checkers, with their
reference answers, have a module named after the lesson, as under
``widgets/``: ``l00_gradient_descent`` ... ``l09_putting_it_together``.
All of them are imported here: ``checks.check_momentum_step(momentum_step)``.
"""

from course_lib.checks.core import Case, run_cases
from course_lib.checks.l00_gradient_descent import check_gradient_descent, check_optimal_step
from course_lib.checks.l01_feature_scaling import (
    check_condition_number,
    check_mean_normalize,
    check_zscore,
)
from course_lib.checks.l02_momentum import (
    check_ema_weights,
    check_momentum_step,
    check_optimal_momentum,
)
from course_lib.checks.l03_rmsprop import check_effective_learning_rates, check_rmsprop_step
from course_lib.checks.l04_adam import check_adam_step, check_bias_corrections
from course_lib.checks.l05_mini_batch import check_batch_gradient_variance, check_epoch_batches
from course_lib.checks.l06_learning_rate_decay import (
    check_inverse_time_staircase,
    check_noise_floor,
    check_warmup_cosine,
)
from course_lib.checks.l07_batch_normalization import (
    check_batchnorm_backward,
    check_batchnorm_forward,
    check_running_stats,
)
from course_lib.checks.l08_residual_layers import (
    check_backprop_jacobians,
    check_residual_forward_backward,
)
from course_lib.checks.l09_putting_it_together import check_epochs_to_target, check_t_interval

__all__ = [
    "Case", "run_cases",
    "check_gradient_descent", "check_optimal_step",
    "check_zscore", "check_mean_normalize", "check_condition_number",
    "check_momentum_step", "check_optimal_momentum", "check_ema_weights",
    "check_rmsprop_step", "check_effective_learning_rates",
    "check_adam_step", "check_bias_corrections",
    "check_epoch_batches", "check_batch_gradient_variance",
    "check_inverse_time_staircase", "check_warmup_cosine", "check_noise_floor",
    "check_batchnorm_forward", "check_batchnorm_backward", "check_running_stats",
    "check_residual_forward_backward", "check_backprop_jacobians",
    "check_epochs_to_target", "check_t_interval",
]
