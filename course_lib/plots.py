"""The figures the lessons share, drawn onto matplotlib axes.

Each function draws onto an ``Axes`` it is given and returns the artists it
made, so an explorer can update them (``set_data``) instead of drawing a
new figure on every slider move.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.contour import QuadContourSet
from matplotlib.figure import Figure
from matplotlib.lines import Line2D


def new_figure(ncols: int = 1, nrows: int = 1, *, width: float = 4.5, height: float = 3.6):
    """A figure outside pyplot (so it is never shown twice) and its axes."""
    figure = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False)
    return figure, axes.ravel()


def loss_grid(problem, xlim, ylim, n: int = 120):
    """``problem.loss`` on an ``n x n`` grid: returns ``(X, Y, Z)``."""
    xs = np.linspace(*xlim, n)
    ys = np.linspace(*ylim, n)
    X, Y = np.meshgrid(xs, ys)
    return X, Y, problem.loss(np.stack([X, Y], axis=-1))


def contours(ax: Axes, problem, xlim, ylim, *, levels: int = 14, n: int = 120,
             star: bool = True) -> QuadContourSet:
    """Log-spaced contour lines of ``problem`` and (``star=True``) a star at its minimiser.

    Log spacing shows both the steep walls and the flat floor of a valley.
    """
    X, Y, Z = loss_grid(problem, xlim, ylim, n)
    low = max(float(np.min(Z)) - problem.min_value, 0.0)
    high = float(np.max(Z)) - problem.min_value
    floor = max(low, high * 1e-6, 1e-12)
    heights = problem.min_value + np.geomspace(floor, high, levels)
    contour_set = ax.contour(X, Y, Z, levels=heights, colors="0.65", linewidths=0.8, zorder=1)
    if star:
        ax.plot(*problem.minimiser, marker="*", color="k", markersize=10, linestyle="none")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_aspect("equal", adjustable="box")
    return contour_set


def trajectory(ax: Axes, path: np.ndarray, *, label: str | None = None, color=None) -> Line2D:
    """The path of an optimizer: a line through the iterates, dots on each."""
    (line,) = ax.plot(path[:, 0], path[:, 1], marker="o", markersize=2.5, linewidth=1.2,
                      label=label, color=color)
    return line


def loss_curve(ax: Axes, losses: np.ndarray, *, label: str | None = None, color=None,
               log: bool = True) -> Line2D:
    """Loss against step, on a log axis by default."""
    (line,) = ax.plot(np.arange(len(losses)), losses, label=label, color=color)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    return line


def fit_log_axis(ax: Axes, values: np.ndarray, *, floor: float = 1e-16) -> None:
    """Set a log y-axis to the finite positive range of ``values``."""
    values = np.asarray(values, dtype=np.float64)
    good = values[np.isfinite(values) & (values > floor)]
    if good.size:
        low, high = float(good.min()), float(good.max())
        ax.set_ylim(low / 2, high * 2 if high > low else low * 10)
