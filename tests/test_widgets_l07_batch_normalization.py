"""Lesson 07's explorer: a deep MLP with and without batch norm, by depth and learning rate.

The runs are ``batch_norm_grid`` of ``conftest.py``.
"""

import numpy as np
import pytest

from course_lib import widgets


def test_the_explorer_starts_at_the_deepest_network_a_middle_rate_and_batch_norm(
        batch_norm_grid):
    explorer = widgets.batch_norm_explorer(batch_norm_grid)
    assert explorer.values == {"depth": 2, "lr": 0.3, "batch_norm": True}


def test_going_back_gives_the_same_picture(batch_norm_grid, pixels):
    explorer = widgets.batch_norm_explorer(batch_norm_grid, depth=2, lr=0.3)
    explorer.set(lr=0.03)
    explorer.set(lr=0.3)
    first = pixels(explorer.png())
    explorer.set(depth=0, lr=0.03, batch_norm=False)
    explorer.set(depth=2, lr=0.3, batch_norm=True)
    np.testing.assert_array_equal(first, pixels(explorer.png()))


def test_the_hidden_rows_follow_the_depth(batch_norm_grid):
    explorer = widgets.batch_norm_explorer(batch_norm_grid, depth=0)
    ax_hist = explorer.figure.axes[0]
    ridges = [p for p in ax_hist.patches]
    assert [r.get_visible() for r in ridges] == [True, False, False]
    explorer.set(depth=2)
    assert [r.get_visible() for r in ridges] == [True, True, True]
    assert "diverged" not in ax_hist.get_title()
    explorer.set(lr=1e4, batch_norm=False)
    assert "diverged" in ax_hist.get_title()


def test_the_explorer_rejects_an_incomplete_grid_or_values_outside_it(batch_norm_grid):
    partial = dict(batch_norm_grid)
    del partial[0, 0.3, True]
    with pytest.raises(ValueError, match="every"):
        widgets.batch_norm_explorer(partial)
    with pytest.raises(ValueError, match="in the grid"):
        widgets.batch_norm_explorer(batch_norm_grid, depth=1)
    with pytest.raises(TypeError, match="dict"):
        widgets.batch_norm_explorer([1, 2])

