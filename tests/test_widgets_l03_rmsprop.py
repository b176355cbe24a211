"""Lesson 03's explorer: RMSProp next to gradient descent on a bowl and on Rosenbrock.

``Rescaled``, the problem in new units, is tested with the other problems (``test_problems.py``).
"""

import numpy as np
import pytest

from course_lib import widgets
from course_lib.problems import Quadratic


def test_switching_problems_and_back_gives_the_same_picture(pixels):
    explorer = widgets.rmsprop_explorer()
    explorer.set(lr=0.05)
    first = pixels(explorer.png())
    explorer.set(problem="bowl, rotated 30°")
    assert (pixels(explorer.png()) != first).any()
    explorer.set(problem="bowl, axes aligned")
    np.testing.assert_array_equal(first, pixels(explorer.png()))


def test_the_floor_line_shows_only_on_the_axis_aligned_bowl():
    explorer = widgets.rmsprop_explorer(lr=0.1)
    floor = next(line for line in explorer.figure.axes[1].lines
                 if "floor" in line.get_label())
    bowl = Quadratic(kappa=50, L=1.0, angle=0)
    assert floor.get_visible()
    assert floor.get_ydata()[0] == pytest.approx((bowl.L + bowl.mu) * 0.1**2 / 8)
    explorer.set(problem="Rosenbrock")
    assert not floor.get_visible()


def test_the_explorer_rejects_an_unknown_problem():
    with pytest.raises(ValueError, match="problem must be one of"):
        widgets.rmsprop_explorer(problem="Himmelblau")

