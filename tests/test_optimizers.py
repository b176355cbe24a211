"""Tests for course_lib.optimizers.

Reference numbers come from ``fixtures/optimizers.npz`` (made with torch.optim by
``fixtures/make_optimizer_fixtures.py``) or from closed forms.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.layers import BatchNorm, Dense, ReLU, Residual, Sequential
from course_lib.optimizers import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    GradientError,
    Hyperparameter,
    Momentum,
    Optimizer,
    RMSProp,
    adagrad_init,
    adagrad_update,
    adam_init,
    adam_update,
    adamw_update,
    momentum_init,
    momentum_update,
    rmsprop_init,
    rmsprop_update,
    sgd_update,
)
from course_lib.problems import Quadratic, Rescaled, run_optimizer
from course_lib.validation import check_beta

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = np.load(FIXTURES / "optimizers.npz")
CONFIGS = json.loads(str(REFERENCE["configs"]))
CLASSES = {cls.__name__: cls for cls in (SGD, Momentum, Adagrad, RMSProp, Adam, AdamW)}
NAMES = ("W", "b", "K")
TOLERANCE = {"float64": 1e-12, "float32": 1e-6}

# One of each, with non-default options where they exist, for the contract tests.
OPTIMIZERS = {
    "SGD": lambda: SGD(0.1),
    "SGD+L2": lambda: SGD(0.1, weight_decay=0.1),
    "Momentum": lambda: Momentum(0.1, beta=0.8),
    "Nesterov": lambda: Momentum(0.1, beta=0.8, nesterov=True),
    "Adagrad": lambda: Adagrad(0.1, eps=1e-6),
    "RMSProp": lambda: RMSProp(0.01, beta=0.95),
    "Adam": lambda: Adam(0.01),
    "Adam+L2": lambda: Adam(0.01, weight_decay=0.1),
    "Adam-no-correction": lambda: Adam(0.01, bias_correction=False),
    "AdamW": lambda: AdamW(0.01, weight_decay=0.1),
}


def make_params(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return {"W": rng.normal(size=(3, 4)).astype(dtype), "b": rng.normal(size=4).astype(dtype)}


def make_grads(params, seed=1):
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=w.shape).astype(w.dtype) for name, w in params.items()}


def as_flat(arrays):
    """The same arrays as consecutive views of one 1-D array (the layout of a Sequential)."""
    flat = np.concatenate([a.ravel() for a in arrays.values()])
    views, start = {}, 0
    for name, a in arrays.items():
        views[name] = flat[start : start + a.size].reshape(a.shape)
        start += a.size
    return views


# "separate": every array on its own (the rule runs once per name); "flat": the fast path
LAYOUTS = {"separate": dict, "flat": as_flat}


# --- reference: torch.optim, step for step ---------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_matches_torch_step_for_step(config, dtype):
    spec = CONFIGS[config]
    opt = CLASSES[spec["class"]](**spec["kwargs"])
    params = {name: REFERENCE[f"{dtype}/init/{name}"].copy() for name in NAMES}
    tol = TOLERANCE[dtype]
    n_steps = len(REFERENCE[f"{dtype}/grads/W"])
    for step in range(n_steps):
        grads = {name: REFERENCE[f"{dtype}/grads/{name}"][step] for name in NAMES}
        opt.step(params, grads)
        for name in NAMES:
            expected = REFERENCE[f"{dtype}/{config}/{name}"][step]
            assert params[name].dtype == np.dtype(dtype)
            np.testing.assert_allclose(
                params[name],
                expected,
                rtol=tol,
                atol=tol * np.abs(expected).max(),
                err_msg=f"{config} {dtype}: params[{name!r}] after step {step + 1}",
            )


# --- closed forms ----------------------------------------------------------------------------


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_equals_heavy_ball_with_scaled_lr_exactly(nesterov):
    # beta = 3/4, lr = 1/2 and integer gradients: every number below is exact in float64, so
    # v = (1 − β)·b must hold to the last bit, not just approximately.
    beta, lr = 0.75, 0.5
    rng = np.random.default_rng(3)
    grads = rng.integers(-8, 9, size=(12, 5)).astype(np.float64)
    w = {"w": rng.integers(-8, 9, size=5).astype(np.float64)}
    w_heavy = w["w"].copy()
    b = np.zeros(5)
    opt = Momentum(lr, beta=beta, nesterov=nesterov)
    for g in grads:
        opt.step(w, {"w": g})
        # PyTorch's heavy ball: b ← β·b + g, w ← w − lr'·b (Nesterov: w ← w − lr'·(g + β·b))
        b = beta * b + g
        direction = g + beta * b if nesterov else b
        w_heavy = w_heavy - lr * (1 - beta) * direction
        np.testing.assert_array_equal(w["w"], w_heavy)
        np.testing.assert_array_equal(opt.state["w"]["v"], (1 - beta) * b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_with_a_constant_gradient_moves_lr_per_step(dtype):
    # m̂ = g and v̂ = g² exactly, so every step is lr·g / (|g| + eps).
    lr, eps = 0.01, 1e-8
    g = np.array([3.0, -0.5, 1e-3, -20.0], dtype=dtype)
    w0 = np.array([1.0, 2.0, -1.0, 0.5], dtype=dtype)
    params = {"w": w0.copy()}
    opt = Adam(lr, eps=eps)
    for t in range(1, 6):
        opt.step(params, {"w": g})
        expected = w0.astype(np.float64) - t * lr * g / (np.abs(g) + eps)
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(params["w"], expected, rtol=rtol)
        assert opt.state["w"]["t"] == t


def test_adam_without_bias_correction_takes_the_uncorrected_steps():
    # m_t = (1 − β₁ᵗ)·g and v_t = (1 − β₂ᵗ)·g², so the step is
    # lr·(1 − β₁ᵗ)·g / (√(1 − β₂ᵗ)·|g| + eps).
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    g = np.array([2.0, -0.25, 7.0])
    params = {"w": np.zeros(3)}
    opt = Adam(lr, beta1, beta2, eps, bias_correction=False)
    expected = np.zeros(3)
    for t in range(1, 8):
        opt.step(params, {"w": g})
        expected -= lr * (1 - beta1**t) * g / (math.sqrt(1 - beta2**t) * np.abs(g) + eps)
        np.testing.assert_allclose(params["w"], expected, rtol=1e-12)


def test_adam_steps_without_bias_correction_are_too_large_as_documented():
    # The ratio of the uncorrected to the corrected step is (1 − β₁ᵗ) / √(1 − β₂ᵗ):
    # √10 at t = 1, about 6.5 around t = 10, about 1.26 at t = 1000 (Adam's docstring).
    g = np.array([2.0, -0.25, 7.0])
    corrected, uncorrected = {"w": np.zeros(3)}, {"w": np.zeros(3)}
    adam, plain = Adam(0.01, eps=0.0), Adam(0.01, eps=0.0, bias_correction=False)
    ratios = {}
    for t in range(1, 1001):
        before = corrected["w"].copy(), uncorrected["w"].copy()
        adam.step(corrected, {"w": g})
        plain.step(uncorrected, {"w": g})
        ratio = (uncorrected["w"] - before[1]) / (corrected["w"] - before[0])
        ratios[t] = ratio[0]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    assert ratios[1] == pytest.approx(math.sqrt(10), rel=1e-12)
    assert ratios[10] == pytest.approx(6.5, rel=0.01)
    assert ratios[1000] == pytest.approx(1.26, rel=0.01)


@pytest.mark.parametrize("make", [lambda: RMSProp(0.1, eps=0.0), lambda: Adam(0.1, eps=0.0)])
def test_eps_zero_gives_nan_where_the_gradient_has_always_been_zero(make):
    params = {"w": np.ones(2)}
    with np.errstate(invalid="ignore"):
        make().step(params, {"w": np.array([1.0, 0.0])})
    assert np.isfinite(params["w"][0])
    assert np.isnan(params["w"][1])


def test_adamw_shrinks_weights_by_one_minus_lr_lambda_when_the_gradient_is_zero():
    lr, wd = 0.1, 0.5
    w0 = np.array([4.0, -2.0, 1e-3])
    params = {"w": w0.copy()}
    opt = AdamW(lr, weight_decay=wd)
    for t in range(1, 6):
        opt.step(params, {"w": np.zeros(3)})
        np.testing.assert_allclose(params["w"], w0 * (1 - lr * wd) ** t, rtol=1e-12)


def test_adam_l2_penalty_is_normalised_unlike_adamw():
    # With a zero loss gradient, Adam's L2 gradient λ·w is divided by √v̂ = λ|w|: each weight
    # moves by lr·sign(w), whatever its size. AdamW shrinks each weight in proportion to it.
    lr, wd = 0.01, 0.5
    w0 = np.array([4.0, -2.0, 0.1])
    params = {"w": w0.copy()}
    Adam(lr, weight_decay=wd).step(params, {"w": np.zeros(3)})
    np.testing.assert_allclose(params["w"], w0 - lr * np.sign(w0), rtol=1e-6)


def test_sgd_l2_is_sgd_on_the_penalised_gradient():
    lr, wd = 0.1, 0.3
    params = make_params()
    plain = {name: w.copy() for name, w in params.items()}
    grads = make_grads(params)
    SGD(lr, weight_decay=wd).step(params, grads)
    SGD(lr).step(plain, {name: grads[name] + wd * plain[name] for name in plain})
    for name in params:
        np.testing.assert_allclose(params[name], plain[name], rtol=1e-14)


def test_rmsprop_first_step_divides_by_root_of_one_minus_beta():
    # s₁ = (1 − β)·g², so the first step is lr·g / (√(1 − β)·|g| + eps).
    lr, beta, eps = 0.01, 0.9, 1e-8
    g = np.array([1.0, -4.0, 1e-2])
    params = {"w": np.zeros(3)}
    RMSProp(lr, beta, eps).step(params, {"w": g})
    expected = -lr * g / (math.sqrt(1 - beta) * np.abs(g) + eps)
    np.testing.assert_allclose(params["w"], expected, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    log_scale=st.floats(min_value=-3, max_value=3),
    lr=st.floats(min_value=1e-3, max_value=0.5),
    # not β ≈ 0: that is sign descent, whose steps of exactly ±lr can land exactly on the
    # minimiser from x0 = (-2.5, 2), where g = 0 and (eps = 0) the step is 0/0
    beta=st.floats(min_value=0.1, max_value=0.99),
)
def test_rmsprop_takes_the_same_path_whatever_the_scale_of_a_gradient(log_scale, lr, beta):
    # ∇g = s² ∘ ∇f at every point: RMSProp (eps = 0) divides the constant out
    bowl = Quadratic(kappa=5, L=1.0, angle=0)
    scaled = Rescaled(bowl, (1.0, 10.0**log_scale))
    x0 = np.array([-2.5, 2.0])
    a = run_optimizer(RMSProp(lr, beta=beta, eps=0.0), bowl, x0, 60)
    b = run_optimizer(RMSProp(lr, beta=beta, eps=0.0), scaled, x0, 60)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


# --- property: every optimizer minimises a convex quadratic -----------------------------------

QUADRATIC = dict(
    angle=st.floats(0, math.pi),
    log_scale=st.floats(-1, 1),
    log_condition=st.floats(0, 1),
    w_star=st.lists(st.floats(-5, 5), min_size=2, max_size=2),
    w0=st.lists(st.floats(-5, 5), min_size=2, max_size=2),
)


def quadratic(angle, log_scale, log_condition):
    """f(w) = ½ (w − w*)ᵀ A (w − w*), A SPD with eigenvalues s and s·κ (κ <= 10)."""
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    eigenvalues = 10**log_scale * np.array([1.0, 10**log_condition])
    return rotation @ np.diag(eigenvalues) @ rotation.T, eigenvalues.max()


def cosine_lr(lr0, t, n):
    return lr0 * (1 + math.cos(math.pi * t / n)) / 2 + 1e-12


@pytest.mark.parametrize("kind", ["SGD", "Momentum", "Nesterov", "RMSProp", "Adam", "AdamW"])
@settings(max_examples=15, deadline=None)
@given(**QUADRATIC)
def test_every_optimizer_drives_a_convex_quadratic_to_its_minimiser(
    kind, angle, log_scale, log_condition, w_star, w0
):
    A, largest_eigenvalue = quadratic(angle, log_scale, log_condition)
    w_star = np.array(w_star)
    if kind == "AdamW":
        w_star = np.zeros(2)  # weight decay pulls towards 0, so put the minimiser there
    n_steps = 500
    opt = {
        "SGD": lambda: SGD(1 / largest_eigenvalue),
        "Momentum": lambda: Momentum(1 / largest_eigenvalue, beta=0.9),
        "Nesterov": lambda: Momentum(1 / largest_eigenvalue, beta=0.9, nesterov=True),
        # Adaptive methods step about lr whatever the gradient: let lr decay to zero.
        "RMSProp": lambda: RMSProp(0.3),
        "Adam": lambda: Adam(0.3, beta2=0.99),
        "AdamW": lambda: AdamW(0.3, beta2=0.99, weight_decay=0.01),
    }[kind]()
    decays = kind in ("RMSProp", "Adam", "AdamW")
    params = {"w": np.array(w0)}
    for t in range(n_steps):
        if decays:
            opt.lr = cosine_lr(0.3, t, n_steps)
        opt.step(params, {"w": A @ (params["w"] - w_star)})
    assert np.linalg.norm(params["w"] - w_star) < 1e-5


# --- the contract: in place, dtype, grads untouched, lr, state per name -------------------------


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_updates_in_place_and_keeps_the_dtype(kind, dtype):
    opt = OPTIMIZERS[kind]()
    params = make_params(dtype)
    arrays = dict(params)
    before = {name: w.copy() for name, w in params.items()}
    for seed in range(3):
        opt.step(params, make_grads(params, seed))
    for name, w in params.items():
        assert w is arrays[name], "step must update the arrays themselves"
        assert w.dtype == dtype
        assert not np.array_equal(w, before[name])
        for key, value in opt.state[name].items():
            if isinstance(value, np.ndarray):
                assert value.dtype == dtype, f"state[{name!r}][{key!r}]"
                assert value.shape == w.shape


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_never_changes_the_gradients(kind):
    opt = OPTIMIZERS[kind]()
    params = make_params()
    for seed in range(3):
        grads = make_grads(params, seed)
        copies = {name: g.copy() for name, g in grads.items()}
        opt.step(params, grads)
        for name in grads:
            np.testing.assert_array_equal(grads[name], copies[name])


def test_lr_can_be_changed_between_steps():
    w0 = np.array([1.0, -2.0])
    g = np.array([0.5, 0.25])
    params = {"w": w0.copy()}
    opt = SGD(0.1)
    opt.step(params, {"w": g})
    opt.lr = 0.01
    assert opt.lr == 0.01
    opt.step(params, {"w": g})
    np.testing.assert_allclose(params["w"], w0 - 0.1 * g - 0.01 * g, rtol=1e-15)


@pytest.mark.parametrize("bad", [0.0, -0.1, math.nan, math.inf])
def test_setting_a_bad_lr_raises_and_keeps_the_old_one(bad):
    opt = Adam(0.01)
    with pytest.raises(ValueError, match="lr"):
        opt.lr = bad
    assert opt.lr == 0.01


def test_lr_from_numpy_scalar_keeps_float32_float32():
    opt = Momentum(0.1)
    opt.lr = np.float64(0.05)  # what a schedule computed with numpy might return
    assert type(opt.lr) is float
    params = make_params(np.float32)
    opt.step(params, make_grads(params))
    assert params["W"].dtype == np.float32


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_state_is_kept_per_name(kind):
    # One optimizer stepping two models with different names == one optimizer per model.
    shared = OPTIMIZERS[kind]()
    first, second = OPTIMIZERS[kind](), OPTIMIZERS[kind]()
    a, a_alone = {"a": np.arange(3.0)}, {"a": np.arange(3.0)}
    b, b_alone = {"b": -np.arange(3.0)}, {"b": -np.arange(3.0)}
    rng = np.random.default_rng(5)
    for _ in range(4):
        ga = {"a": rng.normal(size=3)}
        shared.step(a, ga)
        first.step(a_alone, ga)
        gb = {"b": rng.normal(size=3)}
        shared.step(b, gb)
        second.step(b_alone, gb)
    shared.step(a, ga)  # "a" now has one step more than "b"
    first.step(a_alone, ga)
    np.testing.assert_array_equal(a["a"], a_alone["a"])
    np.testing.assert_array_equal(b["b"], b_alone["b"])
    assert sorted(shared.state) == ["a", "b"]
    if "t" in shared.state["a"]:  # Adam counts steps per parameter, like torch
        assert (shared.state["a"]["t"], shared.state["b"]["t"]) == (5, 4)


def test_named_state_holds_the_documented_moments():
    # After one step from zero state: v = (1−β)·g, s = (1−β)·g², m = (1−β₁)·g, v = (1−β₂)·g².
    g = np.array([2.0, -1.0])
    momentum, rmsprop, adam = Momentum(0.1, beta=0.8), RMSProp(0.1, beta=0.9), Adam(0.1, 0.7, 0.99)
    for opt in (momentum, rmsprop, adam):
        opt.step({"w": np.zeros(2)}, {"w": g})
    assert set(momentum.state["w"]) == {"v"}
    assert set(rmsprop.state["w"]) == {"s"}
    assert set(adam.state["w"]) == {"t", "m", "v"}
    np.testing.assert_allclose(momentum.state["w"]["v"], 0.2 * g, rtol=1e-15)
    np.testing.assert_allclose(rmsprop.state["w"]["s"], 0.1 * g**2, rtol=1e-15)
    np.testing.assert_allclose(adam.state["w"]["m"], 0.3 * g, rtol=1e-15)
    np.testing.assert_allclose(adam.state["w"]["v"], 0.01 * g**2, rtol=1e-15)
    assert adam.state["w"]["t"] == 1


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_reset_forgets_the_state(kind):
    opt = OPTIMIZERS[kind]()
    params = make_params()
    opt.step(params, make_grads(params, seed=7))
    opt.reset()
    assert opt.state == {}
    # After reset, the next step is the step of a brand-new optimizer.
    fresh_params = {name: w.copy() for name, w in params.items()}
    grads = make_grads(params)
    opt.step(params, grads)
    OPTIMIZERS[kind]().step(fresh_params, grads)
    for name in params:
        np.testing.assert_array_equal(params[name], fresh_params[name])


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_repr_rebuilds_the_same_optimizer(kind):
    opt = OPTIMIZERS[kind]()
    text = repr(opt)
    assert text.startswith(type(opt).__name__ + "(")
    rebuilt = eval(text, {cls.__name__: cls for cls in CLASSES.values()})
    assert type(rebuilt) is type(opt)
    assert repr(rebuilt) == text


def test_every_optimizer_is_an_optimizer_and_adamw_is_an_adam():
    assert all(issubclass(cls, Optimizer) for cls in CLASSES.values())
    assert issubclass(AdamW, Adam)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "name", "error"),
    [
        (lambda: SGD(0.0), "lr", ValueError),
        (lambda: SGD(-1.0), "lr", ValueError),
        (lambda: SGD(math.nan), "lr", ValueError),
        (lambda: SGD(math.inf), "lr", ValueError),
        (lambda: SGD("0.1"), "lr", TypeError),
        (lambda: SGD(True), "lr", TypeError),
        (lambda: SGD(0.1, weight_decay=-0.1), "weight_decay", ValueError),
        (lambda: Momentum(0.1, beta=1.0), "beta", ValueError),
        (lambda: Momentum(0.1, beta=-0.1), "beta", ValueError),
        (lambda: Momentum(0.1, nesterov="yes"), "nesterov", TypeError),
        (lambda: RMSProp(0.1, beta=1.5), "beta", ValueError),
        (lambda: RMSProp(0.1, eps=-1e-8), "eps", ValueError),
        (lambda: RMSProp(0.1, eps=math.nan), "eps", ValueError),
        (lambda: Adam(0.1, beta1=1.0), "beta1", ValueError),
        (lambda: Adam(0.1, beta2=-0.5), "beta2", ValueError),
        (lambda: Adam(0.1, beta2=math.nan), "beta2", ValueError),
        (lambda: Adam(0.1, eps=-1.0), "eps", ValueError),
        (lambda: Adam(0.1, weight_decay=-0.01), "weight_decay", ValueError),
        (lambda: Adam(0.1, bias_correction=0), "bias_correction", TypeError),
        (lambda: AdamW(-0.1), "lr", ValueError),
        (lambda: AdamW(0.1, beta1=1.2), "beta1", ValueError),
        (lambda: AdamW(0.1, weight_decay=-1.0), "weight_decay", ValueError),
    ],
)
def test_bad_hyperparameters_are_named(make, name, error):
    with pytest.raises(error, match=name):
        make()


def bad_step_cases():
    W, b = np.ones((3, 4)), np.ones(4)
    return [
        ("missing", {"W": W, "b": b}, {"W": W.copy()}, ValueError, r"missing from grads \['b'\]"),
        ("extra", {"W": W}, {"W": W.copy(), "c": b.copy()}, ValueError, r"extra in grads \['c'\]"),
        ("shape", {"W": W}, {"W": np.ones((4, 3))}, ValueError, r"\['W'\].*\(4, 3\).*\(3, 4\)"),
        ("dtype", {"W": W}, {"W": np.ones((3, 4), np.float32)}, TypeError, r"float32.*float64"),
        ("int param", {"W": np.ones((3, 4), int)}, {"W": np.ones((3, 4))}, TypeError, "floating"),
        ("list param", {"W": [1.0, 2.0]}, {"W": np.ones(2)}, TypeError, r"params\['W'\]"),
        ("list grad", {"W": np.ones(2)}, {"W": [1.0, 2.0]}, TypeError, r"grads\['W'\]"),
        (
            "nan",
            {"W": W, "b": b},
            {"W": W.copy(), "b": np.array([1, np.nan, 1, 1])},
            GradientError,
            r"grads\['b'\].*NaN",
        ),
        (
            "inf",
            {"W": W},
            {"W": np.full((3, 4), -np.inf)},
            GradientError,
            r"grads\['W'\].*infinity",
        ),
        ("params not dict", [W], {"W": W.copy()}, TypeError, "params"),
        ("grads not dict", {"W": W}, [W.copy()], TypeError, "grads"),
        ("aliased", {"W": W}, {"W": W}, ValueError, "shares memory"),
    ]


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
@pytest.mark.parametrize(
    ("params", "grads", "error", "match"),
    [case[1:] for case in bad_step_cases()],
    ids=[case[0] for case in bad_step_cases()],
)
def test_bad_step_input_raises_a_named_error_and_changes_nothing(kind, params, grads, error, match):
    opt = OPTIMIZERS[kind]()
    before = {}
    if isinstance(params, dict):
        before = {name: np.array(value, copy=True) for name, value in params.items()}
    with pytest.raises(error, match=match):
        opt.step(params, grads)
    assert opt.state == {}
    for name, value in before.items():
        np.testing.assert_array_equal(np.asarray(params[name]), value)


def test_read_only_params_are_refused():
    w = np.ones(3)
    w.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        SGD(0.1).step({"w": w}, {"w": np.ones(3)})


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_nan_gradient_later_leaves_params_and_state_as_they_were(layout):
    as_layout = LAYOUTS[layout]
    params = as_layout(make_params())
    opt = Adam(0.01)
    opt.step(params, as_layout(make_grads(params)))
    saved_params = {name: w.copy() for name, w in params.items()}
    saved_state = {name: {k: np.copy(v) for k, v in s.items()} for name, s in opt.state.items()}
    grads = as_layout(make_grads(params, seed=2))
    grads["b"][1] = np.nan  # "W" comes first and must not be updated either
    with pytest.raises(GradientError, match=r"grads\['b'\]"):
        opt.step(params, grads)
    for name in params:
        np.testing.assert_array_equal(params[name], saved_params[name])
        for key, value in opt.state[name].items():
            np.testing.assert_array_equal(value, saved_state[name][key])


def test_reusing_state_for_a_different_shape_asks_for_reset():
    opt = Momentum(0.1)
    opt.step({"W": np.ones((3, 4))}, {"W": np.ones((3, 4))})
    with pytest.raises(ValueError, match=r"state\['W'\].*reset\(\)"):
        opt.step({"W": np.ones((4, 3))}, {"W": np.ones((4, 3))})
    with pytest.raises(ValueError, match=r"float32"):
        opt.step({"W": np.ones((3, 4), np.float32)}, {"W": np.ones((3, 4), np.float32)})
    opt.reset()
    opt.step({"W": np.ones((4, 3))}, {"W": np.ones((4, 3))})
    assert opt.state["W"]["v"].shape == (4, 3)


# --- the same arrays at every step (a training loop): every step checks them again --------


def _break_by_nan(params, grads):
    grads["b"][2] = np.nan


def _break_by_inf(params, grads):
    grads["W"][0, 0] = -np.inf


def _break_by_read_only(params, grads):
    params["b"].flags.writeable = False


def _break_by_reshape_in_place(params, grads):
    grads["W"].shape = (4, 3)


def _break_by_new_grad_array(params, grads):
    grads["W"] = np.ones((4, 3))


def _break_by_missing_grad(params, grads):
    del grads["b"]


def _break_by_shared_memory(params, grads):
    grads["W"] = params["W"]


def _break_by_new_state_shape(opt):
    opt.state["W"]["v"] = np.zeros((4, 3))


@pytest.mark.parametrize(
    ("break_it", "error", "match"),
    [
        (_break_by_nan, GradientError, r"grads\['b'\].*NaN"),
        (_break_by_inf, GradientError, r"grads\['W'\].*infinity"),
        (_break_by_read_only, ValueError, r"params\['b'\] is read-only"),
        (_break_by_reshape_in_place, ValueError, r"grads\['W'\] has shape \(4, 3\)"),
        (_break_by_new_grad_array, ValueError, r"grads\['W'\] has shape \(4, 3\)"),
        (_break_by_missing_grad, ValueError, r"missing from grads \['b'\]"),
        (_break_by_shared_memory, ValueError, "shares memory"),
    ],
)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_arrays_changed_between_steps_are_caught_before_anything_changes(
    break_it, error, match, layout
):
    params = LAYOUTS[layout](make_params())
    grads = LAYOUTS[layout](make_grads(params))
    opt = Adam(0.01)
    for _ in range(3):  # the same dicts and arrays at every step, as in fit
        opt.step(params, grads)
    saved_params = {name: w.copy() for name, w in params.items()}
    saved_state = {name: {k: np.copy(v) for k, v in s.items()} for name, s in opt.state.items()}
    break_it(params, grads)
    with pytest.raises(error, match=match):
        opt.step(params, grads)
    for name in params:
        np.testing.assert_array_equal(params[name], saved_params[name])
        for key, value in opt.state[name].items():
            np.testing.assert_array_equal(value, saved_state[name][key])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_state_array_replaced_between_steps_is_caught(layout):
    params = LAYOUTS[layout](make_params())
    grads = LAYOUTS[layout](make_grads(params))
    opt = Momentum(0.1)
    opt.step(params, grads)
    _break_by_new_state_shape(opt)
    before = {name: w.copy() for name, w in params.items()}
    with pytest.raises(ValueError, match=r"state\['W'\]\['v'\].*reset\(\)"):
        opt.step(params, grads)
    for name in params:
        np.testing.assert_array_equal(params[name], before[name])


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_the_same_arrays_step_after_step_give_the_same_result_as_fresh_ones(kind, layout):
    # `reused` passes the same arrays at every step (as fit does), `fresh` new ones.
    reused_opt, fresh_opt = OPTIMIZERS[kind](), OPTIMIZERS[kind]()
    reused, fresh = LAYOUTS[layout](make_params()), make_params()
    grads = LAYOUTS[layout](make_grads(reused))
    for step in range(4):
        for name, g in make_grads(reused, seed=10 + step).items():
            grads[name][...] = g  # new values written into the same arrays
        reused_opt.step(reused, grads)
        fresh_opt.step(dict(fresh), {name: g.copy() for name, g in grads.items()})
    for name in reused:
        np.testing.assert_array_equal(reused[name], fresh[name])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_finite_gradients_are_not_taken_for_infinity(dtype):
    # A sum-of-squares shortcut for the finite check would overflow here although every entry
    # is finite: the step must still be taken, not refused.
    huge = np.sqrt(np.finfo(dtype).max)
    params = {"w": np.zeros(4, dtype)}
    grads = {"w": np.array([huge, -huge, 1.0, 0.0], dtype)}
    assert not np.isfinite(np.vdot(grads["w"], grads["w"]))
    SGD(1e-30).step(params, grads)
    np.testing.assert_allclose(params["w"], -1e-30 * grads["w"], rtol=1e-6)


# Finite gradients whose square overflows (above about 1.8e19 in float32, 1.3e154 in float64)
TOO_LARGE_TO_SQUARE = {np.float32: 1e20, np.float64: 1e155}
SQUARING = {"Adagrad", "RMSProp", "Adam", "Adam+L2", "Adam-no-correction", "AdamW"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_a_gradient_whose_square_overflows_is_refused_by_the_rules_that_square_it(kind, dtype):
    # RMSProp and Adam would divide by √v = inf and step by exactly 0: they refuse instead, on
    # both paths alike, before anything changes. The rules without g² take the step.
    huge = TOO_LARGE_TO_SQUARE[dtype]
    messages = {}
    for layout, as_layout in LAYOUTS.items():
        opt = OPTIMIZERS[kind]()
        params = as_layout(make_params(dtype))
        opt.step(params, as_layout(make_grads(params)))
        saved_params = {name: w.copy() for name, w in params.items()}
        saved_state = {name: {k: np.copy(v) for k, v in s.items()} for name, s in opt.state.items()}
        grads = as_layout(make_grads(params, seed=2))
        grads["b"][1] = -huge  # "W" comes first and must not be updated either
        if kind not in SQUARING:
            opt.step(params, grads)
            assert all(np.isfinite(w).all() for w in params.values())
            assert params["b"][1] > saved_params["b"][1] + 1e10
            continue
        with pytest.raises(GradientError) as refused:
            opt.step(params, grads)
        messages[layout] = str(refused.value)
        for name in params:
            np.testing.assert_array_equal(params[name], saved_params[name])
            assert opt.state[name].keys() == saved_state[name].keys()
            for key, value in opt.state[name].items():
                np.testing.assert_array_equal(value, saved_state[name][key])
    if kind in SQUARING:
        assert messages["flat"] == messages["separate"]
        assert issubclass(GradientError, ValueError)
        assert re.match(
            rf"grads\['b'\] holds -1e\+{int(math.log10(huge))}, too large for {dtype.__name__}: "
            rf"{type(OPTIMIZERS[kind]()).__name__} squares the gradient.*not updated.*"
            "learning rate", messages["flat"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "make",
    [lambda: RMSProp(0.01, beta=0.9), lambda: Adam(0.01, beta2=0.9),
     lambda: AdamW(0.01, beta2=0.9)],
    ids=["RMSProp", "Adam", "AdamW"],
)
def test_gradients_up_to_the_limit_take_the_steps_of_small_ones(make, dtype):
    # Up to gradient_limit, step after step (long enough for v to reach g²): the moments stay
    # finite, and every step is that of the same gradients times 2⁻⁶⁰, an exact scaling that
    # these rules see only through eps. The next float beyond the limit is refused.
    edge = make().gradient_limit(dtype)
    assert float(edge) == pytest.approx({np.float32: 9.2e18, np.float64: 6.7e153}[dtype], rel=0.01)
    huge_opt, small_opt = make(), make()
    huge, small = make_params(dtype), make_params(dtype)
    rng = np.random.default_rng(0)
    for _ in range(200):
        g_huge = {}
        for name, w in huge.items():
            u = rng.uniform(0.5, 1.0, w.shape) * rng.choice([-1, 1], w.shape)
            u.flat[0] = 1.0  # the edge itself
            g_huge[name] = (u * edge).astype(dtype)
        huge_opt.step(huge, g_huge)
        small_opt.step(small, {name: g * dtype(2.0**-60) for name, g in g_huge.items()})
    for name in huge:
        assert all(np.isfinite(v).all() for v in huge_opt.state[name].values())
        np.testing.assert_allclose(huge[name], small[name], rtol=TOLERANCE[dtype.__name__] * 10)
    g_huge["b"][-1] = -np.nextafter(edge, dtype(np.inf))
    with pytest.raises(GradientError, match=r"grads\['b'\]"):
        huge_opt.step(huge, g_huge)


# --- the rules: public functions the classes call ---------------------------------------------

RULES = {
    "SGD": (sgd_update, lambda w: {}),
    "SGD+L2": (sgd_update, lambda w: {}),
    "Momentum": (momentum_update, momentum_init),
    "Nesterov": (momentum_update, momentum_init),
    "Adagrad": (adagrad_update, adagrad_init),
    "RMSProp": (rmsprop_update, rmsprop_init),
    "Adam": (adam_update, adam_init),
    "Adam+L2": (adam_update, adam_init),
    "Adam-no-correction": (adam_update, adam_init),
    "AdamW": (adamw_update, adam_init),
}


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_rule_called_by_hand_is_the_class_step_for_step(kind, dtype):
    opt = OPTIMIZERS[kind]()
    rule, init = RULES[kind]
    assert opt.rule is rule
    params = make_params(dtype)
    by_hand = {name: w.copy() for name, w in params.items()}
    states = {name: init(w) for name, w in by_hand.items()}
    for seed in range(4):
        grads = make_grads(params, seed)
        opt.step(params, grads)
        for name, w in by_hand.items():
            states[name] = rule(w, grads[name], states[name], **opt.hyperparameters)
    for name in params:
        np.testing.assert_array_equal(by_hand[name], params[name])
        assert states[name].keys() == opt.state[name].keys()
        for key, value in states[name].items():
            np.testing.assert_array_equal(value, opt.state[name][key])


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_a_rule_with_one_lr_per_row_runs_each_row_as_its_own_optimizer(kind):
    # What the batched runner relies on: lr of shape (K, 1) against w of shape (K, d).
    rule, init = RULES[kind]
    hyperparameters = OPTIMIZERS[kind]().hyperparameters
    lrs = np.array([0.003, 0.02, 0.1])
    rng = np.random.default_rng(4)
    rows = rng.normal(size=(3, 5))
    alone = [row.copy() for row in rows]
    state = init(rows)
    states = [init(row) for row in alone]
    for _ in range(5):
        g = rng.normal(size=rows.shape)
        state = rule(rows, g, state, **{**hyperparameters, "lr": lrs[:, None]})
        for k, w in enumerate(alone):
            states[k] = rule(w, g[k], states[k], **{**hyperparameters, "lr": float(lrs[k])})
    for k, w in enumerate(alone):
        np.testing.assert_array_equal(rows[k], w)


def test_adam_update_returns_the_next_counter_and_updates_the_moments_in_place():
    w, g = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    state = adam_init(w)
    m, v = state["m"], state["v"]
    new = adam_update(w, g, state, lr=0.1, beta1=0.9, beta2=0.99, eps=0.0)
    assert new["t"] == 1 and new["m"] is m and new["v"] is v
    np.testing.assert_allclose(m, 0.1 * g, rtol=1e-15)
    np.testing.assert_allclose(v, 0.01 * g * g, rtol=1e-15)
    # at t = 1 the corrected moments are g and g², so the step is lr·sign(g)
    np.testing.assert_allclose(w, [1.0 - 0.1, -2.0 - 0.1], rtol=1e-15)


# --- a new optimizer written as the module docstring says: a rule and a thin class ------------


def lion_update(w, g, state, *, lr, beta1=0.9, beta2=0.99, scratch=None):
    """Lion: w ← w − lr·sign(β₁·m + (1−β₁)·g), then m ← β₂·m + (1−β₂)·g."""
    m = state["m"]
    w -= lr * np.sign(beta1 * m + (1 - beta1) * g)
    m *= beta2
    m += (1 - beta2) * g
    return state


class Lion(Optimizer):
    rule = staticmethod(lion_update)
    hyperparameter_names = ("lr", "beta1", "beta2")
    beta1 = Hyperparameter(check_beta)
    beta2 = Hyperparameter(check_beta)

    def __init__(self, lr, beta1=0.9, beta2=0.99):
        super().__init__(lr)
        self.beta1, self.beta2 = beta1, beta2

    def init_state(self, w):
        return {"m": np.zeros_like(w)}


def test_lion_written_as_a_rule_and_a_thin_class_follows_its_formula():
    # Gradients 2, -1, -1 on one weight (β₁ = 0.5, β₂ = 0.75): the interpolations
    # 0.5·0 + 0.5·2 = 1, 0.5·0.5 − 0.5 = −0.25 and 0.5·0.125 − 0.5 < 0 give signs +, −, −, and
    # the momentum m = 0.5, 0.125, −0.15625 after the steps
    opt = Lion(0.1, beta1=0.5, beta2=0.75)
    params = {"w": np.array([1.0])}
    for g, w, m in [(2.0, 0.9, 0.5), (-1.0, 1.0, 0.125), (-1.0, 1.1, -0.15625)]:
        opt.step(params, {"w": np.array([g])})
        np.testing.assert_allclose(params["w"], [w], rtol=1e-15)
        np.testing.assert_array_equal(opt.state["w"]["m"], [m])
    assert repr(opt) == "Lion(lr=0.1, beta1=0.5, beta2=0.75)"
    with pytest.raises(ValueError, match="beta2 must be in"):
        opt.beta2 = 1.0


def test_lion_gets_the_contract_of_the_base_class():
    opt = Lion(0.1)
    params = make_params()
    opt.step(params, make_grads(params))
    saved = {name: w.copy() for name, w in params.items()}
    saved_m = {name: s["m"].copy() for name, s in opt.state.items()}
    grads = make_grads(params, seed=2)
    grads["W"][0, 0] = np.nan
    with pytest.raises(GradientError, match=r"grads\['W'\].*NaN"):
        opt.step(params, grads)
    for name in params:
        np.testing.assert_array_equal(params[name], saved[name])
        np.testing.assert_array_equal(opt.state[name]["m"], saved_m[name])
    with pytest.raises(ValueError, match="beta1"):
        Lion(0.1, beta1=-0.5)
    opt.reset()
    assert opt.state == {}


# --- the fast path: flat arrays, one rule call per step ----------------------------------------


def flat_base(arrays):
    base = arrays[0].base
    assert base is not None and all(a.base is base for a in arrays)
    return base


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_flat_arrays_take_the_same_steps_with_state_kept_flat(kind, dtype):
    separate_opt, flat_opt = OPTIMIZERS[kind](), OPTIMIZERS[kind]()
    separate = make_params(dtype)
    flat = as_flat(separate)
    grads = as_flat(make_grads(separate))
    for step in range(5):
        for name, g in make_grads(separate, seed=10 + step).items():
            grads[name][...] = g
        separate_opt.step(separate, {name: g.copy() for name, g in grads.items()})
        flat_opt.step(flat, grads)
    for name in separate:
        np.testing.assert_array_equal(flat[name], separate[name])  # bit for bit
        assert flat_opt.state[name].keys() == separate_opt.state[name].keys()
        for key, value in separate_opt.state[name].items():
            kept = flat_opt.state[name][key]
            np.testing.assert_array_equal(kept, value, err_msg=f"{name} {key}")
            if isinstance(value, np.ndarray):
                assert kept.shape == value.shape and kept.dtype == dtype
    for key in ("m", "v", "s"):  # the state of every name lives in one flat array
        if key in flat_opt.state["W"]:
            base = flat_base([s[key] for s in flat_opt.state.values()])
            assert base.size == sum(w.size for w in flat.values())
    if "t" in flat_opt.state["W"]:
        assert all(s["t"] == 5 for s in flat_opt.state.values())


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_steps_can_switch_between_flat_and_separate_arrays(kind):
    reference_opt, mixed_opt = OPTIMIZERS[kind](), OPTIMIZERS[kind]()
    reference = make_params()
    mixed = as_flat(reference)
    for step, layout in enumerate(["flat", "flat", "separate", "flat", "separate", "flat"]):
        grads = make_grads(reference, seed=20 + step)
        reference_opt.step(reference, {name: g.copy() for name, g in grads.items()})
        mixed_opt.step(mixed, LAYOUTS[layout](grads))
    for name in reference:
        np.testing.assert_array_equal(mixed[name], reference[name])
        for key, value in reference_opt.state[name].items():
            np.testing.assert_array_equal(mixed_opt.state[name][key], value)


def test_a_rule_that_is_not_elementwise_runs_once_per_name_on_flat_arrays():
    def normalized_sgd_update(w, g, state, *, lr, scratch=None):
        """w ← w − lr·g / ‖g‖: the norm of each parameter's own gradient."""
        w -= lr * g / np.linalg.norm(g)
        return state

    class NormalizedSGD(Optimizer):
        rule = staticmethod(normalized_sgd_update)

    params, flat = make_params(), as_flat(make_params())
    grads = make_grads(params)
    NormalizedSGD(0.5).step(params, grads)
    NormalizedSGD(0.5).step(flat, as_flat(grads))
    for name in params:
        np.testing.assert_array_equal(flat[name], params[name])


def test_an_elementwise_rule_that_returns_new_arrays_keeps_the_state_per_name():
    def decaying_sum_update(w, g, state, *, lr, scratch=None):
        """s ← 0.5·s + g (a new array, not in place),  w ← w − lr·s."""
        s = 0.5 * state["s"] + g
        w -= lr * s
        return {"s": s}

    class DecayingSum(Optimizer):
        rule = staticmethod(decaying_sum_update)
        elementwise = True

        def init_state(self, w):
            return {"s": np.zeros_like(w)}

    separate_opt, flat_opt = DecayingSum(0.1), DecayingSum(0.1)
    separate = make_params()
    flat = as_flat(separate)
    for step in range(3):
        grads = make_grads(separate, seed=30 + step)
        separate_opt.step(separate, grads)
        flat_opt.step(flat, as_flat(grads))
    for name in separate:
        np.testing.assert_array_equal(flat[name], separate[name])
        np.testing.assert_array_equal(flat_opt.state[name]["s"], separate_opt.state[name]["s"])


# --- hyperparameters are checked whenever they are set -----------------------------------------

# (optimizer, hyperparameter, a value refused alone)
REFUSED_SETTINGS = [
    (name, attr, bad)
    for name, make in OPTIMIZERS.items()
    for attr, bad in [("lr", 0.0), ("lr", float("nan")), ("weight_decay", -1.0), ("beta", 1.0),
                      ("beta1", 1.0), ("beta2", -0.1), ("eps", -1.0), ("nesterov", 1),
                      ("bias_correction", "yes")]
    if attr in make().hyperparameters
]


@pytest.mark.parametrize("name, attr, bad", REFUSED_SETTINGS)
def test_a_hyperparameter_set_after_construction_is_checked_and_keeps_its_value(name, attr, bad):
    opt = OPTIMIZERS[name]()
    before = opt.hyperparameters
    with pytest.raises((TypeError, ValueError), match=attr):
        setattr(opt, attr, bad)
    assert opt.hyperparameters == before


def test_adamw_refuses_a_decay_that_would_zero_or_flip_the_weights():
    with pytest.raises(ValueError, match="lr\\*weight_decay"):
        AdamW(2.0, weight_decay=0.5)
    opt = AdamW(0.1, weight_decay=0.5)
    params, grads = make_params(), make_grads(make_params())
    before = {name: w.copy() for name, w in params.items()}
    opt.lr = 4.0  # fine alone; together with weight_decay = 0.5 the factor 1 - lr·λ is -1
    with pytest.raises(ValueError, match="lower lr or weight_decay"):
        opt.step(params, grads)
    assert opt.state == {}
    for name, w in params.items():
        np.testing.assert_array_equal(w, before[name])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_half_precision_parameters_are_refused(name):
    params = make_params(np.float16)
    with pytest.raises(TypeError, match="float16.*use np.float32"):
        OPTIMIZERS[name]().step(params, make_grads(params))


# --- one optimizer, one model -----------------------------------------------------------------


def test_a_models_named_arrays_keep_the_optimizers_fast_path():
    rng = np.random.default_rng(29)
    model = Sequential(Dense(3, 4, rng=rng), BatchNorm(4), ReLU(),
                       Residual(Sequential(Dense(4, 4, rng=rng), ReLU())), Dense(4, 2, rng=rng))
    optimizer = Adam(1e-2)
    for step in range(2):
        model.forward(rng.standard_normal((5, 3)), training=True)
        model.backward(rng.standard_normal((5, 2)))
        optimizer.step(model.params, model.grads)
        if step == 0:
            fast = optimizer._flat
    assert fast is not None and optimizer._flat is fast  # set up once, reused at the next step


@pytest.mark.parametrize("flat", [False, True], ids=["separate", "flat"])
def test_an_optimizer_reused_on_another_model_with_the_same_names_refuses(flat):
    def layout(arrays):  # flat: consecutive views of one array, as a Sequential keeps them
        return as_flat(arrays) if flat else arrays

    def grads(params):
        return layout(make_grads(params))

    first, second = layout(make_params(seed=0)), layout(make_params(seed=1))
    opt = Adam(0.01)
    for _ in range(3):
        opt.step(first, grads(first))
    assert (opt._flat is not None) == flat  # the fast path is the one under test
    before = {name: w.copy() for name, w in second.items()}
    with pytest.raises(ValueError, match="belongs to another array.*reset"):
        opt.step(second, grads(second))  # same names, same shapes: the moments would leak
    for name, w in second.items():
        np.testing.assert_array_equal(w, before[name])
    assert all(state["t"] == 3 for state in opt.state.values())
    opt.step(first, grads(first))  # the first model trains on
    opt.reset()
    opt.step(second, grads(second))  # afresh after reset, at t = 1
    assert all(state["t"] == 1 for state in opt.state.values())
    restored = Adam(0.01)
    restored.load_state_dict(opt.state_dict())
    restored.step(first, grads(first))  # a loaded state takes the arrays of its next step
    shared = SGD(0.1)  # plain SGD keeps no state, so one optimizer may serve several models
    shared.step(first, grads(first))
    shared.step(second, grads(second))
