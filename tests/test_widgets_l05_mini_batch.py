"""Lesson 05's library additions: the smoothing, the default grid of runs and the explorer."""

import io

import numpy as np
import pytest
from PIL import Image

from course_lib import widgets
from course_lib.layers import Dense
from course_lib.losses import mse
from course_lib.optimizers import SGD
from course_lib.training import fit
from course_lib.widgets.l05_mini_batch import _diverged, _smoothed


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


@pytest.fixture(scope="module")
def runs():
    """A 2 x 3 grid of least-squares runs; lr = 50 is far past the stability bound."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5))
    y = X @ rng.normal(size=(5, 1)) + 0.1 * rng.normal(size=(64, 1))
    grid = {}
    for batch_size in (8, 64):
        for lr in (0.01, 0.1, 50.0):
            model = Dense(5, 1, rng=np.random.default_rng(1))
            grid[batch_size, lr] = fit(model, mse, SGD(lr), X, y, epochs=3,
                                       batch_size=batch_size, seed=2, track_grad_norms=False)
    return grid


# --- _smoothed --------------------------------------------------------------------------------


def test_smoothing_a_constant_gives_the_constant_from_the_first_step():
    np.testing.assert_allclose(_smoothed(np.full(20, 3.0), span=5), 3.0)


def test_a_span_of_one_or_less_leaves_the_values_alone():
    values = np.random.default_rng(0).normal(size=30)
    np.testing.assert_allclose(_smoothed(values, span=1), values)
    np.testing.assert_allclose(_smoothed(values, span=0), values)


def test_smoothing_is_the_bias_corrected_moving_average():
    values = np.random.default_rng(1).normal(size=12)
    beta = 1 - 1 / 4
    m, expected = 0.0, []
    for t, x in enumerate(values, start=1):
        m = beta * m + (1 - beta) * x
        expected.append(m / (1 - beta**t))
    np.testing.assert_allclose(_smoothed(values, span=4), expected)


def test_smoothing_shrinks_the_noise_about_a_level():
    noise = np.random.default_rng(2).normal(size=4000)
    smooth = _smoothed(1.0 + noise, span=50)[200:]
    # an EMA with weight 1/50 keeps a variance of (1/50) / (2 − 1/50) ≈ 1/99 of white noise
    assert smooth.std() == pytest.approx(np.sqrt(1 / 99), rel=0.25)
    assert smooth.mean() == pytest.approx(1.0, abs=0.05)


# --- mini_batch_explorer ----------------------------------------------------------------------


def test_every_control_redraws_the_image(runs):
    explorer = widgets.mini_batch_explorer(runs)
    for name, value in [("smoothing", 1.0), ("batch_size", 64), ("lr", 0.01)]:
        before = explorer.image.value
        explorer.controls[name].value = value
        assert explorer.image.value != before, name


def test_the_explorer_starts_at_the_smallest_batch_and_a_middle_rate(runs):
    explorer = widgets.mini_batch_explorer(runs)
    assert explorer.values == {"smoothing": 0.25, "batch_size": 8, "lr": 0.1}


def test_the_curves_are_the_runs_history(runs):
    explorer = widgets.mini_batch_explorer(runs, batch_size=8, lr=0.01, smoothing=0.0)
    history = runs[8, 0.01]
    raw, smooth, per_epoch = explorer.figure.axes[0].lines
    np.testing.assert_allclose(raw.get_ydata(), history.step_loss)
    np.testing.assert_allclose(raw.get_xdata(), np.arange(24) / 8)  # 8 steps per epoch
    np.testing.assert_allclose(smooth.get_ydata(), history.step_loss)  # no smoothing
    np.testing.assert_allclose(per_epoch.get_ydata(), history.train_loss)


def test_a_blitted_redraw_equals_a_full_render(runs):
    explorer = widgets.mini_batch_explorer(runs)
    explorer.set(batch_size=64, lr=0.01)
    explorer.set(batch_size=8, lr=0.1, smoothing=0.5)  # blitted
    blitted = pixels(explorer.png())
    explorer.render()
    np.testing.assert_array_equal(blitted, pixels(explorer.png()))


def test_the_title_names_the_run_and_a_divergence(runs):
    explorer = widgets.mini_batch_explorer(runs, batch_size=64, lr=0.1)
    title = explorer.figure.axes[0].get_title()
    assert title == "B = 64, lr = 0.1: 1 steps per epoch, lr/B = 1.6e-03"
    assert _diverged(runs[8, 50.0]) and not _diverged(runs[8, 0.1])
    explorer.set(batch_size=8, lr=50.0)
    assert explorer.figure.axes[0].get_title().endswith("diverged")


def test_a_run_diverged_when_its_loss_went_nan_or_ended_no_lower_than_it_started(runs):
    history = runs[8, 0.1]
    assert not _diverged(history)
    saved = history.train_loss.copy()
    try:
        history.train_loss[-1] = history.train_loss[0]
        assert _diverged(history)
        history.train_loss[-1] = np.nan
        assert _diverged(history)
    finally:
        history.train_loss[:] = saved


def test_the_grid_marks_a_diverged_run_blank(runs):
    explorer = widgets.mini_batch_explorer(runs)
    grid = explorer.figure.axes[1].images[0].get_array()
    assert grid.shape == (2, 3)  # batch sizes x learning rates
    assert np.ma.is_masked(grid[0, 2]) or np.isnan(grid[0, 2])
    texts = [t.get_text() for t in explorer.figure.axes[1].texts]
    assert "div." in texts


def test_the_explorer_rejects_a_partial_grid_or_an_unknown_start(runs):
    partial = {key: h for key, h in runs.items() if key != (64, 50.0)}
    with pytest.raises(ValueError, match=r"missing \[\(64, 50.0\)\]"):
        widgets.mini_batch_explorer(partial)
    with pytest.raises(ValueError, match="must be in the grid"):
        widgets.mini_batch_explorer(runs, batch_size=16)
    with pytest.raises(TypeError, match="non-empty dict"):
        widgets.mini_batch_explorer({})
    with pytest.raises(ValueError, match="pairs"):
        widgets.mini_batch_explorer({8: runs[8, 0.01]})
