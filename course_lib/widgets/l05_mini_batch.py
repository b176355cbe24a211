"""Lesson 05, mini-batches: ``mini_batch_explorer``.

The training loss of mini-batch SGD, step by step, for every batch size and learning
rate of a grid of runs (``studies.mini_batch_runs``).
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.patches import Rectangle

from course_lib import plots
from course_lib.stats import moving_average
from course_lib.studies import mini_batch_runs
from course_lib.widgets.explorer import Explorer, slider


def _smoothed(values: np.ndarray, span: float) -> np.ndarray:
    """``stats.moving_average`` over about ``span`` steps: ``beta = 1 − 1/span`` (``span <= 1``
    leaves the values as they are)."""
    return moving_average(values, 1.0 - 1.0 / max(float(span), 1.0))


def _check_runs(runs: object) -> tuple[list[int], list[float]]:
    """The sorted batch sizes and learning rates of a full grid of histories."""
    if not isinstance(runs, dict) or not runs:
        raise TypeError("runs must be a non-empty dict {(batch_size, lr): History} "
                        "(see studies.mini_batch_runs)")
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
    runs of ``studies.mini_batch_runs()`` are trained when the explorer is built; moving a
    control then only redraws from these stored runs, nothing is trained.

    Controls: the smoothing window (in epochs), the batch size and the learning rate (each
    a slider over the values of the grid). Left, against the epoch (the number of examples
    seen divided by the training-set size, the same compute for every batch size): the loss
    of each mini-batch, the step it was used for (thin, noisy), its moving average over the
    smoothing window (``_smoothed``) and the loss on the whole training set after each epoch
    (dots). Right, the final training loss of every run of the grid on a log colour scale,
    with the current run framed; a run that diverged (``_diverged``) is blank.
    """
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
        "smoothing": slider("smoothing (epochs)", smoothing, 0.0, 2.0, 0.05, name="smoothing"),
        "batch_size": widgets.SelectionSlider(options=[(str(b), b) for b in batch_sizes],
                                              value=batch_size, description="batch size",
                                              style=style, layout=layout),
        "lr": widgets.SelectionSlider(options=[(f"{r:g}", r) for r in lrs], value=lr,
                                      description="learning rate", style=style, layout=layout),
    }
    controls["smoothing"].layout = layout
    explorer = Explorer(figure, controls, draw)
    explorer.children[0].layout.flex_flow = "row wrap"
    return explorer
