"""The Binder set-up stays launchable: pins in step, a supported Python, a sound postBuild that
also ships JupyterLab settings (no news question, no update check), and a README launch link
for every lesson.

repo2docker reads only ``binder/`` when that folder exists, so ``binder/requirements.txt``
repeats the runtime pins of ``requirements.txt``; these tests fail the moment the two drift.
"""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jupyterlab
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
README = (ROOT / "README.md").read_text(encoding="utf-8")

LAUNCH_LINK = re.compile(
    r"https://mybinder\.org/v2/gh/(?P<repo>[^/\s]+/[^/\s]+)/HEAD\?urlpath=lab/tree/(?P<path>[^\s)>]+)"
)
LESSON_ROW = re.compile(r"^\| (\d\d) \|.*?`(\1_\w+\.ipynb)`", flags=re.M)


def requirements(path: Path) -> dict[str, Requirement]:
    """The requirement lines of ``path`` (comments, blanks and options skipped), by name."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{path.name} names {name} twice"
        found[name] = requirement
    return found


def test_binder_requirements_match_the_runtime_requirements():
    runtime = requirements(ROOT / "requirements.txt")
    binder = requirements(BINDER / "requirements.txt")
    assert set(binder) == set(runtime), (
        f"binder/requirements.txt and requirements.txt name different packages: only in binder "
        f"{sorted(set(binder) - set(runtime))}, only in requirements.txt "
        f"{sorted(set(runtime) - set(binder))}"
    )
    for name, requirement in runtime.items():
        theirs = binder[name]
        assert (theirs.specifier, theirs.extras, theirs.marker) == (
            requirement.specifier,
            requirement.extras,
            requirement.marker,
        ), f"{name}: requirements.txt says {requirement}, binder/requirements.txt says {theirs}"


def test_binder_requirements_are_pinned_exactly():
    for name, requirement in requirements(BINDER / "requirements.txt").items():
        specs = list(requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", (
            f"binder/requirements.txt: pin {name} to one version with ==, not {requirement}"
        )


def test_binder_installs_what_the_lessons_need():
    assert {"numpy", "matplotlib", "ipywidgets", "jupyterlab", "ipykernel"} <= set(
        requirements(BINDER / "requirements.txt")
    )


def test_runtime_txt_names_a_python_the_package_supports():
    lines = (BINDER / "runtime.txt").read_text(encoding="utf-8").split()
    assert len(lines) == 1, "binder/runtime.txt holds one line, e.g. python-3.11"
    match = re.fullmatch(r"python-(3\.\d+)", lines[0])
    assert match, f"binder/runtime.txt must read python-X.Y (repo2docker's format), not {lines[0]}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    supported = SpecifierSet(pyproject["project"]["requires-python"])
    assert match[1] in supported, f"Python {match[1]} is outside requires-python {supported}"


def test_post_build_installs_course_lib_and_stops_on_errors():
    post_build = BINDER / "postBuild"
    lines = post_build.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#!/bin/bash", "repo2docker runs postBuild as a script: start it #!/bin/bash"
    assert "set -euo pipefail" in lines, "without set -e a failing step is ignored by repo2docker"
    assert "pip install --no-deps -e ." in lines
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable (chmod +x)"


# --- JupyterLab settings overrides -----------------------------------------------------------

NOTIFICATION = "@jupyterlab/apputils-extension:notification"


def test_overrides_turn_off_the_news_question_and_the_update_check():
    overrides = json.loads((BINDER / "overrides.json").read_text(encoding="utf-8"))
    assert overrides == {NOTIFICATION: {"fetchNews": "false", "checkForUpdates": False}}


def test_overrides_name_settings_that_jupyterlab_has():
    """Checked against the schemas of the pinned JupyterLab: a renamed plugin or setting, or a
    value of the wrong type, would be ignored without a word."""
    schemas = Path(jupyterlab.__file__).parent / "schemas"
    overrides = json.loads((BINDER / "overrides.json").read_text(encoding="utf-8"))
    for plugin, settings in overrides.items():
        package, name = plugin.split(":")
        schema_path = schemas / package / f"{name}.json"
        assert schema_path.exists(), f"JupyterLab {jupyterlab.__version__} has no {plugin}"
        properties = json.loads(schema_path.read_text(encoding="utf-8"))["properties"]
        for key, value in settings.items():
            assert key in properties, f"{plugin} has no setting {key}: {sorted(properties)}"
            schema = properties[key]
            if "oneOf" in schema:
                assert value in [choice["const"] for choice in schema["oneOf"]], (plugin, key)
            else:
                expected = {"boolean": bool, "string": str}[schema["type"]]
                assert isinstance(value, expected), (plugin, key, value)


def test_post_build_merges_the_overrides_into_those_of_the_jupyterlab_binder_starts(tmp_path):
    """postBuild, run with stand-ins for pip and jupyter, writes binder/overrides.json into the
    settings folder `jupyter lab path` names, keeping the settings already there."""
    app_dir = tmp_path / "share" / "jupyter" / "lab"
    settings = app_dir / "settings" / "overrides.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(
        json.dumps({
            "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
            NOTIFICATION: {"fetchNews": "true", "doNotDisturbMode": True},
        }),
        encoding="utf-8",
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {
        "pip": "exit 0",
        "jupyter": f'echo "Application directory:   {app_dir}"',
    }.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    subprocess.run([str(BINDER / "postBuild")], cwd=ROOT, env=env, check=True, timeout=60)
    assert json.loads(settings.read_text(encoding="utf-8")) == {
        "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
        NOTIFICATION: {"fetchNews": "false", "doNotDisturbMode": True, "checkForUpdates": False},
    }


# --- README launch links --------------------------------------------------------------------


def launch_links() -> list[re.Match]:
    links = list(LAUNCH_LINK.finditer(README))
    assert links, "the README has no mybinder.org launch links"
    return links


def planned_lessons() -> set[str]:
    """The notebooks named in the README's lesson table: the course's ten lessons."""
    lessons = {f"notebooks/{name}" for _, name in LESSON_ROW.findall(README)}
    assert len(lessons) == 10, f"expected the ten lessons 00-09 in the README table: {lessons}"
    return lessons


def test_every_launch_link_points_at_the_same_repository():
    repos = {link["repo"] for link in launch_links()}
    assert len(repos) == 1, f"launch links name different repositories: {sorted(repos)}"
    if repos == {"OWNER/REPO"}:
        assert "replace OWNER/REPO with the repository's path" in README


def test_the_badge_opens_the_lessons_folder():
    assert "https://mybinder.org/badge_logo.svg" in README
    assert "notebooks" in {link["path"] for link in launch_links()}


def test_every_lesson_has_a_launch_link():
    linked = {link["path"] for link in launch_links() if link["path"].endswith(".ipynb")}
    assert linked == planned_lessons(), (
        f"launch links missing for {sorted(planned_lessons() - linked)}, "
        f"pointing at no lesson: {sorted(linked - planned_lessons())}"
    )


def test_every_notebook_in_the_repository_is_a_linked_lesson():
    linked = {link["path"] for link in launch_links()}
    notebooks = {p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert notebooks, "no notebooks found"
    assert notebooks <= linked, f"no launch link for {sorted(notebooks - linked)}"
