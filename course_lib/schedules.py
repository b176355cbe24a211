"""Learning-rate schedules: callables ``t -> lr``, with ``t = 0, 1, 2, …`` counting steps.

A schedule does not touch the optimizer; the training loop asks it for the rate of step ``t``
and sets it::

    schedule = warmup(cosine_decay(lr0=0.1, t_max=900), warmup_steps=100)
    for t in range(1000):
        opt.lr = schedule(t)
        opt.step(params, grads)

Whether ``t`` counts mini-batch steps or epochs is up to the loop. Each function checks its
arguments and returns a ``Schedule``, whose ``repr`` shows how it was made, e.g.
``step_decay(lr0=0.1, step_size=30, gamma=0.1)``. Calling it with anything but an integer
``t >= 0`` raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from course_lib.validation import (
    check_bool,
    check_callable,
    check_nonnegative,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
    check_real,
)

__all__ = [
    "Schedule",
    "constant",
    "inverse_time_decay",
    "inverse_sqrt_decay",
    "exponential_decay",
    "step_decay",
    "cosine_decay",
    "warmup",
    "plan",
]


class Schedule:
    """A learning-rate schedule: call it with the step ``t`` (an integer >= 0) to get the lr.

    Made by the functions of this module; ``description`` (also the ``repr``) says which one
    and with which arguments.
    """

    def __init__(self, description: str, lr_at: Callable[[int], float]) -> None:
        self.description = description
        self._lr_at = lr_at

    def __call__(self, t: int) -> float:
        t = check_nonnegative_int("t", t)
        return float(self._lr_at(t))

    def __repr__(self) -> str:
        return self.description


def constant(lr0: float) -> Schedule:
    """The same rate at every step: ``lr(t) = lr0``."""
    lr0 = check_positive("lr0", lr0)
    return Schedule(f"constant(lr0={lr0!r})", lambda t: lr0)


def inverse_time_decay(
    lr0: float, decay_rate: float, decay_steps: int = 1, staircase: bool = False
) -> Schedule:
    """Inverse-time decay (the Deep Learning Specialization's ``α₀ / (1 + d·epoch)``).

        lr(t) = lr0 / (1 + decay_rate · t / decay_steps)
        lr(t) = lr0 / (1 + decay_rate · ⌊t / decay_steps⌋)      with staircase=True

    The rate halves when ``decay_rate · t / decay_steps`` reaches 1. With ``staircase`` it
    stays flat for ``decay_steps`` steps at a time. ``decay_rate = 0`` gives a constant rate.
    """
    lr0 = check_positive("lr0", lr0)
    decay_rate = check_nonnegative("decay_rate", decay_rate)
    decay_steps = check_positive_int("decay_steps", decay_steps)
    staircase = check_bool("staircase", staircase)

    def lr_at(t: int) -> float:
        if staircase:
            # lr0 / (1 + decay_rate·⌊t / decay_steps⌋)
            return lr0 / (1 + decay_rate * (t // decay_steps))
        # lr0 / (1 + decay_rate·t / decay_steps)
        return lr0 / (1 + decay_rate * t / decay_steps)

    return Schedule(
        f"inverse_time_decay(lr0={lr0!r}, decay_rate={decay_rate!r}, "
        f"decay_steps={decay_steps!r}, staircase={staircase!r})",
        lr_at,
    )


def inverse_sqrt_decay(lr0: float, decay_rate: float = 1.0, decay_steps: int = 1) -> Schedule:
    """Inverse-square-root decay (the Deep Learning Specialization's ``k / √epoch``).

        lr(t) = lr0 / √(1 + decay_rate · t / decay_steps)

    Slower than inverse-time decay: ``Σ lr(t)`` grows like ``√t`` (so the iterates can still
    travel any distance), while ``lr(t)`` → 0. The ``1 +`` keeps the first rate at ``lr0``.
    """
    lr0 = check_positive("lr0", lr0)
    decay_rate = check_nonnegative("decay_rate", decay_rate)
    decay_steps = check_positive_int("decay_steps", decay_steps)
    return Schedule(
        f"inverse_sqrt_decay(lr0={lr0!r}, decay_rate={decay_rate!r}, "
        f"decay_steps={decay_steps!r})",
        # lr0 / √(1 + decay_rate·t / decay_steps)
        lambda t: lr0 / math.sqrt(1 + decay_rate * t / decay_steps),
    )


def exponential_decay(lr0: float, gamma: float) -> Schedule:
    """Exponential decay, as ``torch.optim.lr_scheduler.ExponentialLR``.

    lr(t) = lr0 · γᵗ          (0 < γ <= 1)
    """
    lr0 = check_positive("lr0", lr0)
    gamma = _check_gamma(gamma)
    return Schedule(
        f"exponential_decay(lr0={lr0!r}, gamma={gamma!r})",
        # lr0·γᵗ
        lambda t: lr0 * gamma**t,
    )


def step_decay(lr0: float, step_size: int, gamma: float) -> Schedule:
    """Step decay, as ``torch.optim.lr_scheduler.StepLR``: multiply by γ every ``step_size``.

    lr(t) = lr0 · γ^⌊t / step_size⌋          (0 < γ <= 1)
    """
    lr0 = check_positive("lr0", lr0)
    step_size = check_positive_int("step_size", step_size)
    gamma = _check_gamma(gamma)
    return Schedule(
        f"step_decay(lr0={lr0!r}, step_size={step_size!r}, gamma={gamma!r})",
        # lr0·γ^⌊t / step_size⌋
        lambda t: lr0 * gamma ** (t // step_size),
    )


def cosine_decay(lr0: float, t_max: int, lr_min: float = 0.0) -> Schedule:
    """Cosine decay from ``lr0`` at ``t = 0`` to ``lr_min`` at ``t = t_max``, then flat.

        lr(t) = lr_min + (lr0 − lr_min) · (1 + cos(π·t / t_max)) / 2     for t <= t_max
        lr(t) = lr_min                                                  for t > t_max

    For ``t <= t_max`` this is ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=t_max,
    eta_min=lr_min)``. Past ``t_max`` PyTorch keeps following the cosine, which climbs back to
    ``lr0`` at ``2·t_max`` (a period of ``2·t_max``); here the rate stays at ``lr_min``.

    With the default ``lr_min = 0`` the rate is 0 at ``t = t_max``, which an optimizer refuses
    (its ``lr`` must be > 0): for ``n`` steps ``t = 0 … n−1`` use ``t_max = n``, or a small
    positive ``lr_min``.
    """
    lr0 = check_positive("lr0", lr0)
    t_max = check_positive_int("t_max", t_max)
    lr_min = check_nonnegative("lr_min", lr_min)
    if lr_min > lr0:
        raise ValueError(f"lr_min must be <= lr0, got lr_min={lr_min} and lr0={lr0}")

    def lr_at(t: int) -> float:
        if t > t_max:
            return lr_min
        # lr_min + (lr0 − lr_min)·(1 + cos(π·t / t_max)) / 2
        return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / t_max)) / 2

    return Schedule(f"cosine_decay(lr0={lr0!r}, t_max={t_max!r}, lr_min={lr_min!r})", lr_at)


def warmup(schedule: Callable[[int], float], warmup_steps: int) -> Schedule:
    """Linear warm-up for ``warmup_steps`` steps, then ``schedule``, shifted to start after it.

        lr(t) = schedule(0) · (t + 1) / (warmup_steps + 1)     for t < warmup_steps
        lr(t) = schedule(t − warmup_steps)                      for t >= warmup_steps

    The ramp climbs in equal steps from 0 (never reached: the first rate is already
    ``schedule(0) / (warmup_steps + 1)``, so no step has a zero rate) up to ``schedule(0)``,
    reached exactly at ``t = warmup_steps``, where the wrapped schedule starts from its own
    ``t = 0``. ``warmup_steps = 0`` gives ``schedule`` unchanged. ``schedule`` can be any
    callable ``t -> lr``; it is called once here to read ``schedule(0)``, which must be > 0.
    """
    check_callable("schedule", schedule, "a callable t -> lr (e.g. constant(0.1))")
    warmup_steps = check_nonnegative_int("warmup_steps", warmup_steps)
    peak = check_positive("schedule(0)", schedule(0))

    def lr_at(t: int) -> float:
        if t < warmup_steps:
            # schedule(0)·(t + 1) / (warmup_steps + 1)
            return peak * (t + 1) / (warmup_steps + 1)
        # schedule(t − warmup_steps)
        return schedule(t - warmup_steps)

    return Schedule(f"warmup({schedule!r}, warmup_steps={warmup_steps!r})", lr_at)


def plan(schedule: Callable[[int], float], steps: int, start: int = 0) -> list[float]:
    """The rates ``schedule(start), …, schedule(start + steps − 1)``, checked before training.

    Every planned rate must be a finite number > 0. A decay that reaches 0 within the run
    (``cosine_decay`` with ``t_max`` below the last step, an exponential or step decay that
    underflows to 0.0) or a NaN would otherwise stop training midway, after updates were made;
    ``training.fit`` calls ``plan`` before its first step, so it fails before changing anything.
    """
    check_callable("schedule", schedule, "a callable t -> lr (e.g. constant(0.1))")
    steps = check_positive_int("steps", steps)
    start = check_nonnegative_int("start", start)
    last = start + steps - 1
    rates = []
    for t in range(start, last + 1):
        try:
            rates.append(check_positive(f"schedule({t})", schedule(t)))
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"{error}: the learning rate must be a finite number > 0 at each of the "
                f"{steps} planned steps t = {start} … {last}; make the decay reach its end "
                f"after the last step (e.g. cosine_decay with t_max >= {last + 1})"
            ) from None
    return rates


def _check_gamma(gamma: object) -> float:
    gamma = check_real("gamma", gamma)
    if not 0.0 < gamma <= 1.0:
        raise ValueError(f"gamma must be in (0, 1] (a decay factor), got {gamma}")
    return gamma
