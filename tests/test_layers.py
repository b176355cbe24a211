"""Tests for course_lib.layers.

Reference numbers come from ``fixtures/layers.npz`` (made with torch.nn by
``fixtures/make_layer_fixtures.py``) and ``fixtures/layernorm.npz`` (by
``fixtures/make_layernorm_fixtures.py``), from finite differences (``course_lib.gradcheck``)
or from closed forms.
"""

from __future__ import annotations

import copy
import math
import operator
import pickle
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.gradcheck import check_layer, max_relative_error, numerical_gradient
from course_lib.layers import (
    BatchNorm,
    Dense,
    Layer,
    LayerNorm,
    NamedArrays,
    ReLU,
    Residual,
    Sequential,
    features,
    skips_input_grad,
    uses_batch_statistics,
)
from course_lib.losses import softmax_cross_entropy

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = np.load(FIXTURES / "layers.npz")
LAYERNORM = np.load(FIXTURES / "layernorm.npz")
DTYPES = ["float64", "float32"]
TOLERANCE = {"float64": 1e-10, "float32": 1e-5}
GRADCHECK_TOLERANCE = 1e-6


def assert_close(actual, expected, dtype, what):
    tol = TOLERANCE[dtype]
    assert actual.dtype == np.dtype(dtype), f"{what}: dtype {actual.dtype}, expected {dtype}"
    np.testing.assert_allclose(
        actual, expected, rtol=tol, atol=tol * max(1.0, np.abs(expected).max()), err_msg=what
    )


def assert_gradcheck(errors):
    bad = {name: err for name, err in errors.items() if not err < GRADCHECK_TOLERANCE}
    assert not bad, f"relative errors above {GRADCHECK_TOLERANCE}: {bad}"


def mlp(rng=0, dtype=np.float64, sizes=(4, 8, 8, 3)):
    """Dense-BatchNorm-ReLU blocks and a last Dense, like the benchmark network."""
    rng = np.random.default_rng(rng)
    layers = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers += [Dense(fan_in, fan_out, rng=rng, dtype=dtype), BatchNorm(fan_out, dtype=dtype),
                   ReLU()]
    layers.append(Dense(sizes[-2], sizes[-1], rng=rng, dtype=dtype))
    return Sequential(*layers)


def perturb(layer, rng, scale=0.3):
    """Move every parameter off its initial value (gamma = 1, beta = 0 and b = 0 are special)."""
    for p in layer.params.values():
        p += scale * rng.standard_normal(p.shape).astype(p.dtype)


# --- reference: torch.nn ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_matches_torch(dtype):
    prefix = f"dense.{dtype}."
    ref = {k.removeprefix(prefix): REFERENCE[k] for k in REFERENCE.files if k.startswith(prefix)}
    layer = Dense(5, 3, rng=0, dtype=dtype)
    layer.params["W"][...] = ref["W"]
    layer.params["b"][...] = ref["b"]
    assert_close(layer.forward(ref["x"]), ref["out"], dtype, "Dense output")
    assert_close(layer.backward(ref["dy"]), ref["dx"], dtype, "Dense dx")
    assert_close(layer.grads["W"], ref["dW"], dtype, "Dense dW")
    assert_close(layer.grads["b"], ref["db"], dtype, "Dense db")


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_matches_torch_over_three_training_steps_and_eval(dtype):
    p = f"batchnorm.{dtype}."
    lr = float(REFERENCE["batchnorm.lr_sgd"])
    bn = BatchNorm(
        4,
        momentum=float(REFERENCE["batchnorm.momentum"]),
        eps=float(REFERENCE["batchnorm.eps"]),
        dtype=dtype,
    )
    for step in range(3):
        # our own in-place SGD must have reached the parameters torch started this step from
        assert_close(bn.params["gamma"], REFERENCE[f"{p}gamma{step}"], dtype, f"gamma{step}")
        assert_close(bn.params["beta"], REFERENCE[f"{p}beta{step}"], dtype, f"beta{step}")
        out = bn.forward(REFERENCE[f"{p}x{step}"], training=True)
        assert_close(out, REFERENCE[f"{p}out{step}"], dtype, f"output, step {step}")
        dx = bn.backward(REFERENCE[f"{p}dy{step}"])
        assert_close(dx, REFERENCE[f"{p}dx{step}"], dtype, f"dx, step {step}")
        for name in ("gamma", "beta"):
            assert_close(bn.grads[name], REFERENCE[f"{p}d{name}{step}"], dtype, f"d{name} {step}")
        for name in ("running_mean", "running_var"):
            assert_close(getattr(bn, name), REFERENCE[f"{p}{name}{step}"], dtype, f"{name} {step}")
        for name in bn.params:
            bn.params[name] -= lr * bn.grads[name]
    assert_close(bn.params["gamma"], REFERENCE[f"{p}gamma_eval"], dtype, "gamma before eval")
    out = bn.forward(REFERENCE[f"{p}x_eval"], training=False)
    assert_close(out, REFERENCE[f"{p}out_eval"], dtype, "eval output")
    assert_close(bn.backward(REFERENCE[f"{p}dy_eval"]), REFERENCE[f"{p}dx_eval"], dtype, "eval dx")
    assert_close(bn.grads["gamma"], REFERENCE[f"{p}dgamma_eval"], dtype, "eval dgamma")
    assert_close(bn.grads["beta"], REFERENCE[f"{p}dbeta_eval"], dtype, "eval dbeta")


def test_batchnorm_defaults_are_torch_defaults():
    bn = BatchNorm(3)
    assert bn.momentum == float(REFERENCE["batchnorm.default_momentum"])
    assert bn.eps == float(REFERENCE["batchnorm.default_eps"])


@pytest.mark.parametrize("case", ["default", "eps"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_layernorm_matches_torch_forward_and_backward(dtype, case):
    p = f"layernorm.{dtype}.{case}."
    kwargs = {"eps": float(LAYERNORM["layernorm.eps"])} if case == "eps" else {}
    ln = LayerNorm(5, dtype=dtype, **kwargs)
    ln.params["gamma"][...] = LAYERNORM[p + "gamma"]
    ln.params["beta"][...] = LAYERNORM[p + "beta"]
    for training in (True, False):  # no running statistics: both modes are the same map
        assert_close(ln.forward(LAYERNORM[p + "x"], training=training), LAYERNORM[p + "out"],
                     dtype, "output")
        assert_close(ln.backward(LAYERNORM[p + "dy"]), LAYERNORM[p + "dx"], dtype, "dx")
        assert_close(ln.grads["gamma"], LAYERNORM[p + "dgamma"], dtype, "dgamma")
        assert_close(ln.grads["beta"], LAYERNORM[p + "dbeta"], dtype, "dbeta")


def test_layernorm_default_eps_is_torchs():
    assert LayerNorm(3).eps == float(LAYERNORM["layernorm.default_eps"])


@pytest.mark.parametrize("dtype", DTYPES)
def test_residual_matches_torch(dtype):
    p = f"residual.{dtype}."
    model = Residual(Sequential(Dense(4, 6, dtype=dtype), ReLU(), Dense(6, 4, dtype=dtype)))
    for name in ("0.W", "0.b", "2.W", "2.b"):
        model.params[name][...] = REFERENCE[p + name]
    assert_close(model.forward(REFERENCE[p + "x"]), REFERENCE[p + "out"], dtype, "output")
    assert_close(model.backward(REFERENCE[p + "dy"]), REFERENCE[p + "dx"], dtype, "dx")
    for name in ("0.W", "0.b", "2.W", "2.b"):
        assert_close(model.grads[name], REFERENCE[f"{p}grad.{name}"], dtype, f"grad {name}")


# --- finite-difference gradient checks (float64) ---------------------------------------------


@pytest.mark.parametrize("init", ["he", "xavier", 0.7])
def test_dense_gradients(init):
    rng = np.random.default_rng(1)
    layer = Dense(4, 3, rng=rng, init=init)
    perturb(layer, rng)
    assert_gradcheck(check_layer(layer, rng.standard_normal((5, 4)), rng=2))


def test_relu_gradients_away_from_the_kink():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 5))
    x += np.where(x >= 0, 0.1, -0.1)  # |x| >= 0.1, far from the kink at 0 compared with h
    errors = check_layer(ReLU(), x, rng=3)
    assert set(errors) == {"x"}
    assert_gradcheck(errors)


def test_batchnorm_gradients_in_training_mode():
    rng = np.random.default_rng(3)
    bn = BatchNorm(4)
    perturb(bn, rng)
    x = rng.standard_normal((7, 4)) * [1.0, 3.0, 0.2, 1.5] + [0.0, -2.0, 5.0, 1.0]
    assert_gradcheck(check_layer(bn, x, training=True, rng=4))


def test_batchnorm_gradients_in_eval_mode():
    rng = np.random.default_rng(4)
    bn = BatchNorm(4, momentum=0.5)
    for _ in range(3):  # non-trivial running statistics
        bn.forward(rng.standard_normal((8, 4)) * 2 + 1, training=True)
    perturb(bn, rng)
    errors = check_layer(bn, rng.standard_normal((5, 4)), training=False, rng=5)
    assert_gradcheck(errors)


def test_batchnorm_gradients_with_a_batch_of_two():
    rng = np.random.default_rng(5)
    bn = BatchNorm(3)
    perturb(bn, rng)
    assert_gradcheck(check_layer(bn, rng.standard_normal((2, 3)), rng=6))


@pytest.mark.parametrize("n", [1, 2, 7])
def test_layernorm_gradients(n):
    rng = np.random.default_rng(8)
    ln = LayerNorm(4)
    perturb(ln, rng)
    x = rng.standard_normal((n, 4)) * [1.0, 3.0, 0.2, 1.5] + [0.0, -2.0, 5.0, 1.0]
    errors = check_layer(ln, x, rng=9)
    assert set(errors) == {"x", "gamma", "beta"}
    assert_gradcheck(errors)


def test_layernorm_normalises_each_row_on_its_own_and_keeps_no_state():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((5, 6)) * 4 + rng.standard_normal((5, 1)) * 10
    ln = LayerNorm(6, eps=1e-12)
    y = ln.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=1), 1, rtol=1e-9)
    # a row's output does not depend on the other rows, and a batch of one works
    np.testing.assert_allclose(ln.forward(x[2:3]), y[2:3], rtol=1e-12, atol=1e-12)
    assert dict(ln.buffers) == {}
    assert set(ln.state_dict()) == {"gamma", "beta"}


def test_layernorm_in_a_sequential_trains_and_its_state_round_trips():
    rng = np.random.default_rng(11)
    model = Sequential(Dense(3, 4, rng=rng), LayerNorm(4), ReLU(), Dense(4, 2, rng=rng))
    assert list(model.params) == ["0.W", "0.b", "1.gamma", "1.beta", "3.W", "3.b"]
    assert model[1].params["gamma"] is model.params["1.gamma"]  # the module's NamedArrays
    assert model[1].grads["gamma"] is model.grads["1.gamma"]
    x = rng.standard_normal((1, 3))  # a batch of one, which BatchNorm could not train on
    model.forward(x, training=True)
    model.backward(np.ones((1, 2)))
    assert np.any(model.grads["1.gamma"] != 0)
    saved = model.state_dict()
    model.params["1.gamma"][...] = 7.0
    model.load_state_dict(saved)
    np.testing.assert_array_equal(model.params["1.gamma"], saved["1.gamma"])
    with pytest.raises(TypeError):
        model[1].params["gamma"] = np.ones(4)


def test_residual_gradients():
    rng = np.random.default_rng(6)
    model = Residual(Sequential(Dense(4, 6, rng=rng), ReLU(), Dense(6, 4, rng=rng)))
    perturb(model, rng)
    errors = check_layer(model, rng.standard_normal((5, 4)), rng=7)
    assert set(errors) == {"x", "0.W", "0.b", "2.W", "2.b"}
    assert_gradcheck(errors)


@pytest.mark.parametrize("training", [True, False])
def test_mlp_with_batchnorm_and_residual_gradients(training):
    rng = np.random.default_rng(7)
    model = Sequential(
        Dense(4, 6, rng=rng),
        BatchNorm(6),
        ReLU(),
        Residual(Sequential(Dense(6, 6, rng=rng), BatchNorm(6), ReLU(), Dense(6, 6, rng=rng))),
        Dense(6, 3, rng=rng),
    )
    for _ in range(2):  # non-trivial running statistics for the eval-mode check
        model.forward(rng.standard_normal((8, 4)), training=True)
    perturb(model, rng, scale=0.1)
    errors = check_layer(model, rng.standard_normal((6, 4)), training=training, rng=8)
    assert set(errors) == {"x"} | set(model.params)
    assert_gradcheck(errors)


def test_benchmark_shaped_mlp_gradients():
    rng = np.random.default_rng(8)
    model = mlp(rng)
    perturb(model, rng, scale=0.1)
    assert_gradcheck(check_layer(model, rng.standard_normal((6, 4)), rng=9))


# --- closed forms ----------------------------------------------------------------------------


def test_dense_computes_x_at_w_plus_b_and_its_gradients():
    rng = np.random.default_rng(9)
    layer = Dense(3, 2, rng=rng)
    perturb(layer, rng)
    x, dy = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    np.testing.assert_allclose(layer.forward(x), x @ layer.W + layer.b, rtol=1e-14)
    np.testing.assert_allclose(layer.backward(dy), dy @ layer.W.T, rtol=1e-14)
    np.testing.assert_allclose(layer.grads["W"], x.T @ dy, rtol=1e-14)
    np.testing.assert_allclose(layer.grads["b"], dy.sum(axis=0), rtol=1e-14)


def test_relu_forward_and_backward():
    x = np.array([[-2.0, 0.0, 3.0], [1.5, -0.5, 0.25]])
    relu = ReLU()
    np.testing.assert_array_equal(relu.forward(x), [[0.0, 0.0, 3.0], [1.5, 0.0, 0.25]])
    dy = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    # the gradient at exactly 0 is 0, as in PyTorch
    np.testing.assert_array_equal(relu.backward(dy), [[0.0, 0.0, 3.0], [4.0, 0.0, 6.0]])


def test_relu_accepts_any_shape():
    x = np.linspace(-1, 1, 24).reshape(2, 3, 4)
    relu = ReLU()
    np.testing.assert_array_equal(relu.forward(x), np.maximum(x, 0))
    np.testing.assert_array_equal(relu.backward(np.ones_like(x)), (x > 0).astype(float))


@pytest.mark.parametrize("init, std", [("he", math.sqrt(2 / 400)), ("xavier", math.sqrt(2 / 700)),
                                       (0.05, 0.05)])
def test_dense_initial_weights_have_the_documented_std(init, std):
    layer = Dense(400, 300, rng=0, init=init)
    # 120 000 normal draws: the sample std is within 1 % of the true one with near certainty
    assert layer.W.shape == (400, 300)
    assert abs(layer.W.std() / std - 1) < 0.01
    assert abs(layer.W.mean()) < 0.01 * std
    np.testing.assert_array_equal(layer.b, np.zeros(300))


def test_dense_rng_seed_and_generator_reproduce_the_weights():
    a, b = Dense(5, 4, rng=3), Dense(5, 4, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.array_equal(a.W, Dense(5, 4, rng=4).W)
    single = Dense(5, 4, rng=3, dtype=np.float32)
    assert single.W.dtype == np.float32 and single.b.dtype == np.float32
    np.testing.assert_array_equal(single.W, a.W.astype(np.float32))


def test_batchnorm_training_normalises_with_biased_variance_and_updates_running_stats():
    rng = np.random.default_rng(10)
    bn = BatchNorm(3, momentum=0.2, eps=1e-3)
    perturb(bn, rng)
    gamma, beta = bn.params["gamma"].copy(), bn.params["beta"].copy()
    x = rng.standard_normal((6, 3)) * 2 + 1
    out = bn.forward(x, training=True)
    mu, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(out, gamma * (x - mu) / np.sqrt(var + 1e-3) + beta, rtol=1e-12)
    np.testing.assert_allclose(bn.running_mean, 0.8 * 0.0 + 0.2 * mu, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, 0.8 * 1.0 + 0.2 * x.var(axis=0, ddof=1),
                               rtol=1e-12)


def test_batchnorm_eval_uses_running_stats_and_leaves_them_alone():
    rng = np.random.default_rng(11)
    bn = BatchNorm(3)
    for _ in range(4):
        bn.forward(rng.standard_normal((5, 3)) + 2, training=True)
    perturb(bn, rng)
    mean, var = bn.running_mean.copy(), bn.running_var.copy()
    x = rng.standard_normal((1, 3))  # a batch of one is fine in eval mode
    out = bn.forward(x, training=False)
    expected = bn.params["gamma"] * (x - mean) / np.sqrt(var + bn.eps) + bn.params["beta"]
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean, mean)
    np.testing.assert_array_equal(bn.running_var, var)


def test_batchnorm_momentum_one_keeps_only_the_last_batch_and_zero_keeps_the_start():
    x = np.random.default_rng(12).standard_normal((5, 2))
    last, frozen = BatchNorm(2, momentum=1.0), BatchNorm(2, momentum=0.0)
    last.forward(x, training=True)
    frozen.forward(x, training=True)
    np.testing.assert_allclose(last.running_mean, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(last.running_var, x.var(axis=0, ddof=1), rtol=1e-14)
    np.testing.assert_array_equal(frozen.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(frozen.running_var, [1.0, 1.0])


def test_residual_adds_the_block_output_and_the_gradient_passes_through():
    rng = np.random.default_rng(13)
    block = Dense(3, 3, rng=rng)
    model = Residual(block)
    x, dy = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    np.testing.assert_allclose(model.forward(x), x + x @ block.W + block.b, rtol=1e-14)
    np.testing.assert_allclose(model.backward(dy), dy + dy @ block.W.T, rtol=1e-14)
    # the residual adds no name level: its params are its block's
    assert model.params is block.params and model.grads is block.grads


def test_backward_overwrites_the_gradients_instead_of_adding():
    rng = np.random.default_rng(14)
    model = mlp(rng)
    x, dy = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    model.forward(x, training=True)
    model.backward(dy)
    first = {name: g.copy() for name, g in model.grads.items()}
    model.backward(dy)
    for name, g in model.grads.items():
        np.testing.assert_array_equal(g, first[name], err_msg=name)


# --- property: batch-norm output statistics --------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 40),
    c=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    loc=st.floats(-1e3, 1e3),
    log_scale=st.floats(-1, 3),
)
def test_batchnorm_training_output_has_zero_mean_and_unit_variance(n, c, seed, loc, log_scale):
    x = np.random.default_rng(seed).normal(loc, 10**log_scale, size=(n, c))
    var = x.var(axis=0)
    out = BatchNorm(c).forward(x, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-9)
    # exactly var / (var + eps), which is 1 up to eps / var <= 1e-5 / min(var)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=0, atol=2e-5 / var.min() + 1e-9)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 20), st.integers(1, 5)),
        elements=st.floats(-1e3, 1e3, allow_nan=False),
    )
)
def test_batchnorm_output_variance_is_var_over_var_plus_eps_for_any_batch(x):
    eps = 1e-5
    var = x.var(axis=0)
    out = BatchNorm(x.shape[1], eps=eps).forward(x, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-8)
    np.testing.assert_allclose(out.var(axis=0), var / (var + eps), rtol=1e-6, atol=1e-9)


# --- contract: params and grads are the live arrays -------------------------------------------


def test_sequential_names_nested_parameters_by_index():
    model = Sequential(
        Dense(3, 4, rng=0),
        Residual(Sequential(Dense(4, 4, rng=1), ReLU())),
        BatchNorm(4),
        ReLU(),
    )
    expected = {"0.W", "0.b", "1.0.W", "1.0.b", "2.gamma", "2.beta"}
    assert set(model.params) == expected
    assert set(model.grads) == expected
    assert set(model.buffers) == {"2.running_mean", "2.running_var"}
    assert model.params["1.0.W"] is model[1].block[0].params["W"]
    assert model.grads["2.gamma"] is model[2].grads["gamma"]
    assert model.buffers["2.running_var"] is model[2].running_var


@pytest.mark.parametrize("make", [lambda: Dense(3, 4, rng=0), lambda: BatchNorm(3), ReLU,
                                  lambda: mlp(0, sizes=(3, 5, 4))],
                         ids=["Dense", "BatchNorm", "ReLU", "Sequential"])
def test_params_and_grads_have_the_same_keys_shapes_and_stay_the_same_objects(make):
    layer = make()
    assert set(layer.params) == set(layer.grads)
    for name, p in layer.params.items():
        assert layer.grads[name].shape == p.shape and layer.grads[name].dtype == p.dtype
    params_before = {name: id(p) for name, p in layer.params.items()}
    grads_before = {name: id(g) for name, g in layer.grads.items()}
    dicts_before = id(layer.params), id(layer.grads)
    rng = np.random.default_rng(15)
    out = layer.forward(rng.standard_normal((5, 3)), training=True)
    layer.backward(rng.standard_normal(out.shape))
    assert (id(layer.params), id(layer.grads)) == dicts_before
    assert {name: id(p) for name, p in layer.params.items()} == params_before
    assert {name: id(g) for name, g in layer.grads.items()} == grads_before


def test_an_in_place_update_of_params_trains_the_model():
    rng = np.random.default_rng(16)
    model = mlp(rng, sizes=(4, 6, 3))
    x, y = rng.standard_normal((8, 4)), rng.integers(0, 3, size=8)
    losses = []
    for _ in range(30):
        loss, dlogits = softmax_cross_entropy(model.forward(x, training=True), y)
        model.backward(dlogits)
        for name, p in model.params.items():  # an optimizer's step
            p -= 0.5 * model.grads[name]
        losses.append(loss)
    assert losses[-1] < 0.5 * losses[0]


def test_grads_refreshed_by_backward_are_what_a_changed_param_needs():
    rng = np.random.default_rng(17)
    model = Sequential(Dense(3, 4, rng=rng), ReLU(), Dense(4, 2, rng=rng))
    x, dy = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    model.params["2.W"][...] = 0.0  # through the Sequential's dict, into the Dense layer
    out = model.forward(x)
    np.testing.assert_allclose(out, np.broadcast_to(model[2].b, out.shape))
    model.backward(dy)
    np.testing.assert_array_equal(model.grads["0.W"], 0.0)  # nothing flows back through W = 0
    np.testing.assert_array_equal(model[0].grads["W"], 0.0)


def test_forward_and_backward_do_not_modify_their_inputs():
    rng = np.random.default_rng(18)
    model = Sequential(Dense(3, 3, rng=rng), BatchNorm(3), ReLU(),
                       Residual(Sequential(Dense(3, 3, rng=rng), ReLU())))
    x, dy = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    x0, dy0 = x.copy(), dy.copy()
    model.forward(x, training=True)
    model.backward(dy)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(dy, dy0)


def test_float32_end_to_end():
    rng = np.random.default_rng(19)
    model = Sequential(Dense(4, 8, rng=rng, dtype=np.float32), BatchNorm(8, dtype=np.float32),
                       ReLU(), Residual(Dense(8, 8, rng=rng, dtype=np.float32)),
                       Dense(8, 3, rng=rng, dtype=np.float32))
    x = rng.standard_normal((6, 4)).astype(np.float32)
    logits = model.forward(x, training=True)
    assert logits.dtype == np.float32
    _, dlogits = softmax_cross_entropy(logits, rng.integers(0, 3, size=6))
    assert dlogits.dtype == np.float32
    assert model.backward(dlogits).dtype == np.float32
    assert model.forward(x, training=False).dtype == np.float32
    for name, p in model.params.items():
        p -= np.float32(0.1) * model.grads[name]
        assert p.dtype == np.float32 and model.grads[name].dtype == np.float32, name
    assert all(b.dtype == np.float32 for b in model.buffers.values())


def test_call_is_forward():
    rng = np.random.default_rng(20)
    layer = Dense(3, 2, rng=rng)
    x = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(layer(x), layer.forward(x))
    bn = BatchNorm(3)
    bn.forward(x, training=True)
    np.testing.assert_array_equal(bn(x, training=False), bn.forward(x, training=False))


def test_sequential_repr_indexing_and_len():
    model = Sequential(Dense(64, 256), BatchNorm(256, dtype=np.float64), ReLU(),
                       Residual(Sequential(Dense(256, 256), ReLU())))
    assert len(model) == 4 and isinstance(model[2], ReLU) and list(model) == model.layers
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Dense(in_features=64, out_features=256)\n"
        "  (1): BatchNorm(256, momentum=0.1, eps=1e-05)\n"
        "  (2): ReLU()\n"
        "  (3): Residual(\n"
        "    (block): Sequential(\n"
        "      (0): Dense(in_features=256, out_features=256)\n"
        "      (1): ReLU()\n"
        "    )\n"
        "  )\n"
        ")"
    )
    single = Dense(2, 3, dtype=np.float32)
    assert repr(single) == "Dense(in_features=2, out_features=3, dtype=float32)"


def test_layer_base_class_is_usable_for_homework():
    class Square(Layer):
        def forward(self, x, training=True):
            self.x = x
            return x * x

        def backward(self, dy):
            return 2 * self.x * dy

    model = Sequential(Dense(2, 2, rng=0), Square())
    x = np.random.default_rng(21).standard_normal((3, 2))
    assert_gradcheck(check_layer(model, x))
    assert Square().params == {} and Square().grads == {} and Square().buffers == {}


# --- params, grads and buffers keep their arrays: a name cannot be bound to another -------------


class Scale(Layer):
    """A learner's layer, ``y = x * s``, written the homework way: plain dicts in ``__init__``."""

    def __init__(self, width):
        super().__init__()
        self.params = {"s": np.full(width, 2.0)}
        self.grads = {"s": np.zeros(width)}

    def forward(self, x, training=False):
        self.x = x
        return x * self.params["s"]

    def backward(self, dy):
        self.grads["s"][...] = np.sum(dy * self.x, axis=0)
        return dy * self.params["s"]


class ScaleWithoutSuperInit(Scale):
    def __init__(self, width):  # skips super().__init__(): still gets NamedArrays
        self.params = {"s": np.full(width, 2.0)}
        self.grads = {"s": np.zeros(width)}


class ScaleEntryByEntry(Scale):
    def __init__(self, width):  # fills the empty dicts every layer starts with, as a dict
        super().__init__(width)
        del self.params["s"]
        self.params["s"] = np.full(width, 2.0)
        self.grads.update(s=np.zeros(width))
        self.buffers.setdefault("calls", np.zeros(1))


WITH_ARRAYS = {
    "Dense": lambda: Dense(3, 3, rng=0),
    "BatchNorm": lambda: BatchNorm(3),
    "Residual": lambda: Residual(Sequential(Dense(3, 3, rng=0), BatchNorm(3), ReLU())),
    "Sequential": lambda: nested_model(),
    "a layer of your own": lambda: Scale(3),
    "one that skips super().__init__()": lambda: ScaleWithoutSuperInit(3),
    "one filled entry by entry": lambda: ScaleEntryByEntry(3),
}

REFUSED = {  # every way to bind a name to another array, or to add or remove a name
    "d[name] = copy": lambda d, name, new: d.__setitem__(name, new),
    "d[new name] = a": lambda d, name, new: d.__setitem__("new", new),
    "update": lambda d, name, new: d.update({name: new}),
    "|=": lambda d, name, new: operator.ior(d, {name: new}),
    "setdefault": lambda d, name, new: d.setdefault("new", new),
    "del": lambda d, name, new: d.__delitem__(name),
    "pop": lambda d, name, new: d.pop(name),
    "popitem": lambda d, name, new: d.popitem(),
    "clear": lambda d, name, new: d.clear(),
}


def kinds_with_arrays(layer):
    return [kind for kind in ("params", "grads", "buffers") if getattr(layer, kind)]


@pytest.mark.parametrize("refused", REFUSED.values(), ids=REFUSED)
@pytest.mark.parametrize("make", WITH_ARRAYS.values(), ids=WITH_ARRAYS)
def test_named_arrays_refuse_to_bind_a_name_to_another_array(make, refused):
    layer = make()
    for kind in kinds_with_arrays(layer):
        arrays = getattr(layer, kind)
        assert type(arrays) is NamedArrays and isinstance(arrays, dict)
        held = dict(arrays)
        name = next(iter(held))
        with pytest.raises(TypeError, match=rf"^{kind}\b") as error:
            refused(arrays, name, held[name].copy())
        assert ("[...] = values" in str(error.value)
                and ("load_state_dict" in str(error.value)) == (kind != "grads"))
        assert list(arrays) == list(held)
        assert all(arrays[k] is a for k, a in held.items())  # the very same arrays


def test_a_layer_whose_params_are_a_property_of_its_own_is_left_as_it_is():
    class Wrapper(Layer):
        def __init__(self):
            self.inner = Dense(2, 2, rng=0)

        @property
        def params(self):
            return self.inner.params

        @property
        def grads(self):
            return self.inner.grads

        def forward(self, x, training=False):
            return self.inner.forward(x, training)

        def backward(self, dy):
            return self.inner.backward(dy)

    model = Sequential(Wrapper(), Dense(2, 1, rng=1))
    assert model.params["0.W"] is model[0].inner.params["W"]
    assert model[0].buffers == {}


def test_entries_made_in_init_must_be_arrays():
    class Bad(Layer):
        def __init__(self):
            self.params["W"] = [[1.0]]

    with pytest.raises(TypeError, match=r"params\['W'\] must be a numpy array, got list"):
        Bad()


def test_a_name_may_be_given_back_its_own_array_which_is_what_minus_equals_does():
    layer = Dense(2, 2, rng=0)
    W = layer.params["W"]
    layer.params["W"] = W
    layer.params["W"] -= 1.0  # getitem, in-place subtraction, setitem of the same array
    assert layer.params["W"] is W and layer.W is W
    assert repr(layer.params).startswith("{'W': array([[")  # and it prints as a dict


def test_in_place_updates_through_the_dicts_train_every_layer_including_ones_of_your_own():
    rng = np.random.default_rng(26)
    model = Sequential(Dense(4, 6, rng=rng), BatchNorm(6), ReLU(), Scale(6),
                       ScaleWithoutSuperInit(6), ScaleEntryByEntry(6), Dense(6, 3, rng=rng))
    x, y = rng.standard_normal((8, 4)), rng.integers(0, 3, size=8)
    held = dict(model.params)
    losses = []
    for _ in range(30):
        loss, dlogits = softmax_cross_entropy(model.forward(x, training=True), y)
        model.backward(dlogits)
        for name in model.params:
            model.params[name] -= 0.2 * model.grads[name]
        losses.append(loss)
    assert losses[-1] < 0.5 * losses[0]
    assert all(model.params[name] is p for name, p in held.items())
    assert model[3].params["s"] is model.params["3.s"]
    assert not np.array_equal(model[3].params["s"], np.full(6, 2.0))  # the learner's layer trained


def test_a_saved_state_goes_in_through_load_state_dict_not_by_rebinding():
    model, trained = nested_model(), nested_model()
    for p in trained.params.values():
        p += 0.5
    saved = trained.state_dict()
    x = np.random.default_rng(27).standard_normal((4, 3))
    with pytest.raises(TypeError, match="load_state_dict"):
        model.params.update({name: saved[name] for name in model.params})
    with pytest.raises(TypeError, match="load_state_dict"):
        model.params["0.W"] = saved["0.W"]
    model.load_state_dict(saved)
    np.testing.assert_array_equal(model.forward(x), trained.forward(x))


@pytest.mark.parametrize("copy_of", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))],
                         ids=["deepcopy", "pickle"])
def test_a_copied_model_has_its_own_arrays_bound_as_firmly(copy_of):
    model = nested_model()
    twin = copy_of(model)
    assert type(twin.params) is NamedArrays and twin.buffers.kind == "buffers"
    assert twin[0].params["W"] is twin.params["0.W"]  # the layers share the twin's arrays
    for name, p in model.params.items():
        np.testing.assert_array_equal(twin.params[name], p)
        assert not np.shares_memory(twin.params[name], p)
    with pytest.raises(TypeError, match="load_state_dict"):
        twin.params["0.W"] = model.params["0.W"]
    with pytest.raises(TypeError, match="no new names"):
        twin[0].params["extra"] = np.zeros(1)
    running = model.buffers["1.running_mean"].copy()
    twin.forward(np.random.default_rng(28).standard_normal((5, 3)), training=True)
    np.testing.assert_array_equal(model.buffers["1.running_mean"], running)


# --- evaluation is the default: model(x) and forward(x) only look ------------------------------


WITH_BATCH_NORM = {
    "BatchNorm": lambda: BatchNorm(3),
    "Residual": lambda: Residual(Sequential(Dense(3, 3, rng=0), BatchNorm(3), ReLU())),
    "Sequential": lambda: nested_model(),
}


def warmed_up(make, rng):
    """A layer with running statistics away from their start and parameters off their init."""
    layer = make()
    for _ in range(3):
        layer.forward(rng.standard_normal((8, 3)) * 2 + 1, training=True)
    perturb(layer, rng, scale=0.2)
    return layer


@pytest.mark.parametrize("call", ["layer(x)", "layer.forward(x)"])
@pytest.mark.parametrize("make", WITH_BATCH_NORM.values(), ids=WITH_BATCH_NORM)
def test_forward_without_training_is_evaluation_and_leaves_running_statistics_alone(make, call):
    rng = np.random.default_rng(30)
    layer = warmed_up(make, rng)
    running = {name: b.copy() for name, b in layer.buffers.items()}
    x = rng.standard_normal((5, 3)) * 3 - 1
    out = layer(x) if call == "layer(x)" else layer.forward(x)
    for name, b in layer.buffers.items():
        np.testing.assert_array_equal(b, running[name], err_msg=name)
    np.testing.assert_array_equal(out, layer.forward(x, training=False))
    assert not np.allclose(out, layer.forward(x, training=True))  # not the training output
    assert layer(x[:1]).shape[0] == 1  # one example at a time: no batch statistics needed


@pytest.mark.parametrize("make", WITH_BATCH_NORM.values(), ids=WITH_BATCH_NORM)
def test_backward_after_a_default_forward_is_the_evaluation_gradient(make):
    rng = np.random.default_rng(31)
    layer = warmed_up(make, rng)
    x = rng.standard_normal((5, 3))
    r = rng.standard_normal(layer(x).shape)
    analytic = {"x": layer.backward(r)} | {name: g.copy() for name, g in layer.grads.items()}

    def evaluation_loss(_):
        return float(np.sum(layer.forward(x, training=False) * r))

    numeric = {"x": numerical_gradient(evaluation_loss, x, 1e-5)}
    numeric |= {name: numerical_gradient(evaluation_loss, p, 1e-5)
                for name, p in layer.params.items()}
    floor = 1e-3 * max(np.abs(g).max() for g in analytic.values())
    assert_gradcheck({name: max_relative_error(analytic[name], numeric[name], floor)
                      for name in numeric})


# --- one flat buffer for the parameters, one for the gradients --------------------------------


def nested_model(dtype=np.float64):
    rng = np.random.default_rng(22)
    return Sequential(
        Dense(3, 4, rng=rng, dtype=dtype), BatchNorm(4, dtype=dtype), ReLU(),
        Residual(Sequential(Dense(4, 4, rng=rng, dtype=dtype), ReLU())),
        Dense(4, 2, rng=rng, dtype=dtype),
    )


def assert_one_buffer(arrays: dict, layer_arrays: list[np.ndarray]):
    """``arrays`` are consecutive views, in order, that fill one 1-D array, and so are the
    arrays the layers hold."""
    values = list(arrays.values())
    flat = values[0].base
    assert flat is not None and flat.ndim == 1 and flat.size == sum(a.size for a in values)
    start = 0
    for a in values:
        assert a.base is flat and a.flags.c_contiguous
        assert np.shares_memory(a, flat[start : start + a.size])
        np.testing.assert_array_equal(a.ravel(), flat[start : start + a.size])
        start += a.size
    assert sorted(map(id, layer_arrays)) == sorted(map(id, values))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sequential_keeps_parameters_and_gradients_in_one_buffer_each(dtype):
    model = nested_model(dtype)
    reference = nested_model(dtype)  # the same weights, drawn from the same seed
    inner = model[3].block
    for kind in ("params", "grads"):
        arrays = getattr(model, kind)
        layer_arrays = [a for layer in (model[0], model[1], inner[0], model[4])
                        for a in getattr(layer, kind).values()]
        assert_one_buffer(arrays, layer_arrays)
        assert list(arrays) == ["0.W", "0.b", "1.gamma", "1.beta", "3.0.W", "3.0.b", "4.W", "4.b"]
        assert all(a.dtype == dtype for a in arrays.values())
        # the nested containers see the same views
        assert inner.params["0.W"] is model.params["3.0.W"] is model[3].params["0.W"]
    for name, p in reference.params.items():
        np.testing.assert_array_equal(model.params[name], p)
    assert model.params["0.W"].base is not model.grads["0.W"].base


def test_the_flat_buffers_are_the_layers_parameters_and_gradients():
    model = nested_model()
    model.params["0.W"].base[:] = 0.5  # one write into the buffer
    for layer in (model[0], model[1], model[3].block[0], model[4]):
        for name, p in layer.params.items():
            np.testing.assert_array_equal(p, 0.5, err_msg=f"{layer!r} {name}")
    rng = np.random.default_rng(25)
    model.forward(rng.standard_normal((5, 3)))
    model.backward(rng.standard_normal((5, 2)))
    flat_grads = model.grads["0.W"].base
    np.testing.assert_array_equal(
        flat_grads, np.concatenate([g.ravel() for g in model.grads.values()]))
    np.testing.assert_array_equal(flat_grads[-2:], model[4].grads["b"])


class DenseOfMyOwn(Dense):
    """A layer of the learner's own: it might keep its arrays anywhere."""


@pytest.mark.parametrize(
    "make",
    [
        lambda: Sequential(DenseOfMyOwn(3, 3, rng=0), ReLU(), Dense(3, 2, rng=1)),
        lambda: Sequential(Dense(3, 3, rng=0), ReLU(), Dense(3, 2, rng=1, dtype=np.float32)),
    ],
    ids=["a layer of your own", "two dtypes"],
)
def test_no_buffer_where_it_would_not_be_safe(make):
    model = make()
    assert all(p.base is None for p in model.params.values())
    assert all(g.base is None for g in model.grads.values())


def test_a_layer_put_into_a_second_model_leaves_the_first_one_working():
    first = Sequential(Dense(3, 3, rng=0), ReLU(), Dense(3, 2, rng=1))
    weights = {name: p.copy() for name, p in first.params.items()}
    second = Sequential(first[0], ReLU())  # shares a layer: not moved out of first's buffer
    assert second.params["0.W"] is first.params["0.W"] is first[0].params["W"]
    first.params["0.W"][...] = 1.0  # still reaches the layer
    np.testing.assert_array_equal(first[0].W, 1.0)
    assert first.params["2.W"].base is first.params["0.W"].base
    np.testing.assert_array_equal(first.params["2.W"], weights["2.W"])


def test_a_model_put_into_a_bigger_one_keeps_working():
    rng = np.random.default_rng(23)
    inner = Sequential(Dense(3, 3, rng=1), ReLU())
    x, dy = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    expected = inner.forward(x).copy()
    outer = Sequential(inner, Dense(3, 3, rng=2))
    assert inner.params["0.W"] is outer.params["0.0.W"]
    assert inner.params["0.W"].base is outer.params["1.W"].base
    np.testing.assert_array_equal(inner.forward(x), expected)
    inner.backward(dy)
    np.testing.assert_array_equal(outer.grads["0.0.W"], x.T @ (dy * (expected > 0)))


# --- input_grad=False: the gradient with respect to the input is skipped -----------------------


@pytest.mark.parametrize(
    "make",
    [lambda: Dense(3, 2, rng=0), lambda: mlp(0, sizes=(3, 5, 4)), nested_model,
     lambda: Sequential(ReLU(), Dense(3, 2, rng=0)),  # a first layer that cannot skip
     lambda: Sequential(Residual(Dense(3, 3, rng=0)), Dense(3, 2, rng=1))],
    ids=["Dense", "mlp", "nested", "ReLU first", "Residual first"],
)
def test_backward_without_input_grad_fills_the_same_gradients_and_returns_none(make):
    rng = np.random.default_rng(24)
    full, skipping = make(), make()
    x = rng.standard_normal((5, 3))
    out = full.forward(x, training=True)
    skipping.forward(x, training=True)
    dy = rng.standard_normal(out.shape)
    dx = full.backward(dy)
    assert dx.shape == x.shape
    assert skipping.backward(dy, input_grad=False) is None
    for name, g in full.grads.items():
        np.testing.assert_array_equal(skipping.grads[name], g, err_msg=name)


def test_skips_input_grad_names_the_layers_that_can():
    class Mine(Layer):
        def backward(self, dy):
            return dy

    assert skips_input_grad(Dense(2, 2)) and skips_input_grad(Sequential(ReLU()))
    assert not any(skips_input_grad(layer) for layer in (ReLU(), BatchNorm(2), Mine(),
                                                          Residual(Dense(2, 2)), object()))


def test_a_layer_of_your_own_may_be_an_abstract_base_class_too():
    class Block(Layer, ABC):  # no metaclass conflict with Layer's own
        @abstractmethod
        def width(self) -> int: ...

    class Identity(Block):
        def __init__(self):
            self.params["scale"] = np.ones(2)

        def width(self):
            return 2

        def forward(self, x, training=False):
            return x

    with pytest.raises(TypeError, match="abstract"):
        Block()
    layer = Identity()
    assert layer.width() == 2 and isinstance(layer, Layer) and isinstance(layer, Block)
    with pytest.raises(TypeError, match="bound"):  # its names are sealed as every layer's
        layer.params["scale"] = np.zeros(2)


def test_uses_batch_statistics_finds_a_batch_norm_at_any_depth():
    nested = Sequential(Dense(2, 2), Residual(Sequential(Dense(2, 2), BatchNorm(2))))
    assert uses_batch_statistics(BatchNorm(2)) and uses_batch_statistics(nested)
    assert not any(uses_batch_statistics(layer) for layer in (
        Dense(2, 2), LayerNorm(2), Sequential(Dense(2, 2), ReLU()), Residual(Dense(2, 2))))


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"in_features": 0, "out_features": 2}, ValueError, "in_features"),
        ({"in_features": 2.5, "out_features": 2}, TypeError, "in_features"),
        ({"in_features": True, "out_features": 2}, TypeError, "in_features"),
        ({"in_features": 2, "out_features": -1}, ValueError, "out_features"),
        ({"in_features": 2, "out_features": 2, "dtype": np.int32}, TypeError, "dtype"),
        ({"in_features": 2, "out_features": 2, "dtype": "banana"}, TypeError, "dtype"),
        ({"in_features": 2, "out_features": 2, "init": "glorot"}, ValueError, "init"),
        ({"in_features": 2, "out_features": 2, "init": -0.1}, ValueError, "init"),
        ({"in_features": 2, "out_features": 2, "rng": "seed"}, TypeError, "rng"),
        ({"in_features": 2, "out_features": 2, "rng": 1.5}, TypeError, "rng"),
    ],
)
def test_dense_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Dense(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_features": 0}, ValueError, "num_features"),
        ({"num_features": 3, "momentum": -0.1}, ValueError, "momentum"),
        ({"num_features": 3, "momentum": 1.5}, ValueError, "momentum"),
        ({"num_features": 3, "momentum": "0.1"}, TypeError, "momentum"),
        ({"num_features": 3, "eps": 0.0}, ValueError, "eps"),
        ({"num_features": 3, "eps": float("nan")}, ValueError, "eps"),
        ({"num_features": 3, "dtype": np.float16}, TypeError, "dtype"),
    ],
)
def test_batchnorm_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        BatchNorm(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_features": 0}, ValueError, "num_features"),
        ({"num_features": 1}, ValueError, "num_features must be >= 2"),
        ({"num_features": 2.0}, TypeError, "num_features"),
        ({"num_features": 3, "eps": 0.0}, ValueError, "eps"),
        ({"num_features": 3, "eps": float("nan")}, ValueError, "eps"),
        ({"num_features": 3, "momentum": 0.1}, TypeError, "momentum"),
        ({"num_features": 3, "dtype": np.float16}, TypeError, "dtype"),
    ],
)
def test_layernorm_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        LayerNorm(**kwargs)


PARAMETRIC = {"Dense": lambda dtype=np.float64: Dense(3, 2, rng=0, dtype=dtype),
              "BatchNorm": lambda dtype=np.float64: BatchNorm(3, dtype=dtype),
              "LayerNorm": lambda dtype=np.float64: LayerNorm(3, dtype=dtype)}


@pytest.mark.parametrize("name", PARAMETRIC)
def test_wrong_input_width_names_expected_and_got(name):
    with pytest.raises(ValueError, match=r"3 features.*\(4, 5\)"):
        PARAMETRIC[name]().forward(np.zeros((4, 5)))


@pytest.mark.parametrize("name", PARAMETRIC)
@pytest.mark.parametrize("shape", [(3,), (2, 3, 1), ()])
def test_input_must_be_2d(name, shape):
    with pytest.raises(ValueError, match="2-D"):
        PARAMETRIC[name]().forward(np.zeros(shape))


@pytest.mark.parametrize("name", PARAMETRIC)
def test_float32_input_to_a_float64_layer_is_a_type_error_not_an_upcast(name):
    with pytest.raises(TypeError, match=r"float32.*astype\(np.float64\).*dtype=np.float32"):
        PARAMETRIC[name]().forward(np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(TypeError, match=r"float64.*astype\(np.float32\)"):
        PARAMETRIC[name](np.float32).forward(np.zeros((4, 3)))


@pytest.mark.parametrize("make", [*PARAMETRIC.values(), ReLU])
@pytest.mark.parametrize("x", [np.zeros((4, 3), dtype=np.int64), [[0.0, 1.0, 2.0]] * 4],
                         ids=["int", "list"])
def test_non_float_array_input_is_a_type_error(make, x):
    with pytest.raises(TypeError, match="x"):
        make().forward(x)


@pytest.mark.parametrize("make", [*PARAMETRIC.values(), ReLU, lambda: Residual(Dense(3, 3)),
                                  lambda: Sequential(Dense(3, 3), ReLU())])
def test_backward_before_forward_says_so(make):
    with pytest.raises(RuntimeError, match="forward"):
        make().backward(np.zeros((4, 3)))


@pytest.mark.parametrize("make", [*PARAMETRIC.values(), ReLU, lambda: Residual(Dense(3, 3))])
def test_dy_must_have_the_output_shape_and_dtype(make):
    layer = make()
    out = layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"dy.*shape"):
        layer.backward(np.zeros((out.shape[0] + 1, out.shape[1])))
    with pytest.raises(ValueError, match=r"dy.*shape"):
        layer.backward(np.zeros(out.shape[0] * out.shape[1]))
    with pytest.raises(TypeError, match=r"dy.*float32"):
        layer.backward(np.zeros(out.shape, dtype=np.float32))


def test_batchnorm_training_batch_of_one_is_a_clear_error():
    with pytest.raises(ValueError, match=r"at least 2 rows.*training=False"):
        BatchNorm(3).forward(np.ones((1, 3)), training=True)


def test_training_flag_must_be_a_bool():
    with pytest.raises(TypeError, match="training"):
        BatchNorm(3).forward(np.ones((4, 3)), training="eval")


class Widen:
    """A learner's layer that tells no widths: Sequential and Residual cannot check it early."""

    params, grads = {}, {}

    def forward(self, x, training=True):
        return np.concatenate([x, x], axis=1)

    def backward(self, dy):
        half = dy.shape[1] // 2
        return dy[:, :half] + dy[:, half:]


def test_residual_block_must_keep_the_shape():
    # a block of known widths is refused when the Residual is made ...
    with pytest.raises(ValueError, match="maps 3 features to 2.*keep the width"):
        Residual(Dense(3, 2))
    with pytest.raises(ValueError, match="maps 3 features to 4"):
        Residual(Sequential(Dense(3, 4), ReLU()))
    # ... one that tells no widths when its output has another shape, leaving batch norm as it was
    bn = BatchNorm(3)
    block = Residual(Sequential(bn, Widen()))
    before = bn.running_mean.copy()
    with pytest.raises(ValueError, match=r"same shape|keep the shape"):
        block.forward(np.ones((4, 3)), training=True)
    np.testing.assert_array_equal(bn.running_mean, before)


@pytest.mark.parametrize("layers, message", [
    ((Dense(4, 3), ReLU(), Dense(4, 2)), r"layer 2 \(Dense\) takes 4 features, .* give 3"),
    ((Dense(4, 3), BatchNorm(4)), r"layer 1 \(BatchNorm\) takes 4 features, .* give 3"),
    ((Sequential(Dense(4, 3), ReLU()), Dense(2, 2)), r"layer 1 \(Dense\) takes 2"),
    ((Dense(4, 3), Residual(Dense(2, 2))), r"layer 1 \(Residual\) takes 2"),
])
def test_sequential_refuses_layers_whose_widths_do_not_chain(layers, message):
    with pytest.raises(ValueError, match=message):
        Sequential(*layers)


def test_widths_are_read_through_containers_and_unknown_layers_reset_the_check():
    model = Sequential(Dense(4, 3), ReLU(), Residual(Sequential(Dense(3, 3), BatchNorm(3))),
                       Dense(3, 2))
    assert features(model) == (4, 2)
    assert features(ReLU()) == (None, None)
    assert features(Sequential(Widen(), Dense(6, 2))) == (None, 2)
    Sequential(Dense(4, 3), Widen(), Dense(6, 2))  # the unknown layer may change the width


def test_containers_reject_non_layers_duplicates_and_empty():
    with pytest.raises(TypeError, match="layer 1"):
        Sequential(Dense(2, 2), np.ones(3))
    with pytest.raises(TypeError, match="block"):
        Residual(lambda x: x)
    with pytest.raises(ValueError, match="at least one layer"):
        Sequential()
    relu = ReLU()
    with pytest.raises(ValueError, match="twice"):
        Sequential(Dense(2, 2), relu, Dense(2, 2), relu)
    dense = Dense(2, 2)
    with pytest.raises(ValueError, match="twice"):
        Sequential(dense, Residual(Sequential(dense)))


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
