"""``course_lib.checks.core``: what every checker does with an unfinished or broken answer.

The contract tests run over every ``check_*`` of ``course_lib.checks``; the lesson modules'
own tests (``test_checks_l00_gradient_descent.py`` ...) check their references and mistakes.
"""

import re
import warnings

import numpy as np
import pytest

from course_lib import checks

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
