"""Lesson 05's explorer and its smoothing of the step losses.

The runs are ``mini_batch_grid`` of ``conftest.py``: least squares, batch sizes 8 and 64,
learning rates 0.01, 0.1 and 50 (which diverges).
"""

import numpy as np
import pytest

from course_lib import widgets
from course_lib.widgets.l05_mini_batch import _diverged, _smoothed

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


def test_the_explorer_starts_at_the_smallest_batch_and_a_middle_rate(mini_batch_grid):
    explorer = widgets.mini_batch_explorer(mini_batch_grid)
    assert explorer.values == {"smoothing": 0.25, "batch_size": 8, "lr": 0.1}


def test_the_curves_are_the_runs_history(mini_batch_grid):
    explorer = widgets.mini_batch_explorer(mini_batch_grid, batch_size=8, lr=0.01, smoothing=0.0)
    history = mini_batch_grid[8, 0.01]
    raw, smooth, per_epoch = explorer.figure.axes[0].lines
    np.testing.assert_allclose(raw.get_ydata(), history.step_loss)
    np.testing.assert_allclose(raw.get_xdata(), np.arange(24) / 8)  # 8 steps per epoch
    np.testing.assert_allclose(smooth.get_ydata(), history.step_loss)  # no smoothing
    np.testing.assert_allclose(per_epoch.get_ydata(), history.train_loss)


def test_the_title_names_the_run_and_a_divergence(mini_batch_grid):
    explorer = widgets.mini_batch_explorer(mini_batch_grid, batch_size=64, lr=0.1)
    title = explorer.figure.axes[0].get_title()
    assert title == "B = 64, lr = 0.1: 1 steps per epoch, lr/B = 1.6e-03"
    assert _diverged(mini_batch_grid[8, 50.0]) and not _diverged(mini_batch_grid[8, 0.1])
    explorer.set(batch_size=8, lr=50.0)
    assert explorer.figure.axes[0].get_title().endswith("diverged")


def test_a_run_diverged_when_its_loss_went_nan_or_ended_no_lower_than_it_started(mini_batch_grid):
    history = mini_batch_grid[8, 0.1]
    assert not _diverged(history)
    saved = history.train_loss.copy()
    try:
        history.train_loss[-1] = history.train_loss[0]
        assert _diverged(history)
        history.train_loss[-1] = np.nan
        assert _diverged(history)
    finally:
        history.train_loss[:] = saved


def test_the_grid_marks_a_diverged_run_blank(mini_batch_grid):
    explorer = widgets.mini_batch_explorer(mini_batch_grid)
    grid = explorer.figure.axes[1].images[0].get_array()
    assert grid.shape == (2, 3)  # batch sizes x learning rates
    assert np.ma.is_masked(grid[0, 2]) or np.isnan(grid[0, 2])
    texts = [t.get_text() for t in explorer.figure.axes[1].texts]
    assert "div." in texts


def test_the_explorer_rejects_a_partial_grid_or_an_unknown_start(mini_batch_grid):
    partial = {key: h for key, h in mini_batch_grid.items() if key != (64, 50.0)}
    with pytest.raises(ValueError, match=r"missing \[\(64, 50.0\)\]"):
        widgets.mini_batch_explorer(partial)
    with pytest.raises(ValueError, match="must be in the grid"):
        widgets.mini_batch_explorer(mini_batch_grid, batch_size=16)
    with pytest.raises(TypeError, match="non-empty dict"):
        widgets.mini_batch_explorer({})
    with pytest.raises(ValueError, match="pairs"):
        widgets.mini_batch_explorer({8: mini_batch_grid[8, 0.01]})

