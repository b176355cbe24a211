"""Tests of course_lib.scaling: scikit-learn reference values, properties, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

from course_lib.scaling import MeanNormalizer, NotFittedError, ZScoreScaler

FIXTURES = Path(__file__).parent / "fixtures"
with np.load(FIXTURES / "scaling.npz") as _npz:
    REF = {key: _npz[key] for key in _npz.files}
CASES = sorted({key.split(".")[0] for key in REF if key.endswith(".mean_")})
SCALERS = [ZScoreScaler, MeanNormalizer]


def tolerances(dtype: np.dtype) -> dict[str, float]:
    return {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


# ----------------------------------------------------------------- reference: scikit-learn


def test_fixture_holds_the_expected_cases():
    assert set(CASES) == {"basic", "constant", "single_row", "float32", "digits_int", "wine"}


@pytest.mark.parametrize("case", CASES)
def test_zscore_matches_sklearn_standard_scaler(case):
    X = REF[f"{case}.X"]
    scaler = ZScoreScaler().fit(X)
    assert_allclose(scaler.mean_, REF[f"{case}.mean_"], rtol=1e-12, atol=1e-300)
    # var_ of a constant column is 0 or a rounding residue of order (eps * mean)**2
    assert_allclose(scaler.var_, REF[f"{case}.var_"], rtol=1e-10, atol=1e-24)
    assert_allclose(scaler.scale_, REF[f"{case}.scale_"], rtol=1e-12)
    assert scaler.n_samples_seen_ == int(REF[f"{case}.n_samples_seen_"]) == X.shape[0]
    assert scaler.n_features_in_ == X.shape[1]

    out_dtype = np.float32 if X.dtype == np.float32 else np.float64
    Z = scaler.transform(X)
    assert Z.dtype == out_dtype
    assert_allclose(Z, REF[f"{case}.transform"], **tolerances(Z.dtype))

    probe = REF[f"{case}.probe"]
    probe_z = scaler.transform(probe)
    probe_x = scaler.inverse_transform(probe)
    assert probe_z.dtype == probe_x.dtype == out_dtype
    assert_allclose(probe_z, REF[f"{case}.probe_transform"], **tolerances(out_dtype))
    assert_allclose(probe_x, REF[f"{case}.probe_inverse"], **tolerances(out_dtype))


def test_constant_columns_follow_sklearn_tolerance():
    # Columns 0-3 are constant (0.1 and 1234.5678 have inexact float means), column 4
    # varies on the scale of 1e-10, column 5 is ordinary: see make_scaling_fixtures.py.
    X = REF["constant.X"]
    scaler = ZScoreScaler().fit(X)
    assert_array_equal(scaler.scale_[:4], 1.0)
    assert 1e-11 < scaler.scale_[4] < 1e-9
    Z = scaler.transform(X)
    assert np.all(np.abs(Z[:, :4]) <= 1e-15 * (1 + np.abs(X[:, :4])))
    assert_allclose(Z[:, 4:].std(axis=0), 1.0, rtol=1e-9)


# ----------------------------------------------------------------- mean normalization


def mean_normalization(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The closed form (x - mean) / (max - min), range 1 for a constant column."""
    X = np.asarray(X, dtype=np.float64)
    spread = X.max(axis=0) - X.min(axis=0)
    divisor = np.where(spread == 0, 1.0, spread)
    return (X - X.mean(axis=0)) / divisor, divisor


@pytest.mark.parametrize("case", CASES)
def test_mean_normalizer_matches_closed_form(case):
    X = REF[f"{case}.X"]
    normalizer = MeanNormalizer().fit(X)
    expected, divisor = mean_normalization(X)
    assert_allclose(normalizer.mean_, X.astype(np.float64).mean(axis=0), rtol=1e-12, atol=1e-300)
    assert_array_equal(normalizer.min_, X.min(axis=0))
    assert_array_equal(normalizer.max_, X.max(axis=0))
    assert_array_equal(normalizer.range_, divisor)
    assert normalizer.n_features_in_ == X.shape[1]
    assert normalizer.n_samples_seen_ == X.shape[0]
    Z = normalizer.transform(X)
    assert Z.dtype == (np.float32 if X.dtype == np.float32 else np.float64)
    assert_allclose(Z, expected, **tolerances(Z.dtype))


def test_mean_normalizer_small_example_by_hand():
    # means (2, 200), ranges (2, 200): (x - mean) / range
    X = np.array([[1.0, 100.0], [2.0, 300.0], [3.0, 200.0]])
    Z = MeanNormalizer().fit_transform(X)
    assert_array_equal(Z, [[-0.5, -0.5], [0.0, 0.5], [0.5, 0.0]])


def test_mean_normalizer_constant_column_is_only_centred():
    X = np.array([[7.0, 1.0], [7.0, 2.0], [7.0, 4.0]])
    normalizer = MeanNormalizer().fit(X)
    assert_array_equal(normalizer.range_, [1.0, 3.0])
    assert_array_equal(normalizer.transform(X)[:, 0], 0.0)


# ----------------------------------------------------------------- properties


@st.composite
def matrices(draw, dtype=None):
    """Finite matrices, some columns forced constant; float32 or float64."""
    if dtype is None:
        dtype = draw(st.sampled_from([np.float32, np.float64]))
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 4))
    width = 32 if dtype == np.float32 else 64
    elements = st.floats(-1e6, 1e6, width=width, allow_subnormal=width == 64)
    X = draw(hnp.arrays(dtype, (n, d), elements=elements))
    constant = draw(hnp.arrays(np.bool_, d))
    X[:, constant] = draw(hnp.arrays(dtype, d, elements=elements))[constant]
    return X


@pytest.mark.parametrize("scaler_class", SCALERS)
@settings(max_examples=150, deadline=None)
@given(X=matrices())
def test_round_trip_recovers_the_data(scaler_class, X):
    original = X.copy()
    scaler = scaler_class().fit(X)
    Z = scaler.transform(X)
    back = scaler.inverse_transform(Z)
    assert Z.dtype == back.dtype == X.dtype
    assert_array_equal(X, original)  # the input was not modified
    # transform then inverse_transform loses a few roundings of the largest magnitude
    atol = 16 * np.finfo(X.dtype).eps * max(1.0, float(np.abs(X).max()))
    assert_allclose(back, X, rtol=0, atol=atol)


def well_spread(X: np.ndarray) -> np.ndarray:
    """Columns whose spread is not lost in rounding relative to their magnitude."""
    spread = X.max(axis=0) - X.min(axis=0)
    return spread > 1e-6 * np.maximum(1.0, np.abs(X).max(axis=0))


def is_constant(X: np.ndarray) -> np.ndarray:
    return np.all(X == X[0], axis=0)


@settings(max_examples=150, deadline=None)
@given(X=matrices(dtype=np.float64))
def test_zscore_gives_mean_zero_std_one(X):
    scaler = ZScoreScaler().fit(X)
    Z = scaler.transform(X)
    spread = well_spread(X)
    assert_allclose(Z.mean(axis=0)[spread], 0.0, atol=1e-7)
    assert_allclose(Z.std(axis=0)[spread], 1.0, rtol=1e-7)
    constant = is_constant(X)
    assert_array_equal(scaler.scale_[constant], 1.0)
    assert np.all(np.abs(Z[:, constant]) <= 1e-12 * np.maximum(1.0, np.abs(X[:, constant])))


@settings(max_examples=150, deadline=None)
@given(X=matrices(dtype=np.float64))
def test_mean_normalizer_gives_mean_zero_range_one(X):
    normalizer = MeanNormalizer().fit(X)
    Z = normalizer.transform(X)
    spread = well_spread(X)
    assert_allclose(Z.mean(axis=0)[spread], 0.0, atol=1e-7)
    assert_allclose((Z.max(axis=0) - Z.min(axis=0))[spread], 1.0, rtol=1e-7)
    assert np.all(np.abs(Z) <= 1.0 + 1e-7)
    constant = is_constant(X)
    assert_array_equal(normalizer.range_[constant], 1.0)
    assert np.all(np.abs(Z[:, constant]) <= 1e-12 * np.maximum(1.0, np.abs(X[:, constant])))


# ----------------------------------------------------------------- near the float limit


@pytest.mark.parametrize("scaler_class", SCALERS)
@pytest.mark.parametrize("exponent", [1020, 500, -1000])
def test_scaling_by_a_power_of_two_scales_the_statistics_exactly(scaler_class, exponent):
    # Multiplying X by 2**k is exact, so the fit must be too: mean_ and the divisor scale by
    # 2**k bit for bit, and transform gives the very same z. With k = 1020 the values reach
    # 1e308 (their sum and squares overflow), with k = -1000 their squares underflow.
    X = np.random.default_rng(0).normal(size=(20, 3)) + [0.0, 3.0, -5.0]
    factor = 2.0**exponent
    reference = scaler_class().fit(X)
    scaled = scaler_class().fit(X * factor)
    assert_array_equal(scaled.mean_, reference.mean_ * factor)
    assert_array_equal(scaled._divisor(), reference._divisor() * factor)
    assert_array_equal(scaled.transform(X * factor), reference.transform(X))
    Z = reference.transform(X)
    assert_array_equal(scaled.inverse_transform(Z), reference.inverse_transform(Z) * factor)


def test_zscore_of_values_near_1e200():
    scaler = ZScoreScaler().fit([[1e200], [-1e200], [1e200], [-1e200]])
    assert_array_equal(scaler.scale_, [1e200])
    assert_array_equal(scaler.var_, [np.inf])  # sigma^2 = 1e400 is not a float64
    assert_array_equal(scaler.transform([[1e200], [-1e200]]), [[1.0], [-1.0]])


@pytest.mark.parametrize("scaler_class", SCALERS)
@pytest.mark.parametrize(
    ("dtype", "limit", "advice"),
    [(np.float64, 1.5e308, r"\(X / 1e10, say\)$"), (np.float32, 3e38, r"X.astype\(np.float64\)")],
)
def test_a_column_wider_than_the_largest_float_is_refused(scaler_class, dtype, limit, advice):
    X = np.array([[0.0, limit], [1.0, -limit]], dtype=dtype)
    spans = re.escape(f"X[:, 1] spans from -{limit:.2g} to {limit:.2g}: max - min is beyond")
    with pytest.raises(ValueError, match=rf"{spans} the largest {np.dtype(dtype)}.*{advice}"):
        scaler_class().fit(X)


# ----------------------------------------------------------------- API behaviour


@pytest.mark.parametrize("scaler_class", SCALERS)
def test_fit_returns_self_and_fit_transform_equals_fit_then_transform(scaler_class):
    X = REF["basic.X"]
    scaler = scaler_class()
    assert scaler.fit(X) is scaler
    assert_array_equal(scaler_class().fit_transform(X), scaler.transform(X))


@pytest.mark.parametrize("scaler_class", SCALERS)
def test_dtypes(scaler_class):
    X64 = REF["basic.X"]
    X32 = X64.astype(np.float32)
    scaler = scaler_class().fit(X32)
    assert scaler.transform(X32).dtype == np.float32
    assert scaler.inverse_transform(X32).dtype == np.float32
    assert scaler.transform(X64).dtype == np.float64
    integers = np.arange(12).reshape(4, 3)
    assert scaler_class().fit(integers).transform(integers).dtype == np.float64
    assert scaler_class().fit([[1, 2], [3, 5]]).n_features_in_ == 2  # nested lists work


@pytest.mark.parametrize("scaler_class", SCALERS)
def test_inputs_are_never_modified_nor_shared(scaler_class):
    X = REF["basic.X"].copy()
    Z = REF["basic.probe"].copy()
    scaler = scaler_class().fit(X)
    fitted = {k: v.copy() for k, v in vars(scaler).items() if isinstance(v, np.ndarray)}
    scaler.transform(X)
    scaler.inverse_transform(Z)
    assert_array_equal(X, REF["basic.X"])
    assert_array_equal(Z, REF["basic.probe"])
    X[:] = 0.0  # changing the training data afterwards does not change the fit
    for name, value in fitted.items():
        assert_array_equal(getattr(scaler, name), value)


@pytest.mark.parametrize("scaler_class", SCALERS)
def test_refit_replaces_the_statistics(scaler_class):
    scaler = scaler_class().fit(REF["basic.X"])
    scaler.fit(REF["wine.X"])
    assert scaler.n_features_in_ == 13
    assert scaler.n_samples_seen_ == 178
    assert_allclose(scaler.mean_, REF["wine.mean_"], rtol=1e-12)


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize("scaler_class", SCALERS)
class TestBadInput:
    def test_1d_input_says_reshape(self, scaler_class):
        with pytest.raises(ValueError, match=r"X must be 2-D.*reshape\(-1, 1\)"):
            scaler_class().fit(np.arange(5.0))
        scaler = scaler_class().fit(np.ones((3, 1)))
        with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
            scaler.transform(np.arange(5.0))

    @pytest.mark.parametrize("X", [np.float64(3.0), np.ones((2, 3, 4))])
    def test_other_ranks(self, scaler_class, X):
        with pytest.raises(ValueError, match="X must be 2-D"):
            scaler_class().fit(X)

    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_non_finite_in_fit(self, scaler_class, bad):
        X = np.ones((3, 2))
        X[1, 1] = bad
        with pytest.raises(ValueError, match="X contains NaN or infinity"):
            scaler_class().fit(X)

    def test_non_finite_in_transform_and_inverse(self, scaler_class):
        scaler = scaler_class().fit(np.eye(3))
        with pytest.raises(ValueError, match="X contains NaN"):
            scaler.transform(np.full((1, 3), np.nan))
        with pytest.raises(ValueError, match="Z contains NaN"):
            scaler.inverse_transform(np.full((1, 3), np.inf))

    @pytest.mark.parametrize(
        "X", [np.array([["a", "b"]]), np.ones((2, 2), dtype=complex), [[None, 1.0]]]
    )
    def test_non_numeric(self, scaler_class, X):
        with pytest.raises(TypeError, match="X must be"):
            scaler_class().fit(X)

    @pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
    def test_empty(self, scaler_class, shape):
        with pytest.raises(ValueError, match="at least one sample and one feature"):
            scaler_class().fit(np.ones(shape))

    def test_transform_before_fit(self, scaler_class):
        for method in ("transform", "inverse_transform"):
            with pytest.raises(NotFittedError, match="call fit first") as info:
                getattr(scaler_class(), method)(np.ones((2, 2)))
            assert isinstance(info.value, ValueError)
            assert scaler_class.__name__ in str(info.value)

    def test_feature_count_differs(self, scaler_class):
        scaler = scaler_class().fit(np.ones((4, 2)))
        with pytest.raises(ValueError, match="X has 3 features.*fitted with 2 features"):
            scaler.transform(np.ones((4, 3)))
        with pytest.raises(ValueError, match="Z has 1 features.*fitted with 2 features"):
            scaler.inverse_transform(np.ones((4, 1)))
