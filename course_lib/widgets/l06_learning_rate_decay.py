"""Lesson 06, learning-rate decay: ``lr_schedule_explorer``.

A learning-rate schedule (one of ``LR_SCHEDULE_NAMES``, built by
``lr_schedule_from_knobs``) and what it does to SGD on a noisy quadratic.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from ipywidgets import Layout
from matplotlib.ticker import NullLocator

from course_lib import plots, schedules
from course_lib.optimizers import SGD
from course_lib.problems import NoisyQuadratic, run_optimizer
from course_lib.validation import check_nonnegative_int, check_positive_int, check_real
from course_lib.widgets.explorer import Explorer, slider

LR_SCHEDULE_NAMES = ("constant", "inverse-time", "inverse-time, staircase", "exponential",
                     "step", "cosine")

# The sliders each schedule uses (all of them also use lr0 and warmup).
_LR_SCHEDULE_KNOBS = {
    "constant": (),
    "inverse-time": ("decay_rate",),
    "inverse-time, staircase": ("decay_rate", "interval"),
    "exponential": ("gamma",),
    "step": ("interval", "factor"),
    "cosine": ("t_max",),
}


def lr_schedule_from_knobs(name: str, lr0: float, *, warmup: int = 0, decay_rate: float = 0.02,
                           interval: int = 50, gamma: float = 0.99, factor: float = 0.3,
                           t_max: int = 300):
    """The ``course_lib.schedules`` schedule that the explorer's controls describe.

    ``name`` is one of ``LR_SCHEDULE_NAMES``; the knobs are those of the functions in
    ``course_lib.schedules``: ``inverse_time_decay(lr0, decay_rate, decay_steps=interval,
    staircase)``, ``exponential_decay(lr0, gamma)``, ``step_decay(lr0, step_size=interval,
    gamma=factor)``, ``cosine_decay(lr0, t_max, lr_min=lr0/1000)`` (a floor above 0, so the
    rate never reaches 0, which an optimizer refuses), all wrapped in ``warmup(...,
    warmup_steps=warmup)`` when ``warmup > 0``.
    """
    if name == "constant":
        schedule = schedules.constant(lr0)
    elif name in ("inverse-time", "inverse-time, staircase"):
        staircase = name.endswith("staircase")
        schedule = schedules.inverse_time_decay(lr0, decay_rate,
                                                decay_steps=interval if staircase else 1,
                                                staircase=staircase)
    elif name == "exponential":
        schedule = schedules.exponential_decay(lr0, gamma)
    elif name == "step":
        schedule = schedules.step_decay(lr0, interval, factor)
    elif name == "cosine":
        schedule = schedules.cosine_decay(lr0, t_max, lr_min=lr0 / 1000)
    else:
        raise ValueError(f"name must be one of {list(LR_SCHEDULE_NAMES)}, got {name!r}")
    return schedules.warmup(schedule, warmup) if warmup else schedule


def lr_schedule_explorer(*, schedule: str = "cosine", lr0: float = 0.5, steps: int = 300,
                         L: float = 1.0, sigma: float = 1.0, x0: float = 3.0,  # noqa: N803
                         chains: int = 100, seed: int = 0) -> Explorer:
    """Lesson 06: a learning-rate schedule and what it does to SGD on a noisy quadratic.

    Controls: the schedule (a dropdown) and its knobs (``lr_schedule_from_knobs``); only the
    sliders the chosen schedule uses are shown. ``lr0`` is given in units of ``1/L`` (the
    slider reads ``lr0 × L``); the decay knobs count steps. Left: the rate ``lr(t)`` for ``t = 0 …
    steps−1`` on a log axis, with the constant rate ``lr0`` and the stability bound ``2/L``.
    Right: SGD from ``x0`` on ``problems.NoisyQuadratic(L, sigma)``: the exact expected loss
    ``E[f(x_t)]`` (``expected_loss``), the mean loss of ``chains`` simulated runs
    (``run_optimizer``, with the noise seeded by ``seed``), and, for comparison, the expected
    loss at the constant rate ``lr0`` with its
    noise floor ``lr0·σ²/(2(2 − lr0·L))``. The dashed black line is the ``1/t`` decay
    ``η_t = 1/(L(t+1))``, whose expected loss is exactly ``σ²/(2Lt)``. Both axes are fixed, so
    a redraw only redraws the lines (blitting).
    """
    if schedule not in LR_SCHEDULE_NAMES:
        raise ValueError(f"schedule must be one of {list(LR_SCHEDULE_NAMES)}, got {schedule!r}")
    steps = check_positive_int("steps", steps)
    chains = check_positive_int("chains", chains)
    seed = check_nonnegative_int("seed", seed)
    x0 = check_real("x0", x0)
    problem = NoisyQuadratic(L=L, sigma=sigma)
    figure, (ax_lr, ax_loss) = plots.new_figure(2, width=4.4, height=3.5)
    t = np.arange(steps)
    t_loss = np.arange(steps + 1)
    start_loss = problem.loss(x0)
    artists: dict = {}

    controls = {
        "schedule": widgets.Dropdown(options=list(LR_SCHEDULE_NAMES), value=schedule,
                                     description="schedule", layout=Layout(width="300px")),
        "lr0": slider("lr0 × L", lr0, -2, 0.25, 0.05, log=True, name="lr0"),
        "warmup": slider("warm-up steps", 0, 0, 100, 5, integer=True),
        "decay_rate": slider("decay_rate", 0.02, -3, 0, 0.1, log=True),
        "interval": slider("interval (steps)", 50, 5, 150, 5, integer=True),
        "gamma": slider("gamma (per step)", 0.99, 0.95, 1.0, 0.001),
        "factor": slider("factor", 0.3, 0.05, 0.9, 0.05),
        "t_max": slider("t_max", steps, min(20, steps), steps, 10, integer=True),
    }
    controls["gamma"].readout_format = ".3f"

    def draw(schedule, lr0, warmup, decay_rate, interval, gamma, factor, t_max):
        for name in ("decay_rate", "interval", "gamma", "factor", "t_max"):
            shown = name in _LR_SCHEDULE_KNOBS[schedule]
            controls[name].layout.display = None if shown else "none"
        lr0 = lr0 / L  # the slider reads lr0 × L
        rate = lr_schedule_from_knobs(schedule, lr0, warmup=warmup, decay_rate=decay_rate,
                                      interval=interval, gamma=gamma, factor=factor,
                                      t_max=t_max)
        rates = [rate(k) for k in range(steps)]
        lrs = np.array(rates)
        lr_at = rates.__getitem__  # the same schedule, read from the list: cheaper to call
        expected = problem.expected_loss(lr_at, x0, steps)
        paths = run_optimizer(SGD(lr0), NoisyQuadratic(L, sigma, rng=seed),
                              np.full((chains, 1), x0), steps, lr=lr_at)
        simulated = problem.loss(paths[:, :, 0]).mean(axis=0)
        constant = problem.expected_loss(lr0, x0, steps)
        floor = problem.noise_floor(lr0)
        first = "lr" not in artists
        if first:
            (artists["lr0"],) = ax_lr.plot(t, np.full(steps, lr0), color="0.6",
                                           label="constant lr0")
            (artists["lr"],) = ax_lr.plot(t, lrs, color="C0", drawstyle="steps-post",
                                          label="schedule")
            ax_lr.axhline(2 / L, color="k", linestyle="--", linewidth=1, label="2/L")
            ax_lr.set_yscale("log")
            ax_lr.set_ylim(1e-4 / L, 5 / L)
            ax_lr.set_xlim(0, steps)
            ax_lr.yaxis.set_minor_locator(NullLocator())
            ax_lr.set_xlabel("step t")
            ax_lr.set_ylabel("learning rate")
            ax_lr.legend(loc="lower left", fontsize=8)
            reference = problem.expected_loss(lambda k: 1 / (L * (k + 1)), x0, steps)
            (artists["constant"],) = ax_loss.plot(t_loss, constant, color="0.6",
                                                  label="constant lr0")
            (artists["floor"],) = ax_loss.plot([0, steps], [floor, floor], color="0.4",
                                               linestyle=":", label="its noise floor")
            ax_loss.plot(t_loss[1:], reference[1:], "k--", linewidth=1,
                         label="η = 1/(L(t+1)): σ²/(2Lt)")
            (artists["simulated"],) = ax_loss.plot(t_loss, simulated, color="C0", alpha=0.35,
                                                   linewidth=0.8,
                                                   label=f"mean of {chains} runs")
            (artists["expected"],) = ax_loss.plot(t_loss, expected, color="C0", linewidth=2,
                                                  label="schedule: E[loss]")
            ax_loss.set_yscale("log")
            ax_loss.set_ylim(1e-4 * start_loss, 3 * start_loss)
            ax_loss.set_xlim(0, steps)
            ax_loss.yaxis.set_minor_locator(NullLocator())
            ax_loss.set_xlabel("step t")
            ax_loss.set_ylabel("loss  L·x²/2")
            ax_loss.legend(loc="upper right", fontsize=7)
            ax_lr.set_title("learning-rate schedule", fontsize=10)
        artists["lr0"].set_ydata(np.full(steps, lr0))
        artists["lr"].set_ydata(lrs)
        artists["constant"].set_ydata(constant)
        artists["floor"].set_ydata([floor, floor])
        artists["simulated"].set_ydata(simulated)
        artists["expected"].set_ydata(expected)
        loss_title = ax_loss.set_title(f"E[loss] at the end: {expected[-1]:.2g} "
                                       f"(constant lr0: {constant[-1]:.2g})", fontsize=10)
        if first:
            return None
        return [artists[name] for name in ("lr0", "lr", "constant", "floor", "simulated",
                                           "expected")] + [loss_title]

    explorer = Explorer(figure, controls, draw)
    explorer.children[0].layout.flex_flow = "row wrap"  # up to five controls: let them wrap
    return explorer
