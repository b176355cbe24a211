"""What every checker shares.

``run_cases`` calls the learner's function and the reference on each case (a
``Case``: a dict of keyword arguments), prints one line per case and a summary;
``same`` and ``_unchanged`` say what differs, ``describe`` writes a value into a
report line. The lesson modules build the cases and the reference answers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

Case = dict[str, Any]


def describe(value: Any, width: int = 60) -> str:
    """A short one-line description of a value for a report line."""
    if isinstance(value, np.generic):  # np.float64(1.0) reads better as 1.0
        value = value.item()
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, separator=", ", threshold=6)
        text = " ".join(text.split())
        return text if len(text) <= width else f"array of shape {value.shape}"
    if isinstance(value, dict):
        inner = ", ".join(f"{k!r}: {describe(v, width)}" for k, v in value.items())
        text = "{" + inner + "}"
        return text if len(text) <= width else f"dict with keys {sorted(value, key=str)}"
    if callable(value):
        return getattr(value, "__name__", "a function")
    text = " ".join(repr(value).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def same(expected: Any, got: Any, rtol: float, atol: float) -> str | None:
    """``None`` when ``got`` matches ``expected``, else what differs."""
    if got is None:
        return "got None (did you forget to return the result?)"
    if isinstance(expected, tuple):
        if not isinstance(got, tuple | list) or len(got) != len(expected):
            return f"expected a tuple of {len(expected)} values, got {describe(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            problem = same(e, g, rtol, atol)
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
        # report the worst mismatch (inf - inf and NaN count as the worst)
        mismatch = ~np.isclose(got_arr, exp_arr, rtol=rtol, atol=atol, equal_nan=True)
        with np.errstate(invalid="ignore"):
            gap = np.nan_to_num(np.abs(got_arr - exp_arr) - rtol * np.abs(exp_arr), nan=np.inf)
        where = np.unravel_index(np.argmax(np.where(mismatch, gap, -np.inf)), exp_arr.shape)
        at = f" at index {tuple(int(i) for i in where)}" if exp_arr.ndim else ""
        return (
            f"expected {describe(exp_arr[where])}{at}, got {describe(got_arr[where])}"
            if exp_arr.ndim
            else f"expected {describe(float(exp_arr))}, got {describe(float(got_arr))}"
        )
    return None


def _unchanged(before: Case, after: Case) -> str | None:
    """What the learner changed in place: an input array, or an array inside an input dict."""
    for name, value in before.items():
        if isinstance(value, np.ndarray) and not np.array_equal(value, after[name], equal_nan=True):
            return f"your function changed its input {name!r}; work on a copy instead"
        if isinstance(value, dict):
            for key, array in value.items():
                if isinstance(array, np.ndarray) and not np.array_equal(
                    array, after[name][key], equal_nan=True
                ):
                    return f"your function changed {name}[{key!r}] in place; work on a copy instead"
    return None


def returned(result: Any, names: tuple[str, ...]) -> tuple | None:
    """The learner's result as a tuple of ``len(names)`` items (``None`` passes through).

    Anything else is a ``TypeError`` that names the expected form, e.g. "return the pair
    (out, cache)", which ``run_cases`` reports as the case's failure.
    """
    if result is None:
        return None
    if not isinstance(result, tuple | list) or len(result) != len(names):
        form = {2: "pair", 3: "triple"}.get(len(names), "tuple")
        raise TypeError(f"return the {form} ({', '.join(names)}), got {describe(result)}")
    return tuple(result)


def check_learner_function(learner_fn: object) -> None:
    """Raise unless the learner passed a function (``check(f)``, not ``check(f(x))``)."""
    if not callable(learner_fn):
        raise TypeError(f"pass your function itself, got {type(learner_fn).__name__}")


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
    check_learner_function(learner_fn)
    results = []
    for k, case in enumerate(cases, start=1):
        expected = reference_fn(**copy.deepcopy(case))
        given = copy.deepcopy(case)
        inputs = ", ".join(f"{key}={describe(value)}" for key, value in case.items())
        try:
            got = learner_fn(**given)
        except NotImplementedError:
            print(f"{name} case {k}: not implemented yet (replace the `raise NotImplementedError`)")
            results.append(False)
            break
        except Exception as error:  # the learner's bug, reported, not raised
            problem = _unchanged(case, given) or f"raised {type(error).__name__}: {error}"
            print(f"{name} case {k}: FAIL, {problem}  [{inputs}]")
            results.append(False)
            continue
        # an input changed in place is reported first: it can also spoil the values
        problem = _unchanged(case, given) or same(expected, got, rtol, atol)
        print(f"{name} case {k}: " + (f"FAIL, {problem}  [{inputs}]" if problem else "pass"))
        results.append(problem is None)
    passed = sum(results)
    ok = bool(results) and passed == len(results)
    print(f"{name}: {'all ' if ok else ''}{passed} of {len(results)} cases passed")
    return ok
