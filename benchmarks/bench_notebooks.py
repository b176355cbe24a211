"""Execute every lesson and time it; time every explorer's redraw.

    python benchmarks/bench_notebooks.py [notebooks/NN_name.ipynb ...]

Each notebook runs top to bottom in a fresh kernel (nothing is written back).
Then, in the same kernel, every ``course_lib.widgets.Explorer`` the lesson
made is driven through its controls (each slider across its range, each
dropdown through its options) and the median time of a redraw (draw plus PNG
encoding) is reported. Budgets: a lesson under 30 s, the course under two
minutes, a redraw well under 100 ms.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

DRIVE_EXPLORERS = r'''
import json as _json
import numpy as _np
import ipywidgets as _w
from course_lib.widgets import Explorer as _Explorer

def _sweep(control, n=6):
    if hasattr(control, "options"):
        return [("index", i) for i in range(len(control.options))]
    if isinstance(control, _w.FloatLogSlider):
        return [("value", control.base ** e) for e in _np.linspace(control.min, control.max, n)]
    if isinstance(control.value, bool):
        return [("value", not control.value), ("value", control.value)]
    if hasattr(control, "min"):
        cast = type(control.value)
        return [("value", cast(v)) for v in _np.linspace(control.min, control.max, n)]
    return []

_report = {}
for _name, _explorer in list(globals().items()):
    if isinstance(_explorer, _Explorer) and not _name.startswith("_"):
        _start = dict(_explorer.values)
        _explorer.redraw_ms.clear()
        for _control in _explorer.controls.values():
            _old = _control.value
            for _attr, _v in _sweep(_control):
                setattr(_control, _attr, _v)
            _control.value = _old
        _report[_name] = [float(_np.median(_explorer.redraw_ms)), len(_explorer.redraw_ms)]
print(_json.dumps(_report))
'''


def run(path: Path) -> tuple[float, dict]:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(DRIVE_EXPLORERS))
    client = NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    report = json.loads(nb.cells[-1].outputs[-1]["text"])
    return seconds, report


def main(names: list[str]) -> None:
    paths = [Path(n) for n in names] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    total = 0.0
    print(f"{'lesson':36} {'run (s)':>8}   explorer: median redraw (ms) over n redraws")
    for path in paths:
        seconds, report = run(path)
        total += seconds
        redraws = ", ".join(f"{k}: {ms:.0f} ms (n={n})" for k, (ms, n) in report.items())
        print(f"{path.name:36} {seconds:8.1f}   {redraws or 'no explorer'}")
    print(f"{'whole course':36} {total:8.1f}   (budget: 120 s; each lesson under 30 s)")


if __name__ == "__main__":
    main(sys.argv[1:])
