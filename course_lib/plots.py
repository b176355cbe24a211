"""The figures the lessons share, drawn onto matplotlib axes.

Each function draws onto an ``Axes`` it is given and returns the artists it
made, so an explorer can update them (``set_data``) instead of drawing a
new figure on every slider move. The numbers behind the bands and histograms
(``stats.mean_and_band``, ``stats.bin_fractions``) come from ``course_lib.stats``.
"""

from __future__ import annotations

import numpy as np

try:
    from matplotlib.axes import Axes
    from matplotlib.contour import QuadContourSet
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(
        'course_lib.plots needs matplotlib, which is not installed: pip install '
        '"course_lib[display]" adds the display extra (from a clone: pip install -e '
        '"path/to/the/clone[display]")',
        name=missing.name,
    ) from missing

from course_lib.stats import bin_fractions, mean_and_band
from course_lib.validation import check_callable, check_positive_int, check_real


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


# --- figures shared by the ablations and lessons 05-09 ------------------------------------
# Each returns the artists it made; an explorer updates them in place (``line.set_ydata``,
# ``band.set_data``, ``patch.set_data``, ``bar.set_height``) and returns them from ``draw``.


# The largest value a log axis shows: above about 1e260 matplotlib's tick placement overflows.
LOG_CEILING = 1e200


def loss_band(ax: Axes, curves, *, x=None, label: str | None = None, color=None,
              log: bool = True, band: str = "std", confidence: float = 0.95, alpha: float = 0.25):
    """The mean of several seeds' curves as a line, with a shaded band (``stats.mean_and_band``).

    ``curves`` is ``(seeds, steps)``, NaN where a run diverged; ``x`` the positions of the
    steps (default ``0 … steps−1``). ``band="std"`` shades mean ± std, ``band="ci"`` the
    ``confidence`` interval of the mean. On a log axis (default) a band reaching 0 or below
    runs off the bottom: there the spread is as large as the mean, and values above ``1e200``
    (a run that blew up without reaching infinity) are left out like NaN, as matplotlib cannot
    place ticks on a log axis that reaches much higher. Axis labels are left to the caller.
    Returns ``(line, band)``; to update them::

        mean, low, high = mean_and_band(new_curves)
        line.set_ydata(mean)
        band.set_data(x, low, high)
    """
    mean, low, high = mean_and_band(curves, band=band, confidence=confidence)
    if log:
        mean, low, high = (np.where(np.abs(a) > LOG_CEILING, np.nan, a) for a in (mean, low, high))
    x = np.arange(mean.size) if x is None else np.asarray(x, dtype=np.float64)
    if x.shape != mean.shape:
        raise ValueError(f"x must have one value per step ({mean.size}), got shape {x.shape}")
    (line,) = ax.plot(x, mean, label=label, color=color)
    shade = ax.fill_between(x, low, high, color=line.get_color(), alpha=alpha, linewidth=0)
    if log:
        ax.set_yscale("log")
    return line, shade


def schedule_curves(ax: Axes, schedules: dict, steps: int, *, log: bool = False) -> dict:
    """The learning rate ``schedule(t)`` for ``t = 0 … steps−1``, one line per schedule.

    ``schedules`` maps a label to a callable ``t -> lr`` (``course_lib.schedules``). The rate
    of step ``t`` holds until step ``t + 1``, so the lines are drawn as steps (a staircase
    decay shows its jumps where they happen). Returns ``{label: line}``.
    """
    steps = check_positive_int("steps", steps)
    if not isinstance(schedules, dict) or not schedules:
        raise ValueError("schedules must be a non-empty dict {label: schedule}")
    t = np.arange(steps)
    lines = {}
    for name, schedule in schedules.items():
        check_callable(f"schedules[{name!r}]", schedule, "a callable t -> lr")
        lr = np.array([schedule(int(k)) for k in t], dtype=np.float64)
        (lines[name],) = ax.plot(t, lr, drawstyle="steps-post", label=name)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step t")
    ax.set_ylabel("learning rate")
    ax.legend(fontsize=8)
    return lines


def layer_histograms(axes, activations: dict, *, bins: int = 40, value_range=None) -> dict:
    """Histograms of each layer's activations over shared bins (lessons 07 and 08).

    ``activations`` maps a layer name to its values (any shape, e.g. from
    ``probes.layer_outputs``); NaN and inf are left out. The height of a bin is the fraction of
    the layer's values in it (``bin_fractions``), so layers of different widths compare. The
    ``bins`` equal bins span ``value_range = (low, high)``, by default all finite values of all
    layers. ``axes`` is one ``Axes`` (outlined histograms overlaid, with a legend) or one
    ``Axes`` per layer (filled small multiples, each titled with its layer). Returns
    ``{name: StepPatch}``; update one with
    ``patch.set_data(bin_fractions(new_values, patch.get_data().edges))``.
    """
    bins = check_positive_int("bins", bins)
    if not isinstance(activations, dict) or not activations:
        raise ValueError("activations must be a non-empty dict {layer name: array}")
    overlaid = isinstance(axes, Axes)
    if not overlaid:
        axes = list(np.asarray(axes, dtype=object).ravel())
        if len(axes) != len(activations) or not all(isinstance(a, Axes) for a in axes):
            raise ValueError(f"axes must be one Axes or {len(activations)} Axes (one per "
                             f"layer), got {len(axes)} objects")
    arrays = {name: np.asarray(v, dtype=np.float64) for name, v in activations.items()}
    if value_range is None:
        finite = [a[np.isfinite(a)] for a in arrays.values()]
        finite = np.concatenate([a.ravel() for a in finite])
        value_range = (finite.min(), finite.max()) if finite.size else (-1.0, 1.0)
    low, high = (check_real("value_range", v) for v in value_range)
    if not low < high:
        low, high = low - 0.5, high + 0.5  # all values equal: one unit around them
    edges = np.linspace(low, high, bins + 1)
    patches = {}
    for i, (name, values) in enumerate(arrays.items()):
        heights = bin_fractions(values, edges)
        if overlaid:
            patches[name] = axes.stairs(heights, edges, label=name, color=f"C{i % 10}")
        else:
            patches[name] = axes[i].stairs(heights, edges, fill=True, color="C0", alpha=0.8)
            axes[i].set_title(name, fontsize=9)
    first = axes if overlaid else axes[0]
    first.set_ylabel("fraction of values")
    if overlaid:
        first.set_xlabel("activation")
        first.legend(fontsize=8)
    return patches


def grad_norm_bars(ax: Axes, norms: dict, *, epoch: int | None = None, label: str | None = None,
                   color=None, width: float = 0.8, offset: float = 0.0):
    """One bar per parameter: its gradient norm ``‖∂L/∂θ‖``, on a log axis (lesson 08).

    ``norms`` is ``{name: number}`` (``probes.gradient_norms``) or, with ``epoch``, a
    ``History.grad_norm`` (``{name: per-epoch array}``), read at that epoch (epoch 0, before
    training, holds NaN: no bar). Keep only the
    weights with ``{k: v for k, v in norms.items() if k.endswith("W")}``. To compare two
    models side by side, draw twice with ``width=0.4`` and ``offset=-0.2`` / ``0.2``. Returns
    the ``BarContainer``; update with ``bar.set_height`` for each bar.
    """
    if not isinstance(norms, dict) or not norms:
        raise ValueError("norms must be a non-empty dict {parameter name: norm}")
    values = []
    for name, value in norms.items():
        value = np.asarray(value, dtype=np.float64)
        if epoch is None and value.ndim != 0:
            raise ValueError(f"norms[{name!r}] is an array: pass epoch=... to pick one epoch")
        if epoch is not None and value.ndim != 1:
            raise ValueError(f"epoch is given, so norms[{name!r}] must be a 1-D per-epoch array "
                             f"(History.grad_norm), got shape {value.shape}")
        if epoch is not None and not -value.size <= epoch < value.size:
            raise ValueError(f"epoch must index norms[{name!r}] of length {value.size}, "
                             f"got {epoch}")
        values.append(float(value if epoch is None else value[epoch]))
    position = np.arange(len(values))
    bars = ax.bar(position + offset, values, width=width, label=label, color=color)
    ax.set_xticks(position, list(norms), rotation=45, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("gradient norm ‖∂L/∂θ‖")
    return bars


_HISTORY_CURVES = ("train_loss", "train_accuracy", "val_loss", "val_accuracy",
                   "step_loss", "step_lr")


def history_curves(ax: Axes, histories, metric: str = "train_loss", *, label: str | None = None,
                   color=None, log: bool | None = None, band: str = "std"):
    """A curve of ``metric`` from one ``History`` or, over several (seeds), mean and band.

    ``metric``: a per-epoch record (``"train_loss"``, ``"train_accuracy"``, ``"val_loss"``,
    ``"val_accuracy"``, plotted against the epoch, 0 = before training) or a per-step one
    (``"step_loss"``, ``"step_lr"``). Several histories go through ``loss_band`` (a diverged
    run's NaN tail is left out of the mean); one history has no spread, so its band is empty.
    ``log`` defaults to True for losses. Returns ``(line, band)`` as ``loss_band``.
    """
    if metric not in _HISTORY_CURVES:
        raise ValueError(f"metric must be one of {list(_HISTORY_CURVES)}, got {metric!r}")
    histories = list(histories) if isinstance(histories, list | tuple) else [histories]
    curves = []
    for i, history in enumerate(histories):
        values = getattr(history, metric, None)
        if values is None:
            raise ValueError(f"histories[{i}] has no {metric} (see the History docstring)")
        curves.append(np.asarray(values, dtype=np.float64))
    if not curves or len({c.shape for c in curves}) != 1:
        raise ValueError(f"histories must be one or more with the same length of {metric}, "
                         f"got lengths {[c.size for c in curves]}")
    log = metric.endswith("loss") if log is None else log
    line, shade = loss_band(ax, np.vstack(curves), label=label, color=color, log=log, band=band)
    ax.set_xlabel("step" if metric.startswith("step") else "epoch")
    # overlaid on another metric ("train loss" and "val loss"): the axis is labelled by what
    # they share ("loss"), and each curve by its own label
    name, shown = metric.replace("_", " "), ax.get_ylabel()
    if shown and shown != name:
        name = shown.split()[-1] if shown.split()[-1] == name.split()[-1] else f"{shown}, {name}"
    ax.set_ylabel(name)
    return line, shade
