"""Lesson 04, Adam: ``adam_explorer``.

Adam beside gradient descent, momentum, Nesterov and RMSProp on Rosenbrock's valley or a
rotated bowl.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from ipywidgets import Checkbox, Layout
from matplotlib.ticker import LogLocator, NullLocator

from course_lib import plots
from course_lib.optimizers import SGD, Adam, Momentum, RMSProp
from course_lib.problems import Quadratic, Rosenbrock, run_optimizer
from course_lib.validation import check_bool
from course_lib.widgets.explorer import Explorer, slider


def _adam_setups() -> dict:
    """Lesson 04's explorer problems, by name.

    Each is ``(problem, start, (xlim, ylim), steps, loss limits, fixed learning rates)``; the
    fixed learning rates are those of gradient descent, momentum and Nesterov, which have no
    slider (Adam's and RMSProp's learning rates do): on Rosenbrock the largest round values
    at which the three converge from the start, on the bowl gradient descent's best fixed
    step ``2/(L + mu)`` and momentum's tuned ``sqrt(kappa)/L`` (lessons 00 and 02).
    """
    bowl = Quadratic(kappa=100, L=1.0, angle=30)
    return {
        "Rosenbrock": (Rosenbrock(), (-1.5, 2.0), ((-2.2, 2.2), (-1.2, 3.2)), 1000,
                       (1e-10, 1e3), {"SGD": 1.5e-3, "momentum": 0.01, "Nesterov": 0.01}),
        "bowl κ = 100, rotated 30°": (bowl, (-2.5, 2.0), ((-3.2, 3.2), (-3.2, 3.2)), 300,
                                      (1e-16, 1e2), {"SGD": 2 / (bowl.L + bowl.mu),
                                                     "momentum": 10.0, "Nesterov": 10.0}),
    }


def adam_explorer(*, problem: str = "Rosenbrock", lr: float = 0.1, beta1: float = 0.9,
                  beta2: float = 0.999, bias_correction: bool = True) -> Explorer:
    """Lesson 04: Adam beside gradient descent, momentum, Nesterov and RMSProp.

    Controls: the problem (Rosenbrock's valley from ``(-1.5, 2)``, or a bowl with
    ``kappa = 100`` rotated by 30°), Adam's learning rate, ``beta1``, ``beta2`` and Adam's
    bias correction. The sliders drive every optimizer that has the knob:

    * ``lr``: Adam and RMSProp (both take steps of about ``lr`` per coordinate);
    * ``beta1``: Adam, and the ``beta`` of momentum and Nesterov;
    * ``beta2``: Adam, and the ``beta`` of RMSProp.

    Gradient descent, momentum and Nesterov keep a fixed learning rate per problem (in the
    legend; see ``_adam_setups``). Left, all five paths on the contours; right, their losses
    against the step. Only the optimizers whose settings changed are run again.
    """
    setups = _adam_setups()
    if problem not in setups:
        raise ValueError(f"problem must be one of {sorted(setups)}, got {problem!r}")
    bias_correction = check_bool("bias_correction", bias_correction)
    names = ("gradient descent", "momentum", "Nesterov", "RMSProp", "Adam")
    colors = dict(zip(names, ("C0", "C2", "C4", "C1", "C3"), strict=True))
    figure, (ax_path, ax_loss) = plots.new_figure(2, width=4.4, height=3.8)
    artists: dict = {}
    paths: dict = {}  # (problem, name, settings) -> path, for the current problem only

    def optimizer_for(name: str, fixed: dict, lr: float, beta1: float, beta2: float,
                      bias_correction: bool):
        """The optimizer ``name`` and the settings it depends on (the cache key)."""
        if name == "gradient descent":
            return SGD(fixed["SGD"]), ()
        if name == "momentum":
            return Momentum(fixed["momentum"], beta1), (beta1,)
        if name == "Nesterov":
            return Momentum(fixed["Nesterov"], beta1, nesterov=True), (beta1,)
        if name == "RMSProp":
            return RMSProp(lr, beta=beta2), (lr, beta2)
        return (Adam(lr, beta1, beta2, bias_correction=bias_correction),
                (lr, beta1, beta2, bias_correction))

    def draw(problem: str, lr: float, beta1: float, beta2: float, bias_correction: bool):
        objective, x0, (xlim, ylim), steps, loss_lim, fixed = setups[problem]
        first = "lines" not in artists
        changed_problem = artists.get("problem") != problem
        if first:
            artists["lines"], artists["losses"] = {}, {}
            for name in names:
                artists["lines"][name] = plots.trajectory(ax_path, np.zeros((1, 2)),
                                                          color=colors[name])
                width = 1.8 if name == "Adam" else 0.9  # Adam on top, and bolder
                artists["lines"][name].set(marker="", linewidth=width)  # 1000 dots: too many
                (artists["losses"][name],) = ax_loss.plot([0], [1], color=colors[name],
                                                          linewidth=width)
            (artists["star"],) = ax_path.plot([], [], marker="*", color="k", markersize=10,
                                              linestyle="none")
            ax_loss.set_yscale("log")
            ax_loss.set_xlabel("step")
            ax_loss.set_ylabel("loss")
        if changed_problem:
            if "contours" in artists:
                artists["contours"].remove()
            artists["contours"] = plots.contours(ax_path, objective, xlim, ylim, star=False)
            artists["star"].set_data([objective.minimiser[0]], [objective.minimiser[1]])
            ax_loss.set_xlim(0, steps)
            ax_loss.set_ylim(*loss_lim)
            ax_loss.yaxis.set_major_locator(LogLocator(numticks=5))
            ax_loss.yaxis.set_minor_locator(NullLocator())
            paths.clear()
            artists["problem"] = problem
        x0 = np.asarray(x0, dtype=np.float64)
        finals = {}
        for name in names:
            optimizer, settings = optimizer_for(name, fixed, lr, beta1, beta2, bias_correction)
            key = (name, settings)
            if key not in paths:
                paths[key] = run_optimizer(optimizer, objective, x0, steps)
            path = paths[key]
            with np.errstate(over="ignore", invalid="ignore"):
                losses = objective.loss(path)
            artists["lines"][name].set_data(path[:, 0], path[:, 1])
            artists["losses"][name].set_data(np.arange(steps + 1), losses)
            finals[name] = f"{losses[-1]:.0e}" if np.isfinite(losses[-1]) else "diverged"
        if changed_problem:  # the legend names the fixed learning rates of this problem
            labels = [f"{name}, lr {fixed[key]:.2g}" for name, key in
                      zip(names[:3], ("SGD", "momentum", "Nesterov"), strict=True)]
            labels += ["RMSProp (lr, β = β2)", "Adam"]
            if "legend" in artists:
                artists["legend"].remove()
            artists["legend"] = ax_loss.legend(list(artists["losses"].values()), labels,
                                               loc="lower left", fontsize=7, framealpha=0.9)
        state = "" if bias_correction else ", uncorrected"
        title = ax_path.set_title(f"Adam lr {lr:.2g}, β1 {beta1:.2f}, β2 {beta2:.4f}{state}",
                                  fontsize=9)
        loss_title = ax_loss.set_title(f"final: Adam {finals['Adam']}, RMSProp "
                                       f"{finals['RMSProp']}", fontsize=9)
        if first or changed_problem:
            return None
        return [*artists["lines"].values(), *artists["losses"].values(), title, loss_title]

    controls = {
        "problem": widgets.Dropdown(options=list(setups), value=problem, description="problem",
                                    layout=Layout(width="300px")),
        "lr": slider("η (Adam, RMSProp)", lr, -3, 0, 0.05, log=True, name="lr"),
        "beta1": slider("β1 (Adam, momentum)", beta1, 0.0, 0.99, 0.01, name="beta1"),
        "beta2": slider("β2 (Adam, RMSProp)", beta2, 0.9, 0.9999, 0.0001, name="beta2"),
        "bias_correction": Checkbox(value=bias_correction, description="bias correction",
                                    indent=False, layout=Layout(width="140px")),
    }
    controls["beta2"].readout_format = ".4f"
    for name in ("lr", "beta1", "beta2"):
        controls[name].layout.width = "360px"  # room for the track beside the long labels
    explorer = Explorer(figure, controls, draw)
    explorer.children[0].layout.flex_flow = "row wrap"  # five controls: let them wrap
    return explorer
