"""Lesson 06: the noisy quadratic, PyTorch's warm-up and epoch counting, and the explorer.

Reference sequences come from ``fixtures/lr_decay.npz`` (torch.optim.lr_scheduler, made by
``fixtures/make_lr_decay_fixtures.py``); the rest are closed forms derived in the lesson.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from course_lib import schedules, widgets
from course_lib.layers import Dense
from course_lib.losses import mse
from course_lib.optimizers import SGD
from course_lib.problems import NoisyQuadratic, run_optimizer
from course_lib.training import fit
from course_lib.widgets.l06_learning_rate_decay import _LR_SCHEDULE_KNOBS

REFERENCE = np.load(Path(__file__).parent / "fixtures" / "lr_decay.npz")
CONFIGS = json.loads(str(REFERENCE["configs"]))


def values(schedule, n):
    return np.array([schedule(t) for t in range(n)])


# --- PyTorch: warm-up, LambdaLR, and how scheduler.step() counts -------------------------------


def test_warmup_then_cosine_matches_torch_linear_lr_then_cosine_annealing_lr():
    c = CONFIGS["warmup_cosine"]
    ours = schedules.warmup(schedules.cosine_decay(c["lr0"], c["t_max"], c["lr_min"]),
                            c["warmup_steps"])
    np.testing.assert_allclose(values(ours, c["n"]), REFERENCE["warmup_cosine"],
                               rtol=1e-12, atol=1e-15)


def test_warmup_of_a_constant_matches_torch_linear_lr_with_start_factor_one_over_w_plus_1():
    c = CONFIGS["linear_warmup"]
    ours = schedules.warmup(schedules.constant(c["lr0"]), c["warmup_steps"])
    np.testing.assert_allclose(values(ours, c["n"]), REFERENCE["linear_warmup"], rtol=1e-12)


def test_staircase_inverse_time_decay_matches_torch_lambda_lr():
    c = CONFIGS["lambda_staircase"]
    ours = schedules.inverse_time_decay(c["lr0"], c["decay_rate"], c["decay_steps"],
                                        staircase=True)
    np.testing.assert_allclose(values(ours, c["n"]), REFERENCE["lambda_staircase"], rtol=1e-12)


@pytest.mark.parametrize("key", ["step_per_epoch", "step_per_batch"])
def test_scheduler_step_counts_epochs_or_batches(key):
    c = CONFIGS[key]
    per_epoch = schedules.step_decay(c["lr0"], c["step_size"], c["gamma"])
    batches = c["batches"]
    if key == "step_per_epoch":  # scheduler.step() once per epoch: t counts epochs
        ours = values(lambda t: per_epoch(t // batches), c["epochs"] * batches)
    else:  # scheduler.step() after every batch: t counts optimizer steps
        ours = values(per_epoch, c["epochs"] * batches)
    np.testing.assert_allclose(ours, REFERENCE[key], rtol=1e-12)


def test_fit_with_a_per_epoch_lambda_uses_the_rates_torch_uses_per_epoch():
    c = CONFIGS["step_per_epoch"]
    batch_size = 2
    rng = np.random.default_rng(0)
    X = rng.normal(size=(c["batches"] * batch_size, 3))
    y = rng.normal(size=(len(X), 1))
    per_epoch = schedules.step_decay(c["lr0"], c["step_size"], c["gamma"])
    steps_per_epoch = math.ceil(len(X) / batch_size)
    history = fit(Dense(3, 1, rng=0), mse, SGD(c["lr0"]), X, y, epochs=c["epochs"],
                  batch_size=batch_size, schedule=lambda t: per_epoch(t // steps_per_epoch))
    np.testing.assert_allclose(history.step_lr, REFERENCE["step_per_epoch"], rtol=1e-12)


# --- NoisyQuadratic: closed forms ---------------------------------------------------------------


@pytest.mark.parametrize("lr_times_L", [0.05, 0.5, 1.0, 1.5, 1.9])
@pytest.mark.parametrize("L", [0.5, 3.0])
def test_expected_loss_at_a_constant_rate_settles_at_the_noise_floor(lr_times_L, L):  # noqa: N803
    problem = NoisyQuadratic(L=L, sigma=0.7)
    lr = lr_times_L / L
    floor = lr * 0.7**2 / (2 * (2 - lr * L))
    assert problem.noise_floor(lr) == pytest.approx(floor, rel=1e-14)
    curve = problem.expected_loss(lr, x0=2.0, steps=3000)
    assert curve[-1] == pytest.approx(floor, rel=1e-9)


def test_expected_loss_follows_the_second_moment_recursion():
    problem = NoisyQuadratic(L=2.0, sigma=0.5)
    schedule = schedules.exponential_decay(0.3, 0.9)
    curve = problem.expected_loss(schedule, x0=-1.5, steps=4)
    v = 1.5**2
    expected = [v]
    for t in range(4):
        lr = 0.3 * 0.9**t
        v = (1 - 2.0 * lr) ** 2 * v + lr**2 * 0.5**2
        expected.append(v)
    np.testing.assert_allclose(curve, 0.5 * 2.0 * np.array(expected), rtol=1e-14)


def test_the_one_over_t_schedule_gives_sigma_squared_over_2_L_t_from_any_start():
    L, sigma = 2.5, 0.8  # noqa: N806
    problem = NoisyQuadratic(L=L, sigma=sigma)
    curve = problem.expected_loss(lambda t: 1 / (L * (t + 1)), x0=7.0, steps=200)
    t = np.arange(1, 201)
    np.testing.assert_allclose(curve[1:], sigma**2 / (2 * L * t), rtol=1e-12)


def noisy_sgd(problem, schedule, x0, steps, chains):
    """SGD on a NoisyQuadratic, chains advanced together: paths of shape (chains, steps + 1)."""
    paths = run_optimizer(SGD(0.1), problem, np.full((chains, 1), x0), steps, lr=schedule)
    return paths[:, :, 0]


def test_sgd_on_the_noisy_quadratic_draws_the_documented_noise():
    problem = NoisyQuadratic(L=1.5, sigma=0.3, rng=7)
    schedule = schedules.step_decay(0.4, 3, 0.5)
    paths = noisy_sgd(problem, schedule, x0=1.0, steps=10, chains=4)
    rng = np.random.default_rng(7)
    x = np.full(4, 1.0)
    np.testing.assert_array_equal(paths[:, 0], x)
    for t in range(10):
        x = x - schedule(t) * (1.5 * x + 0.3 * rng.standard_normal(4))
        np.testing.assert_allclose(paths[:, t + 1], x, rtol=1e-14)


def test_without_noise_sgd_and_expected_loss_agree_exactly():
    problem = NoisyQuadratic(L=1.0, sigma=0.0)
    schedule = schedules.cosine_decay(0.8, 50)
    path = noisy_sgd(problem, schedule, x0=3.0, steps=40, chains=1)[0]
    np.testing.assert_allclose(problem.loss(path), problem.expected_loss(schedule, 3.0, 40),
                               rtol=1e-12)


def test_the_simulated_stationary_loss_matches_the_noise_floor():
    problem = NoisyQuadratic(L=1.0, sigma=1.0, rng=0)
    paths = noisy_sgd(problem, 1.5, x0=0.0, steps=600, chains=1000)
    measured = problem.loss(paths[:, 100:]).mean()
    assert measured == pytest.approx(problem.noise_floor(1.5), rel=0.05)


def test_a_number_is_a_constant_schedule():
    problem = NoisyQuadratic(L=1.0, sigma=1.0)
    np.testing.assert_array_equal(problem.expected_loss(0.3, 1.0, 20),
                                  problem.expected_loss(schedules.constant(0.3), 1.0, 20))


def test_a_rate_above_two_over_L_diverges():
    problem = NoisyQuadratic(L=1.0, sigma=1.0)
    assert np.isinf(problem.expected_loss(2.5, 1.0, 2000)[-1])
    paths = noisy_sgd(problem, 2.5, 1.0, 2000, chains=2)
    assert np.isnan(paths[:, -1]).all() and np.isfinite(paths[:, :10]).all()
    with pytest.raises(ValueError, match="below 2/L"):
        problem.noise_floor(2.0)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: NoisyQuadratic(L=0.0), ValueError, "L"),
        (lambda: NoisyQuadratic(sigma=-1.0), ValueError, "sigma"),
        (lambda: NoisyQuadratic().expected_loss("fast", 1.0, 5), TypeError, "schedule"),
        (lambda: NoisyQuadratic().expected_loss(-0.1, 1.0, 5), ValueError, "schedule"),
        (lambda: NoisyQuadratic(rng="seed"), TypeError, "rng"),
        (lambda: NoisyQuadratic().noise_floor(0.0), ValueError, "lr"),
    ],
)
def test_bad_input_is_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


# --- the explorer -------------------------------------------------------------------------------


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_knobs_make_the_library_schedules():
    make = widgets.lr_schedule_from_knobs
    assert repr(make("step", 0.5, interval=40, factor=0.3)) == repr(
        schedules.step_decay(0.5, 40, 0.3))
    assert repr(make("inverse-time, staircase", 0.5, decay_rate=0.1, interval=20)) == repr(
        schedules.inverse_time_decay(0.5, 0.1, decay_steps=20, staircase=True))
    assert repr(make("cosine", 0.5, t_max=100, warmup=10)) == repr(
        schedules.warmup(schedules.cosine_decay(0.5, 100, lr_min=0.0005), 10))
    with pytest.raises(ValueError, match="name must be one of"):
        make("one-cycle", 0.5)


def test_every_schedule_redraws_and_shows_only_its_own_sliders():
    explorer = widgets.lr_schedule_explorer(steps=100, chains=10)
    images = set()
    for name in widgets.LR_SCHEDULE_NAMES:
        explorer.set(schedule=name)
        images.add(explorer.image.value)
        shown = {k for k, c in explorer.controls.items() if c.layout.display != "none"}
        assert shown == {"schedule", "lr0", "warmup", *_LR_SCHEDULE_KNOBS[name]}
    assert len(images) == len(widgets.LR_SCHEDULE_NAMES)


def test_the_lines_show_the_schedule_and_its_expected_loss():
    explorer = widgets.lr_schedule_explorer(steps=80, chains=5, L=2.0)
    explorer.set(schedule="exponential", lr0=0.6, gamma=0.97)  # lr0 × L = 0.6: lr0 = 0.3
    ax_lr, ax_loss = explorer.figure.axes
    schedule = schedules.exponential_decay(0.3, 0.97)
    lr_line = next(line for line in ax_lr.lines if line.get_label() == "schedule")
    np.testing.assert_allclose(lr_line.get_ydata(), values(schedule, 80), rtol=1e-12)
    loss_line = next(line for line in ax_loss.lines if line.get_label() == "schedule: E[loss]")
    expected = NoisyQuadratic(L=2.0, sigma=1.0).expected_loss(schedule, 3.0, 80)
    np.testing.assert_allclose(loss_line.get_ydata(), expected, rtol=1e-12)


def test_a_blitted_redraw_equals_a_full_render():
    explorer = widgets.lr_schedule_explorer(steps=100, chains=10)
    explorer.set(lr0=0.2)
    explorer.set(lr0=1.2, warmup=20)  # the fast path: only the lines and the title
    blitted = pixels(explorer.png())
    explorer.render()
    np.testing.assert_array_equal(blitted, pixels(explorer.png()))


def test_an_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="schedule must be one of"):
        widgets.lr_schedule_explorer(schedule="one-cycle")
