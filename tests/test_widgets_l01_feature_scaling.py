"""Lesson 01's explorer: gradient descent on Wine with raw, mean-normalized or z-scored features.

``LeastSquares``, the problem it draws, is tested with the other problems (``test_problems.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from course_lib import widgets
from course_lib.optimizers import SGD
from course_lib.problems import run_optimizer


def test_explorer_problems_hold_the_bias_at_its_optimum():
    setups = widgets.feature_scaling_setups()
    assert list(setups) == ["raw", "mean-normalized", "z-score"]
    for setup in setups.values():
        full, plane = setup["full"], setup["plane"]
        assert_allclose(plane.minimiser, full.minimiser[:2], rtol=1e-8)
        assert plane.min_value == pytest.approx(full.min_value, rel=1e-9)
    kappas = [setups[name]["full"].kappa for name in setups]
    assert kappas[0] > 1e5 > kappas[1] > kappas[2]


@pytest.mark.parametrize("name", ["mean-normalized", "z-score"])
def test_centred_path_is_gradient_descent_on_the_drawn_surface(name):
    # The bias is decoupled, so the weights follow 2-D gradient descent on the slice b = b*.
    setup = widgets.feature_scaling_setups()[name]
    full, plane = setup["full"], setup["plane"]
    lr = 1.0 / full.L
    path3 = run_optimizer(SGD(lr), full, np.zeros(3), 30)
    path2 = run_optimizer(SGD(lr), plane, np.zeros(2), 30)
    assert_allclose(path3[:, :2], path2, rtol=1e-9, atol=1e-12)


def test_raw_path_is_not_on_the_slice():
    setup = widgets.feature_scaling_setups()["raw"]
    full, plane = setup["full"], setup["plane"]
    path3 = run_optimizer(SGD(1.0 / full.L), full, np.zeros(3), 30)
    path2 = run_optimizer(SGD(1.0 / full.L), plane, np.zeros(2), 30)
    assert not np.allclose(path3[:, :2], path2)


def test_explorer_survives_a_diverging_learning_rate():
    explorer = widgets.feature_scaling_explorer(steps=20)
    for name in ["raw", "mean-normalized", "z-score"]:
        explorer.set(scaler=name, lr=2.2)
    assert "diverges" in explorer.figure.axes[0].get_title()


def test_explorer_refuses_unknown_columns():
    with pytest.raises(ValueError, match="unknown"):
        widgets.feature_scaling_setups(features=("alcohol", "colour"))

