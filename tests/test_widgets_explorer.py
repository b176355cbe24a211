"""``course_lib.widgets.explorer``: redraws and blitting, for the Explorer and every lesson's.

Every lesson's explorer is built small (from the runs in ``conftest.py`` where it accepts
precomputed runs) and held to the same contract: moving any control changes the picture, and
what a blitted redraw shows is what a full ``render()`` shows.
"""

import inspect
import math
import pkgutil
import re
from collections.abc import Callable
from typing import NamedTuple

import ipywidgets
import numpy as np
import pytest

from course_lib import plots, widgets


class ExplorerCase(NamedTuple):
    explorer: Callable  # the lesson's explorer function
    arguments: Callable  # arguments(fixture) -> its keyword arguments, fixture(name) from conftest
    moves: list[tuple[str, object]]  # one control at a time; together they move every control
    blitted: list[dict]  # set(...) calls that only move artists: no full render

    def build(self, fixture: Callable, **changes: object):
        return self.explorer(**{**self.arguments(fixture), **changes})


EXPLORERS = {
    "l00_gradient_descent": ExplorerCase(
        widgets.gradient_descent_explorer, lambda fixture: {},
        [("lr", 1.7), ("kappa", 30.0)],
        [{"lr": 0.4}, {"lr": 1.9}]),
    "l01_feature_scaling": ExplorerCase(
        widgets.feature_scaling_explorer, lambda fixture: {"steps": 20},
        [("scaler", "z-score"), ("lr", 0.5)],
        [{"lr": 1.2}, {"lr": 2.2}]),  # the last one diverges
    "l02_momentum": ExplorerCase(
        widgets.momentum_explorer, lambda fixture: {},
        [("beta", 0.5), ("lr", 20.0), ("nesterov", True)],
        [{"beta": 0.3, "lr": 2.0}, {"beta": 0.95, "lr": 40.0, "nesterov": False}]),
    "l03_rmsprop": ExplorerCase(
        widgets.rmsprop_explorer, lambda fixture: {},
        [("lr", 0.2), ("beta", 0.5), ("eps", 0.1), ("problem", "Rosenbrock")],
        [{"lr": 0.01}, {"lr": 0.2, "beta": 0.99}]),
    "l04_adam": ExplorerCase(
        widgets.adam_explorer, lambda fixture: {},
        [("lr", 0.3), ("beta1", 0.5), ("beta2", 0.99), ("bias_correction", False),
         ("problem", "bowl κ = 100, rotated 30°")],
        [{"lr": 0.05}, {"beta1": 0.7}]),
    "l05_mini_batch": ExplorerCase(
        widgets.mini_batch_explorer, lambda fixture: {"runs": fixture("mini_batch_grid")},
        [("smoothing", 1.0), ("batch_size", 64), ("lr", 0.01)],
        [{"batch_size": 8, "lr": 50.0}, {"batch_size": 8, "lr": 0.1, "smoothing": 0.5}]),
    "l06_learning_rate_decay": ExplorerCase(
        widgets.lr_schedule_explorer, lambda fixture: {"steps": 100, "chains": 10},
        # each schedule shows only its own sliders: move them while it is chosen
        [("lr0", 0.2), ("warmup", 20), ("t_max", 60), ("schedule", "step"), ("interval", 20),
         ("factor", 0.5), ("schedule", "exponential"), ("gamma", 0.97),
         ("schedule", "inverse-time"), ("decay_rate", 0.1)],
        [{"lr0": 0.5}, {"lr0": 1.2, "warmup": 10}]),
    "l07_batch_normalization": ExplorerCase(
        widgets.batch_norm_explorer, lambda fixture: {"runs": fixture("batch_norm_grid")},
        [("depth", 0), ("lr", 0.03), ("batch_norm", False), ("lr", 1e4)],
        # rows appear, then a diverged run: empty rows and "diverged" titles
        [{"depth": 2, "lr": 0.3, "batch_norm": True}, {"lr": 1e4, "batch_norm": False}]),
    "l08_residual_layers": ExplorerCase(
        widgets.residual_explorer,
        lambda fixture: {"runs": fixture("residual_grid"), "depth": 2},
        [("epoch", 1), ("depth", 4), ("init", "He")],
        [{"depth": 2, "init": "std 0.1", "epoch": 1}, {"depth": 4, "init": "He", "epoch": 2}]),
    "l09_putting_it_together": ExplorerCase(
        widgets.recipe_explorer,
        lambda fixture: {"runs": fixture("recipe_grid"),
                         "techniques": fixture("recipe_techniques")},
        [("z_score", False), ("mini_batch", False), ("batch_norm", False)],
        [{"z_score": True, "mini_batch": True}, {"batch_norm": True, "mini_batch": False}]),
}


def test_every_lesson_module_has_its_explorer_in_the_contract_test():
    lessons = {module.name for module in pkgutil.iter_modules(widgets.__path__)}
    assert set(EXPLORERS) == lessons - {"explorer"}


@pytest.mark.parametrize("lesson", sorted(EXPLORERS))
def test_every_control_redraws_and_a_blitted_redraw_equals_a_full_render(
        lesson, request, monkeypatch, pixels):
    case = EXPLORERS[lesson]
    explorer = case.build(request.getfixturevalue)
    assert {name for name, _ in case.moves} == set(explorer.controls)
    seen = [explorer.image.value]
    for name, value in case.moves:  # as in the notebook: one control moves, one redraw
        explorer.controls[name].value = value
        seen.append(explorer.image.value)
        assert seen[-1] != seen[-2], name
    assert len(set(seen)) == len(seen)  # no two settings look the same
    assert len(explorer.redraw_ms) == len(seen)
    assert all(math.isfinite(ms) and ms > 0 for ms in explorer.redraw_ms)

    full_renders = []
    render = explorer.render
    monkeypatch.setattr(explorer, "render", lambda: full_renders.append(1) or render())
    for values in case.blitted:
        explorer.set(**values)
    assert full_renders == []  # only the moving artists were drawn, over the cached rest
    blitted = pixels(explorer.png())
    render()
    np.testing.assert_array_equal(blitted, pixels(explorer.png()))


def slider_range(control: ipywidgets.ValueWidget) -> tuple[float, float]:
    """The values a numeric slider can show, ``(low, high)``."""
    if isinstance(control, ipywidgets.FloatLogSlider):
        return control.base**control.min, control.base**control.max
    return control.min, control.max


# Lessons 07 and 09 set no slider from an argument (their controls are choices and toggles).
SLIDERS_SET_BY_ARGUMENTS = sorted(set(EXPLORERS) - {"l07_batch_normalization",
                                                    "l09_putting_it_together"})


@pytest.mark.parametrize("lesson", SLIDERS_SET_BY_ARGUMENTS)
def test_an_argument_outside_its_sliders_range_is_refused(lesson, request):
    # ipywidgets would move it silently to the nearest end of the slider (adam_explorer(lr=-1)
    # showed lr = 0.001): the explorer refuses it, naming the argument and the range
    case = EXPLORERS[lesson]
    explorer = case.build(request.getfixturevalue)
    arguments = inspect.signature(case.explorer).parameters
    numeric = (ipywidgets.FloatSlider, ipywidgets.FloatLogSlider, ipywidgets.IntSlider)
    set_by_arguments = {name: slider_range(control) for name, control in explorer.controls.items()
                        if name in arguments and isinstance(control, numeric)}
    assert set_by_arguments, f"no slider of {lesson} is set by an argument"
    for name, (low, high) in set_by_arguments.items():
        for value in (low - 1, high + 1):
            message = re.escape(f"{name} must be in [{low:g}, {high:g}] (the range of its "
                                f"slider), got {value:g}")
            with pytest.raises(ValueError, match=f"^{message}$"):
                case.build(request.getfixturevalue, **{name: value})


@pytest.mark.parametrize(
    ("lesson", "changes", "error", "message"),
    [
        ("l00_gradient_descent", {"steps": 0}, ValueError, "steps must be >= 1"),
        ("l01_feature_scaling", {"steps": 0}, ValueError, "steps must be >= 1"),
        ("l02_momentum", {"steps": 0}, ValueError, "steps must be >= 1"),
        ("l04_adam", {"bias_correction": "yes"}, TypeError,
         "bias_correction must be True or False"),
        ("l06_learning_rate_decay", {"steps": 0}, ValueError, "steps must be >= 1"),
        ("l06_learning_rate_decay", {"chains": 0}, ValueError, "chains must be >= 1"),
        ("l06_learning_rate_decay", {"seed": -1}, ValueError, "seed must be >= 0"),
        ("l07_batch_normalization", {"batch_norm": 1}, TypeError,
         "batch_norm must be True or False"),
        # the start of the paths: a point (x, y), not broadcast against the problem
        ("l00_gradient_descent", {"x0": (1.0, 2.0, 3.0)}, ValueError,
         r"x0 must have shape \(2,\), got shape \(3,\)"),
        ("l02_momentum", {"x0": [[1.0, 2.0], [0.5, 0.5]]}, ValueError,
         r"x0 must have shape \(2,\), got shape \(2, 2\)"),
        ("l02_momentum", {"x0": (np.nan, 1.0)}, ValueError, "x0 contains NaN or infinity"),
        ("l00_gradient_descent", {"x0": "ab"}, TypeError, "x0 must be a numeric array"),
        ("l06_learning_rate_decay", {"x0": (1.0,)}, TypeError, "x0 must be a real number"),
        ("l06_learning_rate_decay", {"x0": np.inf}, ValueError, "x0 must be finite"),
    ],
)
def test_other_bad_arguments_are_refused_naming_them(lesson, changes, error, message, request):
    with pytest.raises(error, match=f"^{message}"):
        EXPLORERS[lesson].build(request.getfixturevalue, **changes)


def test_the_slider_checks_its_initial_value():
    assert widgets.slider("β", 0.99, 0.0, 0.99, 0.01).value == 0.99  # the ends are in range
    assert widgets.slider("lr", 1e-3, -3, 0, 0.1, log=True).value == pytest.approx(1e-3)
    assert widgets.slider("steps", 5, 5, 10, 1, integer=True).value == 5
    with pytest.raises(ValueError, match=r"^β must be in \[0, 0.99\]"):
        widgets.slider("β", 1.0, 0.0, 0.99, 0.01)
    with pytest.raises(ValueError, match=r"^beta1 must be in \[0, 0.99\].*got 1$"):
        widgets.slider("β1", 1.0, 0.0, 0.99, 0.01, name="beta1")
    with pytest.raises(ValueError, match=r"^lr must be in \[0.001, 1\].*got -1$"):
        widgets.slider("η", -1, -3, 0, 0.1, log=True, name="lr")
    with pytest.raises(TypeError, match="^lr must be a real number, got str"):
        widgets.slider("η", "0.1", -3, 0, 0.1, log=True, name="lr")
    with pytest.raises(TypeError, match="^steps must be an integer, got float"):
        widgets.slider("steps", 5.0, 5, 10, 1, integer=True, name="steps")


# --- the Explorer itself ------------------------------------------------------------------------


def test_set_moves_several_controls_with_one_redraw():
    explorer = widgets.gradient_descent_explorer()
    n = len(explorer.redraw_ms)
    explorer.set(lr=0.5, kappa=30.0)
    assert len(explorer.redraw_ms) == n + 1
    assert explorer.values == {"lr": 0.5, "kappa": pytest.approx(30.0)}


def test_set_rejects_unknown_controls():
    explorer = widgets.gradient_descent_explorer()
    with pytest.raises(ValueError, match="unknown controls"):
        explorer.set(momentum=0.9)


def test_a_draw_that_returns_none_renders_everything():
    figure, (ax,) = plots.new_figure()
    (line,) = ax.plot([0, 1], [0, 1])
    slider = ipywidgets.FloatSlider(value=1.0, min=0.0, max=2.0)

    def draw(slope):
        line.set_ydata([0, slope])

    explorer = widgets.Explorer(figure, {"slope": slider}, draw)
    first = explorer.image.value
    slider.value = 2.0
    assert explorer.image.value != first


def test_snapshot_is_a_png_picture():
    snapshot = widgets.gradient_descent_explorer().snapshot()
    assert snapshot.format == "png"
    assert snapshot.data[:8] == b"\x89PNG\r\n\x1a\n"
