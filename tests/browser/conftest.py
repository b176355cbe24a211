"""Fixtures of the browser test: a JupyterLab from the simulated Binder build, and Chromium.

The server runs from ``build/binder-venv`` (made by ``make binder`` from ``binder/`` exactly as
repo2docker would), so the test sees what a learner who clicks a Binder link sees. Its settings,
workspaces, runtime files and checkpoints live in a temporary folder: a developer's own Jupyter
configuration cannot change the result, and the test writes nothing into the repository but
``build/``.

Without Chromium, or without the Binder build, the tests are skipped with the reason, and a
banner at the end of the run says so; in CI (``CI=true``) either is a failure instead.
"""

from __future__ import annotations

import json
import os
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

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
BINDER_VENV = Path(os.environ.get("BINDER_VENV", BUILD / "binder-venv"))
LATENCY_FILE = BUILD / "browser-latency.json"
SERVER_LOG = BUILD / "browser-jupyter-server.log"

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

# JupyterLab user settings for the test: no news or update toasts over the widgets, and no
# autosave, so the re-executed notebooks are never written back into the repository.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}

# Per lesson: seconds to run all cells, key-press-to-new-image latencies (ms); written at the end.
RESULTS: dict[str, dict] = {}


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


@pytest.fixture(scope="session")
def lab_server(binder_jupyter: Path, chromium_path: str, tmp_path_factory) -> Iterator[LabServer]:
    """JupyterLab from the Binder build on 127.0.0.1, a free port and a fresh token."""
    home = tmp_path_factory.mktemp("jupyter")
    _write_lab_settings(home / "lab-settings")
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),  # no user kernelspec can shadow the Binder kernel
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
    )
    env.pop("JUPYTER_PATH", None)
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
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        # window.jupyterapp: read execution counts and outputs from the notebook model
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    BUILD.mkdir(exist_ok=True)
    log = SERVER_LOG.open("w", encoding="utf-8")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    server = LabServer(f"http://127.0.0.1:{port}", token, process)
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
                f"JupyterLab exited with code {server.process.returncode}; see {SERVER_LOG}"
            )
        try:
            server.api("GET", "status")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s; see {SERVER_LOG}")


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
def results() -> dict[str, dict]:
    """Each lesson's run time and slider latencies, written to build/ when the run ends."""
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


def pytest_report_header(config) -> str:
    chromium = find_chromium() or "NOT FOUND"
    return f"browser test: Chromium {chromium}; JupyterLab from {BINDER_VENV}"


def pytest_sessionfinish(session, exitstatus) -> None:
    if not RESULTS:
        return
    summary = {lesson: _summary(result) for lesson, result in sorted(RESULTS.items())}
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
            f"THE BROWSER TEST DID NOT RUN ({len(skipped)} lessons skipped): {reason}",
            yellow=True,
            bold=True,
        )
        terminalreporter.write_line(line, yellow=True, bold=True)
    for lesson, result in sorted(RESULTS.items()):
        row = _summary(result)
        terminalreporter.write_line(
            f"{lesson}: opened in {row['open_s']:.1f} s, ran in {row['run_s']:.1f} s; key press "
            f"to new image "
            f"{row['median_ms']:.0f} ms (median of {row['presses']})"
        )
