"""How fast is one optimizer step, compared with copying the same memory? And how fast is the
runner of the lessons' 2-D runs, compared with a bare numpy loop?

Run from the repository root:

    python benchmarks/bench_optimizers.py

For each optimizer, one ``step`` on a single parameter of 1 M numbers (float32 and float64) is
timed next to ``np.copyto`` of an array of the same size: the memory-bandwidth floor, since a
step has to read the parameter and its gradient and write the parameter back at least once.
The two are timed alternately, round after round, and the table gives the median time of each
and the median of the per-round ratios step / copy, all measured in this one run. The row
"finite check" is the part of every step that checks the gradient for NaN and infinity (one
``np.isfinite(g).all()``).

Second table: ``problems.run_optimizer`` for one 2-D run (the lessons' paths on a bowl and on
Rosenbrock's valley), per step, against a bare numpy loop of the same update on the same problem
(the textbook form, ``m = beta1 * m + (1 - beta1) * g`` and so on, storing the path the same
way). Both call ``problem.grad``; the ratio is the runner's overhead: the check at the door,
the call of the optimizer's rule, the detection of a diverging run. The two are timed
alternately, and the table gives medians over the rounds.
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
from course_lib.problems import Quadratic, Rosenbrock, run_optimizer

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


RUN_STEPS = 2000  # steps of one 2-D run
RUN_ROUNDS = 15
LR, BETA, BETA1, BETA2, EPS = 1e-3, 0.9, 0.9, 0.999, 1e-8


def bare_sgd(problem, x0, steps):
    x = np.array(x0, dtype=np.float64)
    path = np.full((steps + 1, 2), np.nan)
    path[0] = x
    for t in range(1, steps + 1):
        x -= LR * problem.grad(x)
        path[t] = x
    return path


def bare_momentum(problem, x0, steps):
    x = np.array(x0, dtype=np.float64)
    v = np.zeros(2)
    path = np.full((steps + 1, 2), np.nan)
    path[0] = x
    for t in range(1, steps + 1):
        v = BETA * v + (1 - BETA) * problem.grad(x)
        x -= LR * v
        path[t] = x
    return path


def bare_rmsprop(problem, x0, steps):
    x = np.array(x0, dtype=np.float64)
    s = np.zeros(2)
    path = np.full((steps + 1, 2), np.nan)
    path[0] = x
    for t in range(1, steps + 1):
        g = problem.grad(x)
        s = BETA * s + (1 - BETA) * g * g
        x -= LR * g / (np.sqrt(s) + EPS)
        path[t] = x
    return path


def bare_adam(problem, x0, steps):
    x = np.array(x0, dtype=np.float64)
    m, v = np.zeros(2), np.zeros(2)
    path = np.full((steps + 1, 2), np.nan)
    path[0] = x
    for t in range(1, steps + 1):
        g = problem.grad(x)
        m = BETA1 * m + (1 - BETA1) * g
        v = BETA2 * v + (1 - BETA2) * g * g
        m_hat, v_hat = m / (1 - BETA1**t), v / (1 - BETA2**t)
        x -= LR * m_hat / (np.sqrt(v_hat) + EPS)
        path[t] = x
    return path


RUNS = {  # name: (optimizer, the same update as a bare loop)
    "SGD": (lambda: SGD(LR), bare_sgd),
    "Momentum": (lambda: Momentum(LR, BETA), bare_momentum),
    "RMSProp": (lambda: RMSProp(LR, BETA, EPS), bare_rmsprop),
    "Adam": (lambda: Adam(LR, BETA1, BETA2, EPS), bare_adam),
}


def measure_runs() -> dict[tuple[str, str], tuple[float, float, float]]:
    """(problem, optimizer) -> (median runner µs/step, median bare µs/step, median ratio)."""
    problems = {"bowl": Quadratic(kappa=10, angle=30), "Rosenbrock": Rosenbrock()}
    x0 = np.array([-1.5, 2.0])
    results = {}
    for problem_name, problem in problems.items():
        for name, (make, bare) in RUNS.items():
            # the same update (round-off grows along Rosenbrock's valley: compare the start)
            np.testing.assert_allclose(run_optimizer(make(), problem, x0, 100),
                                       bare(problem, x0, 100), rtol=1e-9)
            runner, loop = [], []
            for _ in range(RUN_ROUNDS):
                start = time.perf_counter()
                run_optimizer(make(), problem, x0, RUN_STEPS)
                runner.append((time.perf_counter() - start) / RUN_STEPS)
                start = time.perf_counter()
                bare(problem, x0, RUN_STEPS)
                loop.append((time.perf_counter() - start) / RUN_STEPS)
            results[problem_name, name] = (
                statistics.median(runner) * 1e6,
                statistics.median(loop) * 1e6,
                statistics.median(r / b for r, b in zip(runner, loop, strict=True)),
            )
    return results


def main() -> None:
    runs = measure_runs()
    print(f"one 2-D run of {RUN_STEPS} steps: run_optimizer vs a bare numpy loop of the same "
          f"update, medians of {RUN_ROUNDS} interleaved rounds\n")
    print(f"{'':22} | {'runner':>11} {'bare loop':>11} {'runner/bare':>11}")
    print("-" * 60)
    for (problem, name), (runner, bare, ratio) in runs.items():
        print(f"{name + ' on ' + problem:22} | {runner:8.1f} us {bare:8.1f} us {ratio:11.2f}")
    print(f"largest ratio: {max(ratio for _, _, ratio in runs.values()):.2f}\n")

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
