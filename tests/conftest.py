"""What several test files share: a PNG decoder and the small runs the explorers are built from.

The runs are computed once per test session; a test that changes one restores it.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from course_lib.data import digits_subset
from course_lib.layers import Dense
from course_lib.losses import mse
from course_lib.optimizers import SGD
from course_lib.studies import batch_norm_runs, residual_runs
from course_lib.training import History, fit


@pytest.fixture(scope="session")
def pixels() -> Callable[[bytes], np.ndarray]:
    """``pixels(png)``: the picture as an RGBA array, to compare images pixel for pixel."""

    def decode(png: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))

    return decode


def assert_same_state(after: object, before: object, where: str = "state") -> None:
    """Assert that two ``state_dict()``s (of a model, an optimizer or a scaler) are identical:
    the same names, arrays equal bit for bit, numbers equal."""
    if isinstance(before, dict):
        assert isinstance(after, dict) and after.keys() == before.keys(), where
        for key, value in before.items():
            assert_same_state(after[key], value, f"{where}[{key!r}]")
    elif isinstance(before, np.ndarray):
        np.testing.assert_array_equal(after, before, err_msg=where)
    else:
        assert after == before, where


@pytest.fixture(scope="session")
def same_state() -> Callable[[object, object], None]:
    """``same_state(after, before)``: see ``assert_same_state``."""
    return assert_same_state


# --- lesson 05: a grid of mini-batch runs --------------------------------------------------------


@pytest.fixture(scope="session")
def mini_batch_grid() -> dict:
    """A 2 x 3 grid ``{(batch_size, lr): History}`` of least-squares runs; lr = 50 diverges."""
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


# --- lesson 07: batch norm by depth and learning rate ------------------------------------------


@pytest.fixture(scope="session")
def batch_norm_grid() -> dict:
    """``studies.batch_norm_runs`` on 128 digits: depths 0 and 2, lr 0.03, 0.3, 1e4 (diverges)."""
    X, y = digits_subset(128, 0, dtype=np.float32)
    return batch_norm_runs(X, y, depths=[0, 2], lrs=[0.03, 0.3, 1e4], width=8, epochs=2,
                           batch_size=32, probe_rows=64)


# --- lesson 08: plain and residual networks ----------------------------------------------------


@pytest.fixture(scope="session")
def residual_grid() -> dict:
    """``studies.residual_runs`` on 64 digits: depths 2 and 4, both inits, 2 epochs."""
    X, y = digits_subset(64, 0, dtype=np.float32, scale_on="all")
    return residual_runs(X, y, depths=(2, 4), epochs=2, batch_size=32)


# --- lesson 09: made-up histories of the recipe with techniques left out -------------------------

RECIPE_EPOCHS = 4


def recipe_history(val_accuracy, train_loss) -> History:
    return History(epochs=RECIPE_EPOCHS, steps_per_epoch=2, step_loss=np.zeros(2 * RECIPE_EPOCHS),
                   step_lr=np.zeros(2 * RECIPE_EPOCHS), train_loss=np.asarray(train_loss, float),
                   val_accuracy=np.asarray(val_accuracy, float))


def recipe_seeds(final: float, reach_at: int | None, n: int = 3) -> list[History]:
    """``n`` histories whose accuracy rises to about ``final``; ``>= 0.95`` from ``reach_at``."""
    runs = []
    for s in range(n):
        acc = np.linspace(0.1, final, RECIPE_EPOCHS + 1) + 0.001 * s
        if reach_at is not None:
            acc[reach_at:] = np.maximum(acc[reach_at:], 0.95)
            acc[:reach_at] = np.minimum(acc[:reach_at], 0.9)
        runs.append(recipe_history(acc, np.geomspace(2.0, 0.01 * (1 - final + 0.01),
                                                      RECIPE_EPOCHS + 1)))
    return runs


@pytest.fixture
def make_recipe_seeds() -> Callable[..., list[History]]:
    """``make_recipe_seeds(final, reach_at, n=3)``: seeds of made-up 4-epoch histories."""
    return recipe_seeds


@pytest.fixture
def recipe_techniques() -> tuple[str, ...]:
    return ("z-score", "mini-batch", "batch norm")


@pytest.fixture
def recipe_grid(recipe_techniques) -> dict:
    """``{frozenset(used): [History, ...]}``: the full recipe, none, and each one left out."""
    full = frozenset(recipe_techniques)
    grid = {full: recipe_seeds(0.98, 2), frozenset(): recipe_seeds(0.6, None)}
    for name in recipe_techniques:
        grid[full - {name}] = recipe_seeds(0.97 if name != "mini-batch" else 0.9,
                                           3 if name != "mini-batch" else None)
    return grid


# --- loss curves of several seeds ----------------------------------------------------------------


@pytest.fixture
def noisy_curves() -> Callable[..., np.ndarray]:
    """``noisy_curves(seed=0, seeds=5, steps=30)``: decaying curves, one row per seed."""

    def make(seed: int = 0, seeds: int = 5, steps: int = 30) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return np.exp(-0.1 * np.arange(steps)) * rng.uniform(0.5, 1.5, size=(seeds, steps))

    return make
