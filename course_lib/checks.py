"""Checkers for the exercises.

Each ``check_*`` function takes the learner's function, runs it on random
cases next to the reference answer, prints one line per case (``pass``, or
the first mismatch with the inputs that produced it) and returns ``True``
only when every case passes. The learner's inputs are fresh copies on every
call, and a function that changes its inputs is reported, because callers
of a numerical routine rely on their arrays staying put.

The checkers depend on nothing but their arguments: a learner may print,
add cells or rename things around their function without breaking them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

import numpy as np

from course_lib.optimizers import SGD
from course_lib.problems import Quadratic, run_optimizer

Case = dict[str, Any]


def _describe(value: Any, width: int = 60) -> str:
    """A short one-line description of a value for a report line."""
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, separator=", ", threshold=6)
        text = " ".join(text.split())
        return text if len(text) <= width else f"array of shape {value.shape}"
    if callable(value):
        return getattr(value, "__name__", "a function")
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _same(expected: Any, got: Any, rtol: float, atol: float) -> str | None:
    """``None`` when ``got`` matches ``expected``, else what differs."""
    if got is None:
        return "got None (did you forget to return the result?)"
    if isinstance(expected, tuple):
        if not isinstance(got, tuple | list) or len(got) != len(expected):
            return f"expected a tuple of {len(expected)} values, got {_describe(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            problem = _same(e, g, rtol, atol)
            if problem:
                return f"item {i}: {problem}"
        return None
    try:
        got_arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected a number or array, got {type(got).__name__}"
    exp_arr = np.asarray(expected, dtype=np.float64)
    if got_arr.shape != exp_arr.shape:
        return f"expected shape {exp_arr.shape}, got shape {got_arr.shape}"
    if not np.allclose(got_arr, exp_arr, rtol=rtol, atol=atol, equal_nan=True):
        where = np.unravel_index(
            np.argmax(np.abs(got_arr - exp_arr) - rtol * np.abs(exp_arr)), exp_arr.shape
        )
        at = f" at index {tuple(int(i) for i in where)}" if exp_arr.ndim else ""
        return (
            f"expected {_describe(exp_arr[where])}{at}, got {_describe(got_arr[where])}"
            if exp_arr.ndim
            else f"expected {_describe(float(exp_arr))}, got {_describe(float(got_arr))}"
        )
    return None


def _unchanged(before: Case, after: Case) -> str | None:
    for name, value in before.items():
        if isinstance(value, np.ndarray) and not np.array_equal(value, after[name], equal_nan=True):
            return f"your function changed its input {name!r}; work on a copy instead"
    return None


def run_cases(
    name: str,
    learner_fn: Callable[..., Any],
    reference_fn: Callable[..., Any],
    cases: Iterable[Case],
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> bool:
    """Compare ``learner_fn(**case)`` with ``reference_fn(**case)`` on every case.

    Prints ``name case k: pass`` or ``name case k: FAIL ...`` with the inputs,
    then a summary line; returns whether all cases passed.
    """
    if not callable(learner_fn):
        raise TypeError(f"pass your function itself, got {type(learner_fn).__name__}")
    results = []
    for k, case in enumerate(cases, start=1):
        expected = reference_fn(**copy.deepcopy(case))
        given = copy.deepcopy(case)
        inputs = ", ".join(f"{key}={_describe(value)}" for key, value in case.items())
        try:
            got = learner_fn(**given)
        except NotImplementedError:
            print(f"{name} case {k}: not implemented yet (replace the `raise NotImplementedError`)")
            results.append(False)
            break
        except Exception as error:  # the learner's bug, reported, not raised
            print(f"{name} case {k}: FAIL, raised {type(error).__name__}: {error}  [{inputs}]")
            results.append(False)
            continue
        problem = _same(expected, got, rtol, atol) or _unchanged(case, given)
        print(f"{name} case {k}: " + (f"FAIL, {problem}  [{inputs}]" if problem else "pass"))
        results.append(problem is None)
    passed = sum(results)
    ok = bool(results) and passed == len(results)
    print(f"{name}: {'all ' if ok else ''}{passed} of {len(results)} cases passed")
    return ok


# --- lesson 00: gradient descent ------------------------------------------


def _random_spd(rng: np.random.Generator, n: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    eigenvalues = np.exp(rng.uniform(-2.0, 2.0, size=n))
    return (q * eigenvalues) @ q.T


def _reference_gradient_descent(grad, x0, lr, steps):
    return run_optimizer(SGD(lr), SimpleNamespace(grad=grad), x0, steps)


def check_gradient_descent(learner_fn: Callable[..., np.ndarray], seed: int = 0) -> bool:
    """Exercise: ``gradient_descent(grad, x0, lr, steps)`` returns the path.

    The path is an array of shape ``(steps + 1, 2)`` whose row ``t`` is the
    point after ``t`` updates ``x <- x - lr * grad(x)`` (row 0 is ``x0``).
    Cases: random rotated quadratics, several learning rates and lengths.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(5):
        problem = Quadratic(
            kappa=float(rng.uniform(1, 50)), L=float(rng.uniform(0.5, 4)),
            angle=float(rng.uniform(0, 180)),
        )
        cases.append({
            "grad": problem.grad,
            "x0": rng.uniform(-3, 3, size=2),
            "lr": float(rng.uniform(0.05, 1.9) / problem.L),
            "steps": int(rng.integers(1, 30)),
        })
    return run_cases("gradient_descent", learner_fn, _reference_gradient_descent, cases)


def _reference_optimal_step(A):
    eigenvalues = np.linalg.eigvalsh(A)
    L, mu = eigenvalues[-1], eigenvalues[0]
    return 2.0 / (L + mu), (L - mu) / (L + mu), 2.0 / L


def check_optimal_step(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``optimal_step(A)`` for a symmetric positive definite Hessian.

    Returns ``(best_lr, rate, max_stable_lr)`` =
    ``(2/(L + mu), (kappa - 1)/(kappa + 1), 2/L)`` where ``L`` and ``mu`` are
    the largest and smallest eigenvalues of ``A`` and ``kappa = L/mu``.
    Cases: random SPD matrices from 2x2 to 6x6.
    """
    rng = np.random.default_rng(seed)
    cases = [{"A": _random_spd(rng, n)} for n in (2, 2, 3, 4, 6)]
    return run_cases("optimal_step", learner_fn, _reference_optimal_step, cases)

