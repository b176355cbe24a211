"""How fast is one optimizer step, compared with copying the same memory?

Run from the repository root:

    python benchmarks/bench_optimizers.py

For each optimizer, one ``step`` on a single parameter of 1 M numbers (float32 and float64) is
timed next to ``np.copyto`` of an array of the same size: the memory-bandwidth floor, since a
step has to read the parameter and its gradient and write the parameter back at least once.
The two are timed alternately, round after round, and the table gives the median time of each
and the median of the per-round ratios step / copy, all measured in this one run. The row
"finite check" is the part of every step that checks the gradient for NaN and infinity (one
``np.isfinite(g).all()``).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    import course_lib  # noqa: F401
except ImportError:  # not installed: use the copy in this repository
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course_lib.optimizers import SGD, Adam, AdamW, Momentum, RMSProp

N = 1_000_000
ROUNDS = 31  # timed rounds; each round times every case once, step and copy alternately
CALLS = 5  # calls per timing, to lift short timings well above the clock's resolution

CASES = {
    "SGD": lambda: SGD(1e-3),
    "Momentum": lambda: Momentum(1e-3),
    "Momentum (Nesterov)": lambda: Momentum(1e-3, nesterov=True),
    "RMSProp": lambda: RMSProp(1e-3),
    "Adam": lambda: Adam(1e-3),
    "AdamW": lambda: AdamW(1e-3),
}


def seconds_per_call(function) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        function()
    return (time.perf_counter() - start) / CALLS


def measure(dtype) -> dict[str, tuple[float, float, float]]:
    """case -> (median step seconds, median copy seconds, median of the ratios step / copy)."""
    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=N).astype(dtype)}
    grads = {"w": rng.normal(size=N).astype(dtype)}
    source, target = rng.normal(size=N).astype(dtype), np.empty(N, dtype)

    def copy():
        np.copyto(target, source)

    work = {"finite check": lambda: np.isfinite(grads["w"]).all()}
    for name, make in CASES.items():
        optimizer = make()
        optimizer.step(params, grads)  # creates the state, so it is not timed
        work[name] = lambda optimizer=optimizer: optimizer.step(params, grads)

    times = {name: ([], []) for name in work}
    for _ in range(ROUNDS):
        for name, step in work.items():
            step_times, copy_times = times[name]
            copy_times.append(seconds_per_call(copy))
            step_times.append(seconds_per_call(step))
    return {
        name: (
            statistics.median(step_times),
            statistics.median(copy_times),
            statistics.median(s / c for s, c in zip(step_times, copy_times, strict=True)),
        )
        for name, (step_times, copy_times) in times.items()
    }


def main() -> None:
    results = {dtype.__name__: measure(dtype) for dtype in (np.float32, np.float64)}
    print(f"one step on {N:,} parameters vs np.copyto of the same array (numpy {np.__version__})")
    print(f"medians of {ROUNDS} interleaved rounds, {CALLS} calls per timing\n")
    header = f"{'':22}"
    for dtype in results:
        header += f" | {dtype + ' step':>13} {'copy':>9} {'step/copy':>9}"
    print(header)
    print("-" * len(header))
    for name in results["float32"]:
        row = f"{name:22}"
        for dtype in results:
            step, copy, ratio = results[dtype][name]
            row += f" | {step * 1e6:10.0f} us {copy * 1e6:6.0f} us {ratio:9.2f}"
        print(row)


if __name__ == "__main__":
    main()
