"""Every lesson, run in JupyterLab in a real browser, as a learner on Binder runs it.

For each notebook in ``notebooks/``: open it at the Binder link's path
(``lab/tree/notebooks/NN_name.ipynb``), clear every output (the stored outputs look like a
finished run), run all cells from the Run menu, and wait until every code cell has an
execution count and the kernel is idle. Then:

* no cell has an error output or a traceback on stderr;
* every widget output is drawn by the widget renderer: no "Error displaying widget", no
  "Loading widget..." left, no text repr in place of the controls;
* in every explorer (an output holding an image and controls), the first slider (or, in an
  explorer without one, the first checkbox or dropdown) is focused and moved with the
  keyboard (a dropdown: its next option is chosen), and the image must change at each move;
  the key press to new image latency is recorded (``build/browser-latency.json``);
* a screenshot of the explorer is saved to ``build/screenshots/NN_name.png``;
* the notebook file on disk is unchanged, and no other lesson's kernel is running;
* no notification (toast) appeared while the lesson was open: the Binder build's settings turn
  off the "official Jupyter news" question and the update check;
* the lesson's kernel runs in the numeric configuration of its server (``tests/numeric_configs.py``
  ``check()`` run in the kernel: OpenBLAS kernel, threads and numpy's SIMD loops as asked).

Every lesson runs in the configuration a learner on Binder gets (nothing set); lessons 07-09,
the ones whose networks lean on matrix products, run again in a JupyterLab started under the
foreign configuration (another OpenBLAS kernel, numpy's baseline loops, two BLAS threads). The
test ids name the configuration: ``[default-nthreads-00_gradient_descent]``.

The time to open a lesson and to run all its cells is recorded too. ``RUN_TIMEOUT_S`` only
guards against a hang; the speed budgets are checked by ``benchmarks/``.

Run with ``make browser`` (which builds the Binder environment first).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.numeric_configs import BINDER, FOREIGN

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FOREIGN_LESSONS = ("07_batch_normalization", "08_residual_layers", "09_putting_it_together")
# (configuration of the server, lesson): every lesson under BINDER, three under FOREIGN too.
CASES = [(BINDER, notebook) for notebook in NOTEBOOKS] + [
    (FOREIGN, notebook) for notebook in NOTEBOOKS if notebook.stem in FOREIGN_LESSONS
]
SCREENSHOTS = BUILD / "screenshots"
RUN_TIMEOUT_S = 180  # a lesson runs in about 10 s (budget 30 s); this only catches a hang
PRESSES = 7  # key presses per explorer; the median latency is reported

# The control moved in each explorer, in order of preference: a slider (arrow keys), else a
# checkbox (space bar), else a dropdown (the next option chosen).
CONTROLS = {
    "slider": ".widget-slider .noUi-handle",
    "checkbox": ".widget-checkbox input[type=checkbox]",
    "dropdown": ".widget-dropdown select",
}
# An explorer: an output holding a widget image and at least one of those controls.
EXPLORER = ".jp-OutputArea-output:has(.jupyter-widgets img):has({})".format(
    ", ".join(CONTROLS.values())
)
ANSI_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")  # the colours of IPython's tracebacks
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# The notebook panel showing `path`, found through the app object (exposed by the server flag
# --LabApp.expose_app_in_browser). Execution counts are read from the model because a cell
# whose input is collapsed shows no prompt. And from the first moment, a record of every
# notification toast shown, even one that closes itself again.
INIT_SCRIPT = """
window.__lessonPanel = (path) => Array.from(window.jupyterapp.shell.widgets('main'))
    .find((w) => w.context && w.context.path === path);
window.__toasts = [];
new MutationObserver((records) => {
    for (const record of records) {
        for (const node of record.addedNodes) {
            if (node.nodeType !== Node.ELEMENT_NODE) continue;
            const toasts = node.matches('.Toastify__toast') ? [node]
                : Array.from(node.querySelectorAll('.Toastify__toast'));
            for (const toast of toasts) window.__toasts.push(toast.textContent || '(empty)');
        }
    }
}).observe(document, {childList: true, subtree: true});
"""

# Every notification shown so far: the toasts seen, and those still on the page.
NOTIFICATIONS = """() => Array.from(new Set(window.__toasts.concat(
    Array.from(document.querySelectorAll('.Toastify__toast'), (t) => t.textContent || '(empty)')
)))"""

# Run `code` in the lesson's kernel, outside any cell; return its stdout (and any error).
KERNEL_OUTPUT = """async ([path, code]) => {
    const kernel = window.__lessonPanel(path).sessionContext.session.kernel;
    let text = '';
    const future = kernel.requestExecute({code, silent: false, store_history: false});
    future.onIOPub = (msg) => {
        if (msg.header.msg_type === 'stream') text += msg.content.text;
        if (msg.header.msg_type === 'error') text += msg.content.ename + ': ' + msg.content.evalue;
    };
    await future.done;
    return text;
}"""
# What the kernel has in force: tests/numeric_configs.py's check() (it needs numpy only).
KERNEL_CHECK = (
    "import json, runpy\n"
    "print(json.dumps(runpy.run_path({path!r})['check']()))"
)

NOTEBOOK_STATE = """(path) => {
    const panel = window.__lessonPanel(path);
    if (!panel || !panel.context.isReady || !panel.content.model) return null;
    const model = panel.content.model;
    const cells = [];
    for (let i = 0; i < model.cells.length; i++) {
        const cell = model.cells.get(i);
        const outputs = [];
        if (cell.type === 'code') {
            for (let j = 0; j < cell.outputs.length; j++) {
                outputs.push(cell.outputs.get(j).toJSON());
            }
        }
        cells.push({
            type: cell.type,
            source: cell.sharedModel.getSource(),
            count: cell.type === 'code' ? cell.executionCount : null,
            tags: cell.getMetadata('tags') || [],
            outputs,
        });
    }
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    return {
        cells,
        kernel: kernel ? kernel.status : 'none',
        domCells: panel.content.node.querySelectorAll('.jp-Cell').length,
    };
}"""

# Rendering problems visible on the page, per output element.
DOM_PROBLEMS = """(path) => {
    const problems = [];
    window.__lessonPanel(path).content.widgets.forEach((cell, index) => {
        const expectsError = (cell.model.getMetadata('tags') || []).includes('raises-exception');
        for (const out of cell.node.querySelectorAll('.jp-OutputArea-output')) {
            const text = out.textContent || '';
            const stderr = out.dataset.mimeType === 'application/vnd.jupyter.stderr';
            if (stderr && text.includes('Traceback') && !expectsError) {
                problems.push(`cell ${index}, traceback: ` + text.slice(0, 2000));
            }
            if (text.includes('Error displaying widget')) {
                problems.push(`cell ${index}, widget error: ` + text);
            }
            if (text.includes('Loading widget...')) {
                problems.push(`cell ${index}, widget still loading`);
            }
        }
        const prompt = cell.node.querySelector('.jp-InputPrompt');
        if (prompt && prompt.textContent.includes('*')) {
            problems.push(`cell ${index} still running`);
        }
    });
    return problems;
}"""

# Outputs drawn by the widget renderer (a text repr in their place has no widget inside).
WIDGET_OUTPUT_COUNT = """(path) => window.__lessonPanel(path).content.node
    .querySelectorAll('.jp-OutputArea-output:has(> .jupyter-widgets)').length"""

# Arm one measurement: time from the key going down on the control (or, for a dropdown, the
# choice changing) to the new image loaded.
ARM_LATENCY = """([control, image]) => {
    const probe = {before: image.src, down: null, loaded: null};
    window.__latency = probe;
    const start = () => { if (probe.down === null) probe.down = performance.now(); };
    for (const event of ['keydown', 'change']) {
        control.addEventListener(event, start, {once: true, capture: true});
    }
    const onLoad = () => {
        if (image.src !== probe.before) {
            probe.loaded = performance.now();
            image.removeEventListener('load', onLoad);
        }
    };
    image.addEventListener('load', onLoad);
}"""


def _lesson_id(path: Path) -> str:
    return path.stem


def _case_id(case: tuple[str, Path]) -> str:
    config, notebook = case
    return f"{config}-{notebook.stem}"


def _code_cells(state: dict) -> list[dict]:
    return [c for c in state["cells"] if c["type"] == "code" and c["source"].strip()]


def _errors(state: dict) -> list[str]:
    """Error outputs of cells that are not tagged ``raises-exception``."""
    found = []
    for index, cell in enumerate(state["cells"]):
        if "raises-exception" in cell["tags"]:
            continue
        for output in cell["outputs"]:
            if output.get("output_type") == "error":
                trace = ANSI_ESCAPES.sub("", "\n".join(output.get("traceback", [])))
                found.append(
                    f"cell {index}: {output.get('ename')}: {output.get('evalue')}\n{trace}"
                )
    return found


def _wait_for(page, predicate, what: str, timeout: float, detail=lambda: ""):
    """Poll ``predicate()`` until it returns something truthy; on timeout fail, saying ``what``
    was awaited and ``detail()``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}. {detail()}")
        page.wait_for_timeout(200)


def _control_position(kind: str, control) -> tuple[float, float, float]:
    """Where a slider or dropdown stands, and the two ends of its range, in its own units (a
    slider's ARIA values, rounded alike; a dropdown's option index)."""
    if kind == "slider":
        return tuple(float(control.get_attribute(f"aria-value{a}")) for a in ("now", "min", "max"))
    index, count = control.evaluate("(e) => [e.selectedIndex, e.options.length]")
    return index, 0, count - 1


def _control_state(kind: str, control) -> str:
    if kind == "slider":
        return control.get_attribute("aria-valuetext")
    if kind == "checkbox":
        return str(control.is_checked())
    return control.input_value()


def _move_a_control(page, explorer, path: str) -> list[float]:
    """Move the explorer's first slider (else checkbox, else dropdown) ``PRESSES`` times, with
    the keyboard (a dropdown: choosing the next option); each move must change the image.
    Return the latencies in ms."""
    kind = next(kind for kind, selector in CONTROLS.items() if explorer.locator(selector).count())
    control = explorer.locator(CONTROLS[kind]).first
    image = explorer.locator(".jupyter-widgets img").first
    control.scroll_into_view_if_needed()
    control.focus()
    samples, step = [], 0
    for _ in range(PRESSES):
        if kind == "checkbox":
            action = "Space"
        else:
            now, low, high = _control_position(kind, control)
            if not step:
                step = 1 if high - now >= now - low else -1  # towards the roomier side
            if (step > 0 and now >= high) or (step < 0 and now <= low):
                step = -step  # at the end of the range: come back
            action = "ArrowRight" if step > 0 else "ArrowLeft"
        before = _control_state(kind, control)
        page.evaluate(ARM_LATENCY, [control.element_handle(), image.element_handle()])
        if kind == "dropdown":  # arrow keys open a closed list here: choose the next option
            action = f"choosing option {int(now) + step}"
            control.select_option(index=int(now) + step)
        else:
            page.keyboard.press(action)
        try:
            page.wait_for_function(
                "() => window.__latency.loaded !== null && window.__latency.down !== null",
                timeout=10_000,
            )
        except PlaywrightTimeout:
            message = f"{action} on {path}'s explorer {kind} did not change its image in 10 s"
            raise AssertionError(message) from None
        assert _control_state(kind, control) != before, f"{action} did not change the {kind}"
        probe = page.evaluate("() => window.__latency")
        samples.append(probe["loaded"] - probe["down"])
    return samples


def _click_menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


@pytest.fixture
def lesson_page(browser, lab_server, request):
    """A fresh browser page; the lesson's session (and kernel) is deleted afterwards."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.add_init_script(INIT_SCRIPT)
    yield page
    context.close()
    lab_server.delete_sessions(request.node.funcargs["notebook"].relative_to(ROOT).as_posix())


@pytest.mark.parametrize(
    ("lab_server", "notebook"),
    [pytest.param(*case, id=_case_id(case)) for case in CASES],
    indirect=["lab_server"],
)
def test_lesson_runs_and_its_explorer_redraws(notebook: Path, lesson_page, lab_server, results):
    page = lesson_page
    path = notebook.relative_to(ROOT).as_posix()
    digest = hashlib.sha256(notebook.read_bytes()).hexdigest()
    on_disk = json.loads(notebook.read_text(encoding="utf-8"))

    # Open the lesson the way the Binder link does; `reset` starts from an empty workspace.
    opened = time.perf_counter()
    page.goto(f"{lab_server.url}/lab/tree/{path}?reset&token={lab_server.token}")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
    _wait_for(
        page,
        lambda: (
            (s := page.evaluate(NOTEBOOK_STATE, path))
            and s["kernel"] == "idle"
            and len(s["cells"]) == len(on_disk["cells"])
        ),
        "the notebook to load and its kernel to be idle",
        timeout=60,
    )

    _click_menu(page, "Edit", "Clear Outputs of All Cells")
    cleared = page.evaluate(NOTEBOOK_STATE, path)
    assert all(not c["outputs"] and c["count"] is None for c in _code_cells(cleared)), (
        "outputs or execution counts survived Edit > Clear Outputs of All Cells"
    )

    started = time.perf_counter()
    open_seconds = started - opened
    _click_menu(page, "Run", "Run All Cells")

    def finished():
        state = page.evaluate(NOTEBOOK_STATE, path)
        if state["kernel"] != "idle":
            return None
        if _errors(state) or all(c["count"] is not None for c in _code_cells(state)):
            return state
        return None

    state = _wait_for(page, finished, f"{path} to run to the end", timeout=RUN_TIMEOUT_S)
    run_seconds = time.perf_counter() - started
    errors = _errors(state)
    assert not errors, f"{path} raised:\n" + "\n\n".join(errors)
    code = _code_cells(state)
    not_run = [i for i, c in enumerate(state["cells"]) if c in code and c["count"] is None]
    assert not not_run, f"cells {not_run} of {path} did not run"

    # Widgets render asynchronously after their output arrives: wait for every one.
    widget_outputs = sum(
        WIDGET_MIME in o.get("data", {}) for c in state["cells"] for o in c["outputs"]
    )

    def rendered():
        problems = page.evaluate(DOM_PROBLEMS, path)
        still = [p for p in problems if p.endswith(("still loading", "still running"))]
        return page.evaluate(WIDGET_OUTPUT_COUNT, path) == widget_outputs and not still

    _wait_for(
        page,
        rendered,
        f"{widget_outputs} widget outputs to render",
        timeout=30,
        detail=lambda: (
            f"{page.evaluate(WIDGET_OUTPUT_COUNT, path)} drawn as widgets (the others show as "
            f"text: is the ipywidgets front end missing?); problems on the page: "
            f"{page.evaluate(DOM_PROBLEMS, path)}"
        ),
    )
    problems = page.evaluate(DOM_PROBLEMS, path)
    assert not problems, f"{path} shows problems:\n" + "\n".join(problems)
    assert state["domCells"] == len(state["cells"])

    explorers = page.locator(EXPLORER)
    assert explorers.count() >= 1, f"{path} shows no explorer (an output with controls and image)"
    samples = []
    for index in range(explorers.count()):
        samples += _move_a_control(page, explorers.nth(index), path)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    explorers.first.scroll_into_view_if_needed()
    suffix = "" if lab_server.config == BINDER else f"-{lab_server.config}"
    page.screenshot(path=str(SCREENSHOTS / f"{notebook.stem}{suffix}.png"))

    # The kernel runs in the server's numeric configuration, really applied.
    probe = KERNEL_CHECK.format(path=str(ROOT / "tests" / "numeric_configs.py"))
    output = page.evaluate(KERNEL_OUTPUT, [path, probe])
    try:
        lines, problems = json.loads(output)
    except ValueError:
        pytest.fail(f"the numeric configuration check failed in {path}'s kernel: {output}")
    assert lines[0] == f"numeric configuration: {lab_server.config}", lines
    assert not problems, f"{path}'s kernel:\n" + "\n".join(lines + problems)

    notifications = page.evaluate(NOTIFICATIONS)
    assert not notifications, (
        f"notifications appeared while {path} was open (the Binder build's settings overrides "
        f"should turn off the news question and the update check): {notifications}"
    )

    assert hashlib.sha256(notebook.read_bytes()).hexdigest() == digest, (
        f"the browser test changed {path} on disk"
    )
    sessions = {session["path"] for session in lab_server.api("GET", "sessions")}
    assert sessions == {path}, f"kernels running for {sorted(sessions)}, expected only {path}"
    results[lab_server.config, _lesson_id(notebook)] = {
        "open_s": open_seconds,
        "run_s": run_seconds,
        "latency_ms": samples,
        "in_force": lines[2].split(":", 1)[1].strip(),
    }
