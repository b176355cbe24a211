"""The lesson-04 checkers: right answers pass, the usual Adam mistakes fail with a useful line."""

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks.l04_adam import _reference_adam_step, _reference_bias_corrections
from course_lib.optimizers import Adam


def good_adam_step(params, grads, m, v, t, lr, beta1, beta2, eps):
    new_m = {k: beta1 * m[k] + (1 - beta1) * grads[k] for k in params}
    new_v = {k: beta2 * v[k] + (1 - beta2) * grads[k] ** 2 for k in params}
    new_params = {
        k: params[k] - lr * (new_m[k] / (1 - beta1**t)) / (np.sqrt(new_v[k] / (1 - beta2**t)) + eps)
        for k in params
    }
    return new_params, new_m, new_v


def good_bias_corrections(beta1, beta2, t):
    t = np.asarray(t, dtype=float)
    c1, c2 = 1 - beta1**t, 1 - beta2**t
    return c1, c2, c1 / np.sqrt(c2)


def variant(**changes):
    """An adam_step with one thing done differently (the mistakes learners make)."""

    def step(params, grads, m, v, t, lr, beta1, beta2, eps):
        t_used = t + changes.get("t_shift", 0)
        g1 = 1 - beta1 if changes.get("one_minus_beta1", True) else 1.0
        g2 = 1 - beta2 if changes.get("one_minus_beta2", True) else 1.0
        new_m = {k: beta1 * m[k] + g1 * grads[k] for k in params}
        new_v = {k: beta2 * v[k] + g2 * grads[k] ** 2 for k in params}
        new_params = {}
        for k in params:
            c1 = 1 - beta1**t_used if changes.get("correct", True) else 1.0
            c2 = 1 - beta2**t_used if changes.get("correct", True) else 1.0
            m_hat, v_hat = new_m[k] / c1, new_v[k] / c2
            if changes.get("eps_inside"):
                denominator = np.sqrt(v_hat + eps)
            else:
                denominator = np.sqrt(v_hat) + eps
            new_params[k] = params[k] - lr * m_hat / denominator
        if changes.get("return_corrected"):
            new_m = {k: new_m[k] / (1 - beta1**t) for k in params}
            if changes["return_corrected"] == "both":
                new_v = {k: new_v[k] / (1 - beta2**t) for k in params}
        return new_params, new_m, new_v

    return step


# --- the reference answers agree with the library ---------------------------------------------


def test_the_adam_step_reference_is_several_library_steps():
    rng = np.random.default_rng(4)
    params = {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=3)}
    mine = {k: w.copy() for k, w in params.items()}
    m = {k: np.zeros_like(w) for k, w in params.items()}
    v = {k: np.zeros_like(w) for k, w in params.items()}
    opt = Adam(0.05, beta1=0.8, beta2=0.99, eps=1e-6)
    for t in range(1, 8):
        grads = {k: rng.normal(size=w.shape) for k, w in params.items()}
        opt.step(params, grads)
        items = _reference_adam_step(mine, grads, m, v, t, 0.05, 0.8, 0.99, 1e-6)
        mine = dict(zip(("W", "b"), items[:2], strict=True))
        m = dict(zip(("W", "b"), items[2:4], strict=True))
        v = dict(zip(("W", "b"), items[4:], strict=True))
        for k in params:
            np.testing.assert_allclose(mine[k], params[k], rtol=1e-13)
            np.testing.assert_allclose(m[k], opt.state[k]["m"], rtol=1e-13)
            np.testing.assert_allclose(v[k], opt.state[k]["v"], rtol=1e-13)


def test_the_bias_corrections_reference_is_the_measured_step_ratio():
    # with eps = 0 and the same gradients, uncorrected step / corrected step = c1 / sqrt(c2)
    rng = np.random.default_rng(5)
    corrected, uncorrected = Adam(0.1, eps=0.0), Adam(0.1, eps=0.0, bias_correction=False)
    a, b = {"w": np.zeros(4)}, {"w": np.zeros(4)}
    ratios = []
    for _ in range(30):
        g = rng.normal(size=4)
        before_a, before_b = a["w"].copy(), b["w"].copy()
        corrected.step(a, {"w": g})
        uncorrected.step(b, {"w": g})
        ratios.append((b["w"] - before_b) / (a["w"] - before_a))
    expected = _reference_bias_corrections(0.9, 0.999, np.arange(1, 31))[2]
    np.testing.assert_allclose(np.array(ratios), expected[:, None] * np.ones(4), rtol=1e-9)


# --- correct answers pass --------------------------------------------------------------------


def test_correct_solutions_pass_every_case(capsys):
    assert checks.check_adam_step(good_adam_step) is True
    assert checks.check_bias_corrections(good_bias_corrections) is True
    out = capsys.readouterr().out.splitlines()
    assert "adam_step: all 6 of 6 cases passed" in out
    assert out[-1] == "bias_corrections: all 5 of 5 cases passed"


def test_lists_instead_of_tuples_pass():
    def as_list(params, grads, m, v, t, lr, beta1, beta2, eps):
        return list(good_adam_step(params, grads, m, v, t, lr, beta1, beta2, eps))

    def as_lists(beta1, beta2, t):
        return [list(a) for a in good_bias_corrections(beta1, beta2, t)]

    assert checks.check_adam_step(as_list) is True
    assert checks.check_bias_corrections(as_lists) is True


def test_another_seed_draws_other_cases_that_still_pass(capsys):
    assert checks.check_adam_step(good_adam_step, seed=7) is True
    assert checks.check_bias_corrections(good_bias_corrections, seed=7) is True


# --- the usual mistakes fail, with the case ---------------------------------------------------


def test_forgetting_the_bias_correction_fails_from_the_first_step(capsys):
    assert checks.check_adam_step(variant(correct=False)) is False
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("adam_step case 1: FAIL, item 0: expected")
    assert "t=1, lr=0.001" in out
    assert "adam_step: 0 of 6 cases passed" in out


@pytest.mark.parametrize("shift", [-1, 1])
def test_a_step_counter_off_by_one_fails(capsys, shift):
    with np.errstate(divide="ignore", invalid="ignore"):  # t = 0 divides by 1 - beta**0 = 0
        assert checks.check_adam_step(variant(t_shift=shift)) is False
    assert "adam_step: 0 of 6 cases passed" in capsys.readouterr().out


def test_eps_inside_the_root_fails_where_eps_matters(capsys):
    assert checks.check_adam_step(variant(eps_inside=True)) is False
    cases = [line for line in capsys.readouterr().out.splitlines()
             if line.startswith("adam_step case")]
    # where v_hat >> eps, sqrt(v_hat + eps) and sqrt(v_hat) + eps agree within the tolerance;
    # the cases with gradients of 0.001 or with a large eps tell them apart
    assert cases[:3] == [f"adam_step case {k}: pass" for k in (1, 2, 3)]
    assert all(line.startswith(f"adam_step case {k}: FAIL, item 0")
               for k, line in zip((4, 5, 6), cases[3:], strict=True))


def test_returning_the_corrected_moment_fails_on_item_2(capsys):
    assert checks.check_adam_step(variant(return_corrected=True)) is False
    out = capsys.readouterr().out
    assert "item 2: expected" in out


def test_changing_the_inputs_in_place_is_reported(capsys):
    def in_place(params, grads, m, v, t, lr, beta1, beta2, eps):
        for k in params:
            m[k] *= beta1
            m[k] += (1 - beta1) * grads[k]
            v[k] *= beta2
            v[k] += (1 - beta2) * grads[k] ** 2
            params[k] -= lr * (m[k] / (1 - beta1**t)) / (np.sqrt(v[k] / (1 - beta2**t)) + eps)
        return params, m, v

    assert checks.check_adam_step(in_place) is False
    out = capsys.readouterr().out
    assert "changed m['W'] in place" in out or "changed params['W'] in place" in out


def test_a_missing_key_and_a_missing_dict_are_named(capsys):
    def drops_b(params, grads, m, v, t, lr, beta1, beta2, eps):
        new_params, new_m, new_v = good_adam_step(params, grads, m, v, t, lr, beta1, beta2, eps)
        del new_v["b"]
        return new_params, new_m, new_v

    def two_dicts(params, grads, m, v, t, lr, beta1, beta2, eps):
        return good_adam_step(params, grads, m, v, t, lr, beta1, beta2, eps)[:2]

    assert checks.check_adam_step(drops_b) is False
    assert "new_v must be a dict with the keys ['W', 'b']" in capsys.readouterr().out
    assert checks.check_adam_step(two_dicts) is False
    assert "return the triple (new_params, new_m, new_v)" in capsys.readouterr().out


def test_the_inverted_ratio_fails_on_item_2(capsys):
    def inverted(beta1, beta2, t):
        c1, c2, ratio = good_bias_corrections(beta1, beta2, t)
        return c1, c2, 1 / ratio

    assert checks.check_bias_corrections(inverted) is False
    lines = capsys.readouterr().out.splitlines()
    # reported where it is furthest off: the peak of the ratio, 6.57 at t = 12
    assert lines[0].startswith("bias_corrections case 1: FAIL, item 2: expected 6.5685")


def test_forgetting_the_root_of_c2_fails(capsys):
    def no_root(beta1, beta2, t):
        c1, c2, _ = good_bias_corrections(beta1, beta2, t)
        return c1, c2, c1 / c2

    assert checks.check_bias_corrections(no_root) is False
    # beta1 = 0 and t = 100000: c1 = c2 = 1, so that case passes; the others do not
    out = capsys.readouterr().out
    assert "bias_corrections case 1: FAIL, item 2" in out


def test_counting_steps_from_zero_fails(capsys):
    def from_zero(beta1, beta2, t):
        return good_bias_corrections(beta1, beta2, np.asarray(t) - 1)

    with np.errstate(divide="ignore", invalid="ignore"):
        assert checks.check_bias_corrections(from_zero) is False
    assert "bias_corrections case 1: FAIL, item 0" in capsys.readouterr().out



@pytest.mark.parametrize("changes, hint", [
    ({"one_minus_beta1": False}, "the first moment is missing the factor (1 - beta1): "
                                 "m <- beta1*m + (1 - beta1)*g"),
    ({"one_minus_beta2": False}, "the second moment is missing the factor (1 - beta2): "
                                 "v <- beta2*v + (1 - beta2)*g**2"),
    ({"correct": False}, "the step has no bias correction: m_hat = m / (1 - beta1**t)"),
    ({"eps_inside": True}, "eps goes outside the square root: m_hat / (sqrt(v_hat) + eps)"),
    ({"t_shift": 1}, "t is off by one: it is already the number of this step (1 for the first), "
                     "so use it as it is; your bias corrections use t + 1"),
    ({"t_shift": -1}, "t is off by one: it is already the number of this step (1 for the first), "
                      "so use it as it is; your bias corrections use t - 1"),
    ({"return_corrected": "both"}, "return the moments without bias correction as new_m and new_v"),
], ids=str)
def test_a_classic_mistake_is_named_after_the_summary(changes, hint, capsys):
    with np.errstate(divide="ignore", invalid="ignore"):  # t - 1 = 0 divides by zero
        assert checks.check_adam_step(variant(**changes)) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].startswith("adam_step: ") and lines[-2].endswith(" cases passed")
    assert lines[-1].startswith(f"hint: {hint}")


def test_no_hint_for_a_correct_step_or_for_two_mistakes(capsys):
    assert checks.check_adam_step(good_adam_step) is True
    assert checks.check_adam_step(variant(correct=False, eps_inside=True)) is False
    assert "hint" not in capsys.readouterr().out
