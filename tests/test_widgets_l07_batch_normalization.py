"""Lesson 07's explorer: a deep MLP with and without batch norm, by depth and learning rate."""

import io

import numpy as np
import pytest
from PIL import Image

from course_lib import widgets
from course_lib.data import digits_subset
from course_lib.studies import batch_norm_runs


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


# --- the explorer ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid():
    X, y = digits_subset(128, 0, dtype=np.float32)
    return batch_norm_runs(X, y, depths=[0, 2], lrs=[0.03, 0.3, 1e4], width=8, epochs=2,
                           batch_size=32, probe_rows=64)


def test_the_explorer_redraws_on_every_control(grid):
    explorer = widgets.batch_norm_explorer(grid)
    assert explorer.values == {"depth": 2, "lr": 0.3, "batch_norm": True}
    seen = [explorer.image.value]
    for values in [{"depth": 0}, {"lr": 0.03}, {"batch_norm": False}, {"lr": 1e4}]:
        explorer.set(**values)
        seen.append(explorer.image.value)
    assert len(set(seen)) == len(seen)
    assert len(explorer.redraw_ms) == len(seen)


def test_blitted_redraws_equal_a_full_render(grid):
    explorer = widgets.batch_norm_explorer(grid, depth=0, lr=0.03, batch_norm=False)
    explorer.set(depth=2, lr=0.3, batch_norm=True)  # rows appear: still only moving artists
    explorer.set(lr=1e4, batch_norm=False)  # a diverged run: empty rows, "diverged" titles
    blitted = pixels(explorer.png())
    explorer.render()
    np.testing.assert_array_equal(blitted, pixels(explorer.png()))


def test_going_back_gives_the_same_picture(grid):
    explorer = widgets.batch_norm_explorer(grid, depth=2, lr=0.3)
    explorer.set(lr=0.03)
    explorer.set(lr=0.3)
    first = pixels(explorer.png())
    explorer.set(depth=0, lr=0.03, batch_norm=False)
    explorer.set(depth=2, lr=0.3, batch_norm=True)
    np.testing.assert_array_equal(first, pixels(explorer.png()))


def test_the_hidden_rows_follow_the_depth(grid):
    explorer = widgets.batch_norm_explorer(grid, depth=0)
    ax_hist = explorer.figure.axes[0]
    ridges = [p for p in ax_hist.patches]
    assert [r.get_visible() for r in ridges] == [True, False, False]
    explorer.set(depth=2)
    assert [r.get_visible() for r in ridges] == [True, True, True]
    assert "diverged" not in ax_hist.get_title()
    explorer.set(lr=1e4, batch_norm=False)
    assert "diverged" in ax_hist.get_title()


def test_the_explorer_rejects_an_incomplete_grid_or_values_outside_it(grid):
    partial = dict(grid)
    del partial[0, 0.3, True]
    with pytest.raises(ValueError, match="every"):
        widgets.batch_norm_explorer(partial)
    with pytest.raises(ValueError, match="in the grid"):
        widgets.batch_norm_explorer(grid, depth=1)
    with pytest.raises(TypeError, match="dict"):
        widgets.batch_norm_explorer([1, 2])
