"""The Explorer machinery: redraws, blitting, and the lesson-00 explorer."""

import io

import ipywidgets
import numpy as np
import pytest
from PIL import Image

from course_lib import plots, widgets


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_moving_a_slider_redraws_the_image():
    explorer = widgets.gradient_descent_explorer()
    before = explorer.image.value
    explorer.controls["lr"].value = 1.7
    assert explorer.image.value != before
    assert len(explorer.redraw_ms) == 2  # the first draw and this one


def test_blitted_redraw_equals_a_full_render():
    explorer = widgets.gradient_descent_explorer()
    explorer.set(lr=0.4)
    explorer.set(lr=1.9)  # fast path: only the moving artists are redrawn
    blitted = pixels(explorer.png())
    explorer.render()
    np.testing.assert_array_equal(blitted, pixels(explorer.png()))


def test_changing_kappa_redraws_the_contours():
    explorer = widgets.gradient_descent_explorer(kappa=10)
    explorer.set(kappa=10.0)
    same = pixels(explorer.png())
    explorer.set(kappa=100.0)
    other = pixels(explorer.png())
    assert (same != other).any()
    explorer.set(kappa=10.0)
    np.testing.assert_array_equal(same, pixels(explorer.png()))


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


def test_contours_draw_the_star_only_when_asked():
    from course_lib.problems import Quadratic

    figure, (ax,) = plots.new_figure()
    plots.contours(ax, Quadratic(kappa=5), (-1, 1), (-1, 1))
    assert len(ax.lines) == 1
    plots.contours(ax, Quadratic(kappa=5), (-1, 1), (-1, 1), star=False)
    assert len(ax.lines) == 1
