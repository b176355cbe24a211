"""Ablations: run a function over a grid of settings and several seeds, and summarise.

One run is a function of the settings and a seed that returns a number or a dict of numbers
(and of arrays, such as loss curves)::

    def run(lr, batch_size, seed):
        model = make_model(seed)
        history = fit(model, softmax_cross_entropy, Adam(lr), X, y, epochs=5,
                      batch_size=batch_size, seed=seed, validation=(X_val, y_val))
        return {"val_accuracy": history.val_accuracy[-1],
                "epochs_to_95": history.epochs_to("val_accuracy", 0.95)}

    results = run_grid(run, {"lr": [1e-3, 1e-2], "batch_size": [32, 128]}, seeds=range(5))
    results.table("val_accuracy")                              # one row per (lr, batch_size)
    results.table("val_accuracy", rows="lr", cols="batch_size")  # a cross table
    results.table("val_accuracy").best("max")                  # the best cell

A run may also return arrays, e.g. ``"val_loss": history.val_loss``: they are kept per run,
and ``results.where("val_loss", lr=1e-3)`` stacks them, one row per run, ready for
``stats.mean_and_band`` or ``plots.loss_band``; tables summarise the number metrics only.

A summary over seeds is the mean with a confidence interval from Student's t
(``stats.summarize``).
Diverged runs (NaN) and targets never reached (inf) are not averaged in: they are counted
apart, in the ``nan/inf`` column, so a table never hides a failed run.

Tables print as aligned text and render as HTML in Jupyter, with no pandas; the output depends
only on the numbers (same order, same formatting every time), so notebooks that print them can
be checked exactly.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from numbers import Real
from typing import Literal, NamedTuple

import numpy as np

from course_lib.stats import Summary, summarize
from course_lib.validation import check_callable, check_nonnegative_int

__all__ = ["Cell", "Results", "Table", "run_grid"]

Metric = float | np.ndarray


# --------------------------------------------------------------------------- running a grid


def run_grid(
    fn: Callable[..., float | Mapping[str, float | np.ndarray]],
    grid: Mapping[str, Sequence],
    seeds: Sequence[int],
) -> Results:
    """Call ``fn(**setting, seed=seed)`` for every setting of ``grid`` and every seed.

    The settings are the cartesian product of the grid's value lists, in order: the first key
    varies slowest, the last key fastest, and the seeds fastest of all. ``grid = {"lr": [0.1,
    0.01], "momentum": [0, 0.9]}`` with ``seeds = [0, 1]`` makes 8 runs, starting
    ``(lr=0.1, momentum=0, seed=0)``, ``(lr=0.1, momentum=0, seed=1)``,
    ``(lr=0.1, momentum=0.9, seed=0)``, …

    ``fn`` returns a number (recorded as the metric ``"value"``) or a dict of named numbers
    (every run the same names). NaN and inf are fine: ``summarize`` counts them apart.

    A metric may also be an array (a list, a ``History`` curve, a ``numpy`` array) in every
    run, e.g. ``{"final_loss": h.train_loss[-1], "curve": h.train_loss}``: each run keeps a
    float64 copy, ``Results.where`` stacks them (``(runs, *shape)``) and ``Results.table``,
    which summarises one number per run, refuses them. Callers that return numbers only get
    exactly what they got before.
    """
    check_callable("fn", fn, "a function fn(**setting, seed=...)")
    grid = _check_grid(grid)
    seeds = _check_seeds(seeds)
    records: list[dict] = []
    metrics: tuple[str, ...] | None = None
    for values in itertools.product(*grid.values()):
        setting = dict(zip(grid, values, strict=True))
        for seed in seeds:
            result = _check_result(fn(**setting, seed=seed), setting, seed, grid)
            if metrics is None:
                metrics = tuple(result)
            elif tuple(result) != metrics:
                raise ValueError(
                    f"fn returned the metrics {list(result)} for {setting} with seed={seed}, "
                    f"but {list(metrics)} before; every run must return the same names"
                )
            if records:
                _check_same_kinds(result, records[0], setting, seed)
            records.append({**setting, "seed": seed, **result})
    return Results(records, grid, seeds, metrics)


class Results:
    """The runs of ``run_grid``: one record (a dict) per run, in the order they ran.

    A record holds the setting, ``"seed"`` and the metrics, e.g.
    ``{"lr": 0.1, "batch_size": 32, "seed": 0, "val_accuracy": 0.93}``: a float per number
    metric, a float64 array per array metric.

    Attributes: ``records``, ``grid`` (setting name -> list of values), ``seeds``,
    ``metrics`` (the metric names), ``array_metrics`` (those that hold arrays).
    """

    def __init__(
        self,
        records: list[dict],
        grid: dict[str, list],
        seeds: list[int],
        metrics: tuple[str, ...],
    ) -> None:
        self.records = records
        self.grid = grid
        self.seeds = seeds
        self.metrics = metrics
        first = records[0] if records else {}
        self.array_metrics = tuple(m for m in metrics if isinstance(first[m], np.ndarray))

    def where(self, metric: str | None = None, /, **setting: object) -> np.ndarray:
        """The values of ``metric`` of every run whose setting matches, in run order.

        ``results.where("val_accuracy", lr=0.1)`` pools the other settings and the seeds.
        ``metric`` may be left out when there is only one. For an array metric the runs' arrays
        are stacked, ``(runs, *shape)``: ``where("curve", lr=0.1)[k]`` is the ``k``-th
        matching run's curve (they must have the same shape; ``records`` has each as it is).
        """
        metric = self._check_metric(metric)
        self._check_names(setting, "where")
        values = [
            r[metric]
            for r in self.records
            if all(_same(r[name], value) for name, value in setting.items())
        ]
        if metric not in self.array_metrics:
            return np.array(values, dtype=np.float64)
        shapes = {v.shape for v in values}
        if len(shapes) > 1:
            raise ValueError(
                f"the runs' arrays of {metric!r} have different shapes {sorted(shapes)} and "
                f"cannot be stacked; take them one by one from results.records"
            )
        return np.stack(values) if values else np.empty((0,))

    def table(
        self,
        metric: str | None = None,
        rows: str | Sequence[str] | None = None,
        cols: str | None = None,
        *,
        confidence: float = 0.95,
        fmt: str = "{:.3f}",
    ) -> Table:
        """Summarise ``metric`` (``summarize``) for each combination of ``rows`` (and ``cols``).

        ``rows``: the setting names that make a row (default: all but ``cols``). ``cols``: one
        setting name whose values become columns (a cross table), or None for one row per
        setting with the columns mean, std, CI and n. Setting names in neither are pooled
        together with the seeds. ``fmt`` formats every number (``"{:.3f}"``, ``"{:.2%}"`` …).
        """
        metric = self._check_metric(metric)
        if metric in self.array_metrics:
            raise TypeError(
                f"metric {metric!r} holds an array per run, and a table summarises one number "
                f"per run: tabulate a number metric, or get the arrays with "
                f"results.where({metric!r}, ...)"
            )
        names = list(self.grid)
        if cols is not None and cols not in names:
            raise ValueError(f"cols must be one of the settings {names} or None, got {cols!r}")
        if rows is None:
            rows = [name for name in names if name != cols]
        rows = [rows] if isinstance(rows, str) else list(rows)
        for name in rows:
            if name not in names:
                raise ValueError(f"rows must name settings among {names}, got {name!r}")
        if cols in rows or len(set(rows)) != len(rows):
            raise ValueError(f"rows and cols must name different settings, got {rows}, {cols!r}")
        try:
            fmt.format(0.5)
        except (ValueError, IndexError, KeyError, AttributeError) as err:
            raise ValueError(f"fmt must format one number, like '{{:.3f}}', got {fmt!r}") from err
        keys = rows + ([cols] if cols else [])
        entries = []
        for values in itertools.product(*(self.grid[k] for k in keys)):
            setting = dict(zip(keys, values, strict=True))
            entries.append((setting, summarize(self.where(metric, **setting), confidence)))
        pooled = [name for name in names if name not in keys]
        return Table(metric, rows, cols, entries, pooled, fmt)

    def _check_metric(self, metric: str | None) -> str:
        if metric is None and len(self.metrics) == 1:
            return self.metrics[0]
        if metric not in self.metrics:
            raise ValueError(f"metric must be one of {list(self.metrics)}, got {metric!r}")
        return metric

    def _check_names(self, setting: Mapping[str, object], method: str) -> None:
        unknown = [name for name in setting if name not in self.grid]
        if unknown:
            raise ValueError(
                f"{method}: unknown settings {unknown}; the grid has {list(self.grid)}"
            )

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        sizes = " x ".join(f"{len(v)} {k}" for k, v in self.grid.items())
        names = [f"{m} (array)" if m in self.array_metrics else m for m in self.metrics]
        return (
            f"Results({len(self.records)} runs: {sizes} x {len(self.seeds)} seeds; "
            f"metrics {', '.join(names)})"
        )


# --------------------------------------------------------------------------- tables


class Cell(NamedTuple):
    """One cell of a ``Table``: its ``setting`` (``{"lr": 0.1, ...}``) and its ``summary``."""

    setting: dict
    summary: Summary


class Table:
    """A summary table: printed as aligned text, shown as HTML in Jupyter.

    ``rows`` holds the data as a list of dicts (the setting, then ``mean``, ``std``, ``low``,
    ``high``, ``n``, ``n_nonfinite``), ``to_dict()`` the same as columns,
    ``get(lr=0.1, …)`` the ``Summary`` of one setting and ``best("min")`` the best cell.
    Made by ``Results.table``.
    """

    def __init__(
        self,
        metric: str,
        row_names: list[str],
        col_name: str | None,
        entries: list[tuple[dict, Summary]],
        pooled: list[str],
        fmt: str,
    ) -> None:
        self.metric = metric
        self.row_names = row_names
        self.col_name = col_name
        self.fmt = fmt
        self._entries = entries
        self._pooled = pooled
        self.rows = [{**setting, **_summary_fields(s)} for setting, s in entries]

    def to_dict(self) -> dict[str, list]:
        """The table as columns, ``{"lr": [...], "mean": [...], …}`` (input for pandas)."""
        return {key: [row[key] for row in self.rows] for key in self.rows[0]} if self.rows else {}

    def get(self, **setting: object) -> Summary:
        """The ``Summary`` of the cell with this setting, e.g. ``table.get(lr=0.1)``."""
        keys = self.row_names + ([self.col_name] if self.col_name else [])
        if sorted(setting) != sorted(keys):
            raise ValueError(f"get needs exactly the settings {keys}, got {list(setting)}")
        for cell, summary in self._entries:
            if all(_same(cell[k], setting[k]) for k in keys):
                return summary
        raise ValueError(f"no cell with the setting {setting}")

    def best(self, mode: Literal["min", "max"], /, **setting: object) -> Cell:
        """The cell with the lowest (``mode="min"``: a loss) or highest (``"max"``) mean.

        Only cells where every run gave a finite value compete: a cell with a diverged run
        (NaN) or a target never reached (inf), ``n_nonfinite > 0``, is left out, since the mean
        of its other runs would flatter it. Keyword arguments fix some settings, e.g.
        ``table.best("min", batch_norm=True)`` is the best cell with batch norm. Of equal
        means, the first in table order wins. Returns a ``Cell(setting, summary)``::

            cell = results.table("loss", rows="lr", cols="batch_norm").best("min")
            cell.setting["lr"], cell.summary.mean
        """
        if mode not in ("min", "max"):
            raise ValueError(
                f'mode must be "min" (lower is better: a loss) or "max" (higher is better: '
                f"an accuracy), got {mode!r}"
            )
        keys = self.row_names + ([self.col_name] if self.col_name else [])
        unknown = [name for name in setting if name not in keys]
        if unknown:
            raise ValueError(f"best: unknown settings {unknown}; the table has {keys}")
        candidates = [
            Cell(dict(cell), summary)
            for cell, summary in self._entries
            if summary.n > 0 and summary.n_nonfinite == 0
            and all(_same(cell[name], value) for name, value in setting.items())
        ]
        if not candidates:
            raise ValueError(
                f"no cell{f' with {setting}' if setting else ''} has only finite values "
                f"(every one has a diverged run, NaN or inf), so none is best"
            )
        sign = 1.0 if mode == "min" else -1.0
        return min(candidates, key=lambda c: sign * c.summary.mean)

    # -- layout: a caption, a header row and body rows of strings, shared by text and HTML

    def _layout(self) -> tuple[str, list[str], list[list[str]]]:
        fmt, entries = self.fmt, self._entries
        confidence = entries[0][1].confidence if entries else 0.95
        over = "seeds" if not self._pooled else "seeds and " + ", ".join(self._pooled)
        if self.col_name is None:
            any_failed = any(s.n_nonfinite for _, s in entries)
            header = [*self.row_names, "mean", "std", f"{_percent(confidence)} CI", "n"]
            header += ["nan/inf"] if any_failed else []
            body = []
            for setting, s in entries:
                ci = f"[{fmt.format(s.low)}, {fmt.format(s.high)}]"
                line = [_key(setting[k]) for k in self.row_names]
                line += [fmt.format(s.mean), fmt.format(s.std), ci, str(s.n)]
                body.append(line + ([str(s.n_nonfinite)] if any_failed else []))
            caption = f"{self.metric} over {over}"
            return caption, header, body
        col_values = list(dict.fromkeys(_key(setting[self.col_name]) for setting, _ in entries))
        cells: dict[tuple, dict[str, str]] = {}
        for setting, s in entries:
            row_key = tuple(_key(setting[k]) for k in self.row_names)
            text = f"{fmt.format(s.mean)} ± {fmt.format((s.high - s.low) / 2)}"
            text += f" ({s.n_nonfinite} nan/inf)" if s.n_nonfinite else ""
            cells.setdefault(row_key, {})[_key(setting[self.col_name])] = text
        header = [*self.row_names, *(f"{self.col_name}={v}" for v in col_values)]
        body = [[*key, *(line.get(v, "") for v in col_values)] for key, line in cells.items()]
        runs = max((s.n + s.n_nonfinite for _, s in entries), default=0)
        caption = (
            f"{self.metric}: mean ± {_percent(confidence)} CI half-width over {over} "
            f"({runs} runs a cell)"
        )
        return caption, header, body

    def __str__(self) -> str:
        caption, header, body = self._layout()
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        lines = ["  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True))
                 for line in [header, *body]]
        return "\n".join([caption, *lines])

    __repr__ = __str__

    def _repr_pretty_(self, p: object, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        caption, header, body = self._layout()
        esc = html.escape
        head = "".join(f"<th>{esc(cell)}</th>" for cell in header)
        rows = ["<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in line) + "</tr>"
                for line in body]
        return "\n".join([
            "<table>", f"<caption>{esc(caption)}</caption>",
            f"<thead><tr>{head}</tr></thead>", "<tbody>", *rows, "</tbody>", "</table>",
        ])


# --------------------------------------------------------------------------- helpers


def _summary_fields(s: Summary) -> dict:
    fields = asdict(s)
    del fields["confidence"]
    return fields


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def _key(value: object) -> str:
    """A setting value as text: floats by ``repr`` (0.001, 1e-05), everything else by ``str``."""
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def _same(a: object, b: object) -> bool:
    return a is b or bool(a == b)


def _check_grid(grid: object) -> dict[str, list]:
    if not isinstance(grid, Mapping) or not grid:
        raise TypeError("grid must be a non-empty dict: setting name -> list of values")
    checked = {}
    for name, values in grid.items():
        if not isinstance(name, str) or not name.isidentifier() or name == "seed":
            raise ValueError(
                f"grid keys must be argument names of fn other than 'seed', got {name!r}"
            )
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
            raise TypeError(f"grid[{name!r}] must be a list of values, got {values!r}")
        if len(values) == 0:
            raise ValueError(f"grid[{name!r}] must hold at least one value")
        checked[name] = list(values)
    return checked


def _check_seeds(seeds: object) -> list[int]:
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | np.ndarray):
        raise TypeError(f"seeds must be a list of integers, e.g. range(5), got {seeds!r}")
    seeds = [check_nonnegative_int("seed", s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be one or more different integers, got {seeds}")
    return seeds


def _check_result(result: object, setting: dict, seed: int, grid: dict) -> dict[str, Metric]:
    """``fn``'s return value as ``{metric name: float or float64 array (a copy)}``."""
    where = f"fn(**{setting}, seed={seed})"
    if not isinstance(result, Mapping):
        result = {"value": result}
    checked = {}
    for name, value in result.items():
        if not isinstance(name, str) or name in grid or name == "seed":
            raise ValueError(
                f"{where} returned the metric name {name!r}; metric names must be strings "
                "different from the setting names and 'seed'"
            )
        checked[name] = _check_value(value, where, name)
    if not checked:
        raise ValueError(f"{where} returned no metric")
    return checked


def _check_value(value: object, where: str, name: str) -> Metric:
    """One metric: a number as a float, an array (or list) of numbers as a float64 copy."""
    if isinstance(value, Real | np.floating | np.integer) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, np.ndarray | Sequence) and not isinstance(value, str | bytes):
        try:
            array = np.asarray(value)
        except ValueError:  # a ragged list
            array = np.asarray(None)
        if array.dtype.kind in "iuf":
            return float(array) if array.ndim == 0 else array.astype(np.float64)  # a copy
    raise TypeError(
        f"{where} must return a number or a dict of numbers or arrays of numbers, got "
        f"{name!r}: {value!r}"
    )


def _check_same_kinds(result: dict[str, Metric], first: dict, setting: dict, seed: int) -> None:
    """A metric is a number in every run or an array in every run."""
    for name, value in result.items():
        if isinstance(value, np.ndarray) != isinstance(first[name], np.ndarray):
            kinds = ("an array", "a number")
            now, before = (kinds if isinstance(value, np.ndarray) else kinds[::-1])
            raise TypeError(
                f"fn returned {now} as {name!r} for {setting} with seed={seed}, but {before} "
                f"before; a metric must be a number in every run or an array in every run"
            )
