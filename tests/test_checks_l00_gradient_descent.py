"""The lesson-00 checkers: right answers pass, the usual mistakes fail with a useful line."""

import numpy as np

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

