"""Lesson 02, momentum: ``momentum_explorer``.

Momentum (or Nesterov) beside gradient descent on an elongated bowl, with the rate per
step that its characteristic polynomial predicts (``momentum_rate``).
"""

from __future__ import annotations

import numpy as np
from ipywidgets import Checkbox, Layout

from course_lib import plots
from course_lib.optimizers import SGD, Momentum
from course_lib.problems import Quadratic, run_optimizer
from course_lib.validation import check_array, check_positive_int
from course_lib.widgets.explorer import Explorer, slider


def momentum_rate(lr: float, beta: float, curvatures, *, nesterov: bool = False) -> float:
    """Worst per-step contraction of momentum on a quadratic with these curvatures.

    Along an eigen-direction of curvature ``lam`` the error follows a linear
    two-step recursion; with the heavy-ball step ``h = lr (1 - beta) lam``
    its characteristic polynomial is

        r^2 - (1 + beta - h) r + beta                   (heavy ball)
        r^2 - (1 + beta)(1 - h) r + beta (1 - h)        (Nesterov)

    and the error shrinks like ``max |r|`` per step (lesson 02 derives both).
    """
    worst = 0.0
    for lam in curvatures:
        h = lr * (1 - beta) * lam
        if nesterov:
            trace, det = (1 + beta) * (1 - h), beta * (1 - h)
        else:
            trace, det = 1 + beta - h, beta
        worst = max(worst, float(np.max(np.abs(np.roots([1.0, -trace, det])))))
    return worst


def momentum_explorer(*, kappa: float = 50.0, steps: int = 80, x0=(-2.5, 2.0),
                      angle: float = 30.0, beta: float = 0.8, lr: float = 5.0) -> Explorer:
    """Lesson 02: momentum beside plain gradient descent on an elongated bowl (``L = 1``).

    Controls: ``beta``, the learning rate ``lr`` of ``Momentum`` (the
    exponential-moving-average form, in units of ``1/L``) and a Nesterov
    switch. Left, both paths on the contours; right, both losses against
    the step. Gradient descent runs at its best fixed step ``2/(L + mu)``
    and stays put; the title gives momentum's predicted rate per step
    (the largest root of its characteristic polynomial) and the tuned
    values ``beta* = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2``,
    ``lr* = 1/sqrt(L mu) = sqrt(kappa)/L``.
    """
    steps = check_positive_int("steps", steps)
    x0 = check_array("x0", x0, shape=(2,)).astype(np.float64)  # the start (x, y)
    problem = Quadratic(kappa=kappa, L=1.0, angle=angle)
    figure, (ax_path, ax_loss) = plots.new_figure(2, width=4.4, height=3.6)
    lim = (-3.2, 3.2)
    gd_path = run_optimizer(SGD(2 / (problem.L + problem.mu)), problem, x0, steps)
    root_kappa = np.sqrt(kappa)
    best_beta = ((root_kappa - 1) / (root_kappa + 1)) ** 2
    artists: dict = {}

    def draw(beta: float, lr: float, nesterov: bool):
        path = run_optimizer(Momentum(lr, beta, nesterov=nesterov), problem, x0, steps)
        losses = problem.loss(path)
        rate = momentum_rate(lr, beta, (problem.L, problem.mu), nesterov=nesterov)
        if "path" not in artists:
            plots.contours(ax_path, problem, lim, lim)
            gd_line = plots.trajectory(ax_path, gd_path, color="C0", label="gradient descent")
            gd_line.set(alpha=0.45, markersize=1.5, linewidth=0.8)  # the backdrop
            artists["path"] = plots.trajectory(ax_path, path, color="C1", label="momentum")
            plots.loss_curve(ax_loss, problem.loss(gd_path), color="C0",
                             label="gradient descent, best lr")
            artists["loss"] = plots.loss_curve(ax_loss, losses, color="C1", label="momentum")
            ax_loss.set_ylim(1e-14, 1e3)  # fixed, so the axes stay in the cached background
            ax_loss.legend(loc="lower left", fontsize=8)
            ax_loss.set_title(f"κ = {kappa:g}: best β* = {best_beta:.2f}, "
                              f"lr* = {root_kappa:.2f}/L", fontsize=10)
            first = True
        else:
            first = False
        artists["path"].set_data(path[:, 0], path[:, 1])
        artists["loss"].set_ydata(losses)
        verdict = f"rate {rate:.3f}/step" if rate < 1 else "diverges"
        name = "Nesterov" if nesterov else "momentum"
        title = ax_path.set_title(f"{name} β = {beta:.2f}, lr = {lr:.2f}/L: {verdict}",
                                  fontsize=10)
        return None if first else [artists["path"], artists["loss"], title]

    controls = {
        "beta": slider("β", beta, 0.0, 0.99, 0.01, name="beta"),
        "lr": slider("learning rate × L", lr, -1, 2, 0.02, log=True, name="lr"),
        "nesterov": Checkbox(value=False, description="Nesterov", indent=False,
                             layout=Layout(width="110px")),
    }
    return Explorer(figure, controls, draw)
