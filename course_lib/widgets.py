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

from course_lib import plots
from course_lib.optimizers import SGD
from course_lib.problems import Quadratic, run_optimizer


class Explorer(widgets.VBox):
    """Controls above an image of ``figure``, redrawn by ``draw(**values)``.

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
        self.image = widgets.Image(format="png")
        for control in controls.values():
            control.observe(self._on_change, names="value")
        super().__init__([widgets.HBox(list(controls.values())), self.image])
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
        self._draw(**self.values)
        self.image.value = self.png()
        self.redraw_ms.append(1000 * (time.perf_counter() - start))

    def png(self) -> bytes:
        """The figure as PNG bytes."""
        buffer = io.BytesIO()
        self._canvas.print_png(buffer, pil_kwargs={"compress_level": 1})
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

    def draw(lr: float, kappa: float) -> None:
        problem = Quadratic(kappa=kappa, L=1.0, angle=angle)
        path = run_optimizer(SGD(lr), problem, x0, steps)
        losses = problem.loss(path)
        if artists.get("kappa") != kappa:  # contours only change with kappa
            if "contours" in artists:
                artists["contours"].remove()
            artists["contours"] = plots.contours(ax_path, problem, lim, lim)
            artists["kappa"] = kappa
        bound = losses[0] * ((kappa - 1) / (kappa + 1)) ** (2 * t)
        if "path" not in artists:
            artists["path"] = plots.trajectory(ax_path, path, color="C0")
            artists["loss"] = plots.loss_curve(ax_loss, losses, label="gradient descent")
            (artists["bound"],) = ax_loss.plot(t, bound, "k--", linewidth=1,
                                               label="best fixed step")
            ax_loss.legend(loc="lower left", fontsize=8)
        artists["path"].set_data(path[:, 0], path[:, 1])
        artists["loss"].set_ydata(losses)
        artists["bound"].set_ydata(bound)
        plots.fit_log_axis(ax_loss, np.concatenate([losses, bound]))
        verdict = "diverges" if lr >= 2 else "converges"
        ax_path.set_title(f"η = {lr:.2f}/L, κ = {kappa:.0f}: {verdict}", fontsize=10)

    controls = {
        "lr": _slider("learning rate × L", lr, 0.05, 2.2, 0.01),
        "kappa": _slider("condition number κ", kappa, 0, 3, 0.05, log=True),
    }
    return Explorer(figure, controls, draw)
