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
from numbers import Integral

import ipywidgets as widgets
import numpy as np
from IPython.display import Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from course_lib.validation import check_real


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
            self.render()
        else:
            self._render_moving(changed)
        self.image.value = self.png()
        self.redraw_ms.append(1000 * (time.perf_counter() - start))

    def render(self) -> None:
        """Render the whole figure afresh, as ``redraw`` does when anything may have moved."""
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
            self.render()
            return
        self._canvas.restore_region(self._background)
        for artist in self._moving:
            self.figure.draw_artist(artist)

    def png(self) -> bytes:
        """The figure as last rendered, as PNG bytes."""
        if self._background is None:
            self.render()
        picture = PILImage.fromarray(np.asarray(self._canvas.buffer_rgba()))
        buffer = io.BytesIO()
        picture.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def snapshot(self) -> Image:
        """A static picture of the current figure (stored in the notebook)."""
        return Image(self.png())


def slider(description: str, value: float, low: float, high: float, step: float,
           *, log: bool = False, integer: bool = False,
           name: str | None = None) -> widgets.ValueWidget:
    """The explorers' slider, 320 px wide, from ``low`` to ``high`` in steps of ``step``.

    With ``log=True`` (ipywidgets' ``FloatLogSlider``) ``low``, ``high`` and ``step`` are
    exponents of ten, while ``value`` is the value itself; with ``integer=True`` it is an
    ``IntSlider``. ``value`` must lie in the slider's range (``[10**low, 10**high]`` on a log
    slider), or a ``ValueError`` names ``name`` (the explorer's argument that set it; the
    description by default) and the range: ipywidgets would silently move it to the nearest
    end.
    """
    bounds = (10.0**low, 10.0**high) if log else (low, high)
    value = _check_initial(description if name is None else name, value, *bounds, integer)
    style = {"description_width": "initial"}
    layout = widgets.Layout(width="320px")
    common = {"description": description, "style": style, "layout": layout,
              "continuous_update": True}
    if integer:
        return widgets.IntSlider(value=value, min=low, max=high, step=step, **common)
    if log:
        return widgets.FloatLogSlider(value=value, base=10, min=low, max=high, step=step,
                                      **common)
    return widgets.FloatSlider(value=value, min=low, max=high, step=step,
                               readout_format=".2f", **common)


def _check_initial(name: str, value: object, low: float, high: float,
                   integer: bool) -> float | int:
    """A slider's initial ``value``: a number (an integer if ``integer``) in ``[low, high]``."""
    if integer:
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
        value = int(value)
    else:
        value = check_real(name, value)
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low:g}, {high:g}] (the range of its slider), "
                         f"got {value:g}")
    return value
