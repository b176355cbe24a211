"""Execute notebooks top to bottom in place, storing their outputs.

    python scripts/execute_notebooks.py notebooks/*.ipynb

Each notebook runs in a fresh kernel of the current Python environment with
the notebook's folder as working directory, as nbval and JupyterLab run it.
Widget state is stored so the explorers render on nbviewer. Prints each
notebook's wall-clock time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> float:
    """Run the notebook at ``path`` in place; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        record_timing=False,
        store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


def main(paths: list[str]) -> None:
    if not paths:
        sys.exit("usage: python scripts/execute_notebooks.py NOTEBOOK.ipynb ...")
    total = 0.0
    for name in paths:
        seconds = execute(Path(name))
        total += seconds
        print(f"{name}: {seconds:.1f} s")
    print(f"total: {total:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
