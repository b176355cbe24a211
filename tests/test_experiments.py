"""Tests for course_lib.experiments: run_grid, Results and Table.

The tables are checked against text written out by hand for values whose summary is obvious;
the statistics they show (``summarize``, Student's t) are tested in ``test_stats.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib.experiments import Cell, Results, Table, run_grid
from course_lib.stats import Summary, summarize

# --- run_grid ---------------------------------------------------------------------------------


def test_run_grid_calls_every_setting_and_seed_in_product_order():
    calls = []

    def fn(lr, batch_size, seed):
        calls.append((lr, batch_size, seed))
        return lr * batch_size + seed

    results = run_grid(fn, {"lr": [0.1, 0.01], "batch_size": [32, 64, 128]}, seeds=[7, 3])
    expected = [(lr, bs, s) for lr in (0.1, 0.01) for bs in (32, 64, 128) for s in (7, 3)]
    assert calls == expected
    assert [(r["lr"], r["batch_size"], r["seed"]) for r in results.records] == expected
    assert [r["value"] for r in results.records] == [lr * bs + s for lr, bs, s in expected]
    assert results.metrics == ("value",) and len(results) == 12
    assert results.array_metrics == ()
    assert list(results.records[0]) == ["lr", "batch_size", "seed", "value"]
    assert repr(results) == "Results(12 runs: 2 lr x 3 batch_size x 2 seeds; metrics value)"


def test_run_grid_records_named_metrics():
    results = run_grid(lambda k, seed: {"a": k + seed, "b": np.float32(2 * k)}, {"k": range(3)},
                       range(2))
    assert results.metrics == ("a", "b")
    np.testing.assert_array_equal(results.where("a", k=2), [2, 3])
    np.testing.assert_array_equal(results.where("b"), [0, 0, 2, 2, 4, 4])
    assert all(isinstance(r["b"], float) for r in results.records)


def test_where_pools_the_unnamed_settings_and_needs_a_metric_name_when_there_are_several():
    results = run_grid(lambda a, b, seed: {"sum": a + b + seed, "one": 1}, {"a": [0, 10],
                       "b": [100, 200]}, [0, 1])
    np.testing.assert_array_equal(results.where("sum", a=10), [110, 111, 210, 211])
    np.testing.assert_array_equal(results.where("sum", a=10, b=200), [210, 211])
    with pytest.raises(ValueError, match="metric must be one of"):
        results.where(a=10)
    with pytest.raises(ValueError, match="unknown settings"):
        results.where("sum", c=1)


@pytest.mark.parametrize(
    ("fn", "error", "message"),
    [
        (lambda x, seed: {"a": 1} if seed == 0 else {"b": 1}, ValueError, "same names"),
        (lambda x, seed: "0.9", TypeError, "must return a number"),
        (lambda x, seed: True, TypeError, "must return a number"),
        (lambda x, seed: {"x": 1.0}, ValueError, "metric name 'x'"),
        (lambda x, seed: {"seed": 1.0}, ValueError, "metric name 'seed'"),
        (lambda x, seed: {}, ValueError, "returned no metric"),
    ],
)
def test_bad_results_from_fn_are_refused(fn, error, message):
    with pytest.raises(error, match=message):
        run_grid(fn, {"x": [1]}, [0, 1])


def test_run_grid_keeps_arrays_per_run_and_where_stacks_them():
    source = {}

    def fn(lr, seed):
        curve = [lr * (seed + 1) / (t + 1) for t in range(4)]
        source[lr, seed] = array = np.array(curve, dtype=np.float32)
        return {"final": curve[-1], "curve": array, "pair": [seed, 2 * seed]}

    results = run_grid(fn, {"lr": [0.1, 1.0]}, seeds=[0, 1, 2])
    assert results.metrics == ("final", "curve", "pair")
    assert results.array_metrics == ("curve", "pair")
    assert repr(results) == ("Results(6 runs: 2 lr x 3 seeds; "
                             "metrics final, curve (array), pair (array))")
    curves = results.where("curve", lr=1.0)
    assert curves.shape == (3, 4) and curves.dtype == np.float64
    np.testing.assert_array_equal(curves, [source[1.0, s] for s in range(3)])
    np.testing.assert_array_equal(results.where("pair"), [[s, 2 * s] for s in range(3)] * 2)
    np.testing.assert_array_equal(results.where("final", lr=1.0), curves[:, -1])
    source[1.0, 0][:] = -1.0  # each run keeps a copy
    assert results.records[3]["curve"][0] == 1.0
    assert results.where("curve", lr=0.5).shape == (0,)


def test_a_table_of_an_array_metric_is_refused():
    results = run_grid(lambda lr, seed: {"curve": np.ones(3)}, {"lr": [0.1]}, [0, 1])
    with pytest.raises(TypeError, match=r"'curve' holds an array per run.*results.where"):
        results.table("curve")
    with pytest.raises(TypeError, match="'curve' holds an array per run"):
        results.table()


def test_arrays_of_different_shapes_are_kept_but_not_stacked():
    results = run_grid(lambda n, seed: {"curve": np.zeros(n)}, {"n": [2, 3]}, [0])
    np.testing.assert_array_equal(results.where("curve", n=3), [[0.0, 0.0, 0.0]])
    assert results.records[0]["curve"].shape == (2,)
    with pytest.raises(ValueError, match=r"different shapes \[\(2,\), \(3,\)\]"):
        results.where("curve")


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda x, seed: {"a": [1.0]} if seed == 0 else {"a": 1.0}, "a number as 'a'"),
        (lambda x, seed: {"a": 1.0} if seed == 0 else {"a": [1.0]}, "an array as 'a'"),
        (lambda x, seed: {"a": np.array([True, False])}, "must return a number"),
        (lambda x, seed: {"a": ["0.5", "0.6"]}, "must return a number"),
        (lambda x, seed: {"a": [[1.0], [2.0, 3.0]]}, "must return a number"),
    ],
)
def test_array_metrics_must_be_numeric_and_arrays_in_every_run(fn, message):
    with pytest.raises(TypeError, match=message):
        run_grid(fn, {"x": [1]}, [0, 1])


@pytest.mark.parametrize(
    ("grid", "seeds", "error", "message"),
    [
        ({}, [0], TypeError, "non-empty dict"),
        ([("x", [1])], [0], TypeError, "non-empty dict"),
        ({"x": "abc"}, [0], TypeError, r"grid\['x'\] must be a list"),
        ({"x": 3}, [0], TypeError, r"grid\['x'\] must be a list"),
        ({"x": []}, [0], ValueError, "at least one value"),
        ({"seed": [1]}, [0], ValueError, "other than 'seed'"),
        ({"learning rate": [1]}, [0], ValueError, "argument names"),
        ({"x": [1]}, [], ValueError, "one or more different"),
        ({"x": [1]}, [0, 0], ValueError, "one or more different"),
        ({"x": [1]}, [-1], ValueError, "seed must be >= 0"),
        ({"x": [1]}, [0.5], TypeError, "seed must be an integer"),
        ({"x": [1]}, 5, TypeError, "seeds must be a list"),
    ],
)
def test_bad_grids_and_seeds_are_refused(grid, seeds, error, message):
    with pytest.raises(error, match=message):
        run_grid(lambda x, seed: 0.0, grid, seeds)


def test_fn_must_be_callable():
    with pytest.raises(TypeError, match="fn must be a function"):
        run_grid(None, {"x": [1]}, [0])


# --- tables -----------------------------------------------------------------------------------


def constant_runs(**kwargs):
    """Every seed gives the same value, so mean = value, std = 0 and the CI has zero width."""
    return run_grid(lambda lr, opt, seed: {"acc": 10 * lr, "bad": math.nan if lr > 0.05 else lr},
                    {"lr": [0.1, 0.01], "opt": ["sgd", "adam"]}, seeds=[0, 1, 2], **kwargs)


def test_table_text_one_row_per_setting():
    table = constant_runs().table("acc")
    assert str(table) == "\n".join([
        "acc over seeds",
        "  lr   opt   mean    std          95% CI  n",
        " 0.1   sgd  1.000  0.000  [1.000, 1.000]  3",
        " 0.1  adam  1.000  0.000  [1.000, 1.000]  3",
        "0.01   sgd  0.100  0.000  [0.100, 0.100]  3",
        "0.01  adam  0.100  0.000  [0.100, 0.100]  3",
    ])
    assert repr(table) == str(table)


def test_table_html_has_the_same_cells():
    html = constant_runs().table("acc", rows="lr", fmt="{:.2f}")._repr_html_()
    assert html == "\n".join([
        "<table>",
        "<caption>acc over seeds and opt</caption>",
        "<thead><tr><th>lr</th><th>mean</th><th>std</th><th>95% CI</th><th>n</th></tr></thead>",
        "<tbody>",
        "<tr><td>0.1</td><td>1.00</td><td>0.00</td><td>[1.00, 1.00]</td><td>6</td></tr>",
        "<tr><td>0.01</td><td>0.10</td><td>0.00</td><td>[0.10, 0.10]</td><td>6</td></tr>",
        "</tbody>",
        "</table>",
    ])


def test_cross_table_puts_one_setting_in_the_columns():
    table = constant_runs().table("acc", rows="opt", cols="lr")
    assert str(table) == "\n".join([
        "acc: mean ± 95% CI half-width over seeds (3 runs a cell)",
        " opt         lr=0.1        lr=0.01",
        " sgd  1.000 ± 0.000  0.100 ± 0.000",
        "adam  1.000 ± 0.000  0.100 ± 0.000",
    ])
    assert table.get(opt="adam", lr=0.01).mean == pytest.approx(0.1)


def test_failed_runs_get_a_column_of_their_own():
    table = constant_runs().table("bad", rows="lr")
    lines = str(table).splitlines()
    assert lines[1].split() == ["lr", "mean", "std", "95%", "CI", "n", "nan/inf"]
    assert lines[2].split() == ["0.1", "nan", "nan", "[nan,", "nan]", "0", "6"]
    assert lines[3].split()[-2:] == ["6", "0"]
    cross = constant_runs().table("bad", rows="opt", cols="lr")
    assert "nan ± nan (3 nan/inf)" in str(cross) and "(3 nan/inf)" in cross._repr_html_()


def test_table_data_access_agrees_with_summarize():
    results = run_grid(lambda lr, seed: lr * (1 + seed), {"lr": [0.1, 0.2]}, range(4))
    table = results.table(fmt="{:.1%}")
    summary = summarize(results.where(lr=0.2))
    assert table.get(lr=0.2) == summary
    assert table.rows[1] == {"lr": 0.2, "mean": summary.mean, "std": summary.std,
                             "low": summary.low, "high": summary.high, "n": 4, "n_nonfinite": 0}
    assert table.to_dict()["lr"] == [0.1, 0.2]
    assert table.to_dict()["mean"] == [row["mean"] for row in table.rows]
    assert f"{summary.mean:.1%}" in str(table) and f"{summary.high:.1%}" in str(table)


def test_tables_are_identical_from_run_to_run():
    a, b = constant_runs(), constant_runs()
    for kwargs in ({}, {"rows": "lr"}, {"rows": "opt", "cols": "lr"}):
        assert str(a.table("acc", **kwargs)) == str(b.table("acc", **kwargs))
        assert a.table("acc", **kwargs)._repr_html_() == b.table("acc", **kwargs)._repr_html_()


def test_ipython_pretty_printing_uses_the_text():
    class Printer:
        def text(self, s):
            self.out = s

    table, printer = constant_runs().table("acc"), Printer()
    table._repr_pretty_(printer, cycle=False)
    assert printer.out == str(table)


def test_html_escapes_setting_values():
    table = run_grid(lambda name, seed: 1.0, {"name": ["<b>&"]}, [0, 1]).table()
    assert "<td>&lt;b&gt;&amp;</td>" in table._repr_html_()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"rows": "momentum"}, "rows must name settings"), ({"cols": "momentum"}, "cols must be"),
     ({"rows": "lr", "cols": "lr"}, "different settings"), ({"fmt": "{:.3q}"}, "fmt must"),
     ({"fmt": "{a}"}, "fmt must"), ({"confidence": 2}, "confidence must be")],
)
def test_table_refuses_bad_layouts(kwargs, message):
    with pytest.raises(ValueError, match=message):
        constant_runs().table("acc", **kwargs)


def test_get_needs_exactly_the_table_settings():
    table = constant_runs().table("acc", rows="lr")
    with pytest.raises(ValueError, match="exactly the settings"):
        table.get(lr=0.1, opt="sgd")
    with pytest.raises(ValueError, match="no cell"):
        table.get(lr=0.5)


def test_best_cell_lowest_or_highest_mean_of_the_fully_finite_cells():
    # mean loss by (lr, opt); lr = 1.0 with adam diverges on one seed of three
    means = {(0.01, "sgd"): 3.0, (0.01, "adam"): 2.0, (0.1, "sgd"): 1.0, (0.1, "adam"): 1.5,
             (1.0, "sgd"): 4.0, (1.0, "adam"): 0.5}

    def loss(lr, opt, seed):
        return math.nan if (lr, opt, seed) == (1.0, "adam", 2) else means[lr, opt] + seed - 1

    table = run_grid(loss, {"lr": [0.01, 0.1, 1.0], "opt": ["sgd", "adam"]}, [0, 1, 2]).table(
        rows="lr", cols="opt")
    best = table.best("min")
    assert isinstance(best, Cell)
    assert best.setting == {"lr": 0.1, "opt": "sgd"} and best.summary == table.get(**best.setting)
    assert table.best("min", opt="adam").setting == {"lr": 0.1, "opt": "adam"}
    assert table.best("max").setting == {"lr": 1.0, "opt": "sgd"}
    assert table.best("max", opt="adam", lr=0.01).summary.mean == pytest.approx(2.0)


def test_best_agrees_with_lesson_07s_hand_written_helper():
    lrs = [0.01, 0.03, 0.1, 0.3, 1.0]
    rng = np.random.default_rng(0)
    values = {(bn, lr): rng.normal(size=4) for bn in (False, True) for lr in lrs}
    values[False, 1.0][1] = np.nan
    table = run_grid(lambda batch_norm, lr, seed: values[batch_norm, lr][seed],
                     {"batch_norm": [False, True], "lr": lrs}, range(4)).table(
        rows="lr", cols="batch_norm")
    for bn in (False, True):
        by_hand = min((lr for lr in lrs if table.get(lr=lr, batch_norm=bn).n_nonfinite == 0),
                      key=lambda lr, bn=bn: table.get(lr=lr, batch_norm=bn).mean)
        assert table.best("min", batch_norm=bn).setting["lr"] == by_hand


def test_best_of_equal_means_is_the_first_in_table_order():
    table = run_grid(lambda lr, seed: 1.0, {"lr": [0.3, 0.1, 0.2]}, [0]).table()
    assert table.best("min").setting == {"lr": 0.3} == table.best("max").setting


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [(("lowest",), {}, 'mode must be "min"'), (("min",), {"momentum": 0.9}, "unknown settings"),
     (("min",), {"lr": 0.1}, "no cell with {'lr': 0.1} has only finite values")],
)
def test_best_refuses_bad_requests(args, kwargs, message):
    table = constant_runs().table("bad", rows="lr", cols="opt")
    with pytest.raises(ValueError, match=message):
        table.best(*args, **kwargs)


def test_public_classes_are_exported():
    assert isinstance(constant_runs(), Results)
    assert isinstance(constant_runs().table("acc"), Table)
    assert isinstance(summarize([1.0, 2.0]), Summary)
