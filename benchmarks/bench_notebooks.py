"""Execute every lesson and time it; time every explorer's redraw; compare with another version.

    python benchmarks/bench_notebooks.py [--against REF] [notebooks/NN_name.ipynb ...]

Each notebook runs top to bottom in a fresh kernel (nothing is written back); the time is that
of its cells, without the kernel's start. Then, in the same kernel, every
``course_lib.widgets.Explorer`` the lesson made is driven through its controls (each slider
across its range, each dropdown through its options) and the median time of a redraw (draw plus
PNG encoding) is reported. Budgets: a lesson under 30 s, the course under two minutes, a redraw
well under 100 ms.

``--against REF`` (a branch, tag or commit, e.g. ``--against main``) checks REF out in a
temporary ``git worktree`` under ``build/``, runs each lesson there too, with REF's own
``course_lib`` (its folder first on ``PYTHONPATH``), alternating the two versions lesson by
lesson, and prints the ratios REF time / this time per lesson and for the whole course: above 1,
this version is faster. Run it with one BLAS thread, as the stored outputs are made:

    python tests/numeric_configs.py run default-1thread -- \\
        python benchmarks/bench_notebooks.py --against main
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

WHICH_COURSE_LIB = "import course_lib as _c, json as _j; print(_j.dumps(_c.__file__))"

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


def run(path: Path, root: Path = ROOT) -> tuple[float, dict]:
    """Seconds the cells of ``path`` take with the ``course_lib`` of ``root``; explorer report."""
    nb = nbformat.read(path, as_version=4)
    lesson = list(nb.cells)
    which, drive = (nbformat.v4.new_code_cell(code) for code in (WHICH_COURSE_LIB, DRIVE_EXPLORERS))
    nb.cells = [which, *lesson, drive]
    client = NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(path.parent)}})
    python_path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    with client.setup_kernel(env={**os.environ, "PYTHONPATH": python_path}):
        client.execute_cell(which, 0)
        used = Path(json.loads(which.outputs[-1]["text"])).resolve()
        if root.resolve() not in used.parents:
            raise RuntimeError(f"{path.name} imported {used}, not the course_lib of {root}")
        start = time.perf_counter()
        for index, cell in enumerate(lesson, start=1):
            client.execute_cell(cell, index)
        seconds = time.perf_counter() - start
        client.execute_cell(drive, len(nb.cells) - 1)
    return seconds, json.loads(drive.outputs[-1]["text"])


def checked_out(ref: str) -> Path:
    """A fresh detached worktree of ``ref`` under build/ (an older one of the same name goes)."""
    folder = ROOT / "build" / ("bench-" + re.sub(r"[^A-Za-z0-9._-]", "_", ref))
    if folder.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
                       check=True)
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet",
                    str(folder), ref], check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="lessons to run (default: all)")
    parser.add_argument("--against", metavar="REF", help="also time the lessons of this git ref")
    args = parser.parse_args()
    paths = ([Path(n).resolve() for n in args.notebooks]
             or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    other = checked_out(args.against) if args.against else None
    try:
        compare(paths, other, args.against)
    finally:
        if other is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)],
                           check=True)


def compare(paths: list[Path], other: Path | None, ref: str | None) -> None:
    total = total_shared = total_other = 0.0  # this version: all lessons, those REF has too
    header = f"{'lesson':36} {'run (s)':>8}"
    if other is not None:
        header += f" {ref[:10] + ' (s)':>14} {'ratio':>6}"
    print(header + "   explorer: median redraw (ms) over n redraws")
    for number, path in enumerate(paths):
        theirs = other / "notebooks" / path.name if other is not None else None
        if theirs is not None and not theirs.exists():
            theirs = None
        if theirs is not None and number % 2:  # alternate which version runs first
            seconds_other, _ = run(theirs, other)
        seconds, report = run(path)
        if theirs is not None and not number % 2:
            seconds_other, _ = run(theirs, other)
        total += seconds
        row = f"{path.name:36} {seconds:8.1f}"
        if other is not None:
            if theirs is None:
                row += f" {'—':>14} {'':>6}"
            else:
                total_shared += seconds
                total_other += seconds_other
                row += f" {seconds_other:14.1f} {seconds_other / seconds:6.2f}"
        redraws = ", ".join(f"{k}: {ms:.0f} ms (n={n})" for k, (ms, n) in report.items())
        print(f"{row}   {redraws or 'no explorer'}", flush=True)
    row = f"{'whole course':36} {total:8.1f}"
    if other is not None:
        row += f" {total_other:14.1f} {total_other / total_shared:6.2f}"
        row += f"   ({ref} time / this time, over the lessons both versions have)"
    else:
        row += "   (budget: 120 s; each lesson under 30 s)"
    print(row)


if __name__ == "__main__":
    main()
