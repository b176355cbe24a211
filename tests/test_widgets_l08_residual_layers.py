"""Lesson 08: plain against residual networks, and the residual explorer."""

import io

import numpy as np
import pytest
from PIL import Image

from course_lib import widgets
from course_lib.data import digits_subset
from course_lib.layers import Dense, Residual, Sequential
from course_lib.losses import softmax_cross_entropy
from course_lib.networks import mlp, weight_names
from course_lib.probes import gradient_norms
from course_lib.studies import residual_runs


def relu(z):
    return np.maximum(z, 0)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


# --- the networks -----------------------------------------------------------------------------


def test_the_forward_passes_compute_the_formulas():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 64))
    for residual in (False, True):
        model = mlp(depth=4, residual=residual, width=6, init=0.5, rng=1)
        for name, p in model.params.items():  # non-zero biases, so every term shows
            if name.endswith("b"):
                p[...] = rng.normal(size=p.shape)
        W = [model.params[name] for name in weight_names(model)]
        b = [model.params[name[:-1] + "b"] for name in weight_names(model)]
        h = relu(x @ W[0] + b[0])
        for k in range(1, 5, 2):  # hidden layers k and k + 1
            inner = relu(h @ W[k] + b[k]) @ W[k + 1] + b[k + 1]
            h = h + inner if residual else relu(relu(h @ W[k] + b[k]) @ W[k + 1] + b[k + 1])
        np.testing.assert_allclose(model.forward(x), h @ W[5] + b[5], rtol=1e-12)


def test_a_small_branch_makes_the_residual_gradient_independent_of_depth():
    """The lesson's claim in miniature: tiny branches vanish the plain gradient, not the skip."""
    x = np.random.default_rng(0).normal(size=(32, 64))
    y = np.arange(32) % 10
    first = {}
    for residual in (False, True):
        for depth in (2, 12):
            model = mlp(depth=depth, residual=residual, init=0.05, rng=0)
            model.backward(softmax_cross_entropy(model.forward(x), y)[1])
            first[residual, depth] = gradient_norms(model)["0.W"]
    assert first[False, 12] < 1e-6 * first[False, 2]
    assert 0.5 < first[True, 12] / first[True, 2] < 2


def test_residual_of_a_linear_chain_backpropagates_through_identity_plus_jacobian():
    rng = np.random.default_rng(5)
    layers = [Dense(3, 3, rng=rng, init=0.4) for _ in range(3)]
    chain = Sequential(*(Residual(layer) for layer in layers))
    chain.forward(rng.normal(size=(1, 3)))
    g = rng.normal(size=(1, 3))
    expected = g.copy()
    for layer in reversed(layers):  # J_k = W_k^T in the row convention y = x @ W
        expected = expected @ (np.eye(3) + layer.W.T)
    np.testing.assert_allclose(chain.backward(g), expected, rtol=1e-12)


# --- the explorer -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs():
    X, y = digits_subset(64, 0, dtype=np.float32, scale_on="all")
    return residual_runs(X, y, depths=(2, 4), epochs=2, batch_size=32)


def test_the_explorer_redraws_bars_and_lines_and_blits_what_a_full_render_shows(runs):
    explorer = widgets.residual_explorer(runs=runs, depth=2)
    before = explorer.image.value
    explorer.set(epoch=1)
    assert explorer.image.value != before
    explorer.set(depth=4, init="He", epoch=2)  # only bars, lines and titles move: blitted
    blitted = pixels(explorer.png())
    explorer.render()
    np.testing.assert_array_equal(blitted, pixels(explorer.png()))


def test_the_explorer_shows_one_bar_per_weight_matrix(runs):
    explorer = widgets.residual_explorer(runs=runs, depth=2)
    ax = explorer.figure.axes[0]
    visible = [patch for patch in ax.patches if patch.get_visible()]
    assert len(visible) == 2 * (2 + 2)
    explorer.set(depth=4)
    visible = [patch for patch in ax.patches if patch.get_visible()]
    assert len(visible) == 2 * (4 + 2)
    heights = sorted(patch.get_height() for patch in visible)
    expected = sorted([*runs["std 0.1", "plain", 4].norms[0],
                       *runs["std 0.1", "residual", 4].norms[0]])
    np.testing.assert_allclose(heights, expected, rtol=1e-6)


def test_the_explorer_rejects_settings_it_did_not_compute(runs):
    with pytest.raises(ValueError, match="depth"):
        widgets.residual_explorer(runs=runs, depth=8)
    with pytest.raises(ValueError, match="init"):
        widgets.residual_explorer(runs=runs, depth=2, init="xavier")
