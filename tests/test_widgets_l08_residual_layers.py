"""Lesson 08's explorer: per-layer gradient norms of plain and residual networks.

The runs are ``residual_grid`` of ``conftest.py``; the networks themselves are tested in
``test_networks.py``.
"""

import numpy as np
import pytest

from course_lib import widgets


def test_the_explorer_shows_one_bar_per_weight_matrix(residual_grid):
    explorer = widgets.residual_explorer(runs=residual_grid, depth=2)
    ax = explorer.figure.axes[0]
    visible = [patch for patch in ax.patches if patch.get_visible()]
    assert len(visible) == 2 * (2 + 2)
    explorer.set(depth=4)
    visible = [patch for patch in ax.patches if patch.get_visible()]
    assert len(visible) == 2 * (4 + 2)
    heights = sorted(patch.get_height() for patch in visible)
    expected = sorted([*residual_grid["std 0.1", "plain", 4].norms[0],
                       *residual_grid["std 0.1", "residual", 4].norms[0]])
    np.testing.assert_allclose(heights, expected, rtol=1e-6)


def test_the_explorer_rejects_settings_it_did_not_compute(residual_grid):
    with pytest.raises(ValueError, match="depth"):
        widgets.residual_explorer(runs=residual_grid, depth=8)
    with pytest.raises(ValueError, match="init"):
        widgets.residual_explorer(runs=residual_grid, depth=2, init="xavier")

