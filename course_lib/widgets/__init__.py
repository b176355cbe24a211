"""Explorers: ipywidgets control panels that redraw one matplotlib figure.

``Explorer`` and the slider every explorer uses live in ``explorer``; each
lesson's explorer has a module named after the lesson:

* ``l00_gradient_descent``     ``gradient_descent_explorer``
* ``l01_feature_scaling``      ``feature_scaling_explorer``, ``feature_scaling_setups``
* ``l02_momentum``             ``momentum_explorer``
* ``l03_rmsprop``              ``rmsprop_explorer``
* ``l04_adam``                 ``adam_explorer``
* ``l05_mini_batch``           ``mini_batch_explorer``
* ``l06_learning_rate_decay``  ``lr_schedule_explorer``, ``lr_schedule_from_knobs``,
  ``LR_SCHEDULE_NAMES``
* ``l07_batch_normalization``  ``batch_norm_explorer``
* ``l08_residual_layers``      ``residual_explorer``
* ``l09_putting_it_together``  ``recipe_explorer``

The explorers only draw: the runs they show come from ``course_lib.studies``.
All of them are imported here: ``widgets.momentum_explorer()``.
"""

try:  # before any explorer: each needs both
    import ipywidgets  # noqa: F401
    import matplotlib  # noqa: F401
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(
        f"course_lib.widgets needs ipywidgets and matplotlib, and {missing.name} is not "
        'installed: pip install "course_lib[display]" adds the display extra (from a clone: '
        'pip install -e "path/to/the/clone[display]")',
        name=missing.name,
    ) from missing

from course_lib.widgets.explorer import Explorer, slider
from course_lib.widgets.l00_gradient_descent import gradient_descent_explorer
from course_lib.widgets.l01_feature_scaling import (
    feature_scaling_explorer,
    feature_scaling_setups,
)
from course_lib.widgets.l02_momentum import momentum_explorer
from course_lib.widgets.l03_rmsprop import rmsprop_explorer
from course_lib.widgets.l04_adam import adam_explorer
from course_lib.widgets.l05_mini_batch import mini_batch_explorer
from course_lib.widgets.l06_learning_rate_decay import (
    LR_SCHEDULE_NAMES,
    lr_schedule_explorer,
    lr_schedule_from_knobs,
)
from course_lib.widgets.l07_batch_normalization import batch_norm_explorer
from course_lib.widgets.l08_residual_layers import residual_explorer
from course_lib.widgets.l09_putting_it_together import recipe_explorer

__all__ = [
    "Explorer", "slider",
    "gradient_descent_explorer",
    "feature_scaling_explorer", "feature_scaling_setups",
    "momentum_explorer",
    "rmsprop_explorer",
    "adam_explorer",
    "mini_batch_explorer",
    "LR_SCHEDULE_NAMES", "lr_schedule_explorer", "lr_schedule_from_knobs",
    "batch_norm_explorer",
    "residual_explorer",
    "recipe_explorer",
]
