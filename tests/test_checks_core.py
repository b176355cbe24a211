"""``course_lib.checks.core``: what every checker does with an unfinished or broken answer.

The contract tests run over every ``check_*`` of ``course_lib.checks``; the lesson modules'
own tests (``test_checks_l00_gradient_descent.py`` ...) check their references and mistakes.
"""

import re
import signal
import threading
import time
import warnings

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks import core

CHECKERS = [getattr(checks, name) for name in checks.__all__ if name.startswith("check_")]


def report(check, learner_fn, capsys) -> tuple[bool, str, list[str], str]:
    """Run ``check``: its verdict, the name it reports under, its case lines and summary."""
    ok = check(learner_fn)
    lines = capsys.readouterr().out.splitlines()
    name = lines[-1].split(":")[0]
    # a checker may first say which items it compares: "name: items compared: ..."
    assert all(line.startswith(f"{name}: items compared:") for line in lines[:-1]
               if not line.startswith(f"{name} case "))
    return ok, name, [line for line in lines if line.startswith(f"{name} case ")], lines[-1]


def stub(*args, **kwargs):
    raise NotImplementedError


def endless_loop(*args, **kwargs):
    while True:
        pass


needs_alarm = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no SIGALRM timer")


@pytest.fixture
def watchdog():
    """Fail a test after 20 s instead of hanging (the time limit restores this timer)."""

    def on_alarm(signum, frame):
        pytest.fail("the check hung: no time limit stopped the learner's function")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 20)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


TIMEOUT = "FAIL, your function did not return within {} s; look for an endless loop"


# --- the contract of every checker --------------------------------------------------------------


@pytest.mark.parametrize("check", CHECKERS, ids=lambda check: check.__name__)
def test_a_stub_is_reported_as_not_implemented_at_the_first_case(check, capsys):
    ok, name, cases, summary = report(check, stub, capsys)
    assert ok is False
    assert check.__name__.removeprefix("check_") in name
    assert cases == [
        f"{name} case 1: not implemented yet (replace the `raise NotImplementedError`)"]
    assert summary == f"{name}: 0 of 1 cases passed"


@pytest.mark.parametrize("check", CHECKERS, ids=lambda check: check.__name__)
def test_returning_none_fails_every_case_with_a_hint(check, capsys):
    ok, name, cases, summary = report(check, lambda *args, **kwargs: None, capsys)
    assert ok is False and summary == f"{name}: 0 of {len(cases)} cases passed"
    for line in cases:
        assert "FAIL" in line and re.search(r"(got|returned) None", line), line
        assert "did you forget to return" in line, line


@pytest.mark.parametrize("check", CHECKERS, ids=lambda check: check.__name__)
def test_an_exception_is_reported_not_raised(check, capsys):
    ok, name, cases, summary = report(check, lambda *args, **kwargs: 1 / 0, capsys)
    assert ok is False and summary == f"{name}: 0 of {len(cases)} cases passed"
    assert all("FAIL, raised ZeroDivisionError" in line for line in cases)


@pytest.mark.parametrize("check", CHECKERS, ids=lambda check: check.__name__)
def test_the_cases_are_reproducible(check, capsys):
    first = report(check, lambda *args, **kwargs: None, capsys)
    assert report(check, lambda *args, **kwargs: None, capsys) == first


@pytest.mark.parametrize("check", CHECKERS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("not_a_function", ["solution", None])
def test_something_else_than_a_function_is_a_type_error(check, not_a_function):
    with pytest.raises(TypeError, match="pass your function itself"):
        check(not_a_function)


@needs_alarm
@pytest.mark.parametrize("check", CHECKERS, ids=lambda check: check.__name__)
def test_an_endless_loop_is_stopped_at_the_time_limit(check, capsys, monkeypatch, watchdog):
    monkeypatch.setattr(core, "TIME_LIMIT", 0.05)
    ok, name, cases, summary = report(check, endless_loop, capsys)
    assert ok is False
    assert len(cases) == 1 and cases[0].startswith(f"{name} case 1: {TIMEOUT.format(0.05)}")
    assert "course_lib.checks.core.TIME_LIMIT = 30" in cases[0]
    assert summary == f"{name}: 0 of 1 cases passed"  # the next cases are not run


@pytest.mark.parametrize("check", [checks.check_momentum_step, checks.check_rmsprop_step,
                                   checks.check_adam_step], ids=lambda check: check.__name__)
def test_a_key_popped_from_the_parameters_is_reported(check, capsys):
    def pops(params, *args):
        params.pop("W")

    ok, name, cases, _ = report(check, pops, capsys)
    assert ok is False
    assert all("FAIL, your function removed the key 'W' from params; leave the dicts passed in "
               "as they are" in line for line in cases)


# --- the time limit -------------------------------------------------------------------------------


@needs_alarm
def test_an_endless_loop_that_catches_exceptions_is_stopped_too(capsys, watchdog):
    def stubborn(beta, t):
        while True:
            try:
                time.sleep(0.01)
            except Exception:
                pass

    assert checks.run_cases("f", stubborn, lambda beta, t: 0.0, [{"beta": 0.9, "t": 3}],
                            time_limit=0.1) is False
    assert TIMEOUT.format(0.1) in capsys.readouterr().out


def test_off_the_main_thread_an_endless_loop_is_stopped_too(capsys, monkeypatch):
    monkeypatch.setattr(core, "TIME_LIMIT", 0.1)
    verdicts = []
    thread = threading.Thread(
        target=lambda: verdicts.append(checks.check_ema_weights(endless_loop)), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and verdicts == [False]
    assert TIMEOUT.format(0.1) in capsys.readouterr().out
    deadline = time.monotonic() + 5
    while any(t.name == "learner function" for t in threading.enumerate()):  # asked to stop
        assert time.monotonic() < deadline, "the learner's thread still runs"
        time.sleep(0.01)


@needs_alarm
def test_the_previous_alarm_handler_and_timer_are_restored(monkeypatch):
    monkeypatch.setattr(core, "TIME_LIMIT", 0.05)

    class Rang(BaseException):
        """The previous timer went off."""

    def handler(signum, frame):
        raise Rang

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 20)  # rings, and fails the test, if a check hangs
        checks.check_ema_weights(endless_loop)
        checks.check_ema_weights(lambda beta, t: (1 - beta) * beta ** np.arange(t))
        assert signal.getsignal(signal.SIGALRM) is handler
        assert 15 < signal.getitimer(signal.ITIMER_REAL)[0] <= 20
        # a timer due during a check rings after it, late but not lost
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        with pytest.raises(Rang):
            checks.check_ema_weights(endless_loop)
            time.sleep(0.1)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@needs_alarm
def test_a_function_that_returns_in_time_leaves_no_alarm_behind(capsys):
    handler = signal.getsignal(signal.SIGALRM)
    assert checks.run_cases("f", lambda x: x, lambda x: x, [{"x": 1.0}], time_limit=0.05)
    time.sleep(0.1)  # a timer left running would raise here
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) == handler


@pytest.mark.parametrize("time_limit", [0, -1.0, float("inf"), "5"])
def test_a_bad_time_limit_is_refused(time_limit):
    with pytest.raises((TypeError, ValueError), match="time_limit must be"):
        checks.run_cases("f", lambda x: x, lambda x: x, [{"x": 1.0}], time_limit=time_limit)


# --- run_cases ------------------------------------------------------------------------------------


def test_an_infinite_expectation_is_reported_without_warnings(capsys):
    def reference(x):
        return np.array([np.inf, 2.0])

    def learner(x):
        return np.array([5.0, 2.0])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert checks.run_cases("f", learner, reference, [{"x": 1.0}]) is False
    assert "expected inf at index (0,), got 5.0" in capsys.readouterr().out


def test_an_array_changed_inside_an_input_dict_is_reported(capsys):
    def reference(params):
        return params["W"] * 2

    def in_place(params):
        params["W"] *= 2
        return params["W"]

    assert checks.run_cases("double", in_place, reference, [{"params": {"W": np.ones(3)}}]) is False
    assert "changed params['W'] in place" in capsys.readouterr().out


def test_a_change_in_place_is_reported_even_when_the_function_then_fails(capsys):
    def reference(x):
        return x + 1

    def mutates_then_fails(x):
        x += 1
        raise RuntimeError("later bug")

    assert checks.run_cases("inc", mutates_then_fails, reference, [{"x": np.zeros(2)}]) is False
    assert "changed its input 'x'" in capsys.readouterr().out


def test_a_key_removed_or_added_is_reported_even_when_the_function_then_fails(capsys):
    def reference(params):
        return params["W"] * 2

    def pops_then_fails(params):
        del params["W"]
        return params["W"]

    def adds(params):
        params["extra"] = np.zeros(1)
        return params["W"] * 2

    case = [{"params": {"W": np.ones(3)}}]
    assert checks.run_cases("double", pops_then_fails, reference, case) is False
    assert "FAIL, your function removed the key 'W' from params" in capsys.readouterr().out
    assert checks.run_cases("double", adds, reference, case) is False
    assert "FAIL, your function added the key 'extra' to params" in capsys.readouterr().out


@pytest.mark.parametrize("expected, got, message", [
    (1.5, "1.5", "expected numbers, got text ('1.5'): return the number itself, not a string"),
    (np.array([1.5, 2.0]), ["1.5", "2.0"], "expected numbers, got text"),
    (1.0, True, "expected numbers, got True/False (True)"),
    (-2.0, (-4) ** 0.5, "expected real numbers, got complex ones"),
    (np.array([1.5, 2.0]), [1.5, None], "expected numbers, got None (NoneType) at index (1,)"),
    (np.array([1.5, 2.0]), np.array([1.5, "2.0"], dtype=object),
     "expected numbers, got '2.0' (str) at index (1,)"),
    ((1.5, 2.0), (1.5, None), "item 1: got None (did you forget to return the result?)"),
    (1.5, {"x": 1.5}, "expected a number or array, got dict"),
    (np.array([1.5, 2.0]), [[1.5], 2.0], "expected a number or array, got list"),
])
def test_something_other_than_real_numbers_fails_with_what_it_is(expected, got, message, capsys):
    assert checks.run_cases("f", lambda: got, lambda: expected, [{}]) is False
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith(f"f case 1: FAIL, {message}"), line


@pytest.mark.parametrize("got", [np.array([1.5, 2.0], dtype=object), [1.5, 2], (1.5, 2.0),
                                 np.array([1.5, 2.0], dtype=np.float32)])
def test_numbers_in_other_containers_still_pass(got):
    assert checks.run_cases("f", lambda: got, lambda: np.array([1.5, 2.0]), [{}]) is True


def test_numbers_returned_as_text_fail_a_checker(capsys):
    def as_text(L, mu):  # noqa: N803
        rate = (np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)
        return f"{1 / np.sqrt(L * mu)}", f"{rate**2}", f"{rate}"

    assert checks.check_optimal_momentum(as_text) is False
    assert "item 0: expected numbers, got text" in capsys.readouterr().out


# --- hints: the answers of a known mistake ----------------------------------------------------


def twice(x):
    return 2 * x


MISTAKES = {"a mistake whose formula fails": lambda x: 1 / 0,
            "you added one": lambda x: x + 1,
            "you squared x": lambda x: x**2}


@pytest.mark.parametrize("learner, hint", [
    (lambda x: x**2, "hint: you squared x"),  # fails at 3 and -1, passes at 2 (4 = 4)
    (lambda x: x**2 if x > 0 else 5.0, None),  # squares at 3, but not at -1
    (twice, None),  # passes: no hint
])
def test_a_hint_names_the_mistake_made_on_every_failing_case(learner, hint, capsys):
    cases = [{"x": 2.0}, {"x": 3.0}, {"x": -1.0}]
    ok = checks.run_cases("f", learner, twice, cases, mistakes=MISTAKES)
    lines = capsys.readouterr().out.splitlines()
    assert ok is (learner is twice)
    assert lines[3].startswith("f: ")  # the summary, then the hint if any
    assert lines[4:] == ([hint] if hint else [])
