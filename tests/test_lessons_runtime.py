"""No lesson chooses its own numeric configuration.

The stored outputs must be reproduced under every configuration of ``make portability``, and
the browser test starts kernels under a foreign one. A lesson (or the library it imports) that
set a BLAS thread count or an OpenBLAS / MKL / OpenMP / numpy variable itself would make its
kernel run the same way everywhere and hide what the tests simulate; one that printed them
would store a machine's own settings. So neither may name them.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LIBRARY = sorted((ROOT / "course_lib").rglob("*.py"))

FORBIDDEN = re.compile(
    r"\b(?:OPENBLAS_\w+|GOTO_NUM_THREADS|OMP_\w+|MKL_\w+|NPY_\w+|threadpoolctl"
    r"|threadpool_limits|set_num_threads)\b"
)


def code_cells(path: Path) -> list[tuple[int, str]]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        (index, "".join(cell["source"]))
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "code"
    ]


def test_there_are_lessons_to_check():
    assert len(NOTEBOOKS) >= 10 and LIBRARY


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_lesson_sets_threads_or_numeric_environment_variables(notebook):
    found = [
        f"cell {index}: {match.group(0)} in {line.strip()!r}"
        for index, source in code_cells(notebook)
        for line in source.splitlines()
        for match in FORBIDDEN.finditer(line)
    ]
    assert not found, (
        f"{notebook.name} sets up its own numeric configuration (the tests choose it):\n"
        + "\n".join(found)
    )


def test_the_library_sets_no_threads_or_numeric_environment_variables():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in LIBRARY
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if FORBIDDEN.search(line)
    ]
    assert not found, "course_lib names a numeric configuration variable:\n" + "\n".join(found)
