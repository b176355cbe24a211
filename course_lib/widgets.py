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
        "Rosenbrock": (Rosenbrock(), (-1.5, 2.0), ((-2.2, 2.2), (-1.2, 3.2)), 600,
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
                artists["lines"][name].set(marker="", linewidth=width)  # 600 dots: too many
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
        "lr": _slider("learning rate (Adam, RMSProp)", lr, -3, 0, 0.05, log=True),
        "beta1": _slider("β1 (Adam, momentum)", beta1, 0.0, 0.99, 0.01),
        "beta2": _slider("β2 (Adam, RMSProp)", beta2, 0.9, 0.9999, 0.0001),
        "bias_correction": Checkbox(value=bias_correction, description="bias correction",
                                    indent=False, layout=Layout(width="140px")),
    }
    controls["beta2"].readout_format = ".4f"
    explorer = Explorer(figure, controls, draw)
    explorer.children[0].layout.flex_flow = "row wrap"  # five controls: let them wrap
    return explorer
