"""What every checker shares.

``run_cases`` calls the learner's function and the reference on each case (a
``Case``: a dict of keyword arguments) under a time limit, prints one line per case
and a summary, then a hint when the answers are those of a known mistake;
``same`` and ``_unchanged`` say what differs, ``describe`` writes a value into a
report line. The lesson modules build the cases, the reference answers and the
mistakes.
"""

from __future__ import annotations

import copy
import ctypes
import functools
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from numbers import Real
from typing import Any

import numpy as np

from course_lib.validation import check_positive

Case = dict[str, Any]

TIME_LIMIT = 5.0
"""Seconds one case of a check may take (``run_cases(time_limit=...)`` overrides it)."""


class _TimeLimitExceeded(BaseException):
    """Raised into the learner's code at the time limit.

    A ``BaseException``, like ``KeyboardInterrupt``, so that an ``except Exception`` in the
    learner's loop does not swallow it.
    """


def _call_with_alarm(fn: Callable[[], Any], seconds: float) -> Any:
    """``fn()``, stopped by ``SIGALRM`` after ``seconds`` (main thread, POSIX).

    The previous ``SIGALRM`` handler and timer are restored; a timer that was running goes on
    with the time it had left (at least a microsecond), so it fires late, never early.
    """
    armed = [True]

    def on_alarm(signum: int, frame: object) -> None:
        if armed[0]:  # once only, and never after fn has returned
            armed[0] = False
            raise _TimeLimitExceeded

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        try:
            return fn()
        finally:
            armed[0] = False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM,
                      signal.SIG_DFL if previous_handler is None else previous_handler)
        if previous_delay > 0:
            left = max(previous_delay - (time.monotonic() - start), 1e-6)
            signal.setitimer(signal.ITIMER_REAL, left, previous_interval)


def _call_in_thread(fn: Callable[[], Any], seconds: float) -> Any:
    """``fn()`` in a daemon thread, given up after ``seconds``.

    At the limit the thread is asked to stop (CPython raises ``_TimeLimitExceeded`` in it at
    its next Python instruction); code stuck inside one C call runs on in the background.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error

    thread = threading.Thread(target=target, name="learner function", daemon=True)
    thread.start()
    try:
        thread.join(seconds)
        finished = not thread.is_alive()
    finally:  # at the limit, or on an interrupt during the wait
        python_api = getattr(ctypes, "pythonapi", None)  # CPython's C API, if there is one
        if thread.is_alive() and python_api is not None:
            python_api.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                 ctypes.py_object(_TimeLimitExceeded))
    if not finished:
        raise _TimeLimitExceeded
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _call_with_time_limit(fn: Callable[[], Any], seconds: float) -> Any:
    """Return ``fn()``, or raise ``_TimeLimitExceeded`` if it runs longer than ``seconds``.

    In the main thread on Linux and macOS (a Jupyter kernel runs its cells there) a
    ``SIGALRM`` timer interrupts the learner's Python code where it is, and the previous
    handler and timer are restored afterwards. Where signals are unavailable (Windows, or a
    check called from another thread) ``fn`` runs in a daemon thread that is abandoned at the
    limit and asked to stop. Either way a long computation inside one numpy call (a huge
    matrix product) is only interrupted when that call returns.
    """
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        return _call_with_alarm(fn, seconds)
    return _call_in_thread(fn, seconds)


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


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def real_numbers(value: Any) -> np.ndarray:
    """``value`` as a float64 array; a ``TypeError`` says why it is not real numbers.

    Text, booleans, complex numbers and objects other than numbers (``None`` among the
    values, a dict) are refused, even where numpy would convert them (``"1.5"`` -> 1.5).
    """
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # ragged lists and the like
        array = np.empty((), dtype=object)
        array[()] = value
    kind = array.dtype.kind
    if kind in "iuf":
        return array.astype(np.float64)
    if kind in "US":
        raise TypeError(f"expected numbers, got text ({describe(value)}): return the number "
                        "itself, not a string")
    if kind == "b":
        raise TypeError(f"expected numbers, got True/False ({describe(value)})")
    if kind == "c":
        raise TypeError(f"expected real numbers, got complex ones ({describe(value)}): a "
                        "square root or a power of a negative number?")
    if kind != "O":
        raise TypeError(f"expected numbers, got values of dtype {array.dtype}")
    if array.ndim == 0 and not _is_real(array.item()):
        raise TypeError(f"expected a number or array, got {type(value).__name__}")
    for index, item in np.ndenumerate(array):
        if not _is_real(item):
            at = f" at index {index}" if array.ndim else ""
            raise TypeError(f"expected numbers, got {describe(item)} ({type(item).__name__}){at}")
    try:
        return array.astype(np.float64)
    except OverflowError:  # a Python integer beyond the float range
        raise TypeError(f"expected numbers in the float range, got {describe(value)}") from None


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
        got_arr = real_numbers(got)
    except TypeError as error:
        return str(error)
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
    """What the learner changed in place: an input array, or a key or array of an input dict."""
    for name, value in before.items():
        if isinstance(value, np.ndarray) and not np.array_equal(value, after[name], equal_nan=True):
            return f"your function changed its input {name!r}; work on a copy instead"
        if isinstance(value, dict):
            now = after[name]
            removed = [key for key in value if key not in now]
            if removed:
                return (f"your function removed the key {removed[0]!r} from {name}; leave the "
                        "dicts passed in as they are and build new ones")
            added = [key for key in now if key not in value]
            if added:
                return (f"your function added the key {added[0]!r} to {name}; leave the dicts "
                        "passed in as they are and build new ones")
            for key, array in value.items():
                if isinstance(array, np.ndarray) and not np.array_equal(
                    array, now[key], equal_nan=True
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


def _diagnosis(mistakes: Mapping[str, Callable[..., Any]],
               failed: list[tuple[Case, Any]], rtol: float, atol: float) -> str | None:
    """The first mistake whose wrong answer the learner gave on every case that failed on values."""

    def gave(wrong: Callable[..., Any], case: Case, got: Any) -> bool:
        try:
            with np.errstate(all="ignore"):  # a wrong formula may divide by zero, as the learner's
                return same(wrong(**copy.deepcopy(case)), got, rtol, atol) is None
        except Exception:  # a variant that does not apply to this case
            return False

    for hint, wrong in mistakes.items():
        if failed and all(gave(wrong, case, got) for case, got in failed):
            return hint
    return None


def _timeout_message(seconds: float) -> str:
    return (f"your function did not return within {seconds:g} s; look for an endless loop (a "
            "while loop whose condition stays true, a generator that never stops); if it is "
            "only slow, raise the limit, e.g. course_lib.checks.core.TIME_LIMIT = 30")


def run_cases(
    name: str,
    learner_fn: Callable[..., Any],
    reference_fn: Callable[..., Any],
    cases: Iterable[Case],
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    mistakes: Mapping[str, Callable[..., Any]] | None = None,
    time_limit: float | None = None,
) -> bool:
    """Compare ``learner_fn(**case)`` with ``reference_fn(**case)`` on every case.

    Prints ``name case k: pass`` or ``name case k: FAIL ...`` with the inputs,
    then a summary line; returns whether all cases passed.

    ``mistakes`` maps a hint to a function with the reference's signature that computes a
    known wrong answer; after a failure, ``hint: ...`` names the first mistake whose answers
    the learner gave on every case that failed on its values.

    Each case may take ``time_limit`` seconds (default ``TIME_LIMIT``); one that takes longer
    is reported and ends the check, since the next cases would most likely hang too. In the
    main thread on Linux and macOS (where Jupyter runs its cells) a ``SIGALRM`` timer stops
    the learner's code, and any previous ``SIGALRM`` handler and timer are restored after each
    case. Where signals are unavailable (Windows, or a check called from another thread) the
    function runs in a daemon thread, which is asked to stop at the limit. Either way a numpy
    call that is busy inside compiled code (a huge matrix product) is only stopped when it
    returns; and a function that swallows every exception (a bare ``except:``) in its loop
    can outlive the limit.
    """
    check_learner_function(learner_fn)
    seconds = check_positive("time_limit", TIME_LIMIT if time_limit is None else time_limit)
    results, failed = [], []
    for k, case in enumerate(cases, start=1):
        expected = reference_fn(**copy.deepcopy(case))
        given = copy.deepcopy(case)
        inputs = ", ".join(f"{key}={describe(value)}" for key, value in case.items())
        try:
            got = _call_with_time_limit(functools.partial(learner_fn, **given), seconds)
        except NotImplementedError:
            print(f"{name} case {k}: not implemented yet (replace the `raise NotImplementedError`)")
            results.append(False)
            break
        except _TimeLimitExceeded:
            print(f"{name} case {k}: FAIL, {_timeout_message(seconds)}  [{inputs}]")
            results.append(False)
            break
        except Exception as error:  # the learner's bug, reported, not raised
            problem = _unchanged(case, given) or f"raised {type(error).__name__}: {error}"
            print(f"{name} case {k}: FAIL, {problem}  [{inputs}]")
            results.append(False)
            continue
        # an input changed in place is reported first: it can also spoil the values
        changed = _unchanged(case, given)
        problem = changed or same(expected, got, rtol, atol)
        print(f"{name} case {k}: " + (f"FAIL, {problem}  [{inputs}]" if problem else "pass"))
        results.append(problem is None)
        if problem and not changed:
            failed.append((case, got))
    passed = sum(results)
    ok = bool(results) and passed == len(results)
    print(f"{name}: {'all ' if ok else ''}{passed} of {len(results)} cases passed")
    hint = _diagnosis(mistakes or {}, failed, rtol, atol)
    if hint:
        print(f"hint: {hint}")
    return ok
