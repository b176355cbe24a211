"""Lesson 09, putting it together: ``recipe_explorer``.

Switch the techniques of the recipe on and off and see the seed-averaged curves.
"""

from __future__ import annotations

import re

import numpy as np
from ipywidgets import Checkbox, Layout
from matplotlib.ticker import NullLocator

from course_lib import plots
from course_lib.stats import mean_and_band
from course_lib.validation import check_callable, check_real
from course_lib.widgets.explorer import Explorer


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
    (``stats.mean_and_band``), next to the full recipe (black, dashed) and the baseline without
    any technique (grey, dotted) when those are in ``runs``; the red line marks ``target``.
    The left title names what is left out; the right title gives the final validation
    accuracy (mean ± std over seeds) and the mean epochs to reach ``target`` over the seeds
    that reached it. The axes are fixed, so a redraw blits.
    """
    techniques = tuple(techniques)
    if not techniques or not all(isinstance(t, str) for t in techniques) or \
            len(set(techniques)) != len(techniques):
        raise ValueError(f"techniques must be different names (strings), got {techniques!r}")
    cache = _check_recipe_runs(runs, techniques)
    target = check_real("target", target)
    if run is not None:
        check_callable("run", run, "a function run(used) -> list of History, or None")
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
                mean = mean_and_band(curves(cache[key], metric))[0]
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
                mean, low, high = mean_and_band(curves(histories, metric))
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
