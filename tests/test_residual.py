"""Lesson 08: the plain and residual deep MLPs, and the residual explorer."""

import io

import numpy as np
import pytest
from PIL import Image

from course_lib import widgets
from course_lib.architectures import deep_mlp, hidden_weight_names
from course_lib.gradcheck import check_layer
from course_lib.layers import Dense, Residual, Sequential
from course_lib.losses import softmax_cross_entropy
from course_lib.probes import gradient_norms


def relu(z):
    return np.maximum(z, 0)


# --- deep_mlp ---------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [2, 4, 6])
def test_the_plain_and_residual_nets_have_the_same_weights_layer_for_layer(depth):
    plain = deep_mlp(depth, residual=False, width=7, init=0.3, rng=4)
    residual = deep_mlp(depth, residual=True, width=7, init=0.3, rng=4)
    plain_names, residual_names = hidden_weight_names(plain), hidden_weight_names(residual)
    assert len(plain_names) == len(residual_names) == depth + 2
    for p, r in zip(plain_names, residual_names, strict=True):
        np.testing.assert_array_equal(plain.params[p], residual.params[r])
    assert sum(p.size for p in plain.params.values()) == sum(
        p.size for p in residual.params.values()
    )


def test_the_layouts_are_the_documented_ones():
    plain = deep_mlp(4, residual=False, width=5)
    assert [type(layer).__name__ for layer in plain] == (
        ["Dense", "ReLU"] + ["Dense", "ReLU"] * 4 + ["Dense"]
    )
    residual = deep_mlp(4, residual=True, width=5)
    assert [type(layer).__name__ for layer in residual] == (
        ["Dense", "ReLU", "Residual", "Residual", "Dense"]
    )
    block = residual[2].block
    assert [type(layer).__name__ for layer in block] == ["Dense", "ReLU", "Dense"]
    assert hidden_weight_names(residual) == ["0.W", "2.0.W", "2.2.W", "3.0.W", "3.2.W", "4.W"]


def test_the_forward_passes_compute_the_formulas():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 64))
    for residual in (False, True):
        model = deep_mlp(4, residual=residual, width=6, init=0.5, rng=1)
        for name, p in model.params.items():  # non-zero biases, so every term shows
            if name.endswith("b"):
                p[...] = rng.normal(size=p.shape)
        W = [model.params[name] for name in hidden_weight_names(model)]
        b = [model.params[name[:-1] + "b"] for name in hidden_weight_names(model)]
        h = relu(x @ W[0] + b[0])
        for k in range(1, 5, 2):  # hidden layers k and k + 1
            inner = relu(h @ W[k] + b[k]) @ W[k + 1] + b[k + 1]
            h = h + inner if residual else relu(relu(h @ W[k] + b[k]) @ W[k + 1] + b[k + 1])
        np.testing.assert_allclose(model.forward(x), h @ W[5] + b[5], rtol=1e-12)


@pytest.mark.parametrize("residual", [False, True])
def test_backward_passes_agree_with_finite_differences(residual):
    model = deep_mlp(4, residual=residual, width=5, in_features=6, out_features=3, init=0.6,
                     rng=2)
    x = np.random.default_rng(3).normal(size=(4, 6))
    errors = check_layer(model, x)
    assert max(errors.values()) < 1e-6, errors


def test_a_generator_continues_its_stream_and_float32_works():
    rng = np.random.default_rng(0)
    first = deep_mlp(2, residual=True, width=4, rng=rng, dtype=np.float32)
    second = deep_mlp(2, residual=True, width=4, rng=rng, dtype=np.float32)
    assert not np.array_equal(first.params["0.W"], second.params["0.W"])
    out = first.forward(np.ones((2, 64), dtype=np.float32))
    assert out.dtype == np.float32 and out.shape == (2, 10)


def test_the_init_sets_the_weight_scale():
    model = deep_mlp(2, residual=False, width=400, init=0.05, rng=0)
    assert model.params["2.W"].std() == pytest.approx(0.05, rel=0.02)
    he = deep_mlp(2, residual=False, width=400, rng=0)
    assert he.params["2.W"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"depth": 3, "residual": True}, ValueError, "even"),
    ({"depth": 0, "residual": False}, ValueError, "depth"),
    ({"depth": 2, "residual": 1}, TypeError, "residual"),
    ({"depth": 2, "residual": False, "width": 0}, ValueError, "width"),
    ({"depth": 2, "residual": False, "init": "lecun"}, ValueError, "init"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        deep_mlp(**kwargs)


def test_hidden_weight_names_needs_a_model():
    with pytest.raises(TypeError, match="params"):
        hidden_weight_names(object())


def test_a_small_branch_makes_the_residual_gradient_independent_of_depth():
    """The lesson's claim in miniature: tiny branches vanish the plain gradient, not the skip."""
    x = np.random.default_rng(0).normal(size=(32, 64))
    y = np.arange(32) % 10
    first = {}
    for residual in (False, True):
        for depth in (2, 12):
            model = deep_mlp(depth, residual=residual, init=0.05, rng=0)
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
    return widgets.residual_runs(depths=(2, 4), epochs=2, n_samples=64, batch_size=32)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_residual_runs_records_every_layer_at_init_and_per_epoch(runs):
    assert sorted(runs) == sorted(
        (init, kind, depth) for init in ("std 0.1", "He") for kind in ("plain", "residual")
        for depth in (2, 4)
    )
    for (_, _, depth), run in runs.items():
        assert run["norms"].shape == (3, depth + 2)
        assert run["step_loss"].shape == (4,)  # 2 epochs of 2 steps
        np.testing.assert_array_equal(run["norms"][1:, 0], run["history"].grad_norm["0.W"][1:])
    # the small init starves the plain network's first layer as it gets deeper
    # (two more layers, each multiplying it by about 0.1 * sqrt(32 / 2) = 0.4)
    ratio = runs["std 0.1", "plain", 4]["norms"][0, 0] / runs["std 0.1", "plain", 2]["norms"][0, 0]
    assert ratio < 0.3


def test_the_at_init_row_is_one_backward_pass_over_the_sample():
    from course_lib.data import load_digits
    from course_lib.scaling import ZScoreScaler

    runs = widgets.residual_runs(depths=(2,), inits={"He": "he"}, epochs=1, n_samples=40,
                                 batch_size=40, dtype=np.float64)
    digits = load_digits()
    rows = np.random.default_rng(0).permutation(len(digits.y))[:40]
    X = ZScoreScaler().fit_transform(digits.X)[rows]
    model = deep_mlp(2, residual=True, rng=0)
    model.backward(softmax_cross_entropy(model.forward(X), digits.y[rows])[1])
    norms = gradient_norms(model)
    expected = [norms[name] for name in hidden_weight_names(model)]
    np.testing.assert_allclose(runs["He", "residual", 2]["norms"][0], expected, rtol=1e-10)


def test_the_explorer_redraws_bars_and_lines_and_blits_what_a_full_render_shows(runs):
    explorer = widgets.residual_explorer(runs=runs, depth=2)
    before = explorer.image.value
    explorer.set(epoch=1)
    assert explorer.image.value != before
    explorer.set(depth=4, init="He", epoch=2)  # only bars, lines and titles move: blitted
    blitted = pixels(explorer.png())
    explorer._render_all()
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
    expected = sorted([*runs["std 0.1", "plain", 4]["norms"][0],
                       *runs["std 0.1", "residual", 4]["norms"][0]])
    np.testing.assert_allclose(heights, expected, rtol=1e-6)


def test_the_explorer_rejects_settings_it_did_not_compute(runs):
    with pytest.raises(ValueError, match="depth"):
        widgets.residual_explorer(runs=runs, depth=8)
    with pytest.raises(ValueError, match="init"):
        widgets.residual_explorer(runs=runs, depth=2, init="xavier")
