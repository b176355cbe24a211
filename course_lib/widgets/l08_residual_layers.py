"""Lesson 08, residual layers: ``residual_explorer``.

Per-layer gradient norms and training curves of plain and residual networks, by depth,
initialisation and epoch, from a grid of runs (``studies.residual_runs``).
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course_lib import plots
from course_lib.studies import residual_runs
from course_lib.widgets.explorer import Explorer, slider

__all__ = ["residual_explorer"]

def residual_explorer(*, depth: int = 16, init: str = "std 0.1", epoch: int = 0,
                      runs: dict | None = None, **run_options) -> Explorer:
    """Lesson 08: per-layer gradient norms and training curves, plain against residual.

    Controls: the depth (``networks.mlp``'s: the layers between the input projection and the
    head), the weight initialisation and the epoch. Left: the gradient norm ``‖∂L/∂W‖`` of
    every weight matrix, layer 0 the input projection and layer ``depth + 1`` the head, plain
    (red) next to residual (blue), at initialisation (epoch 0) or averaged over the steps of
    the chosen epoch. Right: the mini-batch training loss of both networks, with the chosen
    epoch marked.

    Everything is computed once, when the explorer is built
    (``studies.residual_runs(**run_options)``, or pass its result as ``runs``, a dict
    ``{(init_label, kind, depth): ResidualRun}``); a redraw only moves bars and lines, over
    fixed axes.
    """
    if runs is None:
        runs = residual_runs(**run_options)
    depths = sorted({key[2] for key in runs})
    labels = list(dict.fromkeys(key[0] for key in runs))
    epochs = next(iter(runs.values())).norms.shape[0] - 1
    slots = max(depths) + 2
    empty = {str(i): np.nan for i in range(slots)}

    finite = np.concatenate([run.norms[np.isfinite(run.norms)] for run in runs.values()])
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

    steps = max(len(run.step_loss) for run in runs.values())
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
            heights[: depth + 2] = run.norms[epoch]
            for bar, height in zip(bars[kind], heights, strict=True):
                shown = bool(height > 0)  # 0 (underflow), NaN (diverged), unused: no bar
                bar.set_visible(shown)
                if shown:
                    bar.set_height(height)
            loss = np.full(steps, np.nan)
            loss[: len(run.step_loss)] = run.step_loss
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
        "epoch": slider("epoch", epoch, 0, epochs, 1, integer=True, name="epoch"),
    }
    return Explorer(figure, controls, draw)
