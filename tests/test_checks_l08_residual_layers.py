"""The lesson-08 checkers: right answers pass, the usual mistakes fail with a useful line."""

import numpy as np

from course_lib import checks
from course_lib.checks.l08_residual_layers import (
    _reference_backprop_jacobians,
    _reference_residual_forward_backward,
)
from course_lib.layers import Dense, ReLU, Residual, Sequential


def good_residual(block_forward, block_backward, x, dy):
    return x + block_forward(x), dy + block_backward(dy)


def good_backprop(g, jacobians, skip):
    for J in jacobians[::-1]:
        g = g @ (np.eye(len(g)) + J) if skip else g @ J
    return g


# --- the references agree with the library and with plain matrix algebra ----------------------


def test_the_residual_reference_is_the_library_residual_layer():
    rng = np.random.default_rng(1)
    block = Sequential(Dense(4, 4, rng=rng), ReLU(), Dense(4, 4, rng=rng))
    layer = Residual(block)
    x, dy = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    y_lib = layer.forward(x)
    dx_lib = layer.backward(dy)
    y_ref, dx_ref = _reference_residual_forward_backward(block.forward, block.backward,
                                                         x, dy)
    np.testing.assert_allclose(y_ref, y_lib, rtol=1e-14)
    np.testing.assert_allclose(dx_ref, dx_lib, rtol=1e-14)


def test_the_jacobian_reference_is_the_explicit_product():
    rng = np.random.default_rng(2)
    g = rng.normal(size=4)
    jacobians = rng.normal(size=(3, 4, 4))
    eye = np.eye(4)
    plain = np.linalg.multi_dot([g[None, :], jacobians[2], jacobians[1], jacobians[0]])[0]
    skip = np.linalg.multi_dot([g[None, :], eye + jacobians[2], eye + jacobians[1],
                                eye + jacobians[0]])[0]
    np.testing.assert_allclose(_reference_backprop_jacobians(g, jacobians, False), plain)
    np.testing.assert_allclose(_reference_backprop_jacobians(g, jacobians, True), skip)


def test_the_jacobian_reference_is_backprop_through_residual_dense_layers():
    # Dense computes x @ W, so its Jacobian (rows: outputs) is W.T
    rng = np.random.default_rng(3)
    layers = [Dense(3, 3, rng=rng) for _ in range(4)]
    chain = Sequential(*(Residual(layer) for layer in layers))
    chain.forward(rng.normal(size=(1, 3)))
    g = rng.normal(size=3)
    jacobians = np.array([layer.W.T for layer in layers])
    np.testing.assert_allclose(_reference_backprop_jacobians(g, jacobians, True),
                               chain.backward(g[None, :])[0], rtol=1e-12)


# --- correct answers pass ----------------------------------------------------------------------


def test_correct_solutions_pass_every_case(capsys):
    assert checks.check_residual_forward_backward(good_residual) is True
    assert checks.check_backprop_jacobians(good_backprop) is True
    out = capsys.readouterr().out.splitlines()
    assert "residual_forward_backward: all 5 of 5 cases passed" in out
    assert out[-1] == "backprop_jacobians: all 6 of 6 cases passed"


def test_a_solution_returning_a_list_and_using_matrix_products_passes():
    def as_list(block_forward, block_backward, x, dy):
        return list(good_residual(block_forward, block_backward, x, dy))

    def with_products(g, jacobians, skip):
        eye = np.eye(len(g))
        total = eye
        for J in jacobians:  # (I + J_L) ... (I + J_1), built from the right
            total = ((eye + J) if skip else J) @ total
        return g @ total

    assert checks.check_residual_forward_backward(as_list) is True
    assert checks.check_backprop_jacobians(with_products) is True


def test_the_checkers_give_each_call_fresh_blocks():
    # a learner who runs the block twice gets the same answer (the caches are their own)
    def twice(block_forward, block_backward, x, dy):
        block_forward(x)
        return good_residual(block_forward, block_backward, x, dy)

    assert checks.check_residual_forward_backward(twice) is True


# --- the usual mistakes fail, with the case ----------------------------------------------------


def test_forgetting_the_identity_in_the_backward_pass_fails(capsys):
    def no_identity(block_forward, block_backward, x, dy):
        return x + block_forward(x), block_backward(dy)

    assert checks.check_residual_forward_backward(no_identity) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("residual_forward_backward case 1: FAIL, item 1: expected")
    assert lines[-1] == "residual_forward_backward: 0 of 5 cases passed"


def test_forgetting_the_skip_in_the_forward_pass_fails(capsys):
    def no_skip(block_forward, block_backward, x, dy):
        return block_forward(x), dy + block_backward(dy)

    assert checks.check_residual_forward_backward(no_skip) is False
    assert "FAIL, item 0: expected" in capsys.readouterr().out


def test_multiplying_instead_of_adding_fails():
    def product(block_forward, block_backward, x, dy):
        return x + block_forward(x), dy * block_backward(dy)

    assert checks.check_residual_forward_backward(product) is False


def test_an_in_place_update_of_x_is_reported(capsys):
    def in_place(block_forward, block_backward, x, dy):
        x += block_forward(x)
        return x, dy + block_backward(dy)

    assert checks.check_residual_forward_backward(in_place) is False
    assert "changed its input 'x'" in capsys.readouterr().out


def test_backward_before_forward_is_reported_not_raised(capsys):
    def backward_first(block_forward, block_backward, x, dy):
        dx = dy + block_backward(dy)
        return x + block_forward(x), dx

    assert checks.check_residual_forward_backward(backward_first) is False
    out = capsys.readouterr().out
    assert "FAIL, raised RuntimeError: Dense: call forward(x) before backward(dy)" in out


def test_the_product_in_forward_order_fails(capsys):
    def forward_order(g, jacobians, skip):
        for J in jacobians:
            g = g @ (np.eye(len(g)) + J) if skip else g @ J
        return g

    assert checks.check_backprop_jacobians(forward_order) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "backprop_jacobians case 1: pass"  # one Jacobian: the order is moot
    assert lines[1].startswith("backprop_jacobians case 2: FAIL, expected")
    assert "skip=True" in lines[1]


def test_transposed_jacobians_fail():
    def transposed(g, jacobians, skip):
        for J in jacobians[::-1]:
            g = ((np.eye(len(g)) + J) @ g) if skip else J @ g
        return g

    assert checks.check_backprop_jacobians(transposed) is False


def test_ignoring_skip_fails_only_where_there_is_a_skip(capsys):
    def never_skip(g, jacobians, skip):
        return good_backprop(g, jacobians, False)

    assert checks.check_backprop_jacobians(never_skip) is False
    lines = capsys.readouterr().out.splitlines()
    failed = [k for k, line in enumerate(lines[:-1], start=1) if "FAIL" in line]
    assert failed == [2, 4, 5]  # the cases with skip=True
    assert all("skip=True" in lines[k - 1] for k in failed)
    assert lines[-1] == "backprop_jacobians: 3 of 6 cases passed"


def test_adding_the_identity_to_the_callers_jacobians_is_reported(capsys):
    def in_place(g, jacobians, skip):
        if skip:
            jacobians += np.eye(len(g))
        for J in jacobians[::-1]:
            g = g @ J
        return g

    assert checks.check_backprop_jacobians(in_place) is False
    assert "changed its input 'jacobians'" in capsys.readouterr().out

