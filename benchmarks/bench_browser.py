"""How long from an arrow key on an explorer's slider to the new figure on screen?

Run from the repository root, after ``make binder`` (``make bench`` does both):

    python benchmarks/bench_browser.py

Runs the browser test (``tests/browser/``): every lesson opens in JupyterLab from the simulated
Binder build, in headless Chromium, runs all its cells, and then the first slider of each
explorer gets seven arrow-key presses. For each press the page measures, with
``performance.now()``, the time from the ``keydown`` event reaching the slider to the ``load``
event of the new image: the widget sending the value to the kernel, the kernel redrawing the
figure and encoding the PNG, the PNG travelling back, and the browser decoding it. The table
gives, per lesson, the median, the fastest and the slowest press, all from this one run, and
how long the lesson took to run all its cells in the browser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LATENCY_FILE = ROOT / "build" / "browser-latency.json"


def main() -> int:
    LATENCY_FILE.unlink(missing_ok=True)  # never print an earlier run's numbers
    command = [sys.executable, "-m", "pytest", "tests/browser", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(command, cwd=ROOT)
    if not LATENCY_FILE.exists():
        if result.returncode == 0:
            print("no figures: the browser test was skipped (see the reason above)")
        else:
            print(f"the browser test failed (exit {result.returncode}): no figures")
        return result.returncode
    figures = json.loads(LATENCY_FILE.read_text(encoding="utf-8"))
    print(f"\nkey press to new image, Chromium headless, {os.cpu_count()} cores")
    print(f"{'lesson':<28}{'median':>9}{'fastest':>9}{'slowest':>9}{'presses':>9}{'run all':>9}")
    for lesson, row in figures.items():
        print(
            f"{lesson:<28}{row['median_ms']:>6.0f} ms{row['min_ms']:>6.0f} ms"
            f"{row['max_ms']:>6.0f} ms{row['presses']:>9}{row['run_s']:>7.1f} s"
        )
    if result.returncode != 0:
        print(f"(only the lessons that passed; the browser test failed, exit {result.returncode})")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
