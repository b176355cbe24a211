"""The package's structural rules, read from the source: they hold today and must keep holding.

* A private name of ``course_lib`` (``_name``) is used only inside the module that defines it
  and in that module's own tests (``tests/test_<module>.py``; ``tests/test_checks_<lesson>.py``
  for ``course_lib/checks/<lesson>.py``, likewise for ``widgets``). Nothing else, no other
  module, test, benchmark, script or lesson, reaches into a module: what they need is public.
  Names are matched, not objects: a private name that two modules both define (``_flat``, in
  ``layers`` and ``optimizers``) passes in the tests of either.
* Imports sit at the top of each module; only the optional display dependencies (matplotlib,
  ipywidgets, tqdm) may be imported later, where they are used, so that the numerical core
  imports without them.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_lib"
MODULES = sorted(PACKAGE.rglob("*.py"))
DISPLAY_DEPENDENCIES = {"matplotlib", "ipywidgets", "tqdm"}


def private(name: str) -> bool:
    """``_name``, but not ``__dunder__`` nor IPython's display hooks (``_repr_html_``)."""
    dunder = name.startswith("__") and name.endswith("__")
    ipython_hook = name.startswith(("_repr_", "_ipython_")) and name.endswith("_")
    return name.startswith("_") and not dunder and not ipython_hook


def defined_private_names(tree: ast.AST) -> set[str]:
    """The private names a module defines: functions, classes, variables and attributes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return {name for name in names if private(name)}


def own_module(path: Path) -> Path | None:
    """The ``course_lib`` module whose private names ``path`` may use, if any."""
    if path.is_relative_to(PACKAGE):
        return path
    if path.parent == ROOT / "tests" and path.name.startswith("test_"):
        stem = path.stem.removeprefix("test_")
        for package in ("checks", "widgets"):
            if stem.startswith(package + "_"):
                candidate = PACKAGE / package / (stem.removeprefix(package + "_") + ".py")
                return candidate if candidate.exists() else None
        candidate = PACKAGE / f"{stem}.py"
        return candidate if candidate.exists() else None
    return None


def python_of(path: Path) -> str:
    """The Python source of a file, or of a notebook's code cells (IPython magics left out)."""
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    return "\n".join(line for line in "\n".join(lines).splitlines()
                     if not line.lstrip().startswith(("%", "!")))


def private_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, name)`` of every private name imported from ``course_lib`` or read as an
    attribute of anything but ``self`` or ``cls``."""
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_lib"):
            uses += [(node.lineno, alias.name) for alias in node.names if private(alias.name)]
        elif isinstance(node, ast.Attribute) and private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}):
                uses.append((node.lineno, node.attr))
    return uses


CODE = [*MODULES, *sorted((ROOT / "tests").rglob("*.py")), *sorted(ROOT.glob("benchmarks/*.py")),
        *sorted(ROOT.glob("scripts/*.py")), *sorted(ROOT.glob("notebooks/*.ipynb"))]
TREES = {path: ast.parse(python_of(path), filename=str(path)) for path in CODE}
DEFINED = {module: defined_private_names(TREES[module]) for module in MODULES}
ANY_MODULE = set().union(*DEFINED.values())


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_private_names_stay_in_their_module_and_its_tests(path):
    own = own_module(path)
    allowed = DEFINED[own] if own is not None else set()
    foreign = [f"line {line}: {name}" for line, name in private_uses(TREES[path])
               if name in ANY_MODULE and name not in allowed]
    assert not foreign, (
        f"{path.relative_to(ROOT)} uses private names of another course_lib module: "
        f"{', '.join(foreign)}; make what it needs public, or test it in that module's tests"
    )


def test_the_check_finds_a_private_name_used_across_modules():
    reach_in = ast.parse("from course_lib.optimizers import _clip\nmodel._flat.copy()\n")
    assert private_uses(reach_in) == [(1, "_clip"), (2, "_flat")]
    checks_test = ROOT / "tests" / "test_checks_l04_adam.py"
    assert own_module(checks_test) == PACKAGE / "checks" / "l04_adam.py"
    assert own_module(ROOT / "tests" / "test_layers.py") == PACKAGE / "layers.py"
    assert own_module(ROOT / "benchmarks" / "bench_training.py") is None
    assert "_flat" in DEFINED[PACKAGE / "optimizers.py"]  # a private attribute it assigns


def late_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """``(line, top-level package)`` of every import below a module's top level, except those
    under ``if TYPE_CHECKING:`` (read by type checkers only)."""
    type_checking = [node for node in tree.body if isinstance(node, ast.If)
                     and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"]
    exempt = {id(node) for block in type_checking for node in ast.walk(block)}
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top | exempt:
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module or "."])
            found += [(node.lineno, module.split(".")[0]) for module in modules]
    return found


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_sit_at_the_top_but_for_the_display_dependencies(module):
    late = [f"line {line}: {name}" for line, name in late_imports(TREES[module])
            if name not in DISPLAY_DEPENDENCIES]
    assert not late, (f"{module.relative_to(ROOT)} imports inside a function or block: "
                      f"{', '.join(late)}; move the import to the top of the module")


def test_the_import_check_finds_an_import_inside_a_function():
    source = "import numpy\ndef f():\n    import math\n    from matplotlib import pyplot\n"
    assert late_imports(ast.parse(source)) == [(3, "math"), (4, "matplotlib")]
