"""Explorers: ipywidgets control panels that redraw one matplotlib figure.

An ``Explorer`` owns a figure, a set of controls and a ``draw`` function.
When a control moves, ``draw`` updates the figure's artists, the figure is
rendered to PNG once, and the PNG replaces the bytes of an ``Image``
widget. No new figure is made and nothing is re-displayed, which keeps a
redraw to tens of milliseconds and works in JupyterLab, Notebook, VS Code
and on Binder without any extra front-end extension.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
from IPython.display import Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from course_lib import plots
from course_lib.optimizers import SGD
from course_lib.problems import Quadratic, run_optimizer


class Explorer(widgets.VBox):
    """Controls above an image of ``figure``, redrawn by ``draw(**values)``.

    ``draw`` updates the figure for the controls' values and returns either

    * ``None``: anything may have changed; the whole figure is rendered, or
    * the artists it changed (lines, a title...), promising that nothing
      else moved since the previous call. Those artists are then drawn over
      a cached picture of the rest (axes, ticks, contours): "blitting",
      several times faster than a full render, most of which is text layout.

    ``redraw_ms`` records how long each redraw took (draw plus PNG
    encoding), so a lesson or benchmark can report the median.
    """

    def __init__(
        self,
        figure: Figure,
        controls: dict[str, widgets.ValueWidget],
        draw: Callable[..., None],
        *,
        dpi: int = 80,
    ) -> None:
        self.figure = figure
        # Render at the figure's own dpi straight through Agg: savefig would
        # switch the dpi (invalidating every cached text layout) on each call.
        figure.set_dpi(dpi)
        self._canvas = FigureCanvasAgg(figure)
        self.controls = controls
        self.redraw_ms: list[float] = []
        self._draw = draw
        self._moving: list = []  # artists drawn over the cached background
        self._background = None
        self.image = widgets.Image(format="png")
        for control in controls.values():
            control.observe(self._on_change, names="value")
        row = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([row, self.image])
        self._draw(**self.values)
        self._freeze_layout()
        self.redraw()

    def _freeze_layout(self) -> None:
        """Lay the figure out once, then keep the axes where they are.

        A constrained layout costs a full extra draw on every render; the
        explorer's axes do not move, so it is computed once.
        """
        self.figure.canvas.draw()
        self.figure.set_layout_engine("none")

    @property
    def values(self) -> dict:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change) -> None:
        if not getattr(self, "_holding", False):
            self.redraw()

    def set(self, **values) -> None:
        """Move several controls at once, with one redraw."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown controls {sorted(unknown)}; have {sorted(self.controls)}")
        self._holding = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        self.redraw()

    def redraw(self) -> None:
        start = time.perf_counter()
        changed = self._draw(**self.values)
        if changed is None or self._background is None:
            self._render_all()
        else:
            self._render_moving(changed)
        self.image.value = self.png()
        self.redraw_ms.append(1000 * (time.perf_counter() - start))

    def _render_all(self) -> None:
        self._canvas.draw()  # animated (moving) artists are left out of this picture
        self._background = self._canvas.copy_from_bbox(self.figure.bbox)
        for artist in self._moving:
            self.figure.draw_artist(artist)

    def _render_moving(self, changed) -> None:
        new = [artist for artist in changed if artist not in self._moving]
        for artist in new:
            artist.set_animated(True)
            self._moving.append(artist)
        if new:  # the cached background still shows them: take a fresh one
            self._render_all()
            return
        self._canvas.restore_region(self._background)
        for artist in self._moving:
            self.figure.draw_artist(artist)

    def png(self) -> bytes:
        """The figure as last rendered, as PNG bytes."""
        if self._background is None:
            self._render_all()
        picture = PILImage.fromarray(np.asarray(self._canvas.buffer_rgba()))
        buffer = io.BytesIO()
        picture.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def snapshot(self) -> Image:
        """A static picture of the current figure (stored in the notebook)."""
        return Image(self.png())


def _slider(description: str, value: float, low: float, high: float, step: float,
            *, log: bool = False) -> widgets.ValueWidget:
    style = {"description_width": "initial"}
    layout = widgets.Layout(width="320px")
    if log:
        return widgets.FloatLogSlider(value=value, base=10, min=low, max=high, step=step,
                                      description=description, style=style, layout=layout,
                                      continuous_update=True)
    return widgets.FloatSlider(value=value, min=low, max=high, step=step,
                               description=description, style=style, layout=layout,
                               continuous_update=True, readout_format=".2f")


def gradient_descent_explorer(*, steps: int = 60, x0=(-2.5, 2.0), angle: float = 30.0,
                              lr: float = 1.0, kappa: float = 10.0) -> Explorer:
    """Lesson 00: gradient descent on a quadratic bowl with ``L = 1``.

    Sliders: the learning rate (in units of ``1/L``) and the condition
    number ``kappa``. Left, the contours and the path; right, the loss
    against the step with the slope ``((kappa-1)/(kappa+1))^(2t)`` that the
    best fixed step would achieve.
    """
    x0 = np.asarray(x0, dtype=np.float64)
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
        "lr": _slider("learning rate × L", lr, 0.05, 2.2, 0.01),
        "kappa": _slider("condition number κ", kappa, 0, 3, 0.05, log=True),
    }
    return Explorer(figure, controls, draw)


# --- lesson 01: feature scaling ----------------------------------------------


def _gradient_descent_path(problem, lr: float, steps: int) -> np.ndarray:
    """Full-batch gradient descent from ``w = 0`` on a ``LeastSquares`` problem.

    Returns the ``(steps + 1, d)`` path; rows after an overflow are NaN.
    """
    params = {"w": np.zeros(problem.n_params)}
    path = np.full((steps + 1, problem.n_params), np.nan)
    path[0] = params["w"]
    optimizer = SGD(lr)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            optimizer.step(params, {"w": problem.grad(params["w"])})
            if not np.isfinite(params["w"]).all():
                break
            path[t] = params["w"]
    return path


def feature_scaling_setups(features=("color_intensity", "proline"), target: str = "alcohol"):
    """The three versions of the explorer's problem, by scaler name.

    Predict the Wine column ``target`` from the two ``features`` with
    ``x^T w + b``, the features raw, mean-normalized or z-scored (scalers
    fitted on all 178 wines). For each version, ``full`` is the 3-parameter
    ``LeastSquares`` that gradient descent runs on, and ``plane`` the
    2-parameter slice through it at the best bias ``b*`` (the loss over the
    two weights), whose contours the explorer draws.
    """
    from course_lib.data import load_wine
    from course_lib.problems import LeastSquares
    from course_lib.scaling import MeanNormalizer, ZScoreScaler

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
    from matplotlib.ticker import MaxNLocator, NullLocator

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
            path = _gradient_descent_path(full, lr / full.L, steps)
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
        "lr": _slider("learning rate × L", lr, 0.05, 2.2, 0.01),
    }
    return Explorer(figure, controls, draw)


def _momentum_rate(lr: float, beta: float, curvatures, *, nesterov: bool = False) -> float:
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
    from ipywidgets import Checkbox, Layout

    from course_lib.optimizers import Momentum

    x0 = np.asarray(x0, dtype=np.float64)
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
        rate = _momentum_rate(lr, beta, (problem.L, problem.mu), nesterov=nesterov)
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
        "beta": _slider("β", beta, 0.0, 0.99, 0.01),
        "lr": _slider("learning rate × L", lr, -1, 2, 0.02, log=True),
        "nesterov": Checkbox(value=False, description="Nesterov", indent=False,
                             layout=Layout(width="110px")),
    }
    return Explorer(figure, controls, draw)


def _rmsprop_setups() -> dict:
    """Lesson 03's explorer problems: (problem, start, window, gradient-descent lr, steps, ylim)."""
    from course_lib.problems import Rosenbrock

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
    from course_lib.optimizers import RMSProp

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
        "lr": _slider("learning rate", lr, -3, 0, 0.05, log=True),
        "beta": _slider("β", beta, 0.0, 0.999, 0.001),
        "eps": _slider("ε", eps, -10, 0, 0.5, log=True),
    }
    controls["beta"].readout_format = ".3f"
    controls["problem"].layout.width = "300px"
    explorer = Explorer(figure, controls, draw)
    explorer.children[0].layout.flex_flow = "row wrap"  # four controls: let them wrap
    return explorer


# --- lesson 06: learning-rate decay -------------------------------------------------------

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
    from course_lib import schedules

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
    (``run_sgd``), and, for comparison, the expected loss at the constant rate ``lr0`` with its
    noise floor ``lr0·σ²/(2(2 − lr0·L))``. The dashed black line is the ``1/t`` decay
    ``η_t = 1/(L(t+1))``, whose expected loss is exactly ``σ²/(2Lt)``. Both axes are fixed, so
    a redraw only redraws the lines (blitting).
    """
    from ipywidgets import IntSlider, Layout
    from matplotlib.ticker import NullLocator

    from course_lib.problems import NoisyQuadratic

    if schedule not in LR_SCHEDULE_NAMES:
        raise ValueError(f"schedule must be one of {list(LR_SCHEDULE_NAMES)}, got {schedule!r}")
    problem = NoisyQuadratic(L=L, sigma=sigma)
    figure, (ax_lr, ax_loss) = plots.new_figure(2, width=4.4, height=3.5)
    t = np.arange(steps)
    t_loss = np.arange(steps + 1)
    start_loss = problem.loss(x0)
    artists: dict = {}

    def knob(description, value, low, high, step):
        return IntSlider(value=value, min=low, max=high, step=step, description=description,
                         style={"description_width": "initial"}, layout=Layout(width="320px"),
                         continuous_update=True)

    controls = {
        "schedule": widgets.Dropdown(options=list(LR_SCHEDULE_NAMES), value=schedule,
                                     description="schedule", layout=Layout(width="300px")),
        "lr0": _slider("lr0 × L", lr0, -2, 0.25, 0.05, log=True),
        "warmup": knob("warm-up steps", 0, 0, 100, 5),
        "decay_rate": _slider("decay_rate", 0.02, -3, 0, 0.1, log=True),
        "interval": knob("interval (steps)", 50, 5, 150, 5),
        "gamma": _slider("gamma (per step)", 0.99, 0.95, 1.0, 0.001),
        "factor": _slider("factor", 0.3, 0.05, 0.9, 0.05),
        "t_max": knob("t_max", steps, 20, steps, 10),
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
        simulated = problem.loss(problem.run_sgd(lr_at, x0, steps, chains=chains,
                                                 seed=seed)).mean(axis=1)
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


# --- lesson 04: Adam --------------------------------------------------------


def _optimizer_path(optimizer, problem, x0, steps: int) -> np.ndarray:
    """The path of ``run_optimizer(optimizer, problem, x0, steps)``, several times faster.

    The first step goes through ``optimizer.step``, which checks the inputs and creates the
    optimizer's state; the later steps call the optimizer's update of that one parameter
    directly, without the checks, which on a 2-vector cost about three times the update
    itself (here the inputs are known to be valid: one float64 array of shape ``(2,)``).
    Rows after the path leaves the finite plane are NaN, as in ``run_optimizer``; the
    numbers are the same (``tests/test_adam.py`` checks it).
    """
    import math

    params = {"x": np.array(x0, dtype=np.float64)}
    path = np.full((steps + 1, 2), np.nan)
    path[0] = params["x"]
    with np.errstate(over="ignore", invalid="ignore"):
        g = problem.grad(params["x"])
        if steps == 0 or not np.isfinite(g).all():
            return path
        optimizer.step(params, {"x": g})
        w, state, scratch = params["x"], optimizer.state["x"], optimizer._scratch["x"]
        path[1] = w
        update, grad = optimizer._update, problem.grad
        for t in range(2, steps + 1):
            if not math.isfinite(w[0] + w[1]):  # NaN if either is NaN or infinite
                break
            update(w, grad(w), state, scratch)
            path[t] = w
    finite = np.isfinite(path).all(axis=1)
    if not finite.all():
        path[np.argmin(finite):] = np.nan  # from the first non-finite row on
    return path


def _adam_setups() -> dict:
    """Lesson 04's explorer problems, by name.

    Each is ``(problem, start, (xlim, ylim), steps, loss limits, fixed learning rates)``; the
    fixed learning rates are those of gradient descent, momentum and Nesterov, which have no
    slider (Adam's and RMSProp's learning rates do): on Rosenbrock the largest round values
    at which the three converge from the start, on the bowl gradient descent's best fixed
    step ``2/(L + mu)`` and momentum's tuned ``sqrt(kappa)/L`` (lessons 00 and 02).
    """
    from course_lib.problems import Rosenbrock

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
    from ipywidgets import Checkbox, Layout
    from matplotlib.ticker import LogLocator, NullLocator

    from course_lib.optimizers import Adam, Momentum, RMSProp

    setups = _adam_setups()
    if problem not in setups:
        raise ValueError(f"problem must be one of {sorted(setups)}, got {problem!r}")
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
                paths[key] = _optimizer_path(optimizer, objective, x0, steps)
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
        "lr": _slider("η (Adam, RMSProp)", lr, -3, 0, 0.05, log=True),
        "beta1": _slider("β1 (Adam, momentum)", beta1, 0.0, 0.99, 0.01),
        "beta2": _slider("β2 (Adam, RMSProp)", beta2, 0.9, 0.9999, 0.0001),
        "bias_correction": Checkbox(value=bias_correction, description="bias correction",
                                    indent=False, layout=Layout(width="140px")),
    }
    controls["beta2"].readout_format = ".4f"
    for name in ("lr", "beta1", "beta2"):
        controls[name].layout.width = "360px"  # room for the track beside the long labels
    explorer = Explorer(figure, controls, draw)
    explorer.children[0].layout.flex_flow = "row wrap"  # five controls: let them wrap
    return explorer


# --- lesson 05: mini-batches --------------------------------------------------


def _smoothed(values: np.ndarray, span: float) -> np.ndarray:
    """Bias-corrected exponential moving average of ``values`` over about ``span`` steps.

    With ``beta = 1 - 1/span`` (``span >= 1``; ``span = 1`` leaves the values as they are)::

        m_t = beta·m_(t−1) + (1 − beta)·x_t,   m_(−1) = 0,   smoothed_t = m_t / (1 − beta^(t+1))

    the moving average of lesson 02 divided by the total weight so far (Adam's bias correction,
    lesson 04), so the start is not pulled towards zero. A NaN (a diverged run) makes the rest
    NaN.
    """
    values = np.asarray(values, dtype=np.float64)
    beta = 1.0 - 1.0 / max(float(span), 1.0)
    out = np.empty_like(values)
    m = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for t, x in enumerate(values):
            m = beta * m + (1 - beta) * x
            out[t] = m
        return out / (1 - beta ** np.arange(1, values.size + 1))


def mini_batch_runs(batch_sizes=(4, 16, 64, 256, 1024), lrs=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
                    *, epochs: int = 3, seed: int = 0) -> dict:
    """The explorer's default grid: softmax regression on 1024 digits, trained with SGD.

    One ``fit`` per batch size and learning rate, all from the same initial weights (``seed``)
    and with the same shuffling: a single ``Dense(64, 10)`` layer on the z-scored pixels of
    1024 of the shipped 8x8 digits (chosen at random with ``seed``), the mean cross-entropy
    loss and ``SGD(lr)`` for ``epochs`` epochs. Returns ``{(batch_size, lr): History}``, the
    input of ``mini_batch_explorer``. About 6000 steps in all for the defaults (the batch
    size 4 takes three quarters of them); a linear model keeps each step cheap.
    """
    from course_lib.data import load_digits
    from course_lib.layers import Dense
    from course_lib.losses import softmax_cross_entropy
    from course_lib.scaling import ZScoreScaler
    from course_lib.training import fit

    digits = load_digits()
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(digits.X))[:1024]
    X = ZScoreScaler().fit_transform(digits.X[rows])
    y = digits.y[rows]
    runs = {}
    for batch_size in batch_sizes:
        for lr in lrs:
            model = Dense(X.shape[1], 10, rng=np.random.default_rng(seed))
            runs[int(batch_size), float(lr)] = fit(
                model, softmax_cross_entropy, SGD(lr), X, y, epochs=epochs,
                batch_size=batch_size, seed=seed, track_grad_norms=False)
    return runs


def _check_runs(runs: object) -> tuple[list[int], list[float]]:
    """The sorted batch sizes and learning rates of a full grid of histories."""
    if not isinstance(runs, dict) or not runs:
        raise TypeError("runs must be a non-empty dict {(batch_size, lr): History} "
                        "(see mini_batch_runs)")
    for key, history in runs.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"runs keys must be pairs (batch_size, lr), got {key!r}")
        if getattr(history, "train_loss", None) is None or not hasattr(history, "step_loss"):
            raise ValueError(f"runs[{key!r}] must be a History recorded with evaluate=True")
    batch_sizes = sorted({key[0] for key in runs})
    lrs = sorted({key[1] for key in runs})
    missing = [(b, lr) for b in batch_sizes for lr in lrs if (b, lr) not in runs]
    if missing:
        raise ValueError(f"runs must hold every (batch_size, lr) of the grid; missing {missing}")
    if len({runs[key].epochs for key in runs}) != 1:
        raise ValueError("every run must last the same number of epochs")
    return batch_sizes, lrs


def _diverged(history) -> bool:
    """The run blew up (NaN) or ended with a training loss no lower than where it started."""
    start, end = history.train_loss[0], history.train_loss[-1]
    return bool(history.diverged or not end < start)


def mini_batch_explorer(runs: dict | None = None, *, batch_size: int | None = None,
                        lr: float | None = None, smoothing: float = 0.25) -> Explorer:
    """Lesson 05: the training loss of mini-batch SGD, step by step, for a grid of runs.

    ``runs`` maps ``(batch_size, lr)`` to the ``History`` of a ``fit`` (evaluated every epoch)
    with that batch size and learning rate, for every combination of the batch sizes and
    learning rates: the same model, data and number of epochs throughout. By default the
    runs of ``mini_batch_runs()`` are trained when the explorer is built; moving a control
    then only redraws from these stored runs, nothing is trained.

    Controls: the smoothing window (in epochs), the batch size and the learning rate (each
    a slider over the values of the grid). Left, against the epoch (the number of examples
    seen divided by the training-set size, the same compute for every batch size): the loss
    of each mini-batch, the step it was used for (thin, noisy), its moving average over the
    smoothing window (``_smoothed``) and the loss on the whole training set after each epoch
    (dots). Right, the final training loss of every run of the grid on a log colour scale,
    with the current run framed; a run that diverged (``_diverged``) is blank.
    """
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    runs = mini_batch_runs() if runs is None else runs
    batch_sizes, lrs = _check_runs(runs)
    batch_size = batch_sizes[0] if batch_size is None else batch_size
    lr = lrs[len(lrs) // 2] if lr is None else lr
    if (batch_size, lr) not in runs:
        raise ValueError(f"batch_size and lr must be in the grid: batch sizes {batch_sizes}, "
                         f"learning rates {lrs}; got {batch_size}, {lr}")
    epochs = next(iter(runs.values())).epochs

    figure, (ax_loss, ax_grid) = plots.new_figure(2, width=4.4, height=3.6)
    with np.errstate(invalid="ignore"):
        finals = np.array([[runs[b, r].train_loss[-1] for r in lrs] for b in batch_sizes])
        failed = np.array([[_diverged(runs[b, r]) for r in lrs] for b in batch_sizes])
        finals[failed] = np.nan  # left blank
        every_loss = np.concatenate([h.step_loss for h in runs.values()]
                                    + [h.train_loss for h in runs.values()])
    finite = every_loss[np.isfinite(every_loss) & (every_loss > 0)]
    low = max(float(finite.min()) / 2, 1e-4)
    high = min(float(np.quantile(finite, 0.99)) * 3, 1e3)  # a diverging run leaves the top

    image = ax_grid.imshow(finals, cmap="viridis_r", norm=LogNorm(np.nanmin(finals),
                                                                  np.nanmax(finals)),
                           origin="lower", aspect="auto")
    shade = image.norm(finals)  # 0 (yellow) .. 1 (dark): white text on the dark half
    for i in range(len(batch_sizes)):
        for j in range(len(lrs)):
            text = "div." if np.isnan(finals[i, j]) else f"{finals[i, j]:.2g}"
            color = "w" if shade[i, j] > 0.5 else "k"
            ax_grid.text(j, i, text, ha="center", va="center", fontsize=7, color=color)
    ax_grid.set_xticks(range(len(lrs)), [f"{r:g}" for r in lrs], fontsize=8)
    ax_grid.set_yticks(range(len(batch_sizes)), [str(b) for b in batch_sizes], fontsize=8)
    ax_grid.set_xlabel("learning rate")
    ax_grid.set_ylabel("batch size")
    ax_grid.set_title(f"training loss after {epochs} epochs", fontsize=10)
    figure.colorbar(image, ax=ax_grid, shrink=0.8)
    frame = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="C3", linewidth=2.5)
    ax_grid.add_patch(frame)

    (raw,) = ax_loss.plot([], [], color="C0", alpha=0.35, linewidth=0.7,
                          label="mini-batch loss, each step")
    (smooth,) = ax_loss.plot([], [], color="C0", linewidth=2.0, label="moving average")
    (per_epoch,) = ax_loss.plot([], [], "ko-", markersize=3.5, linewidth=1.0,
                                label="training-set loss, each epoch")
    ax_loss.set_yscale("log")
    ax_loss.set_xlim(0, epochs)
    ax_loss.set_ylim(low, high)
    ax_loss.set_xlabel("epoch (examples seen / training-set size)")
    ax_loss.set_ylabel("loss")
    ax_loss.legend(loc="upper right", fontsize=8)
    drawn: dict = {}

    def draw(smoothing: float, batch_size: int, lr: float):
        history = runs[batch_size, lr]
        steps_per_epoch = history.steps_per_epoch
        t = np.arange(history.step_loss.size)
        raw.set_data(t / steps_per_epoch, history.step_loss)
        smooth.set_data(t / steps_per_epoch,
                        _smoothed(history.step_loss, smoothing * steps_per_epoch))
        per_epoch.set_data(np.arange(history.train_loss.size), history.train_loss)
        frame.set_xy((lrs.index(lr) - 0.5, batch_sizes.index(batch_size) - 0.5))
        verdict = ", diverged" if _diverged(history) else ""
        title = ax_loss.set_title(f"B = {batch_size}, lr = {lr:g}: {steps_per_epoch} steps per "
                                  f"epoch, lr/B = {lr / batch_size:.1e}{verdict}", fontsize=9)
        first = not drawn
        drawn["once"] = True
        return None if first else [raw, smooth, per_epoch, frame, title]

    style = {"description_width": "initial"}
    layout = widgets.Layout(width="300px")
    controls = {
        "smoothing": widgets.FloatSlider(value=smoothing, min=0.0, max=2.0, step=0.05,
                                         description="smoothing (epochs)", style=style,
                                         layout=layout, readout_format=".2f"),
        "batch_size": widgets.SelectionSlider(options=[(str(b), b) for b in batch_sizes],
                                              value=batch_size, description="batch size",
                                              style=style, layout=layout),
        "lr": widgets.SelectionSlider(options=[(f"{r:g}", r) for r in lrs], value=lr,
                                      description="learning rate", style=style, layout=layout),
    }
    explorer = Explorer(figure, controls, draw)
    explorer.children[0].layout.flex_flow = "row wrap"
    return explorer


# --- lesson 07: batch normalization ---------------------------------------------------------


def batch_norm_runs(depths=(2, 4, 6, 8, 10), lrs=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0), *,
                    n_samples: int = 384, width: int = 24, epochs: int = 3,
                    batch_size: int = 32, seed: int = 0) -> dict:
    """The explorer's default grid: plain and batch-norm MLPs on the digits, trained with SGD.

    ``n_samples`` of the shipped 8x8 digits (chosen at random with ``seed``), z-scored, in
    float32; for every depth (weight layers) and learning rate, a ``batchnorm_nets.bn_mlp`` of
    that depth and ``width`` with and without batch norm, both from the weights of ``seed``,
    trained for ``epochs`` epochs of ``batch_size`` rows with ``SGD(lr)``
    (``batchnorm_nets.depth_lr_runs``). Returns ``{(depth, lr, batch_norm): BNRun}``, the input
    of ``batch_norm_explorer``. Small widths, few epochs and float32 keep the 60 runs of the
    defaults to about a second.
    """
    from course_lib.batchnorm_nets import depth_lr_runs
    from course_lib.data import load_digits
    from course_lib.scaling import ZScoreScaler

    digits = load_digits()
    rows = np.random.default_rng(seed).permutation(len(digits.X))[:n_samples]
    X = ZScoreScaler().fit_transform(digits.X[rows]).astype(np.float32)
    return depth_lr_runs(X, digits.y[rows], depths, lrs, width=width, epochs=epochs,
                         batch_size=batch_size, seed=seed)


def batch_norm_explorer(runs: dict | None = None, *, depth: int | None = None,
                        lr: float | None = None, batch_norm: bool = True) -> Explorer:
    """Lesson 07: a deep MLP with and without batch norm, by depth and learning rate.

    ``runs`` maps ``(depth, lr, batch_norm)`` to a ``batchnorm_nets.BNRun`` for every
    combination of the grid (default: ``batch_norm_runs()``, trained when the explorer is
    built; moving a control only redraws from these stored runs).

    Controls: the depth (weight layers), the learning rate and batch norm on or off. Left,
    one row per hidden layer (layer 1 at the bottom): the histogram of the values entering its
    ReLU after training, each row scaled to the same height (bins under 1 % of the row's peak
    left blank), on a fixed range ``[-4, 4]``: a
    plain network's rows narrow or widen with depth, a batch-norm network's stay alike.
    Right, the mini-batch loss at every step of both networks at this depth and learning rate,
    the chosen one bold. Both axes are fixed, so a redraw only redraws the changed artists
    (blitting).
    """
    from ipywidgets import Checkbox, Layout
    from matplotlib.ticker import NullLocator

    if not isinstance(runs, dict) and runs is not None:
        raise TypeError("runs must be a dict {(depth, lr, batch_norm): BNRun} "
                        "(see batch_norm_runs)")
    runs = batch_norm_runs() if runs is None else runs
    depths = sorted({key[0] for key in runs})
    lrs = sorted({key[1] for key in runs})
    missing = [(d, r, b) for d in depths for r in lrs for b in (False, True)
               if (d, r, b) not in runs]
    if missing:
        raise ValueError(f"runs must hold every (depth, lr, batch_norm) of the grid; "
                         f"missing {missing[:3]}")
    depth = depths[-1] if depth is None else depth
    lr = lrs[len(lrs) // 2] if lr is None else lr
    if depth not in depths or lr not in lrs:
        raise ValueError(f"depth and lr must be in the grid: depths {depths}, learning rates "
                         f"{lrs}; got {depth}, {lr}")
    rows = max(depths) - 1
    bins = next(iter(runs.values())).histograms.shape[1]
    edges = np.linspace(-4.0, 4.0, bins + 1)
    steps = max(run.step_loss.size for run in runs.values())
    colors = {False: "C3", True: "C0"}

    figure, (ax_hist, ax_loss) = plots.new_figure(2, width=4.4, height=3.8)
    ridges = [ax_hist.stairs(np.full(bins, float(k)), edges, baseline=k, fill=True,
                             alpha=0.75, color="C0", linewidth=0) for k in range(rows)]
    ax_hist.axvline(0.0, color="0.6", linewidth=0.8, zorder=0)
    ax_hist.set_xlim(edges[0], edges[-1])
    ax_hist.set_ylim(-0.1, rows + 0.1)
    ax_hist.set_yticks(np.arange(rows) + 0.4, [str(k + 1) for k in range(rows)], fontsize=8)
    ax_hist.set_xlabel("value entering the ReLU (after training)")
    ax_hist.set_ylabel("hidden layer")
    lines = {}
    for batch_norm_on in (False, True):
        label = "batch norm" if batch_norm_on else "plain"
        (lines[batch_norm_on],) = ax_loss.plot(np.arange(steps), np.full(steps, np.nan),
                                               color=colors[batch_norm_on], label=label)
    ax_loss.set_yscale("log")
    ax_loss.set_xlim(0, steps - 1)
    ax_loss.set_ylim(0.05, 20)
    ax_loss.yaxis.set_minor_locator(NullLocator())
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("mini-batch loss")
    ax_loss.legend(loc="lower left", fontsize=8)
    drawn: dict = {}

    def verdict(run) -> str:
        return "diverged" if run.diverged else f"{run.final_loss:.2f}"

    def draw(depth: int, lr: float, batch_norm: bool):
        run = runs[depth, lr, batch_norm]
        for k, ridge in enumerate(ridges):
            shown = k < depth - 1
            ridge.set_visible(shown)
            if shown:
                heights = run.histograms[k]
                top = heights.max()
                # every row scaled to the same height, so the width shows the spread; bins
                # under 1 % of the peak are left blank (a hairline along the whole row else)
                row = np.where(heights >= 0.01 * top, 0.85 * heights / max(top, 1e-300), 0.0)
                ridge.set_data(k + row, edges, k)
                ridge.set_color(colors[batch_norm])
        for batch_norm_on, line in lines.items():
            losses = runs[depth, lr, batch_norm_on].step_loss
            line.set_data(np.arange(losses.size), losses)
            line.set_linewidth(2.2 if batch_norm_on == batch_norm else 0.9)
            line.set_alpha(1.0 if batch_norm_on == batch_norm else 0.5)
        name = "batch norm" if batch_norm else "plain"
        if run.diverged or depth == 1:
            spread = "diverged" if run.diverged else "no hidden layer"
        else:
            spread = f"std per layer {np.min(run.stds):.2f} to {np.max(run.stds):.2f}"
        hist_title = ax_hist.set_title(f"{name}, {depth} layers, lr {lr:g}: {spread}",
                                       fontsize=9)
        loss_title = ax_loss.set_title(
            f"final training loss: batch norm {verdict(runs[depth, lr, True])}, plain "
            f"{verdict(runs[depth, lr, False])}", fontsize=9)
        first = not drawn
        drawn["once"] = True
        return None if first else [*ridges, *lines.values(), hist_title, loss_title]

    style = {"description_width": "initial"}
    layout = Layout(width="300px")
    controls = {
        "depth": widgets.SelectionSlider(options=[(str(d), d) for d in depths], value=depth,
                                         description="depth (layers)", style=style,
                                         layout=layout),
        "lr": widgets.SelectionSlider(options=[(f"{r:g}", r) for r in lrs], value=lr,
                                      description="learning rate", style=style, layout=layout),
        "batch_norm": Checkbox(value=batch_norm, description="batch norm", indent=False,
                               layout=Layout(width="120px")),
    }
    explorer = Explorer(figure, controls, draw)
    explorer.children[0].layout.flex_flow = "row wrap"
    return explorer


# --- lesson 09: putting it together -----------------------------------------------------------


def _recipe_label(used: frozenset, techniques: tuple) -> str:
    """``"full recipe"``, ``"baseline (none)"`` or ``"without Adam, batch norm"``."""
    missing = [name for name in techniques if name not in used]
    if not missing:
        return "full recipe"
    if len(missing) == len(techniques):
        return "baseline (none)"
    return "without " + ", ".join(missing)


def _check_recipe_runs(runs: object, techniques: tuple) -> dict:
    """``runs`` as ``{frozenset(used techniques): [History, ...]}``, checked."""
    if not isinstance(runs, dict) or not runs:
        raise TypeError("runs must be a non-empty dict {frozenset of used techniques: "
                        "list of History (one per seed)}")
    checked, epochs = {}, set()
    for key, histories in runs.items():
        used = frozenset(key)
        unknown = sorted(used - set(techniques))
        if unknown:
            raise ValueError(f"runs key {sorted(used)} names techniques {unknown} that are not "
                             f"among techniques {list(techniques)}")
        histories = list(histories) if isinstance(histories, list | tuple) else [histories]
        for history in histories:
            if getattr(history, "val_accuracy", None) is None:
                raise ValueError(f"runs[{sorted(used)}] must hold Histories recorded with a "
                                 "validation set of class labels (fit(..., validation=...))")
            epochs.add(history.epochs)
        if not histories:
            raise ValueError(f"runs[{sorted(used)}] holds no History")
        checked[used] = histories
    if len(epochs) != 1:
        raise ValueError(f"every run must last the same number of epochs, got {sorted(epochs)}")
    return checked


def recipe_explorer(runs: dict, techniques, *, run=None, target: float = 0.95,
                    used=None) -> Explorer:
    """Lesson 09: switch the techniques of the recipe on and off, see the seed-averaged curves.

    ``runs`` maps the set of techniques used (a ``frozenset`` of names from ``techniques``)
    to the ``History`` of every seed of that configuration, e.g. the ablation's runs: the full
    recipe, each leave-one-out configuration and the baseline. All must last the same number
    of epochs and have a validation set. Moving a checkbox only redraws from these runs.
    ``run``, if given, is called as ``run(used)`` (``used`` a frozenset) for a combination
    that is not in ``runs`` and returns its list of histories, which are then kept; without
    it such a combination is shown as "not run".

    One checkbox per technique (checked = used), named after the technique with every
    character that cannot be in a Python name replaced by ``_``, so
    ``explorer.set(batch_norm=False)`` unticks "batch norm". Left, the validation accuracy
    against the epoch; right, the training loss (log axis). Each shows the mean over seeds of
    the chosen configuration with a band of ± one standard deviation
    (``plots.mean_and_band``), next to the full recipe (black, dashed) and the baseline without
    any technique (grey, dotted) when those are in ``runs``; the red line marks ``target``.
    The left title names what is left out; the right title gives the final validation
    accuracy (mean ± std over seeds) and the mean epochs to reach ``target`` over the seeds
    that reached it. The axes are fixed, so a redraw blits.
    """
    import re

    from ipywidgets import Checkbox, Layout
    from matplotlib.ticker import NullLocator

    from course_lib.validation import check_real

    techniques = tuple(techniques)
    if not techniques or not all(isinstance(t, str) for t in techniques) or \
            len(set(techniques)) != len(techniques):
        raise ValueError(f"techniques must be different names (strings), got {techniques!r}")
    cache = _check_recipe_runs(runs, techniques)
    target = check_real("target", target)
    if run is not None and not callable(run):
        raise TypeError(f"run must be a function run(used) -> list of History, or None, "
                        f"got {type(run).__name__}")
    used = frozenset(techniques) if used is None else frozenset(used)
    if not used <= set(techniques):
        raise ValueError(f"used must name techniques among {list(techniques)}, "
                         f"got {sorted(used)}")
    # the control of a technique is named after it: "batch norm" -> explorer.set(batch_norm=...)
    keys = {name: re.sub(r"\W", "_", name) for name in techniques}
    if len(set(keys.values())) != len(keys):
        raise ValueError(f"techniques must stay different with spaces and signs replaced by "
                         f"_, got {list(keys.values())}")
    epochs = next(iter(cache.values()))[0].epochs
    x = np.arange(epochs + 1)

    def curves(histories, metric):
        return np.vstack([getattr(h, metric) for h in histories])

    every_loss = np.concatenate([curves(hs, "train_loss").ravel() for hs in cache.values()])
    every_loss = every_loss[np.isfinite(every_loss) & (every_loss > 0)]
    loss_lim = (float(every_loss.min()) / 2, float(every_loss.max()) * 2)

    figure, (ax_acc, ax_loss) = plots.new_figure(2, width=4.4, height=3.6)
    references = {"full recipe": (frozenset(techniques), "k", "--"),
                  "baseline (none)": (frozenset(), "0.5", ":")}
    for label, (key, color, style) in references.items():
        if key in cache:
            for ax, metric in ((ax_acc, "val_accuracy"), (ax_loss, "train_loss")):
                mean = plots.mean_and_band(curves(cache[key], metric))[0]
                ax.plot(x, mean, color=color, linestyle=style, linewidth=1.2, label=label)
    artists = {}
    for ax, metric in ((ax_acc, "val_accuracy"), (ax_loss, "train_loss")):
        (line,) = ax.plot(x, np.full(x.size, np.nan), color="C0", linewidth=2,
                          label="chosen")
        band = ax.fill_between(x, np.full(x.size, np.nan), np.full(x.size, np.nan),
                               color="C0", alpha=0.25, linewidth=0)
        artists[metric] = (line, band)
    ax_acc.axhline(target, color="C3", linewidth=0.8, label=f"target {target:g}")
    ax_acc.set_xlim(0, epochs)
    ax_acc.set_ylim(0, 1)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("validation accuracy")
    ax_acc.legend(loc="lower right", fontsize=8)
    ax_loss.set_yscale("log")
    ax_loss.set_xlim(0, epochs)
    ax_loss.set_ylim(*loss_lim)
    ax_loss.yaxis.set_minor_locator(NullLocator())
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss")
    drawn: dict = {}

    def draw(**switches):
        chosen = frozenset(name for name in techniques if switches[keys[name]])
        if chosen not in cache and run is not None:
            cache[chosen] = list(run(chosen))
        histories = cache.get(chosen)
        for metric, (line, band) in artists.items():
            if histories is None:
                mean = low = high = np.full(x.size, np.nan)
            else:
                mean, low, high = plots.mean_and_band(curves(histories, metric))
            line.set_ydata(mean)
            band.set_data(x, low, high)
        if histories is None:
            text = "not run" + ("" if run else " (pass run=... to train it)")
        else:
            final = np.array([h.val_accuracy[-1] for h in histories])
            spread = np.std(final, ddof=1) if final.size > 1 else 0.0
            reached = [h.epochs_to("val_accuracy", target) for h in histories]
            hits = [e for e in reached if np.isfinite(e)]
            text = f"final {np.mean(final):.3f} ± {spread:.3f}; "
            text += (f"≥ {target:g} after {np.mean(hits):.1f} epochs ({len(hits)}/"
                     f"{len(reached)} seeds)" if hits else f"never ≥ {target:g}")
        title = ax_acc.set_title(_recipe_label(chosen, techniques), fontsize=9)
        stats = ax_loss.set_title(text, fontsize=9)
        first = not drawn
        drawn["once"] = True
        changed = [title, stats]
        for line, band in artists.values():
            changed += [line, band]
        return None if first else changed

    controls = {keys[name]: Checkbox(value=name in used, description=name, indent=False,
                                     layout=Layout(width="110px")) for name in techniques}
    explorer = Explorer(figure, controls, draw)
    explorer.children[0].layout.flex_flow = "row wrap"
    return explorer


# --- lesson 08: residual layers ----------------------------------------------

RESIDUAL_INITS = {"std 0.1": 0.1, "He": "he"}


def residual_runs(*, depths=(2, 4, 8, 16, 32), inits: dict | None = None, width: int = 32,
                  n_samples: int = 256, epochs: int = 3, batch_size: int = 32,
                  lr: float = 0.3, seed: int = 0, dtype=np.float32) -> dict:
    """Train a plain and a residual ``deep_mlp`` for every depth and init (lesson 08).

    Data: ``n_samples`` z-scored 8x8 digits drawn with ``seed``. Each network is trained with
    ``Momentum(lr, beta=0.9)`` for ``epochs`` epochs of mini-batches (``fit``, no evaluation
    passes: cheap). ``inits`` maps a label to a ``Dense`` init (default ``RESIDUAL_INITS``: a
    fixed standard deviation of 0.1, and He).

    Returns ``{(init_label, kind, depth): run}`` with ``kind`` in ``("plain", "residual")``
    and ``run`` a dict holding

    - ``"norms"``: ``(epochs + 1, depth + 2)`` gradient norms ``‖∂L/∂W‖`` of every weight
      matrix (input projection first, head last); row 0 at initialisation (one backward pass
      over the whole sample), row ``k`` the mean over the steps of epoch ``k``;
    - ``"step_loss"``: the mini-batch losses, ``History.step_loss``;
    - ``"history"``: the ``History``.
    """
    from course_lib.architectures import deep_mlp, hidden_weight_names
    from course_lib.data import load_digits
    from course_lib.losses import softmax_cross_entropy
    from course_lib.optimizers import Momentum
    from course_lib.probes import gradient_norms
    from course_lib.scaling import ZScoreScaler
    from course_lib.training import fit

    inits = dict(RESIDUAL_INITS if inits is None else inits)
    digits = load_digits()
    rows = np.random.default_rng(seed).permutation(len(digits.y))[:n_samples]
    X = ZScoreScaler().fit_transform(digits.X)[rows].astype(dtype)
    y = digits.y[rows]
    runs = {}
    for label, init in inits.items():
        for kind in ("plain", "residual"):
            for depth in depths:
                model = deep_mlp(depth, residual=kind == "residual", width=width, init=init,
                                 rng=seed, dtype=dtype)
                names = hidden_weight_names(model)
                with np.errstate(all="ignore"):  # He-initialised deep residual nets overflow
                    model.backward(softmax_cross_entropy(model.forward(X), y)[1])
                at_init = gradient_norms(model)
                history = fit(model, softmax_cross_entropy, Momentum(lr, beta=0.9), X, y,
                              epochs=epochs, batch_size=batch_size, seed=seed, evaluate=False)
                norms = np.array([[at_init[name] for name in names]]
                                 + [[history.grad_norm[name][k] for name in names]
                                    for k in range(1, epochs + 1)])
                runs[(label, kind, depth)] = {"norms": norms, "step_loss": history.step_loss,
                                              "history": history}
    return runs


def residual_explorer(*, depth: int = 16, init: str = "std 0.1", epoch: int = 0,
                      runs: dict | None = None, **run_options) -> Explorer:
    """Lesson 08: per-layer gradient norms and training curves, plain against residual.

    Controls: the depth (number of hidden layers), the weight initialisation and the epoch.
    Left: the gradient norm ``‖∂L/∂W‖`` of every weight matrix, layer 0 the input projection
    and layer ``depth + 1`` the head, plain (red) next to residual (blue), at initialisation
    (epoch 0) or averaged over the steps of the chosen epoch. Right: the mini-batch training
    loss of both networks, with the chosen epoch marked.

    Everything is computed once, when the explorer is built (``residual_runs(**run_options)``,
    or pass its result as ``runs``); a redraw only moves bars and lines, over fixed axes.
    """
    if runs is None:
        runs = residual_runs(**run_options)
    depths = sorted({key[2] for key in runs})
    labels = list(dict.fromkeys(key[0] for key in runs))
    epochs = next(iter(runs.values()))["norms"].shape[0] - 1
    slots = max(depths) + 2
    empty = {str(i): np.nan for i in range(slots)}

    finite = np.concatenate([run["norms"][np.isfinite(run["norms"])] for run in runs.values()])
    finite = finite[finite > 0]
    low = max(float(finite.min()) / 5, 1e-30)
    high = min(float(finite.max()) * 5, 1e30)

    figure, (ax_bars, ax_loss) = plots.new_figure(2, width=4.6, height=3.7)
    bars = {
        kind: plots.grad_norm_bars(ax_bars, empty, label=kind, color=color, width=0.45,
                                   offset=offset)
        for kind, color, offset in (("plain", "C3", -0.225), ("residual", "C0", 0.225))
    }
    ticks = [0, *range(8, slots - 1, 8)]
    ax_bars.set_xticks(ticks, [str(t) for t in ticks], rotation=0, ha="center", fontsize=9)
    ax_bars.set_xlim(-0.8, slots - 0.2)
    ax_bars.set_ylim(low, high)
    ax_bars.set_xlabel("layer (0 = input projection, depth + 1 = head)")
    ax_bars.legend(loc="upper right", fontsize=8)

    steps = max(len(run["step_loss"]) for run in runs.values())
    t = np.arange(1, steps + 1) * epochs / steps  # in epochs: step t ends at (t + 1) / per_epoch
    lines = {kind: ax_loss.plot(t, np.full(steps, np.nan), color=color, label=kind)[0]
             for kind, color in (("plain", "C3"), ("residual", "C0"))}
    ax_loss.axhline(np.log(10), color="0.5", linestyle=":", linewidth=1)
    ax_loss.text(0.98 * epochs, np.log(10) - 0.04, "chance: ln 10", fontsize=8, ha="right",
                 va="top", color="0.4")
    marker = ax_loss.axvline(0, color="k", linewidth=0.8)
    ax_loss.set_xlim(0, epochs)
    ax_loss.set_ylim(0, 3)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("mini-batch training loss")
    ax_loss.set_title("training loss (diverged: the line stops)", fontsize=10)
    ax_loss.legend(loc="upper right", fontsize=8)
    drawn = {"first": True}

    def draw(depth: int, init: str, epoch: int):
        for kind in ("plain", "residual"):
            run = runs[(init, kind, depth)]
            heights = np.full(slots, np.nan)
            heights[: depth + 2] = run["norms"][epoch]
            for bar, height in zip(bars[kind], heights, strict=True):
                shown = bool(height > 0)  # 0 (underflow), NaN (diverged), unused: no bar
                bar.set_visible(shown)
                if shown:
                    bar.set_height(height)
            loss = np.full(steps, np.nan)
            loss[: len(run["step_loss"])] = run["step_loss"]
            lines[kind].set_ydata(np.where(np.isfinite(loss), loss, np.nan))
        marker.set_xdata([epoch, epoch])
        # one short title: drawing text is the slowest part of a redraw
        when = "at init" if epoch == 0 else f"epoch {epoch}"
        title = ax_bars.set_title(f"depth {depth}, {init}, {when}", fontsize=10)
        if drawn.pop("first", False):
            return None
        return [*bars["plain"], *bars["residual"], lines["plain"], lines["residual"], marker,
                title]

    if depth not in depths:
        raise ValueError(f"depth must be one of the computed depths {depths}, got {depth}")
    if init not in labels:
        raise ValueError(f"init must be one of {labels}, got {init!r}")
    controls = {
        "depth": widgets.SelectionSlider(options=depths, value=depth, description="depth",
                                         continuous_update=True),
        "init": widgets.Dropdown(options=labels, value=init, description="init"),
        "epoch": widgets.IntSlider(value=epoch, min=0, max=epochs, description="epoch",
                                   continuous_update=True),
    }
    return Explorer(figure, controls, draw)
