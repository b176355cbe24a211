import numpy as np
import pytest

from course_lib import checks


def good_gradient_descent(grad, x0, lr, steps):
    path = [np.array(x0, dtype=float)]
    for _ in range(steps):
        path.append(path[-1] - lr * grad(path[-1]))
    return np.array(path)


def good_optimal_step(A):
    eigenvalues = np.linalg.eigvalsh(A)
    L, mu = eigenvalues[-1], eigenvalues[0]
    return 2 / (L + mu), (L - mu) / (L + mu), 2 / L


def test_a_correct_solution_passes_every_case(capsys):
    assert checks.check_gradient_descent(good_gradient_descent) is True
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "gradient_descent: all 5 of 5 cases passed"
    assert all(line.endswith("pass") for line in out[:-1])
    assert checks.check_optimal_step(good_optimal_step) is True


def test_a_learner_who_prints_still_passes(capsys):
    def chatty(grad, x0, lr, steps):
        print("debugging", lr)
        return good_gradient_descent(grad, x0, lr, steps)

    assert checks.check_gradient_descent(chatty) is True


def test_an_off_by_one_path_fails_with_the_shape(capsys):
    def one_short(grad, x0, lr, steps):
        return good_gradient_descent(grad, x0, lr, steps)[:-1]

    assert checks.check_gradient_descent(one_short) is False
    out = capsys.readouterr().out
    assert "FAIL, expected shape" in out
    assert "x0=" in out and "lr=" in out  # the inputs that produced it


def test_a_wrong_value_is_reported_with_expected_and_got(capsys):
    def wrong_rate(A):
        best, _, stable = good_optimal_step(A)
        return best, 0.5, stable

    assert checks.check_optimal_step(wrong_rate) is False
    out = capsys.readouterr().out
    assert "item 1: expected" in out and "got 0.5" in out


def test_mutating_the_input_is_reported(capsys):
    def in_place(grad, x0, lr, steps):
        path = good_gradient_descent(grad, x0, lr, steps)
        x0 -= 1.0
        return path

    assert checks.check_gradient_descent(in_place) is False
    assert "changed its input 'x0'" in capsys.readouterr().out


def test_an_unfinished_stub_says_so(capsys):
    def stub(A):
        raise NotImplementedError

    assert checks.check_optimal_step(stub) is False
    out = capsys.readouterr().out
    assert "not implemented yet" in out


def test_an_exception_is_reported_not_raised(capsys):
    def broken(A):
        return 1 / 0

    assert checks.check_optimal_step(broken) is False
    assert "raised ZeroDivisionError" in capsys.readouterr().out


def test_returning_none_gets_a_hint(capsys):
    def forgot_return(A):
        good_optimal_step(A)

    assert checks.check_optimal_step(forgot_return) is False
    assert "did you forget to return" in capsys.readouterr().out


def test_a_non_function_is_a_type_error():
    with pytest.raises(TypeError, match="function"):
        checks.check_optimal_step("good_optimal_step")


def test_the_cases_are_reproducible(capsys):
    checks.check_gradient_descent(lambda grad, x0, lr, steps: None)
    first = capsys.readouterr().out
    checks.check_gradient_descent(lambda grad, x0, lr, steps: None)
    assert capsys.readouterr().out == first


def test_an_infinite_expectation_is_reported_without_warnings(capsys):
    import warnings

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
