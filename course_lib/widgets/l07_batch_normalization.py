"""Lesson 07, batch normalization: ``batch_norm_explorer``.

A deep MLP with and without batch norm, by depth and learning rate, from a grid of runs
(``studies.batch_norm_runs``).
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from ipywidgets import Checkbox, Layout
from matplotlib.ticker import NullLocator

from course_lib import plots
from course_lib.studies import batch_norm_runs
from course_lib.validation import check_bool
from course_lib.widgets.explorer import Explorer


def batch_norm_explorer(runs: dict | None = None, *, depth: int | None = None,
                        lr: float | None = None, batch_norm: bool = True) -> Explorer:
    """Lesson 07: a deep MLP with and without batch norm, by depth and learning rate.

    ``runs`` maps ``(depth, lr, batch_norm)`` to a ``studies.BNRun`` for every combination
    of the grid (default: ``studies.batch_norm_runs()``, trained when the explorer is built;
    moving a control only redraws from these stored runs).

    Controls: the depth (``networks.mlp``'s: ``depth + 2`` weight layers), the learning rate
    and batch norm on or off. Left, one row per hidden layer (the ``depth + 1`` layers with a
    ReLU, layer 1 at the bottom): the histogram of the values entering its ReLU after
    training, each row scaled to the same height (bins under 1 % of the row's peak left
    blank), on a fixed range ``[-4, 4]``: a plain network's rows narrow or widen with depth,
    a batch-norm network's stay alike.
    Right, the mini-batch loss at every step of both networks at this depth and learning rate,
    the chosen one bold. Both axes are fixed, so a redraw only redraws the changed artists
    (blitting).
    """
    if not isinstance(runs, dict) and runs is not None:
        raise TypeError("runs must be a dict {(depth, lr, batch_norm): BNRun} "
                        "(see studies.batch_norm_runs)")
    batch_norm = check_bool("batch_norm", batch_norm)
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
    rows = max(depths) + 1
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
            shown = k <= depth
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
        if run.diverged:
            spread = "diverged"
        else:
            spread = f"std per layer {np.min(run.stds):.2f} to {np.max(run.stds):.2f}"
        hist_title = ax_hist.set_title(f"{name}, depth {depth}, lr {lr:g}: {spread}",
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
                                         description="depth", style=style,
                                         layout=layout),
        "lr": widgets.SelectionSlider(options=[(f"{r:g}", r) for r in lrs], value=lr,
                                      description="learning rate", style=style, layout=layout),
        "batch_norm": Checkbox(value=batch_norm, description="batch norm", indent=False,
                               layout=Layout(width="120px")),
    }
    explorer = Explorer(figure, controls, draw)
    explorer.children[0].layout.flex_flow = "row wrap"
    return explorer
