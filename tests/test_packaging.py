"""What ``pip install`` of the clone ships: every package and data file, the type hints, the
licence, and a clear message when the display extra is missing.

Building a wheel needs setuptools >= 77 from the package index, so these tests read
``pyproject.toml`` rather than build (``pip wheel . --no-deps -w <dir>`` does, by hand).
"""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def test_every_folder_of_course_lib_is_a_listed_package():
    # setuptools warns about (and may one day leave out) a folder that is importable but unlisted
    folders = {
        ".".join(path.relative_to(ROOT).parts)
        for path in [ROOT / "course_lib", *(ROOT / "course_lib").rglob("*")]
        if path.is_dir() and path.name != "__pycache__"
    }
    assert set(SETUPTOOLS["packages"]) == folders


def test_the_data_files_and_the_type_marker_are_package_data():
    package_data = SETUPTOOLS["package-data"]
    assert (ROOT / "course_lib" / "py.typed").is_file()  # PEP 561: the hints are for checkers
    assert "py.typed" in package_data["course_lib"]
    assert package_data["course_lib.datasets"] == ["*"]


def test_the_licence_is_an_spdx_expression_with_its_file():
    assert PYPROJECT["project"]["license"] == "MIT"  # the table form is deprecated
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "Training Optimization contributors" in text
    # license = "MIT" and license-files need setuptools 77
    assert "setuptools>=77" in PYPROJECT["build-system"]["requires"]


def test_the_readme_says_what_an_install_writes_into_the_clone():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install = readme[readme.index("## Using `course_lib` in your homework"):]
    assert "`build/`" in install and "`course_lib.egg-info/`" in install


@pytest.mark.parametrize(
    ("module", "missing"),
    [("course_lib.plots", "matplotlib"), ("course_lib.widgets", "matplotlib"),
     ("course_lib.widgets", "ipywidgets"), ("course_lib.widgets.l04_adam", "ipywidgets")],
)
def test_the_display_layer_without_its_extra_says_how_to_install_it(module, missing):
    # a fresh interpreter in which `missing` cannot be imported, as if it were not installed
    code = (f"import sys; sys.modules[{missing!r}] = None\n"
            f"try:\n    import {module}\n"
            f"except ModuleNotFoundError as error:\n    print(error.name, '|', error)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.startswith(missing), out
    assert f"needs {missing}" in out or "needs ipywidgets and matplotlib" in out
    assert 'pip install "course_lib[display]"' in out


def test_the_numerical_core_imports_without_the_display_extra():
    code = ("import sys\nsys.modules['matplotlib'] = sys.modules['ipywidgets'] = None\n"
            "import course_lib, course_lib.checks, course_lib.io, course_lib.studies\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
