"""Lesson 04's explorer: Adam next to gradient descent, momentum, Nesterov and RMSProp."""

import numpy as np
import pytest

from course_lib import widgets


def test_switching_problems_and_back_gives_the_same_picture(pixels):
    explorer = widgets.adam_explorer()
    first = pixels(explorer.png())
    explorer.set(problem="bowl κ = 100, rotated 30°")
    assert (pixels(explorer.png()) != first).any()
    explorer.set(problem="Rosenbrock")
    np.testing.assert_array_equal(pixels(explorer.png()), first)


def test_adam_without_bias_correction_and_beta1_zero_is_rmsprop():
    # the identity the explorer invites: both lines then lie on top of each other
    explorer = widgets.adam_explorer()
    explorer.set(beta1=0.0, bias_correction=False)
    lines = explorer.figure.axes[0].get_lines()
    adam, rmsprop = (next(line for line in lines if line.get_color() == color)
                     for color in ("C3", "C1"))
    np.testing.assert_array_equal(adam.get_xydata(), rmsprop.get_xydata())


def test_the_sliders_drive_the_optimizers_that_have_the_knob():
    explorer = widgets.adam_explorer()
    data = {line.get_color(): line.get_xydata().copy()
            for line in explorer.figure.axes[0].get_lines()}
    explorer.set(beta2=0.99)  # Adam and RMSProp move; gradient descent and momentum do not
    after = {line.get_color(): line.get_xydata() for line in explorer.figure.axes[0].get_lines()}
    for color, moved in [("C0", False), ("C2", False), ("C4", False), ("C1", True), ("C3", True)]:
        same = np.array_equal(data[color], after[color], equal_nan=True)
        assert same != moved, color


def test_an_unknown_problem_is_refused():
    with pytest.raises(ValueError, match="problem must be one of"):
        widgets.adam_explorer(problem="Himmelblau")

