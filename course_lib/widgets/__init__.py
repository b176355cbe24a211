"""Explorers: ipywidgets control panels that redraw one matplotlib figure.

``Explorer`` and the slider every explorer uses live in ``explorer``; each
lesson's explorer has a module of its own:

* ``gradient_descent``  00  ``gradient_descent_explorer``
* ``feature_scaling``   01  ``feature_scaling_explorer``, ``feature_scaling_setups``
* ``momentum``          02  ``momentum_explorer``
* ``rmsprop``           03  ``rmsprop_explorer``
* ``adam``              04  ``adam_explorer``
* ``mini_batch``        05  ``mini_batch_explorer``, ``mini_batch_runs``
* ``lr_schedules``      06  ``lr_schedule_explorer``, ``lr_schedule_from_knobs``,
  ``LR_SCHEDULE_NAMES``
* ``batch_norm``        07  ``batch_norm_explorer``, ``batch_norm_runs``
* ``residual``          08  ``residual_explorer``, ``residual_runs``, ``RESIDUAL_INITS``
* ``recipe``            09  ``recipe_explorer``

All of them are imported here: ``widgets.momentum_explorer()``.
"""

from course_lib.widgets.adam import adam_explorer
from course_lib.widgets.batch_norm import batch_norm_explorer, batch_norm_runs
from course_lib.widgets.explorer import Explorer
from course_lib.widgets.feature_scaling import feature_scaling_explorer, feature_scaling_setups
from course_lib.widgets.gradient_descent import gradient_descent_explorer
from course_lib.widgets.lr_schedules import (
    LR_SCHEDULE_NAMES,
    lr_schedule_explorer,
    lr_schedule_from_knobs,
)
from course_lib.widgets.mini_batch import mini_batch_explorer, mini_batch_runs
from course_lib.widgets.momentum import momentum_explorer
from course_lib.widgets.recipe import recipe_explorer
from course_lib.widgets.residual import RESIDUAL_INITS, residual_explorer, residual_runs
from course_lib.widgets.rmsprop import rmsprop_explorer

__all__ = [
    "Explorer",
    "gradient_descent_explorer",
    "feature_scaling_explorer", "feature_scaling_setups",
    "momentum_explorer",
    "rmsprop_explorer",
    "adam_explorer",
    "mini_batch_explorer", "mini_batch_runs",
    "LR_SCHEDULE_NAMES", "lr_schedule_explorer", "lr_schedule_from_knobs",
    "batch_norm_explorer", "batch_norm_runs",
    "RESIDUAL_INITS", "residual_explorer", "residual_runs",
    "recipe_explorer",
]
