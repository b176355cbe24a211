"""Lesson 00, gradient descent: ``gradient_descent_explorer``.

Gradient descent on a quadratic bowl, its path and its loss, as the learning rate and
the condition number move.
"""

from __future__ import annotations

import numpy as np

from course_lib import plots
from course_lib.optimizers import SGD
from course_lib.problems import Quadratic, run_optimizer
from course_lib.validation import check_array, check_positive_int
from course_lib.widgets.explorer import Explorer, slider


def gradient_descent_explorer(*, steps: int = 60, x0=(-2.5, 2.0), angle: float = 30.0,
                              lr: float = 1.0, kappa: float = 10.0) -> Explorer:
    """Lesson 00: gradient descent on a quadratic bowl with ``L = 1``.

    Sliders: the learning rate (in units of ``1/L``) and the condition
    number ``kappa``. Left, the contours and the path; right, the loss
    against the step with the slope ``((kappa-1)/(kappa+1))^(2t)`` that the
    best fixed step would achieve.
    """
    steps = check_positive_int("steps", steps)
    x0 = check_array("x0", x0, shape=(2,)).astype(np.float64)  # the start (x, y)
    figure, (ax_path, ax_loss) = plots.new_figure(2, width=4.4, height=3.6)
    lim = (-3.2, 3.2)
    artists: dict = {}
    t = np.arange(steps + 1)

    def draw(lr: float, kappa: float):
        problem = Quadratic(kappa=kappa, L=1.0, angle=angle)
        path = run_optimizer(SGD(lr), problem, x0, steps)
        losses = problem.loss(path)
        bound = losses[0] * ((kappa - 1) / (kappa + 1)) ** (2 * t)
        if "path" not in artists:
            artists["path"] = plots.trajectory(ax_path, path, color="C0")
            artists["loss"] = plots.loss_curve(ax_loss, losses, label="gradient descent")
            (artists["bound"],) = ax_loss.plot(t, bound, "k--", linewidth=1,
                                               label="best fixed step")
            ax_loss.legend(loc="lower left", fontsize=8)
            ax_loss.set_ylim(1e-12, 1e4)  # fixed, so the axes stay in the cached background
        artists["path"].set_data(path[:, 0], path[:, 1])
        artists["loss"].set_ydata(losses)
        artists["bound"].set_ydata(bound)
        verdict = "diverges" if lr >= 2 else "converges"
        title = ax_path.set_title(f"η = {lr:.2f}/L, κ = {kappa:.0f}: {verdict}", fontsize=10)
        moving = [artists["path"], artists["loss"], artists["bound"], title]
        if artists.get("kappa") == kappa:
            return moving
        if "contours" in artists:  # new contours: the background changes too
            artists["contours"].remove()
        first = "kappa" not in artists
        artists["contours"] = plots.contours(ax_path, problem, lim, lim, star=first)
        artists["kappa"] = kappa
        return None

    controls = {
        "lr": slider("learning rate × L", lr, 0.05, 2.2, 0.01, name="lr"),
        "kappa": slider("condition number κ", kappa, 0, 3, 0.05, log=True, name="kappa"),
    }
    return Explorer(figure, controls, draw)
