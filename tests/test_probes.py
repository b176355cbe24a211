"""Probes: per-layer outputs and gradient norms, without changing the model."""

import math

import numpy as np
import pytest

from course_lib.layers import BatchNorm, Dense, ReLU, Residual, Sequential
from course_lib.losses import mse
from course_lib.networks import mlp
from course_lib.probes import gradient_norms, layer_outputs, relu_inputs


def make_model(dtype=np.float64) -> Sequential:
    return Sequential(
        Dense(4, 6, rng=0, dtype=dtype),
        BatchNorm(6, dtype=dtype),
        ReLU(),
        Residual(Sequential(Dense(6, 6, rng=1, dtype=dtype), ReLU())),
        Dense(6, 2, rng=2, dtype=dtype),
    )


def data(n=16, seed=0, dtype=np.float64) -> np.ndarray:
    return (np.random.default_rng(seed).normal(2.0, 3.0, size=(n, 4))).astype(dtype)


def warm_up(model: Sequential) -> None:
    """Give batch norm running statistics that differ from any one batch."""
    for seed in range(3):
        model.forward(data(seed=10 + seed), training=True)


def test_layer_outputs_are_each_layer_applied_to_the_previous_output():
    model = make_model()
    warm_up(model)
    X = data()
    outputs = layer_outputs(model, X)
    assert list(outputs) == ["0:Dense", "1:BatchNorm", "2:ReLU", "3:Residual", "4:Dense"]
    h = X
    for layer, out in zip(model, outputs.values(), strict=True):
        h = layer.forward(h, training=False)
        np.testing.assert_array_equal(out, h)
    np.testing.assert_array_equal(outputs["4:Dense"], model.forward(X, training=False))
    # by hand: dense, then normalised with the running statistics, then max(·, 0)
    dense = X @ model[0].W + model[0].b
    bn = model[1]
    expected = (dense - bn.running_mean) / np.sqrt(bn.running_var + bn.eps)
    np.testing.assert_allclose(outputs["1:BatchNorm"], expected, rtol=1e-12)
    np.testing.assert_array_equal(outputs["2:ReLU"], np.maximum(outputs["1:BatchNorm"], 0))


def test_training_outputs_use_the_batch_statistics_and_leave_the_running_ones():
    model = make_model()
    warm_up(model)
    bn = model[1]
    running = {name: value.copy() for name, value in model.buffers.items()}
    live = {name: value for name, value in model.buffers.items()}
    out = layer_outputs(model, data(), training=True)["1:BatchNorm"]
    # normalised by the batch's own mean and biased variance: mean 0, variance var/(var + eps)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    dense = layer_outputs(model, data())["0:Dense"]
    var = dense.var(axis=0)
    np.testing.assert_allclose(out.var(axis=0), var / (var + bn.eps), rtol=1e-9)
    for name, value in model.buffers.items():
        np.testing.assert_array_equal(value, running[name])
        assert value is live[name]  # the layer's own arrays, restored in place
    assert bn.running_mean is model.buffers["1.running_mean"]


class Refuses:
    """A layer that refuses its input, as a learner's layer of the wrong width would."""

    params, grads = {}, {}

    def forward(self, x, training=True):
        raise ValueError(f"this layer takes 5 features, got {x.shape[1]}")

    def backward(self, dy):
        return dy


def test_running_statistics_are_restored_when_a_layer_raises():
    model = Sequential(BatchNorm(4), Refuses(), Dense(5, 2, rng=0))
    with pytest.raises(ValueError, match="5 features"):
        layer_outputs(model, data(), training=True)
    np.testing.assert_array_equal(model[0].running_mean, np.zeros(4))
    np.testing.assert_array_equal(model[0].running_var, np.ones(4))


def test_layer_outputs_keeps_float32_and_leaves_the_input_alone():
    model = make_model(np.float32)
    X = data(dtype=np.float32)
    before = X.copy()
    outputs = layer_outputs(model, X, training=True)
    assert all(out.dtype == np.float32 for out in outputs.values())
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize(
    "model, X, training, error, match",
    [
        (Dense(4, 2, rng=0), data(), False, TypeError, "Sequential"),
        (make_model(), data()[0], False, ValueError, "X must be 2-D"),
        (make_model(), data(), 1, TypeError, "training"),
        (make_model(), [["a"] * 4], False, TypeError, "numeric"),
    ],
)
def test_layer_outputs_rejects_bad_input(model, X, training, error, match):
    with pytest.raises(error, match=match):
        layer_outputs(model, X, training=training)


def test_gradient_norms_after_a_backward_pass():
    model = make_model()
    X = data()
    _, dpred = mse(model.forward(X), np.zeros((len(X), 2)))
    model.backward(dpred)
    norms = gradient_norms(model)
    assert list(norms) == list(model.grads)
    for name, g in model.grads.items():
        assert norms[name] == pytest.approx(math.sqrt(sum(v * v for v in g.ravel().tolist())))
        assert isinstance(norms[name], float)
    assert norms == gradient_norms(dict(model.grads))


def test_gradient_norms_of_a_dict_closed_form_and_non_finite():
    grads = {"W": np.array([[3.0, 0.0], [0.0, 4.0]], dtype=np.float32), "b": np.array([np.nan]),
             "c": np.array([np.inf, 1.0])}
    norms = gradient_norms(grads)
    assert norms["W"] == 5.0
    assert math.isnan(norms["b"]) and norms["c"] == math.inf


def test_gradient_norms_rejects_bad_input():
    with pytest.raises(TypeError, match="grads"):
        gradient_norms(np.ones(3))
    with pytest.raises(TypeError, match="numeric"):
        gradient_norms({"W": np.array(["a"])})


# --- relu_inputs -----------------------------------------------------------------------------


def test_relu_inputs_are_what_each_relu_receives():
    model = mlp(depth=2, batch_norm=True, width=5, in_features=3, rng=0)
    X = np.random.default_rng(1).normal(size=(10, 3))
    for _ in range(3):  # running statistics that differ from the start
        model.forward(X * 2 + 1, training=True)
    inputs = relu_inputs(model, X)
    assert list(inputs) == ["layer 1", "layer 2", "layer 3"]
    h = X
    expected = []
    for layer in model:
        if isinstance(layer, ReLU):
            expected.append(h)
        h = layer.forward(h, training=False)
    for got, want in zip(inputs.values(), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_relu_inputs_in_training_mode_are_normalised_and_leave_the_running_statistics():
    model = mlp(depth=2, batch_norm=True, width=6, in_features=3, rng=0)
    X = np.random.default_rng(2).normal(3.0, 5.0, size=(50, 3))
    before = {k: v.copy() for k, v in model.buffers.items()}
    for z in relu_inputs(model, X, training=True).values():
        np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-10)  # gamma = 1, beta = 0
        np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-3)
    for name, value in model.buffers.items():
        np.testing.assert_array_equal(value, before[name])


def test_relu_inputs_of_a_plain_network_are_its_dense_outputs():
    model = mlp(depth=1, width=4, in_features=2, rng=0)
    X = np.random.default_rng(3).normal(size=(5, 2))
    first = relu_inputs(model, X)["layer 1"]
    np.testing.assert_allclose(first, X @ model[0].W + model[0].b)
    assert relu_inputs(Sequential(Dense(2, 3, rng=0)), X) == {}
    with pytest.raises(TypeError, match="Sequential"):
        relu_inputs(Dense(2, 2), X)
