"""Checkers of lesson 07: batch-norm forward, backward and running statistics."""

import numpy as np
import pytest

from course_lib import checks
from course_lib.gradcheck import numerical_gradient


def good_forward(x, gamma, beta, eps):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, var)


def good_backward(dy, x, gamma, eps):
    n = x.shape[0]
    var = x.var(axis=0)
    xhat = (x - x.mean(axis=0)) / np.sqrt(var + eps)
    dbeta = dy.sum(axis=0)
    dgamma = (dy * xhat).sum(axis=0)
    dx = gamma / (n * np.sqrt(var + eps)) * (n * dy - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def good_running_stats(running_mean, running_var, x, momentum):
    return ((1 - momentum) * running_mean + momentum * x.mean(axis=0),
            (1 - momentum) * running_var + momentum * x.var(axis=0, ddof=1))


def test_correct_solutions_pass_every_case(capsys):
    assert checks.check_batchnorm_forward(good_forward) is True
    assert checks.check_batchnorm_backward(good_backward) is True
    assert checks.check_running_stats(good_running_stats) is True
    out = capsys.readouterr().out
    assert "batchnorm_forward: all 6 of 6 cases passed" in out
    assert "batchnorm_backward: all 6 of 6 cases passed" in out
    assert "update_running_stats: all 6 of 6 cases passed" in out
    assert "FAIL" not in out and "hint" not in out


def test_the_reference_backward_is_the_gradient_of_the_forward():
    """The checker's reference is not just the library checked against itself."""
    rng = np.random.default_rng(3)
    x, gamma, beta = rng.normal(size=(6, 3)), rng.uniform(0.5, 2, 3), rng.normal(size=3)
    r = rng.normal(size=(6, 3))
    dx, dgamma, dbeta = good_backward(r, x, gamma, 1e-5)

    def loss(_):
        return float(np.sum(good_forward(x, gamma, beta, 1e-5)[0] * r))

    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dgamma, numerical_gradient(loss, gamma), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dbeta, numerical_gradient(loss, beta), rtol=1e-5, atol=1e-8)


def test_the_cache_is_free_but_the_pair_is_required(capsys):
    assert checks.check_batchnorm_forward(lambda x, g, b, e: (good_forward(x, g, b, e)[0], 42))
    assert not checks.check_batchnorm_forward(lambda x, g, b, e: good_forward(x, g, b, e)[0])
    assert "return the pair (out, cache)" in capsys.readouterr().out


def test_an_unbiased_variance_in_the_forward_fails_with_a_hint(capsys):
    def unbiased(x, gamma, beta, eps):
        xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + eps)
        return gamma * xhat + beta, None

    assert checks.check_batchnorm_forward(unbiased) is False
    out = capsys.readouterr().out
    assert "FAIL, expected" in out
    assert "hint: you normalised with the unbiased variance" in out


def test_eps_outside_the_root_is_caught_by_the_constant_column(capsys):
    def eps_outside(x, gamma, beta, eps):
        xhat = (x - x.mean(axis=0)) / (np.sqrt(x.var(axis=0)) + eps)
        return gamma * xhat + beta, None

    assert checks.check_batchnorm_forward(eps_outside) is False
    assert "hint: eps goes inside the square root" in capsys.readouterr().out


@pytest.mark.parametrize("missing, hint", [
    ("both", "treats mu and var as constants"),
    ("var", "missing the term - xhat * sum_n(dy * xhat)"),
    ("mu", "missing the term - sum_n dy"),
])
def test_a_backward_without_the_statistics_terms_fails_with_a_hint(capsys, missing, hint):
    def partial(dy, x, gamma, eps):
        _, dgamma, dbeta = good_backward(dy, x, gamma, eps)
        std = np.sqrt(x.var(axis=0) + eps)
        xhat = (x - x.mean(axis=0)) / std
        g = dy
        if missing in ("var", "both"):
            g = g if missing == "both" else g - dy.mean(axis=0)
        if missing == "mu":
            g = dy - xhat * (dy * xhat).mean(axis=0)
        return gamma * g / std, dgamma, dbeta

    assert checks.check_batchnorm_backward(partial) is False
    out = capsys.readouterr().out
    assert "item 0: expected" in out  # dx is wrong, dgamma and dbeta are right
    hint_line = next(line for line in out.splitlines() if line.startswith("hint: "))
    assert hint in hint_line


def test_a_wrong_dgamma_is_reported_as_item_1(capsys):
    def wrong_dgamma(dy, x, gamma, eps):
        dx, dgamma, dbeta = good_backward(dy, x, gamma, eps)
        return dx, dgamma * 2, dbeta

    assert checks.check_batchnorm_backward(wrong_dgamma) is False
    assert "item 1: expected" in capsys.readouterr().out


def test_the_keras_sense_of_momentum_fails_with_a_hint(capsys):
    def keras(running_mean, running_var, x, momentum):
        return (momentum * running_mean + (1 - momentum) * x.mean(axis=0),
                momentum * running_var + (1 - momentum) * x.var(axis=0, ddof=1))

    assert checks.check_running_stats(keras) is False
    out = capsys.readouterr().out
    assert "you used Keras's sense" in out
    assert "case 3: pass" in out  # momentum 0.5 reads the same both ways


def test_a_biased_running_variance_fails_with_a_hint(capsys):
    def biased(running_mean, running_var, x, momentum):
        return ((1 - momentum) * running_mean + momentum * x.mean(axis=0),
                (1 - momentum) * running_var + momentum * x.var(axis=0))

    assert checks.check_running_stats(biased) is False
    out = capsys.readouterr().out
    assert "item 1: expected" in out and "hint: the running variance stores the unbiased" in out


def test_updating_the_running_arrays_in_place_is_reported(capsys):
    def in_place(running_mean, running_var, x, momentum):
        running_mean *= 1 - momentum
        running_mean += momentum * x.mean(axis=0)
        running_var *= 1 - momentum
        running_var += momentum * x.var(axis=0, ddof=1)
        return running_mean, running_var

    assert checks.check_running_stats(in_place) is False
    assert "changed its input 'running_mean'" in capsys.readouterr().out


def test_changing_x_is_reported(capsys):
    def centre_in_place(x, gamma, beta, eps):
        x -= x.mean(axis=0)
        return gamma * x / np.sqrt((x * x).mean(axis=0) + eps) + beta, None

    assert checks.check_batchnorm_forward(centre_in_place) is False
    assert "changed its input 'x'" in capsys.readouterr().out


def test_a_learner_who_prints_still_passes(capsys):
    def chatty(dy, x, gamma, eps):
        print("shapes", dy.shape, x.shape)
        return good_backward(dy, x, gamma, eps)

    assert checks.check_batchnorm_backward(chatty) is True

