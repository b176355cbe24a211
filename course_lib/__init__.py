"""course_lib: the numpy library behind the Training Optimization course.

The numerical core needs nothing but numpy and is imported here:

* ``course_lib.scaling``     ZScoreScaler, MeanNormalizer
* ``course_lib.optimizers``  update rules (sgd_update ... adamw_update) and the thin
  classes over them: SGD, Momentum, RMSProp, Adam, AdamW
* ``course_lib.schedules``   learning-rate schedules, callables ``t -> lr``
* ``course_lib.problems``    objectives (Quadratic, Rosenbrock, ...), run_optimizer (any
  dimension, one run or many side by side), distance_to_minimiser
* ``course_lib.data``        minibatches, synthetic data, load_wine, load_digits

The statistics, the network core and the training layer, also numpy only, are
imported by name: ``course_lib.stats`` (summarize, Student-t intervals, bands),
``course_lib.layers`` (Dense, ReLU, BatchNorm, LayerNorm, Residual, Sequential),
``course_lib.losses``, ``course_lib.gradcheck``, ``course_lib.networks`` (mlp,
the one network builder, and the lessons' networks as PRESETS),
``course_lib.training`` (fit), ``course_lib.callbacks`` (EarlyStopping,
ReduceLROnPlateau), ``course_lib.range_test`` (lr_range_test),
``course_lib.experiments`` (seeds x settings grids, tables), ``course_lib.probes``,
``course_lib.studies`` (the experiments of lessons 05, 07, 08 and 09) and
``course_lib.io`` (save and load the ``state_dict()`` of models, optimizers and
scalers).

The display layer (``course_lib.plots``, ``course_lib.widgets``, needing
matplotlib and ipywidgets) and the exercise checkers (``course_lib.checks``)
are imported explicitly, so homework scripts run without them.

``help(course_lib.optimizers.Adam)`` (or any other name) shows the formula
each object implements.
"""

from course_lib import data, optimizers, problems, scaling, schedules, validation
from course_lib.data import load_digits, load_wine, minibatches
from course_lib.optimizers import SGD, Adam, AdamW, Momentum, RMSProp
from course_lib.problems import Quadratic, Rosenbrock, run_optimizer
from course_lib.scaling import MeanNormalizer, ZScoreScaler

__version__ = "0.1.0"

__all__ = [
    "SGD", "Adam", "AdamW", "MeanNormalizer", "Momentum", "Quadratic", "RMSProp", "Rosenbrock",
    "ZScoreScaler", "data", "load_digits", "load_wine", "minibatches", "optimizers", "problems",
    "run_optimizer", "scaling", "schedules", "validation",
]
