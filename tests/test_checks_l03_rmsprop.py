"""The lesson-03 checkers: check_rmsprop_step and check_effective_learning_rates."""

import numpy as np

from course_lib import checks
from course_lib.checks.l03_rmsprop import _reference_effective_learning_rates


def good_rmsprop_step(params, grads, s, lr, beta, eps):
    new_s = {k: beta * s[k] + (1 - beta) * grads[k] ** 2 for k in params}
    new_params = {k: params[k] - lr * grads[k] / (np.sqrt(new_s[k]) + eps) for k in params}
    return new_params, new_s


def good_effective_learning_rates(grads, lr, beta, eps):
    s, rows = np.zeros(grads.shape[1]), []
    for g in grads:
        s = beta * s + (1 - beta) * g**2
        rows.append(lr / (np.sqrt(s) + eps))
    return np.array(rows)


def test_correct_solutions_pass_every_case(capsys):
    assert checks.check_rmsprop_step(good_rmsprop_step) is True
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("rmsprop_step: items compared: 0 = new_params['W']")
    assert out[-1] == "rmsprop_step: all 5 of 5 cases passed"  # no hint
    assert checks.check_effective_learning_rates(good_effective_learning_rates) is True
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "effective_learning_rates: all 5 of 5 cases passed"


def test_a_learner_who_prints_and_returns_a_list_still_passes(capsys):
    def chatty(params, grads, s, lr, beta, eps):
        print("lr is", lr)
        return list(good_rmsprop_step(params, grads, s, lr, beta, eps))

    assert checks.check_rmsprop_step(chatty) is True


def test_eps_inside_the_root_fails(capsys):
    # d2l's form: w - lr g / sqrt(s + eps)
    def d2l_step(params, grads, s, lr, beta, eps):
        new_s = {k: beta * s[k] + (1 - beta) * grads[k] ** 2 for k in params}
        return {k: params[k] - lr * grads[k] / np.sqrt(new_s[k] + eps) for k in params}, new_s

    assert checks.check_rmsprop_step(d2l_step) is False
    out = capsys.readouterr().out
    assert "FAIL, item 0: expected" in out or "FAIL, item 1: expected" in out
    assert out.splitlines()[-1] == (
        "hint: eps goes outside the square root: w <- w - lr*g / (sqrt(s) + eps), as in "
        "PyTorch and course_lib (d2l puts it inside)")


def test_dividing_by_the_old_average_fails(capsys):
    def stale(params, grads, s, lr, beta, eps):
        new_params = {k: params[k] - lr * grads[k] / (np.sqrt(s[k]) + eps) for k in params}
        return new_params, {k: beta * s[k] + (1 - beta) * grads[k] ** 2 for k in params}

    with np.errstate(divide="ignore", invalid="ignore"):
        assert checks.check_rmsprop_step(stale) is False
    assert capsys.readouterr().out.splitlines()[-1].startswith(
        "hint: the step divides by the old average: update s first")


def test_forgetting_one_minus_beta_is_caught_in_the_state(capsys):
    def no_one_minus_beta(params, grads, s, lr, beta, eps):
        new_s = {k: beta * s[k] + grads[k] ** 2 for k in params}
        return {k: params[k] - lr * grads[k] / (np.sqrt(new_s[k]) + eps) for k in params}, new_s

    assert checks.check_rmsprop_step(no_one_minus_beta) is False
    out = capsys.readouterr().out
    assert "FAIL, item" in out
    assert out.splitlines()[-1] == (
        "hint: the average is missing the factor (1 - beta): s <- beta*s + (1 - beta)*g**2")


def test_updating_in_place_is_reported(capsys):
    def in_place(params, grads, s, lr, beta, eps):
        new_params, new_s = good_rmsprop_step(params, grads, s, lr, beta, eps)
        for k in params:
            params[k][...] = new_params[k]
        return new_params, new_s

    assert checks.check_rmsprop_step(in_place) is False
    assert "changed params['W'] in place" in capsys.readouterr().out


def test_a_result_of_the_wrong_form_is_explained(capsys):
    def params_only(params, grads, s, lr, beta, eps):
        return good_rmsprop_step(params, grads, s, lr, beta, eps)[0]

    assert checks.check_rmsprop_step(params_only) is False
    assert "return the pair (new_params, new_s)" in capsys.readouterr().out

    def missing_key(params, grads, s, lr, beta, eps):
        new_params, new_s = good_rmsprop_step(params, grads, s, lr, beta, eps)
        del new_s["b"]
        return new_params, new_s

    assert checks.check_rmsprop_step(missing_key) is False
    assert "new_s must be a dict with the keys ['W', 'b']" in capsys.readouterr().out


def test_fastai_start_of_the_average_fails(capsys):
    # s starts at the first squared gradient instead of 0
    def fastai(grads, lr, beta, eps):
        s, rows = grads[0] ** 2, []
        for g in grads:
            s = beta * s + (1 - beta) * g**2
            rows.append(lr / (np.sqrt(s) + eps))
        return np.array(rows)

    assert checks.check_effective_learning_rates(fastai) is False


def test_one_over_the_gradient_is_only_an_approximation(capsys):
    def approximation(grads, lr, beta, eps):
        return lr / (np.abs(grads) + eps)

    assert checks.check_effective_learning_rates(approximation) is False


def test_the_last_row_only_fails_with_the_shape(capsys):
    def last_row(grads, lr, beta, eps):
        return good_effective_learning_rates(grads, lr, beta, eps)[-1]

    assert checks.check_effective_learning_rates(last_row) is False
    assert "expected shape" in capsys.readouterr().out


def test_changing_the_gradients_is_reported(capsys):
    def squares_in_place(grads, lr, beta, eps):
        rows = good_effective_learning_rates(grads, lr, beta, eps)
        grads **= 2
        return rows

    assert checks.check_effective_learning_rates(squares_in_place) is False
    assert "changed its input 'grads'" in capsys.readouterr().out


def test_a_never_updated_coordinate_gets_lr_over_eps():
    # the reference itself, on the case the docstring promises
    grads = np.zeros((3, 2))
    grads[:, 1] = 1.0
    rates = _reference_effective_learning_rates(grads, 0.1, 0.9, 1e-2)
    assert np.allclose(rates[:, 0], 0.1 / 1e-2)

