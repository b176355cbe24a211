"""The lesson-02 checkers: right answers pass, the usual mistakes fail with a useful line."""

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks.l02_momentum import (
    _reference_ema_weights,
    _reference_momentum_step,
    _reference_optimal_momentum,
)
from course_lib.optimizers import Momentum


def good_momentum_step(params, grads, velocity, lr, beta):
    new_velocity = {k: beta * velocity[k] + (1 - beta) * grads[k] for k in params}
    return {k: params[k] - lr * new_velocity[k] for k in params}, new_velocity


def good_optimal_momentum(L, mu):  # noqa: N803
    rate = (np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)
    return 1 / np.sqrt(L * mu), rate**2, rate


def good_ema_weights(beta, t):
    return (1 - beta) * beta ** np.arange(t)


# --- the reference answers agree with the library ---------------------------------------------


def test_the_momentum_step_reference_is_the_library_step():
    rng = np.random.default_rng(3)
    params = {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=3)}
    velocity = {k: np.zeros_like(w) for k, w in params.items()}
    mine = {k: w.copy() for k, w in params.items()}
    opt = Momentum(0.3, beta=0.8)
    for _ in range(5):
        grads = {k: rng.normal(size=w.shape) for k, w in params.items()}
        opt.step(params, grads)
        mine, velocity = _reference_momentum_step(mine, grads, velocity, 0.3, 0.8)
        for k in params:
            np.testing.assert_allclose(mine[k], params[k], rtol=1e-13)
            np.testing.assert_allclose(velocity[k], opt.state[k]["v"], rtol=1e-13)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_the_ema_weights_reference_is_the_library_velocity(beta):
    # v_t is linear in the gradients: feeding a single 1 at step t - k reads off weight k
    t = 12
    weights = _reference_ema_weights(beta, t)
    for k in range(t):
        opt = Momentum(0.1, beta=beta)
        params = {"x": np.zeros(1)}
        for step in range(1, t + 1):
            opt.step(params, {"x": np.array([1.0 if step == t - k else 0.0])})
        assert opt.state["x"]["v"][0] == pytest.approx(weights[k], rel=1e-12, abs=1e-300)


def test_the_optimal_momentum_reference_gives_the_heavy_ball_step():
    L, mu = 4.0, 0.01  # noqa: N806
    lr, beta, rate = _reference_optimal_momentum(L, mu)
    assert lr * (1 - beta) == pytest.approx(4 / (np.sqrt(L) + np.sqrt(mu)) ** 2)
    assert rate == pytest.approx(np.sqrt(beta))
    assert lr == pytest.approx(np.sqrt(L / mu) / L)


# --- correct answers pass --------------------------------------------------------------------


def test_correct_solutions_pass_every_case(capsys):
    assert checks.check_momentum_step(good_momentum_step) is True
    assert checks.check_optimal_momentum(good_optimal_momentum) is True
    assert checks.check_ema_weights(good_ema_weights) is True
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "ema_weights: all 5 of 5 cases passed"
    assert "momentum_step: all 5 of 5 cases passed" in out
    assert "optimal_momentum: all 5 of 5 cases passed" in out
    assert not any(line.startswith("hint") for line in out)


def test_an_in_place_step_that_returns_the_same_dicts_still_fails(capsys):
    def in_place(params, grads, velocity, lr, beta):
        for k in params:
            velocity[k] *= beta
            velocity[k] += (1 - beta) * grads[k]
            params[k] -= lr * velocity[k]
        return params, velocity

    assert checks.check_momentum_step(in_place) is False
    out = capsys.readouterr().out
    assert "changed velocity['W'] in place" in out or "changed params['W'] in place" in out


def test_a_solution_with_lists_instead_of_tuples_passes():
    def as_list(params, grads, velocity, lr, beta):
        return list(good_momentum_step(params, grads, velocity, lr, beta))

    assert checks.check_momentum_step(as_list) is True


# --- the usual mistakes fail, with the case ---------------------------------------------------


def heavy_ball(params, grads, velocity, lr, beta):  # forgets the (1 - beta)
    new_velocity = {k: beta * velocity[k] + grads[k] for k in params}
    return {k: params[k] - lr * new_velocity[k] for k in params}, new_velocity


def old_velocity(params, grads, velocity, lr, beta):
    new_velocity = {k: beta * velocity[k] + (1 - beta) * grads[k] for k in params}
    return {k: params[k] - lr * velocity[k] for k in params}, new_velocity


def cs231n_signs(params, grads, velocity, lr, beta):  # v <- beta v - (1 - beta) g, w <- w + lr v
    new_velocity = {}
    new_params = {}
    for k in params:
        new_velocity[k] = beta * velocity[k] - (1 - beta) * grads[k]
        new_params[k] = params[k] + lr * new_velocity[k]
    return new_params, new_velocity


def cs231n_sgd_momentum(params, grads, velocity, lr, beta):  # CS231n's code, as written there
    v = {k: beta * velocity[k] - lr * grads[k] for k in params}
    return {k: params[k] + v[k] for k in params}, v


def negated_velocity(params, grads, velocity, lr, beta):
    new_params, new_velocity = good_momentum_step(params, grads, velocity, lr, beta)
    return new_params, {k: -v for k, v in new_velocity.items()}


def test_the_heavy_ball_velocity_fails_where_beta_is_not_zero(capsys):
    assert checks.check_momentum_step(heavy_ball) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("momentum_step case 1: FAIL, item 0: expected")
    assert "beta=0.9" in lines[0]
    assert lines[1] == "momentum_step case 2: pass"  # beta = 0: both forms are plain SGD
    assert lines[-2] == "momentum_step: 1 of 5 cases passed"


@pytest.mark.parametrize("learner, hint", [
    (heavy_ball, "the velocity is missing the factor (1 - beta): v <- beta*v + (1 - beta)*g. "
                 "Without it this is the heavy-ball (PyTorch) form"),
    (old_velocity, "the step uses the old velocity: update v first"),
    (cs231n_signs, "your velocity has the opposite sign: v <- beta*v - (1 - beta)*g, "
                   "w <- w + lr*v is CS231n's sign convention, which gives the same weights only "
                   "if the velocity passed in has that sign too"),
    (cs231n_sgd_momentum, "this is CS231n's sgd_momentum, v <- beta*v - lr*g, w <- w + v: its "
                          "velocity has the opposite sign and holds the learning rate"),
    (negated_velocity, "your new weights are right but your velocity has the opposite sign"),
], ids=lambda value: getattr(value, "__name__", ""))
def test_a_classic_mistake_is_named_after_the_summary(learner, hint, capsys):
    assert checks.check_momentum_step(learner) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].startswith("momentum_step: ") and lines[-2].endswith(" cases passed")
    assert lines[-1].startswith(f"hint: {hint}")


def test_the_cs231n_signs_give_the_right_weights_from_a_zero_velocity(capsys):
    # why its hint says "only if the velocity passed in has that sign too"
    checks.check_momentum_step(cs231n_signs)
    case_1 = capsys.readouterr().out.splitlines()[0]
    assert case_1.startswith("momentum_step case 1: FAIL, item 1: expected")  # new_velocity['W']
    assert "velocity={'W': [0., 0., 0.]}" in case_1


def test_two_mistakes_at_once_get_no_hint(capsys):
    def heavy_ball_with_the_old_velocity(params, grads, velocity, lr, beta):
        new_velocity = {k: beta * velocity[k] + grads[k] for k in params}
        return {k: params[k] - lr * velocity[k] for k in params}, new_velocity

    assert checks.check_momentum_step(heavy_ball_with_the_old_velocity) is False
    assert "hint" not in capsys.readouterr().out


def test_a_missing_key_is_named(capsys):
    def drops_b(params, grads, velocity, lr, beta):
        new_params, new_velocity = good_momentum_step(params, grads, velocity, lr, beta)
        new_params.pop("b", None)
        return new_params, new_velocity

    assert checks.check_momentum_step(drops_b) is False
    assert "new_params must be a dict with the keys ['W', 'b']" in capsys.readouterr().out


def test_returning_one_dict_asks_for_the_pair(capsys):
    def params_only(params, grads, velocity, lr, beta):
        return good_momentum_step(params, grads, velocity, lr, beta)[0]

    assert checks.check_momentum_step(params_only) is False
    assert "return the tuple (new_params, new_velocity)" in capsys.readouterr().out


def test_the_heavy_ball_learning_rate_is_not_the_ema_one(capsys):
    def heavy_ball_lr(L, mu):  # noqa: N803
        _, beta, rate = good_optimal_momentum(L, mu)
        return 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, beta, rate

    assert checks.check_optimal_momentum(heavy_ball_lr) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("optimal_momentum case 1: FAIL, item 0: expected")
    assert lines[1] == "optimal_momentum case 2: pass"  # kappa = 1: beta = 0, the two agree


def test_the_gradient_descent_rate_fails(capsys):
    def gd_rate(L, mu):  # noqa: N803
        lr, beta, _ = good_optimal_momentum(L, mu)
        return lr, beta, (L - mu) / (L + mu)

    assert checks.check_optimal_momentum(gd_rate) is False
    assert "item 2: expected" in capsys.readouterr().out


def test_weights_oldest_first_fail(capsys):
    def reversed_weights(beta, t):
        return good_ema_weights(beta, t)[::-1]

    assert checks.check_ema_weights(reversed_weights) is False
    out = capsys.readouterr().out
    assert "ema_weights case 1: FAIL, expected" in out
    assert "ema_weights case 2: pass" in out  # t = 1: one weight, no order


def test_weights_without_the_one_minus_beta_fail():
    assert checks.check_ema_weights(lambda beta, t: beta ** np.arange(t)) is False


def test_off_by_one_weights_report_the_shape(capsys):
    assert checks.check_ema_weights(lambda beta, t: good_ema_weights(beta, t + 1)) is False
    assert "expected shape (10,), got shape (11,)" in capsys.readouterr().out

