"""Lesson 01, feature scaling: ``feature_scaling_explorer`` and its problems.

Gradient descent on Wine with raw, mean-normalized or z-scored features
(``feature_scaling_setups``).
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import MaxNLocator, NullLocator

from course_lib import plots
from course_lib.data import load_wine
from course_lib.optimizers import SGD
from course_lib.problems import LeastSquares, run_optimizer
from course_lib.scaling import MeanNormalizer, ZScoreScaler
from course_lib.validation import check_positive_int
from course_lib.widgets.explorer import Explorer, slider


def feature_scaling_setups(features=("color_intensity", "proline"), target: str = "alcohol"):
    """The three versions of the explorer's problem, by scaler name.

    Predict the Wine column ``target`` from the two ``features`` with
    ``x^T w + b``, the features raw, mean-normalized or z-scored (scalers
    fitted on all 178 wines). For each version, ``full`` is the 3-parameter
    ``LeastSquares`` that gradient descent runs on, and ``plane`` the
    2-parameter slice through it at the best bias ``b*`` (the loss over the
    two weights), whose contours the explorer draws.
    """
    wine = load_wine()
    names = list(wine.feature_names)
    unknown = [name for name in (*features, target) if name not in names]
    if unknown or len(features) != 2:
        raise ValueError(f"features must be two Wine column names and target one; "
                         f"unknown: {unknown}; choose from {names}")
    X = wine.X[:, [names.index(name) for name in features]]
    y = wine.X[:, names.index(target)]
    setups = {}
    for name, scaler in [("raw", None), ("mean-normalized", MeanNormalizer()),
                         ("z-score", ZScoreScaler())]:
        Z = X if scaler is None else scaler.fit_transform(X)
        full = LeastSquares(Z, y, bias=True)
        plane = LeastSquares(Z, y - full.minimiser[-1])  # b held at its optimum b*
        setups[name] = {"full": full, "plane": plane}
    return setups


def _square_window(points: np.ndarray, margin: float = 0.3):
    """Equal x and y spans that hold ``points`` (rows (x, y)) with a margin."""
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    half = (1 + margin) * max(float(np.max(high - low)), 1e-12) / 2
    return (centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half)


def feature_scaling_explorer(*, features=("color_intensity", "proline"),
                             target: str = "alcohol", steps: int = 60,
                             scaler: str = "raw", lr: float = 1.0) -> Explorer:
    """Lesson 01: gradient descent on Wine with raw, mean-normalized or z-scored features.

    The model predicts ``target`` from two ``features`` of very different
    scale, ``x^T w + b`` (see ``feature_scaling_setups``). Controls: the
    scaler and the learning rate in units of ``1/L`` (``L`` the largest
    curvature of the 3-parameter loss of the chosen scaler). Left: contours
    of the loss over the two weights with the bias at its optimum, and the
    weights along ``steps`` steps of gradient descent from zero (for the
    centred scalers the bias is decoupled from the weights, so the path is
    exactly gradient descent on the plotted surface; for raw features the
    bias moves too and the path is the shadow of a 3-D path). Right: the
    loss above its optimum, relative to the optimum, for all three scalers
    at the same ``lr * L``.
    """
    steps = check_positive_int("steps", steps)
    setups = feature_scaling_setups(features, target)
    figure, (ax_path, ax_loss) = plots.new_figure(2, width=4.4, height=3.8)
    names = list(setups)
    colors = {"raw": "C3", "mean-normalized": "C1", "z-score": "C0"}
    artists: dict = {}
    t = np.arange(steps + 1)

    def draw(scaler: str, lr: float):
        setup = setups[scaler]
        new_surface = artists.get("scaler") != scaler
        if new_surface:  # contours only change with the scaler
            if "contours" in artists:
                artists["contours"].remove()
                artists["star"].remove()
            plane = setup["plane"]
            xlim, ylim = _square_window(np.vstack([np.zeros(2), plane.minimiser]))
            artists["contours"] = plots.contours(ax_path, plane, xlim, ylim, n=100)
            artists["star"] = ax_path.lines[-1]  # the minimiser marker contours() drew
            ax_path.xaxis.set_major_locator(MaxNLocator(4))
            ax_path.yaxis.set_major_locator(MaxNLocator(4))
            ax_path.set_xlabel(f"weight of {features[0]}")
            ax_path.set_ylabel(f"weight of {features[1]}")
            artists["scaler"] = scaler
        curves = {}
        for name in names:
            full = setups[name]["full"]
            path = run_optimizer(SGD(lr / full.L), full, np.zeros(full.n_params), steps)
            with np.errstate(over="ignore", invalid="ignore"):
                curves[name] = (full.loss(path) - full.min_value) / full.min_value
            if name == scaler:
                shown = path
        if "path" not in artists:
            artists["path"] = plots.trajectory(ax_path, shown[:, :2], color="k")
            for name in names:
                (artists[name],) = ax_loss.plot(t, curves[name], color=colors[name],
                                                label=name)
            ax_loss.set_yscale("log")
            ax_loss.set_ylim(1e-10, 1e5)
            ax_loss.set_yticks([1e-10, 1e-5, 1e0, 1e5])
            ax_loss.yaxis.set_minor_locator(NullLocator())
            ax_loss.set_xticks(np.linspace(0, steps, 4).round())
            ax_loss.set_xlabel("step")
            ax_loss.set_ylabel("(loss − optimum) / optimum")
            ax_loss.legend(loc="lower left", fontsize=8)
        artists["path"].set_data(shown[:, 0], shown[:, 1])
        for name in names:
            artists[name].set_ydata(curves[name])
            artists[name].set_linewidth(2.5 if name == scaler else 1.0)
        full = setup["full"]
        verdict = "diverges" if lr >= 2 else "stable"
        title = ax_path.set_title(f"{scaler}: κ = {full.kappa:.2g}, η = {lr:.2f}/L = "
                                  f"{lr / full.L:.2g} ({verdict})", fontsize=9)
        if new_surface:  # the background changed: render everything
            return None
        return [artists["path"], *(artists[name] for name in names), title]

    controls = {
        "scaler": widgets.Dropdown(options=names, value=scaler, description="features"),
        "lr": slider("learning rate × L", lr, 0.05, 2.2, 0.01, name="lr"),
    }
    return Explorer(figure, controls, draw)
