"""Fixtures of the browser test: a JupyterLab from the simulated Binder build, and Chromium.

The server runs from ``build/binder-venv`` (made by ``make binder`` from ``binder/`` exactly as
repo2docker would), so the test sees what a learner who clicks a Binder link sees, including
the JupyterLab settings the Binder build ships (no news question, no update check). Its user
settings, workspaces, runtime files and checkpoints live in a temporary folder: a developer's
own Jupyter configuration cannot change the result, and the test writes nothing into the
repository but ``build/``. The only user setting the test adds is "no autosave".

``lab_server`` is parametrised by a numeric configuration (``tests/numeric_configs.py``): the
server, and so every kernel it starts, runs in that configuration's environment. A
configuration this CPU cannot simulate is skipped with the reason (a failure in CI).

Without Chromium, or without the Binder build, the tests are skipped with the reason, and a
banner at the end of the run says so; in CI (``CI=true``) either is a failure instead.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import numeric_configs

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
BINDER_VENV = Path(os.environ.get("BINDER_VENV", BUILD / "binder-venv"))
LATENCY_FILE = BUILD / "browser-latency.json"  # the default configuration's lessons only

IN_CI = os.environ.get("CI", "").lower() in {"true", "1", "yes"}

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# The test's own JupyterLab user setting: no autosave, so the re-executed notebooks are never
# written back into the repository. (News and update checks are off by the Binder build's
# settings overrides, which the test checks rather than sets.)
LAB_SETTINGS = {"@jupyterlab/docmanager-extension/plugin": {"autosave": False}}

# Per (configuration, lesson): seconds to open and to run all cells, key-press-to-new-image
# latencies (ms), what the kernel had in force.
RESULTS: dict[tuple[str, str], dict] = {}


def find_chromium() -> str | None:
    """The Chromium to drive: ``$CHROMIUM`` if set, else the first browser on ``PATH``."""
    if os.environ.get("CHROMIUM"):
        path = os.environ["CHROMIUM"]
        return path if os.access(path, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _missing(reason: str) -> None:
    """Skip for a developer; fail in CI, where a missing prerequisite is a broken setup."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing prerequisite is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        where = (
            f"$CHROMIUM={os.environ['CHROMIUM']} is not an executable"
            if os.environ.get("CHROMIUM")
            else "looked for " + ", ".join(CHROMIUM_NAMES) + " on PATH"
        )
        _missing(
            f"no Chromium found ({where}): install it, e.g. `apt-get install chromium`, "
            "to run the browser test"
        )
    return path


@pytest.fixture(scope="session")
def binder_jupyter() -> Path:
    jupyter = BINDER_VENV / "bin" / "jupyter"
    if not jupyter.exists():
        _missing(f"no simulated Binder build at {BINDER_VENV}: run `make binder` first")
    return jupyter


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A running JupyterLab: where it is, how to talk to it, and its process."""

    url: str
    token: str
    process: subprocess.Popen
    config: str  # the numeric configuration the server and its kernels run under

    def api(self, method: str, path: str) -> object:
        """Call the server's REST API with the token; return the decoded JSON (or None)."""
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def delete_sessions(self, path: str | None = None) -> None:
        """Delete the sessions (and so shut their kernels down), all or those of ``path``."""
        for session in self.api("GET", "sessions"):
            if path is None or session["path"] == path:
                self.api("DELETE", f"sessions/{session['id']}")


def _write_lab_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def server_log(config: str) -> Path:
    return BUILD / f"browser-jupyter-server-{config}.log"


@pytest.fixture(scope="session")
def lab_server(
    request, binder_jupyter: Path, chromium_path: str, tmp_path_factory
) -> Iterator[LabServer]:
    """JupyterLab from the Binder build on 127.0.0.1, a free port and a fresh token, in the
    environment of the numeric configuration ``request.param`` (default: what Binder gives)."""
    config = getattr(request, "param", numeric_configs.BINDER)
    reason = numeric_configs.unmet(
        numeric_configs.CONFIGS[config],
        numeric_configs.cpu_flags(),
        numeric_configs.usable_cpus(),
        platform.machine(),
    )
    if reason:
        _missing(f"numeric configuration {config} cannot run here: {reason}")
    home = tmp_path_factory.mktemp(f"jupyter-{config}")
    _write_lab_settings(home / "lab-settings")
    env = numeric_configs.environment(config)
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),  # no user kernelspec can shadow the Binder kernel
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
    )
    for variable in ("JUPYTER_PATH", "JUPYTERLAB_DIR"):  # the Binder build's own, nothing else
        env.pop(variable, None)
    port, token = _free_port(), secrets.token_hex(24)
    command = [
        str(binder_jupyter),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}",
        f"--FileCheckpoints.root_dir={home / 'checkpoints'}",  # not notebooks/.ipynb_checkpoints
        # window.jupyterapp: read execution counts and outputs from the notebook model
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    BUILD.mkdir(exist_ok=True)
    log = server_log(config).open("w", encoding="utf-8")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    server = LabServer(f"http://127.0.0.1:{port}", token, process, config)
    try:
        _wait_until_up(server)
        yield server
    finally:
        try:
            if process.poll() is None:
                server.delete_sessions()
        finally:
            _stop(process)
            log.close()


def _wait_until_up(server: LabServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {server.process.returncode}; "
                f"see {server_log(server.config)}"
            )
        try:
            server.api("GET", "status")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(
        f"JupyterLab did not answer within {timeout:.0f} s; see {server_log(server.config)}"
    )


def _stop(process: subprocess.Popen) -> None:
    """Shut the server down by its PID: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def results() -> dict[tuple[str, str], dict]:
    """Per (configuration, lesson): run time, slider latencies and the kernel's numeric
    configuration; the default configuration's are written to build/ when the run ends."""
    return RESULTS


def _summary(result: dict) -> dict:
    samples = result["latency_ms"]
    return {
        "open_s": round(result["open_s"], 1),
        "run_s": round(result["run_s"], 1),
        "median_ms": round(statistics.median(samples), 1),
        "min_ms": round(min(samples), 1),
        "max_ms": round(max(samples), 1),
        "presses": len(samples),
    }


def pytest_report_header(config) -> list[str]:
    chromium = find_chromium() or "NOT FOUND"
    foreign = numeric_configs.FOREIGN
    return [
        f"browser test: Chromium {chromium}; JupyterLab from {BINDER_VENV}",
        f"browser test: JupyterLab and its kernels under {numeric_configs.BINDER} (what Binder "
        f"gives), some lessons again under {foreign} "
        f"({numeric_configs.assignments(numeric_configs.CONFIGS[foreign].env)})",
    ]


def pytest_sessionfinish(session, exitstatus) -> None:
    summary = {
        lesson: _summary(result)
        for (config, lesson), result in sorted(RESULTS.items())
        if config == numeric_configs.BINDER
    }
    if not summary:
        return
    BUILD.mkdir(exist_ok=True)
    LATENCY_FILE.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped and not IN_CI:
        longrepr = skipped[0].longrepr
        reason = longrepr[2].removeprefix("Skipped: ") if isinstance(longrepr, tuple) else ""
        line = "!" * 78
        terminalreporter.write_line(line, yellow=True, bold=True)
        terminalreporter.write_line(
            f"THE BROWSER TEST SKIPPED {len(skipped)} LESSON RUN(S): {reason}",
            yellow=True,
            bold=True,
        )
        terminalreporter.write_line(line, yellow=True, bold=True)
    for (config, lesson), result in sorted(RESULTS.items()):
        row = _summary(result)
        terminalreporter.write_line(
            f"{config} {lesson}: opened in {row['open_s']:.1f} s, ran in {row['run_s']:.1f} s; "
            f"key press to new image {row['median_ms']:.0f} ms (median of {row['presses']})"
        )
    for config in sorted({config for config, _ in RESULTS}):
        in_force = next(r["in_force"] for (c, _), r in sorted(RESULTS.items()) if c == config)
        terminalreporter.write_line(f"{config}, in the kernels: {in_force}")
