"""Lesson 03, RMSProp: ``rmsprop_explorer``.

RMSProp beside gradient descent on an axis-aligned bowl, a rotated one and Rosenbrock's
valley.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course_lib import plots
from course_lib.optimizers import SGD, RMSProp
from course_lib.problems import Quadratic, Rosenbrock, run_optimizer
from course_lib.widgets.explorer import Explorer, slider


def _rmsprop_setups() -> dict:
    """Lesson 03's explorer problems: (problem, start, window, gradient-descent lr, steps, ylim)."""
    square = ((-3.2, 3.2), (-3.2, 3.2))
    aligned = Quadratic(kappa=50, L=1.0, angle=0)
    rotated = Quadratic(kappa=50, L=1.0, angle=30)
    best = 2 / (aligned.L + aligned.mu)  # gradient descent's best fixed step (lesson 00)
    return {
        "bowl, axes aligned": (aligned, (-2.5, 2.0), square, best, 300, (1e-16, 1e2)),
        "bowl, rotated 30°": (rotated, (-2.5, 2.0), square, best, 300, (1e-16, 1e2)),
        "Rosenbrock": (Rosenbrock(), (-1.5, 2.0), ((-2.2, 2.2), (-1.2, 3.2)), 1e-3, 1000,
                       (1e-6, 1e3)),
    }


def rmsprop_explorer(*, problem: str = "bowl, axes aligned", lr: float = 0.05,
                     beta: float = 0.9, eps: float = 1e-8) -> Explorer:
    """Lesson 03: RMSProp beside plain gradient descent.

    Controls: the problem (an elongated bowl with ``kappa = 50`` whose axes are the coordinate
    axes or rotated by 30°, or Rosenbrock's valley), RMSProp's learning rate, ``beta`` and
    ``eps`` (log scale). Left, both paths on the contours; right, both losses against the
    step. Gradient descent runs at a fixed step that suits the problem (the best fixed step
    ``2/(L + mu)`` on the bowls, ``1e-3`` on Rosenbrock). On the axis-aligned bowl a dotted
    line marks RMSProp's floor ``(L + mu) lr² / 8``, the loss of the ``±lr/2`` two-cycle it
    settles into when ``eps`` is small.
    """
    setups = _rmsprop_setups()
    if problem not in setups:
        raise ValueError(f"problem must be one of {sorted(setups)}, got {problem!r}")
    figure, (ax_path, ax_loss) = plots.new_figure(2, width=4.4, height=3.6)
    artists: dict = {}

    def draw(problem: str, lr: float, beta: float, eps: float):
        objective, x0, (xlim, ylim), gd_lr, steps, loss_lim = setups[problem]
        x0 = np.asarray(x0, dtype=np.float64)
        path = run_optimizer(RMSProp(lr, beta=beta, eps=eps), objective, x0, steps)
        with np.errstate(over="ignore", invalid="ignore"):
            losses = objective.loss(path)
        first = "path" not in artists
        if first:
            artists["gd_path"] = plots.trajectory(ax_path, path, color="C0",
                                                  label="gradient descent")
            artists["path"] = plots.trajectory(ax_path, path, color="C1", label="RMSProp")
            (artists["star"],) = ax_path.plot([], [], marker="*", color="k", markersize=10,
                                              linestyle="none")
            artists["gd_loss"] = plots.loss_curve(ax_loss, losses, color="C0",
                                                  label="gradient descent")
            artists["loss"] = plots.loss_curve(ax_loss, losses, color="C1", label="RMSProp")
            (artists["floor"],) = ax_loss.plot([0, 1], [1, 1], "k:", linewidth=1.2,
                                               label="RMSProp floor (L+μ)·lr²/8")
        changed_problem = artists.get("problem") != problem
        if changed_problem:  # new contours, axes and gradient-descent run: a full render
            if "contours" in artists:
                artists["contours"].remove()
            artists["contours"] = plots.contours(ax_path, objective, xlim, ylim, star=False)
            artists["star"].set_data([objective.minimiser[0]], [objective.minimiser[1]])
            gd_path = run_optimizer(SGD(gd_lr), objective, x0, steps)
            artists["gd_path"].set_data(gd_path[:, 0], gd_path[:, 1])
            artists["gd_loss"].set_data(np.arange(steps + 1), objective.loss(gd_path))
            artists["gd_path"].set_label(f"gradient descent, lr = {gd_lr:.3g}")
            ax_path.legend(loc="lower right", fontsize=8)
            ax_loss.set_xlim(0, steps)
            ax_loss.set_ylim(*loss_lim)
            artists["floor"].set_xdata([0, steps])
            artists["floor"].set_visible(problem == "bowl, axes aligned")
            shown = [line for line in (artists["gd_loss"], artists["loss"], artists["floor"])
                     if line.get_visible()]
            ax_loss.legend(handles=shown, loc="lower left", fontsize=8)
            artists["problem"] = problem
        artists["path"].set_data(path[:, 0], path[:, 1])
        artists["loss"].set_data(np.arange(steps + 1), losses)
        if problem == "bowl, axes aligned":
            floor = (objective.L + objective.mu) * lr**2 / 8
            artists["floor"].set_ydata([floor, floor])
        title = ax_path.set_title(f"RMSProp lr = {lr:.3g}, β = {beta:.3f}, ε = {eps:.0e}",
                                  fontsize=10)
        if first or changed_problem:
            return None
        return [artists["path"], artists["loss"], artists["floor"], title]

    controls = {
        "problem": widgets.Dropdown(options=list(setups), value=problem, description="problem"),
        "lr": slider("learning rate", lr, -3, 0, 0.05, log=True, name="lr"),
        "beta": slider("β", beta, 0.0, 0.999, 0.001, name="beta"),
        "eps": slider("ε", eps, -10, 0, 0.5, log=True, name="eps"),
    }
    controls["beta"].readout_format = ".3f"
    controls["problem"].layout.width = "300px"
    explorer = Explorer(figure, controls, draw)
    explorer.children[0].layout.flex_flow = "row wrap"  # four controls: let them wrap
    return explorer
