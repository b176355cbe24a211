"""Lesson 06's explorer: a schedule made from its knobs, and its expected loss.

The schedules and the noisy quadratic themselves are tested in ``test_schedules.py`` and
``test_problems.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import schedules, widgets
from course_lib.problems import NoisyQuadratic
from course_lib.widgets.l06_learning_rate_decay import _LR_SCHEDULE_KNOBS


def test_knobs_make_the_library_schedules():
    make = widgets.lr_schedule_from_knobs
    assert repr(make("step", 0.5, interval=40, factor=0.3)) == repr(
        schedules.step_decay(0.5, 40, 0.3))
    assert repr(make("inverse-time, staircase", 0.5, decay_rate=0.1, interval=20)) == repr(
        schedules.inverse_time_decay(0.5, 0.1, decay_steps=20, staircase=True))
    assert repr(make("cosine", 0.5, t_max=100, warmup=10)) == repr(
        schedules.warmup(schedules.cosine_decay(0.5, 100, lr_min=0.0005), 10))
    with pytest.raises(ValueError, match="name must be one of"):
        make("one-cycle", 0.5)


def test_every_schedule_redraws_and_shows_only_its_own_sliders():
    explorer = widgets.lr_schedule_explorer(steps=100, chains=10)
    images = set()
    for name in widgets.LR_SCHEDULE_NAMES:
        explorer.set(schedule=name)
        images.add(explorer.image.value)
        shown = {k for k, c in explorer.controls.items() if c.layout.display != "none"}
        assert shown == {"schedule", "lr0", "warmup", *_LR_SCHEDULE_KNOBS[name]}
    assert len(images) == len(widgets.LR_SCHEDULE_NAMES)


def test_the_lines_show_the_schedule_and_its_expected_loss():
    explorer = widgets.lr_schedule_explorer(steps=80, chains=5, L=2.0)
    explorer.set(schedule="exponential", lr0=0.6, gamma=0.97)  # lr0 × L = 0.6: lr0 = 0.3
    ax_lr, ax_loss = explorer.figure.axes
    schedule = schedules.exponential_decay(0.3, 0.97)
    lr_line = next(line for line in ax_lr.lines if line.get_label() == "schedule")
    np.testing.assert_allclose(lr_line.get_ydata(), [schedule(t) for t in range(80)], rtol=1e-12)
    loss_line = next(line for line in ax_loss.lines if line.get_label() == "schedule: E[loss]")
    expected = NoisyQuadratic(L=2.0, sigma=1.0).expected_loss(schedule, 3.0, 80)
    np.testing.assert_allclose(loss_line.get_ydata(), expected, rtol=1e-12)


def test_fewer_steps_than_the_t_max_sliders_usual_minimum():
    # t_max runs from 20 steps to steps: with fewer steps, from steps to steps
    explorer = widgets.lr_schedule_explorer(steps=10, chains=2)
    assert (explorer.controls["t_max"].min, explorer.controls["t_max"].max) == (10, 10)
    assert explorer.controls["t_max"].value == 10


def test_an_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="schedule must be one of"):
        widgets.lr_schedule_explorer(schedule="one-cycle")

