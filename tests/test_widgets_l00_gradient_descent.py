"""Lesson 00's explorer: gradient descent on a rotated bowl, by learning rate and condition number.

Its redraws and blitting are tested with every other lesson's in ``test_widgets_explorer.py``.
"""

import numpy as np

from course_lib import widgets


def test_changing_kappa_redraws_the_contours_and_going_back_restores_them(pixels):
    explorer = widgets.gradient_descent_explorer(kappa=10)
    explorer.set(kappa=10.0)
    same = pixels(explorer.png())
    explorer.set(kappa=100.0)
    other = pixels(explorer.png())
    assert (same != other).any()
    explorer.set(kappa=10.0)
    np.testing.assert_array_equal(same, pixels(explorer.png()))
