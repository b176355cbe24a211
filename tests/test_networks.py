"""``course_lib.networks``: the one MLP builder, its knobs and the lessons' presets."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from course_lib.gradcheck import check_layer
from course_lib.layers import BatchNorm, Dense, ReLU, Residual, Sequential
from course_lib.losses import softmax_cross_entropy
from course_lib.networks import PRESETS, MLPConfig, mlp, weight_names
from course_lib.optimizers import SGD
from course_lib.probes import gradient_norms
from course_lib.training import fit, predict


def layout(model) -> list:
    """The model as nested lists of layer names: ``["Dense", "ReLU", ["Dense", ...], ...]``."""
    return [layout(layer.block) if isinstance(layer, Residual) else type(layer).__name__
            for layer in model]


def expected_layout(depth: int, batch_norm: bool, residual: bool) -> list:
    bn = ["BatchNorm"] if batch_norm else []
    body = []
    if residual:
        body = [["Dense", *bn, "ReLU", "Dense", *bn]] * (depth // 2)
    else:
        body = ["Dense", *bn, "ReLU"] * depth
    return ["Dense", *bn, "ReLU", *body, "Dense"]


def dense_layers(model) -> list[Dense]:
    found = []
    for layer in model:
        if isinstance(layer, Residual):
            found += dense_layers(layer.block)
        elif isinstance(layer, Dense):
            found.append(layer)
    return found


# --- the meaning of depth, and the layout -----------------------------------------------------


@pytest.mark.parametrize("depth", [0, 2, 4, 6])
@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("residual", [False, True])
def test_depth_counts_the_hidden_layers_between_stem_and_head(depth, batch_norm, residual):
    model = mlp(depth=depth, batch_norm=batch_norm, residual=residual, width=5, in_features=3,
                out_features=2, rng=0)
    assert layout(model) == expected_layout(depth, batch_norm, residual)
    dense = dense_layers(model)
    assert len(dense) == depth + 2  # stem, depth hidden layers, head
    assert [(d.in_features, d.out_features) for d in dense] == (
        [(3, 5)] + [(5, 5)] * depth + [(5, 2)])
    assert len(weight_names(model)) == depth + 2
    relus = sum(1 for name in str(model).split() if name == "ReLU()")
    assert relus == (depth // 2 + 1 if residual else depth + 1)


@pytest.mark.parametrize("depth", [1, 3, 5])
def test_a_plain_network_takes_any_depth(depth):
    assert layout(mlp(depth=depth, rng=0)) == expected_layout(depth, False, False)


def test_the_network_computes_its_layout():
    model = mlp(depth=2, residual=True, batch_norm=False, width=4, in_features=3, rng=1)
    x = np.random.default_rng(2).normal(size=(6, 3))
    stem, block, head = dense_layers(model)[0], model[2].block, dense_layers(model)[-1]
    h = np.maximum(x @ stem.W + stem.b, 0)
    first, second = block[0], block[2]
    h = h + np.maximum(h @ first.W + first.b, 0) @ second.W + second.b  # no ReLU after the sum
    np.testing.assert_allclose(model.forward(x), h @ head.W + head.b, rtol=1e-13)


# --- initial weights: one generator, forward order --------------------------------------------


@pytest.mark.parametrize(("init", "std"), [
    ("he", lambda fan_in, fan_out: math.sqrt(2 / fan_in)),
    ("xavier", lambda fan_in, fan_out: math.sqrt(2 / (fan_in + fan_out))),
    (0.1, lambda fan_in, fan_out: 0.1),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_weights_are_the_draws_of_one_seed_in_forward_order(init, std, dtype):
    model = mlp(depth=4, width=6, in_features=5, out_features=3, batch_norm=True,
                residual=True, init=init, rng=11, dtype=dtype)
    draws = np.random.default_rng(11)
    for layer in dense_layers(model):
        fan_in, fan_out = layer.in_features, layer.out_features
        expected = draws.normal(0.0, std(fan_in, fan_out), size=(fan_in, fan_out))
        np.testing.assert_array_equal(layer.W, expected.astype(dtype))
        np.testing.assert_array_equal(layer.b, np.zeros(fan_out, dtype=dtype))
        assert layer.W.dtype == dtype
    assert all(p.dtype == dtype for p in model.params.values())


def test_one_seed_gives_the_same_weights_with_or_without_batch_norm_and_skips():
    variants = [mlp("l09_putting_it_together", batch_norm=bn, residual=res, rng=3)
                for bn in (False, True) for res in (False, True)]
    weights = [[d.W for d in dense_layers(model)] for model in variants]
    for other in weights[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(weights[0], other, strict=True))
    assert not np.array_equal(dense_layers(mlp(rng=4))[0].W, dense_layers(mlp(rng=3))[0].W)


def test_a_generator_continues_its_draws():
    rng = np.random.default_rng(5)
    first, second = mlp(depth=0, rng=rng), mlp(depth=0, rng=rng)
    assert not np.array_equal(first.params["0.W"], second.params["0.W"])
    again = np.random.default_rng(5)
    mlp(depth=0, rng=again)
    np.testing.assert_array_equal(mlp(depth=0, rng=again).params["0.W"], second.params["0.W"])


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("residual", [False, True])
def test_backward_agrees_with_finite_differences(batch_norm, residual):
    model = mlp(depth=2, width=4, in_features=3, out_features=2, batch_norm=batch_norm,
                residual=residual, init=0.6, rng=0)
    errors = check_layer(model, np.random.default_rng(1).normal(size=(6, 3)))
    assert max(errors.values()) < 1e-6


# --- a trained network: evaluated by model(X), its arrays bound for good ----------------------


@pytest.mark.parametrize("preset", ["l07_batch_normalization", "l09_putting_it_together"])
def test_a_trained_network_evaluates_by_default_and_keeps_its_arrays(preset):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(32, 64)), rng.integers(0, 10, size=32)
    model = mlp(preset, width=8, rng=0)
    fit(model, softmax_cross_entropy, SGD(0.1), X, y, epochs=2, batch_size=8, evaluate=False)
    trained = model.state_dict()
    np.testing.assert_array_equal(model(X), predict(model, X))  # evaluation mode
    np.testing.assert_array_equal(model.forward(X[:1]), predict(model, X[:1]))
    for name, value in model.state_dict().items():  # running statistics untouched
        np.testing.assert_array_equal(value, trained[name], err_msg=name)
    # a state goes in through load_state_dict: rebinding a name would leave fit training an
    # array that forward never reads
    with pytest.raises(TypeError, match="load_state_dict"):
        model.params.update(mlp(preset, width=8, rng=1).params)
    with pytest.raises(TypeError, match=r"\[\.\.\.\] = values"):
        model.params["0.W"] = np.zeros_like(model.params["0.W"])


# --- presets ---------------------------------------------------------------------------------


def test_the_presets_are_the_lessons_networks():
    assert set(PRESETS) == {"l05_mini_batch", "l07_batch_normalization",
                            "l08_residual_layers", "l09_putting_it_together"}
    # 05: 64 pixels -> 32 ReLU units -> 10 scores
    assert layout(mlp("l05_mini_batch", rng=0)) == ["Dense", "ReLU", "Dense"]
    # 07: ten weight layers, nine with batch norm before their ReLU
    seven = mlp("l07_batch_normalization", rng=0)
    assert len(dense_layers(seven)) == 10 and str(seven).count("BatchNorm(32") == 9
    # 08: 16 hidden layers in 8 residual blocks, std 0.1
    eight = mlp("l08_residual_layers", rng=0)
    assert sum(isinstance(layer, Residual) for layer in eight) == 8
    assert np.std(dense_layers(eight)[1].W) == pytest.approx(0.1, rel=0.05)
    # 09: 64 wide, a stem, two residual blocks with batch norm, a head
    nine = mlp("l09_putting_it_together", rng=0)
    assert layout(nine) == expected_layout(4, True, True)
    assert [(d.in_features, d.out_features) for d in dense_layers(nine)] == (
        [(64, 64)] * 5 + [(64, 10)])
    for config in PRESETS.values():
        assert (config.in_features, config.out_features, config.dtype) == (64, 10, "float64")


def test_a_preset_is_data_and_cannot_be_changed_in_place():
    with pytest.raises(TypeError):
        PRESETS["l05_mini_batch"] = MLPConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["l05_mini_batch"].depth = 3
    deeper = dataclasses.replace(PRESETS["l08_residual_layers"], depth=32)
    assert len(dense_layers(mlp(deeper, rng=0))) == 34
    assert PRESETS["l08_residual_layers"].depth == 16


def test_changes_replace_the_knobs_of_a_config_or_preset():
    by_name = mlp("l08_residual_layers", depth=4, residual=False, init="he", rng=2)
    by_config = mlp(MLPConfig(depth=4, init="he"), rng=2)
    assert str(by_name) == str(by_config)
    assert all(np.array_equal(by_name.params[k], by_config.params[k]) for k in by_name.params)


def test_the_config_normalises_dtype_and_init():
    config = MLPConfig(dtype=np.float32, init=1)
    assert config.dtype == "float32" and config.init == 1.0
    assert MLPConfig(dtype=np.dtype("float64")) == MLPConfig()


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "error", "match"), [
    ({"depth": -1}, ValueError, "depth must be >= 0"),
    ({"depth": 1.5}, TypeError, "depth must be an integer"),
    ({"depth": 3, "residual": True}, ValueError, "depth must be even"),
    ({"width": 0}, ValueError, "width must be >= 1"),
    ({"in_features": 0}, ValueError, "in_features"),
    ({"out_features": 2.0}, TypeError, "out_features"),
    ({"batch_norm": 1}, TypeError, "batch_norm must be True or False"),
    ({"residual": "yes"}, TypeError, "residual must be True or False"),
    ({"init": "glorot"}, ValueError, "init must be"),
    ({"init": -0.1}, ValueError, "init must be > 0"),
    ({"dtype": np.int32}, TypeError, "dtype must be"),
    ({"dtype": "float16"}, TypeError, "dtype must be"),
    ({"layer_norm": 1}, TypeError, "layer_norm must be True or False"),
    ({"batch_norm": True, "layer_norm": True}, ValueError, "choose one normalisation"),
    ({"zero_init_residual": "yes"}, TypeError, "zero_init_residual must be True or False"),
    ({"zero_init_residual": True}, ValueError, "needs residual=True"),
    ({"colour": "red"}, TypeError, "unknown knobs"),
])
def test_bad_knobs_name_themselves(changes, error, match):
    with pytest.raises(error, match=match):
        mlp(rng=0, **changes)
    if "colour" not in changes:
        with pytest.raises(error, match=match):
            MLPConfig(**changes)


@pytest.mark.parametrize(("config", "rng", "error", "match"), [
    ("l10_unknown", 0, ValueError, "config must be an MLPConfig or one of"),
    ({"depth": 2}, 0, TypeError, "config must be an MLPConfig"),
    (MLPConfig(), -1, ValueError, "rng"),
    (MLPConfig(), "seed", TypeError, "rng"),
])
def test_bad_config_or_rng_is_refused(config, rng, error, match):
    with pytest.raises(error, match=match):
        mlp(config, rng=rng)


def test_weight_names_lists_the_weight_matrices_in_order():
    model = mlp(depth=2, residual=True, batch_norm=True, rng=0)
    assert weight_names(model) == ["0.W", "3.0.W", "3.3.W", "4.W"]
    assert weight_names(Sequential(Dense(2, 2, rng=0), ReLU(), BatchNorm(2))) == ["0.W"]
    with pytest.raises(TypeError, match="model must be a layer"):
        weight_names(object())
def test_a_residual_block_whose_branch_outputs_zero_passes_its_input_through():
    # y = x + BN(W2 relu(BN(W1 x + b1)) + b2): with gamma = beta = 0 in the second batch norm
    # the branch is 0, so the network is the stem and the head alone
    model = mlp("l09_putting_it_together", in_features=6, out_features=3, width=8, rng=1)
    for block in (layer for layer in model if isinstance(layer, Residual)):
        second_bn = block.block.layers[4]
        second_bn.params["gamma"][:] = 0
    x = np.random.default_rng(2).normal(size=(10, 6))
    stem = model.layers[:3]
    h = x
    for layer in stem:
        h = layer.forward(h)
    expected = model.layers[-1].forward(h)
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-12)


# --- residual networks (lesson 08) --------------------------------------------------------------


def relu(z):
    return np.maximum(z, 0)


def test_plain_and_residual_forward_passes_compute_the_formulas():
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
            model.backward(softmax_cross_entropy(model.forward(x, training=True), y)[1])
            first[residual, depth] = gradient_norms(model)["0.W"]
    assert first[False, 12] < 1e-6 * first[False, 2]
    assert 0.5 < first[True, 12] / first[True, 2] < 2



# --- layer norm and zero-initialised residual branches ------------------------------------------


@pytest.mark.parametrize("residual", [False, True])
def test_layer_norm_takes_batch_norms_places_and_keeps_the_seeds_weights(residual):
    with_ln = mlp(depth=4, residual=residual, layer_norm=True, width=5, rng=3)
    with_bn = mlp(depth=4, residual=residual, batch_norm=True, width=5, rng=3)
    swap = [[n.replace("BatchNorm", "LayerNorm") for n in part] if isinstance(part, list)
            else part.replace("BatchNorm", "LayerNorm") for part in layout(with_bn)]
    assert layout(with_ln) == swap
    for a, b in zip(dense_layers(with_ln), dense_layers(with_bn), strict=True):
        np.testing.assert_array_equal(a.W, b.W)
    errors = check_layer(mlp(depth=2, width=4, in_features=3, out_features=2, layer_norm=True,
                             residual=residual, init=0.6, rng=0),
                         np.random.default_rng(1).normal(size=(5, 3)))
    assert max(errors.values()) < 1e-6


def residual_blocks(model) -> list[Residual]:
    return [layer for layer in model if isinstance(layer, Residual)]


@pytest.mark.parametrize("norm", [{}, {"batch_norm": True}, {"layer_norm": True}],
                         ids=["none", "batch", "layer"])
def test_zero_init_residual_makes_every_block_the_identity_and_its_last_layer_still_learns(norm):
    model = mlp(depth=6, residual=True, zero_init_residual=True, width=8, rng=4, **norm)
    plain = mlp(depth=6, residual=True, width=8, rng=4, **norm)
    x = np.random.default_rng(5).normal(size=(12, 64))
    h = x
    for layer in model.layers[:-1]:
        h_in = h
        h = layer.forward(h, training=True)
        if isinstance(layer, Residual):
            np.testing.assert_array_equal(h, h_in)  # each block starts as y = x
    # only the last layer of each block was zeroed: every other array is the seed's
    zeroed = {f"{i}.{len(b.block) - 1}.{'gamma' if norm else 'W'}"
              for i, b in enumerate(model.layers) if isinstance(b, Residual)}
    for name, p in model.params.items():
        if name in zeroed:
            assert not p.any()
        else:
            np.testing.assert_array_equal(p, plain.params[name])
    # the gradient reaches the zeroed layers, which therefore move on the first step
    y = np.arange(12) % 10
    model.backward(softmax_cross_entropy(model.forward(x, training=True), y)[1])
    for name in zeroed:
        assert np.abs(model.grads[name]).max() > 1e-6, name
    errors = check_layer(mlp(depth=2, width=4, in_features=3, out_features=2, residual=True,
                             zero_init_residual=True, init=0.6, rng=0, **norm),
                         np.random.default_rng(1).normal(size=(6, 3)), training=True)
    assert max(errors.values()) < 1e-6


def test_zero_init_keeps_a_deep_he_initialised_residual_net_at_the_scale_of_a_shallow_one():
    """Without it the output grows with the number of blocks; with it depth does not matter."""
    x = np.random.default_rng(0).normal(size=(64, 64))
    scale = {}
    for zero in (False, True):
        for depth in (2, 32):
            model = mlp(depth=depth, residual=True, zero_init_residual=zero, init="he", rng=1)
            scale[zero, depth] = np.std(model.forward(x))
    assert scale[False, 32] > 20 * scale[False, 2]
    assert 0.5 < scale[True, 32] / scale[True, 2] < 2
