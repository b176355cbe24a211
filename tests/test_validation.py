"""The checks at the door: what each validator accepts, returns and refuses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib.validation import (
    check_array,
    check_beta,
    check_bool,
    check_callable,
    check_nonnegative,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
    check_real,
    check_rng,
)

# (validator, accepted value, what it returns, refused values with the error they raise)
CONTRACTS = [
    (check_real, np.float32(-2.5), -2.5,
     [("2", TypeError), (True, TypeError), (math.inf, ValueError)]),
    (check_positive, 3, 3.0, [(0.0, ValueError), (-1, ValueError), (None, TypeError)]),
    (check_nonnegative, 0, 0.0, [(-1e-9, ValueError), (math.nan, ValueError)]),
    (check_beta, 0.9, 0.9, [(1.0, ValueError), (-0.1, ValueError), ([0.9], TypeError)]),
    (check_positive_int, np.int64(7), 7, [(0, ValueError), (2.0, TypeError), (False, TypeError)]),
    (check_nonnegative_int, 0, 0, [(-1, ValueError), (1.5, TypeError), (True, TypeError)]),
    (check_bool, np.bool_(True), True, [(1, TypeError), ("yes", TypeError), (None, TypeError)]),
]


@pytest.mark.parametrize(
    "check, value, expected, refused", CONTRACTS, ids=[c[0].__name__ for c in CONTRACTS]
)
def test_each_validator_returns_a_plain_value_and_names_the_argument(
    check, value, expected, refused
):
    result = check("knob", value)
    assert result == expected and type(result) is type(expected)
    for bad, error in refused:
        with pytest.raises(error, match="knob"):
            check("knob", bad)


def test_check_rng_seeds_are_reproducible_and_generators_continue():
    assert check_rng("rng", 5).random() == np.random.default_rng(5).random()
    generator = np.random.default_rng(0)
    assert check_rng("rng", generator) is generator
    assert isinstance(check_rng("rng", None), np.random.Generator)
    assert check_rng("rng", np.int32(3)).random() == np.random.default_rng(3).random()


@pytest.mark.parametrize("bad, error", [(True, TypeError), (1.0, TypeError), ("0", TypeError),
                                        (np.random.RandomState(0), TypeError), (-1, ValueError)])
def test_check_rng_refuses_what_is_not_a_seed(bad, error):
    with pytest.raises(error, match="seed"):
        check_rng("seed", bad)


def test_check_array_keeps_float32_converts_ints_and_refuses_bad_arrays():
    x = np.ones(3, dtype=np.float32)
    assert check_array("x", x) is x
    assert check_array("x", [1, 2]).dtype == np.float64
    for bad, error in [(["a"], TypeError), ([1j], TypeError), ([np.nan], ValueError)]:
        with pytest.raises(error, match="x"):
            check_array("x", bad)
    with pytest.raises(ValueError, match="2-D"):
        check_array("x", [1.0], ndim=2)
    assert check_array("x0", (1, 2), shape=(2,)).shape == (2,)
    with pytest.raises(ValueError, match=r"^x0 must have shape \(2,\), got shape \(1, 2\)$"):
        check_array("x0", [[1.0, 2.0]], shape=(2,))


def test_check_callable_returns_the_function_and_says_which_form_was_expected():
    assert check_callable("fn", len, "a function") is len
    with pytest.raises(TypeError, match=r"schedule must be a callable t -> lr, got float"):
        check_callable("schedule", 0.1, "a callable t -> lr")
