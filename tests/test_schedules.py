"""Tests for course_lib.schedules.

Reference sequences come from ``fixtures/schedules.npz`` (torch.optim.lr_scheduler, made by
``fixtures/make_optimizer_fixtures.py``) and, for lesson 06's warm-up, LambdaLR and epoch
counting, from ``fixtures/lr_decay.npz`` (made by ``fixtures/make_lr_decay_fixtures.py``); the
rest are closed forms.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.layers import Dense
from course_lib.losses import mse
from course_lib.optimizers import SGD
from course_lib.schedules import (
    Schedule,
    constant,
    cosine_decay,
    exponential_decay,
    inverse_sqrt_decay,
    inverse_time_decay,
    plan,
    step_decay,
    warmup,
)
from course_lib.training import fit

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = np.load(FIXTURES / "schedules.npz")
CONFIGS = json.loads(str(REFERENCE["configs"]))
LR_DECAY = np.load(FIXTURES / "lr_decay.npz")
LR_DECAY_CONFIGS = json.loads(str(LR_DECAY["configs"]))
PLATEAU = np.load(FIXTURES / "plateau.npz")
PLATEAU_CONFIGS = json.loads(str(PLATEAU["configs"]))


def values(schedule, n):
    return np.array([schedule(t) for t in range(n)])


# --- reference: torch.optim.lr_scheduler -----------------------------------------------------


def test_step_decay_matches_torch_step_lr():
    c = CONFIGS["step"]
    ours = values(step_decay(c["lr0"], c["step_size"], c["gamma"]), c["n"])
    np.testing.assert_allclose(ours, REFERENCE["step"], rtol=1e-12)


def test_exponential_decay_matches_torch_exponential_lr():
    c = CONFIGS["exponential"]
    ours = values(exponential_decay(c["lr0"], c["gamma"]), c["n"])
    np.testing.assert_allclose(ours, REFERENCE["exponential"], rtol=1e-12)


@pytest.mark.parametrize("key", ["cosine", "cosine_min"])
def test_cosine_decay_matches_torch_cosine_annealing_lr_up_to_t_max(key):
    c = CONFIGS[key]
    torch_lrs = REFERENCE[key]
    t_max = c["t_max"]
    schedule = cosine_decay(c["lr0"], t_max, c["lr_min"])
    ours = values(schedule, len(torch_lrs))
    np.testing.assert_allclose(ours[: t_max + 1], torch_lrs[: t_max + 1], rtol=1e-12, atol=1e-15)
    # Past t_max we stay at lr_min ...
    np.testing.assert_array_equal(ours[t_max:], c["lr_min"])
    # ... while PyTorch follows the cosine back up to lr0 at 2·t_max (as the docstring says).
    t = np.arange(t_max, 2 * t_max + 1)
    periodic = c["lr_min"] + (c["lr0"] - c["lr_min"]) * (1 + np.cos(np.pi * t / t_max)) / 2
    np.testing.assert_allclose(torch_lrs[t_max:], periodic, rtol=1e-12, atol=1e-15)
    assert torch_lrs[2 * t_max] == pytest.approx(c["lr0"])


# --- closed forms ----------------------------------------------------------------------------


def test_constant_is_constant():
    schedule = constant(0.05)
    assert [schedule(t) for t in (0, 1, 10, 10**6)] == [0.05] * 4


def test_inverse_time_decay_halves_when_decay_rate_t_over_decay_steps_reaches_one():
    schedule = inverse_time_decay(0.2, decay_rate=0.5, decay_steps=4)
    assert schedule(0) == 0.2
    assert schedule(8) == pytest.approx(0.1)  # 1 + 0.5·8/4 = 2
    assert schedule(2) == pytest.approx(0.2 / 1.25)
    assert schedule(24) == pytest.approx(0.05)  # 1 + 0.5·24/4 = 4


def test_inverse_time_decay_staircase_is_flat_for_decay_steps_steps():
    schedule = inverse_time_decay(0.3, decay_rate=1.0, decay_steps=5, staircase=True)
    lrs = values(schedule, 15)
    np.testing.assert_allclose(lrs[:5], 0.3)
    np.testing.assert_allclose(lrs[5:10], 0.15)
    np.testing.assert_allclose(lrs[10:], 0.1)


def test_inverse_sqrt_decay_quarters_the_squared_rate_when_decay_rate_t_over_steps_is_three():
    schedule = inverse_sqrt_decay(0.2, decay_rate=0.5, decay_steps=4)
    assert schedule(0) == 0.2
    assert schedule(24) == pytest.approx(0.1, rel=1e-15)  # 1 + 0.5·24/4 = 4, √4 = 2
    assert repr(schedule) == "inverse_sqrt_decay(lr0=0.2, decay_rate=0.5, decay_steps=4)"


def test_inverse_sqrt_decay_matches_torch_lambda_lr():
    c = PLATEAU_CONFIGS["inverse_sqrt"]
    ours = inverse_sqrt_decay(c["lr0"], c["decay_rate"], c["decay_steps"])
    np.testing.assert_allclose(values(ours, c["n"]), PLATEAU["inverse_sqrt"], rtol=1e-14)


def test_inverse_time_decay_with_zero_rate_is_constant():
    assert values(inverse_time_decay(0.1, 0.0), 5).tolist() == [0.1] * 5


def test_exponential_and_step_decay_closed_forms():
    assert exponential_decay(0.1, 0.5)(3) == pytest.approx(0.0125)
    schedule = step_decay(1.0, step_size=10, gamma=0.1)
    assert [schedule(t) for t in (0, 9, 10, 19, 20)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])


def test_cosine_decay_landmarks():
    schedule = cosine_decay(0.1, t_max=20, lr_min=0.02)
    assert schedule(0) == 0.1
    assert schedule(10) == pytest.approx(0.06)  # halfway: the mean of lr0 and lr_min
    assert schedule(20) == pytest.approx(0.02)
    assert schedule(21) == schedule(1000) == 0.02


def test_warmup_ramps_linearly_to_the_schedule_then_hands_over():
    inner = step_decay(0.4, step_size=2, gamma=0.5)
    schedule = warmup(inner, warmup_steps=3)
    # schedule(0)·(t + 1)/(warmup_steps + 1) for t < 3, then inner(t − 3)
    expected = [0.1, 0.2, 0.3, 0.4, 0.4, 0.2, 0.2, 0.1]
    np.testing.assert_allclose(values(schedule, 8), expected, rtol=1e-15)


def test_warmup_of_zero_steps_is_the_schedule_itself():
    inner = cosine_decay(0.1, t_max=10, lr_min=0.001)
    np.testing.assert_array_equal(values(warmup(inner, 0), 15), values(inner, 15))


def test_warmup_accepts_any_callable():
    schedule = warmup(lambda t: 0.5 / (t + 1), warmup_steps=4)
    assert schedule(0) == pytest.approx(0.1)
    assert schedule(4) == pytest.approx(0.5)
    assert schedule(6) == pytest.approx(0.5 / 3)


def test_a_schedule_drives_an_optimizer():
    schedule = warmup(cosine_decay(0.1, t_max=10), warmup_steps=5)
    opt = SGD(1.0)
    params, g = {"w": np.zeros(1)}, np.ones(1)
    for t in range(15):  # cosine reaches lr_min = 0 only at t = 5 + 10
        opt.lr = schedule(t)
        opt.step(params, {"w": g})
    np.testing.assert_allclose(params["w"], -sum(schedule(t) for t in range(15)), rtol=1e-14)
    with pytest.raises(ValueError, match="lr"):  # the documented trap of lr_min = 0
        opt.lr = schedule(15)


# --- properties ------------------------------------------------------------------------------

LR0 = st.floats(1e-6, 10.0)
GAMMA = st.floats(0.01, 1.0)


def decaying_schedules():
    return st.one_of(
        st.builds(constant, LR0),
        st.builds(
            inverse_time_decay,
            LR0,
            st.floats(0.0, 10.0),
            st.integers(1, 50),
            st.booleans(),
        ),
        st.builds(inverse_sqrt_decay, LR0, st.floats(0.0, 10.0), st.integers(1, 50)),
        st.builds(exponential_decay, LR0, GAMMA),
        st.builds(step_decay, LR0, st.integers(1, 20), GAMMA),
        st.builds(
            lambda lr0, t_max, fraction: cosine_decay(lr0, t_max, fraction * lr0),
            LR0,
            st.integers(1, 100),
            st.floats(0.0, 1.0),
        ),
    )


@settings(max_examples=100, deadline=None)
@given(schedule=decaying_schedules())
def test_decays_never_increase_and_return_plain_floats(schedule):
    lrs = values(schedule, 200)
    assert np.all(np.diff(lrs) <= 0), repr(schedule)
    assert np.all(lrs >= 0)
    assert all(type(schedule(t)) is float for t in (0, 7))


@settings(max_examples=50, deadline=None)
@given(schedule=decaying_schedules(), warmup_steps=st.integers(1, 30))
def test_warmup_increases_during_the_ramp_then_follows_the_schedule(schedule, warmup_steps):
    warmed = warmup(schedule, warmup_steps)
    lrs = values(warmed, warmup_steps + 50)
    ramp = lrs[: warmup_steps + 1]
    assert np.all(np.diff(ramp) > 0)
    assert ramp[-1] == schedule(0)
    assert lrs[0] > 0
    np.testing.assert_array_equal(lrs[warmup_steps:], values(schedule, 50))


# --- repr, t and bad arguments ----------------------------------------------------------------


def test_repr_says_how_the_schedule_was_made():
    assert repr(step_decay(0.1, 30, 0.1)) == "step_decay(lr0=0.1, step_size=30, gamma=0.1)"
    inner = cosine_decay(0.1, 100)
    assert repr(warmup(inner, 10)) == f"warmup({inner!r}, warmup_steps=10)"
    assert isinstance(inner, Schedule)
    assert "inverse_time_decay(lr0=1.0, decay_rate=0.5" in repr(inverse_time_decay(1, 0.5))


@pytest.mark.parametrize(
    ("t", "error"),
    [(-1, ValueError), (1.0, TypeError), (0.5, TypeError), (True, TypeError), ("3", TypeError)],
)
def test_t_must_be_a_non_negative_integer(t, error):
    with pytest.raises(error, match="t must"):
        constant(0.1)(t)


def test_numpy_integer_t_is_accepted():
    assert step_decay(1.0, 2, 0.5)(np.int64(4)) == 0.25


@pytest.mark.parametrize(
    ("make", "name", "error"),
    [
        (lambda: constant(0.0), "lr0", ValueError),
        (lambda: constant(math.nan), "lr0", ValueError),
        (lambda: constant("0.1"), "lr0", TypeError),
        (lambda: inverse_time_decay(-1.0, 0.5), "lr0", ValueError),
        (lambda: inverse_time_decay(0.1, -0.5), "decay_rate", ValueError),
        (lambda: inverse_time_decay(0.1, 0.5, decay_steps=0), "decay_steps", ValueError),
        (lambda: inverse_time_decay(0.1, 0.5, decay_steps=2.5), "decay_steps", TypeError),
        (lambda: inverse_time_decay(0.1, 0.5, staircase="no"), "staircase", TypeError),
        (lambda: inverse_sqrt_decay(0.0), "lr0", ValueError),
        (lambda: inverse_sqrt_decay(0.1, -1.0), "decay_rate", ValueError),
        (lambda: inverse_sqrt_decay(0.1, 1.0, decay_steps=0), "decay_steps", ValueError),
        (lambda: exponential_decay(0.1, 0.0), "gamma", ValueError),
        (lambda: exponential_decay(0.1, 1.5), "gamma", ValueError),
        (lambda: exponential_decay(math.inf, 0.9), "lr0", ValueError),
        (lambda: step_decay(0.1, 0, 0.5), "step_size", ValueError),
        (lambda: step_decay(0.1, 10.0, 0.5), "step_size", TypeError),
        (lambda: step_decay(0.1, 10, -0.5), "gamma", ValueError),
        (lambda: cosine_decay(0.1, 0), "t_max", ValueError),
        (lambda: cosine_decay(0.1, 10, lr_min=-0.01), "lr_min", ValueError),
        (lambda: cosine_decay(0.1, 10, lr_min=0.2), "lr_min", ValueError),
        (lambda: warmup(0.1, 10), "schedule", TypeError),
        (lambda: warmup(constant(0.1), -1), "warmup_steps", ValueError),
        (lambda: warmup(constant(0.1), 2.0), "warmup_steps", TypeError),
        (lambda: warmup(lambda t: 0.0, 5), r"schedule\(0\)", ValueError),
    ],
)
def test_bad_arguments_are_named(make, name, error):
    with pytest.raises(error, match=name):
        make()


# --- PyTorch: warm-up, LambdaLR, and how scheduler.step() counts -------------------------------


def test_warmup_then_cosine_matches_torch_linear_lr_then_cosine_annealing_lr():
    c = LR_DECAY_CONFIGS["warmup_cosine"]
    ours = warmup(cosine_decay(c["lr0"], c["t_max"], c["lr_min"]),
                            c["warmup_steps"])
    np.testing.assert_allclose(values(ours, c["n"]), LR_DECAY["warmup_cosine"],
                               rtol=1e-12, atol=1e-15)


def test_warmup_of_a_constant_matches_torch_linear_lr_with_start_factor_one_over_w_plus_1():
    c = LR_DECAY_CONFIGS["linear_warmup"]
    ours = warmup(constant(c["lr0"]), c["warmup_steps"])
    np.testing.assert_allclose(values(ours, c["n"]), LR_DECAY["linear_warmup"], rtol=1e-12)


def test_staircase_inverse_time_decay_matches_torch_lambda_lr():
    c = LR_DECAY_CONFIGS["lambda_staircase"]
    ours = inverse_time_decay(c["lr0"], c["decay_rate"], c["decay_steps"],
                                        staircase=True)
    np.testing.assert_allclose(values(ours, c["n"]), LR_DECAY["lambda_staircase"], rtol=1e-12)


@pytest.mark.parametrize("key", ["step_per_epoch", "step_per_batch"])
def test_scheduler_step_counts_epochs_or_batches(key):
    c = LR_DECAY_CONFIGS[key]
    per_epoch = step_decay(c["lr0"], c["step_size"], c["gamma"])
    batches = c["batches"]
    if key == "step_per_epoch":  # scheduler.step() once per epoch: t counts epochs
        ours = values(lambda t: per_epoch(t // batches), c["epochs"] * batches)
    else:  # scheduler.step() after every batch: t counts optimizer steps
        ours = values(per_epoch, c["epochs"] * batches)
    np.testing.assert_allclose(ours, LR_DECAY[key], rtol=1e-12)


def test_fit_with_a_per_epoch_lambda_uses_the_rates_torch_uses_per_epoch():
    c = LR_DECAY_CONFIGS["step_per_epoch"]
    batch_size = 2
    rng = np.random.default_rng(0)
    X = rng.normal(size=(c["batches"] * batch_size, 3))
    y = rng.normal(size=(len(X), 1))
    per_epoch = step_decay(c["lr0"], c["step_size"], c["gamma"])
    steps_per_epoch = math.ceil(len(X) / batch_size)
    history = fit(Dense(3, 1, rng=0), mse, SGD(c["lr0"]), X, y, epochs=c["epochs"],
                  batch_size=batch_size, schedule=lambda t: per_epoch(t // steps_per_epoch))
    np.testing.assert_allclose(history.step_lr, LR_DECAY["step_per_epoch"], rtol=1e-12)


# --- plan: every rate of a run, checked before it starts ------------------------------------


def test_plan_returns_the_rates_of_the_planned_steps():
    schedule = step_decay(0.1, step_size=3, gamma=0.5)
    assert plan(schedule, 4, start=2) == [schedule(t) for t in range(2, 6)]


@pytest.mark.parametrize(
    ("schedule", "steps", "message"),
    [
        (cosine_decay(0.1, t_max=99), 100, r"schedule\(99\) must be > 0.*t_max >= 100"),
        (exponential_decay(1e-300, gamma=1e-5), 10, r"schedule\(5\) must be > 0"),  # 1e-325
        (warmup(lambda t: 0.1 - 0.01 * t, warmup_steps=5), 30, r"schedule\(15\) must be > 0"),
        (lambda t: math.nan if t == 7 else 0.1, 8, r"schedule\(7\) must be finite"),
        (lambda t: -1.0, 3, r"schedule\(0\) must be > 0"),
    ],
    ids=["cosine ending at the last step", "exponential underflow", "warm-up of a decay to 0",
         "NaN", "negative"],
)
def test_plan_refuses_a_rate_that_is_not_positive_and_finite_naming_its_step(
        schedule, steps, message):
    with pytest.raises(ValueError, match=message):
        plan(schedule, steps)


def test_plan_refuses_a_rate_that_is_not_a_number():
    with pytest.raises(TypeError, match=r"schedule\(0\) must be a real number"):
        plan(lambda t: "0.1", 3)
