"""Tests of course_lib.data: mini-batches, splits, generators and the shipped data sets."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from course_lib.data import (
    Dataset,
    digits_subset,
    load_digits,
    load_wine,
    make_scaled_regression,
    make_spirals,
    minibatches,
    one_hot,
    train_test_split,
)
from course_lib.scaling import ZScoreScaler

FIXTURES = Path(__file__).parent / "fixtures"
with np.load(FIXTURES / "scaling.npz") as _npz:
    DIGESTS = {key: str(_npz[key]) for key in _npz.files if key.endswith("_sha256")}


def numbered(n: int, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """X whose row i is (i, -i), y = i: lets a test see which samples a batch holds."""
    y = np.arange(n)
    return np.column_stack([y, -y]).astype(dtype), y


def epoch(X, y, batch_size, rng=None, shuffle=True):
    return list(minibatches(X, y, batch_size, rng=rng, shuffle=shuffle))


def order_of(batches) -> np.ndarray:
    return np.concatenate([y_batch for _, y_batch in batches])


# ----------------------------------------------------------------- minibatches


@pytest.mark.parametrize("shuffle", [True, False])
def test_drop_last_leaves_out_the_short_last_batch_only(shuffle):
    X, y = np.arange(23.0).reshape(23, 1), np.arange(23)
    kept = list(minibatches(X, y, 5, rng=1, shuffle=shuffle))
    dropped = list(minibatches(X, y, 5, rng=1, shuffle=shuffle, drop_last=True))
    assert [len(b) for b, _ in kept] == [5, 5, 5, 5, 3]
    assert [len(b) for b, _ in dropped] == [5, 5, 5, 5]
    for (a, _), (b, _) in zip(kept, dropped, strict=False):
        assert_array_equal(a, b)  # the same shuffle: the dropped epoch is a prefix
    whole = list(minibatches(X, y, 23, rng=1, drop_last=True))
    assert [len(b) for b, _ in whole] == [23]
    with pytest.raises(TypeError, match="drop_last"):
        minibatches(X, y, 5, drop_last="yes")


@pytest.mark.parametrize("n", [1, 7, 10, 33])
@pytest.mark.parametrize("batch_size", [1, 3, 10, 64])
@pytest.mark.parametrize("shuffle", [True, False])
def test_every_sample_once_and_batch_sizes(n, batch_size, shuffle):
    X, y = numbered(n)
    batches = epoch(X, y, batch_size, rng=0, shuffle=shuffle)
    expected_sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    assert [len(y_batch) for _, y_batch in batches] == expected_sizes
    assert [len(X_batch) for X_batch, _ in batches] == expected_sizes
    assert_array_equal(np.sort(order_of(batches)), np.arange(n))
    for X_batch, y_batch in batches:  # rows of X and y stay paired
        assert_array_equal(X_batch[:, 0], y_batch)
        assert_array_equal(X_batch[:, 1], -y_batch)


def test_partial_last_batch_is_kept():
    X, y = numbered(10)
    batches = epoch(X, y, 4, rng=0)
    assert [len(b) for _, b in batches] == [4, 4, 2]


def test_shuffle_false_keeps_the_order_and_ignores_rng():
    X, y = numbered(10)
    for rng in (None, 0, 123, np.random.default_rng(5)):
        assert_array_equal(order_of(epoch(X, y, 3, rng=rng, shuffle=False)), np.arange(10))


def test_shuffle_is_deterministic_for_a_seed():
    X, y = numbered(50)
    first = order_of(epoch(X, y, 8, rng=3))
    assert_array_equal(first, order_of(epoch(X, y, 8, rng=3)))
    assert_array_equal(first, order_of(epoch(X, y, 8, rng=np.random.default_rng(3))))
    assert not np.array_equal(first, np.arange(50))  # it does shuffle
    assert not np.array_equal(first, order_of(epoch(X, y, 8, rng=4)))


def test_a_generator_gives_a_new_order_every_epoch_and_a_reproducible_run():
    X, y = numbered(50)

    def run(seed):
        rng = np.random.default_rng(seed)
        return [order_of(epoch(X, y, 8, rng=rng)) for _ in range(3)]

    orders = run(11)
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])
    for a, b in zip(orders, run(11), strict=True):
        assert_array_equal(a, b)


def test_batches_are_copies_and_inputs_are_untouched():
    X, y = numbered(12)
    X_before, y_before = X.copy(), y.copy()
    for shuffle in (True, False):
        for X_batch, y_batch in minibatches(X, y, 5, rng=0, shuffle=shuffle):
            X_batch *= 100.0
            y_batch += 1000
    assert_array_equal(X, X_before)
    assert_array_equal(y, y_before)


def test_dtypes_and_trailing_dimensions_are_kept():
    X = np.zeros((6, 2, 3), dtype=np.float32)
    y = one_hot(np.array([0, 1, 2, 0, 1, 2]), 3)
    X_batch, y_batch = next(minibatches(X, y, 4, rng=0))
    assert X_batch.dtype == np.float32 and X_batch.shape == (4, 2, 3)
    assert y_batch.shape == (4, 3)
    _, labels = next(minibatches(X, np.arange(6, dtype=np.int32), 4, rng=0))
    assert labels.dtype == np.int32
    X_list, y_list = next(minibatches([[1.0], [2.0]], [0, 1], 2, shuffle=False))
    assert_array_equal(X_list, [[1.0], [2.0]])


def test_one_gather_per_epoch_matches_indexing_by_the_permutation():
    # The documented order: batch k holds samples pi(kB) .. pi(kB + B - 1).
    X, y = numbered(23)
    permutation = np.random.default_rng(9).permutation(23)
    assert_array_equal(order_of(epoch(X, y, 5, rng=9)), permutation)


class TestMinibatchesBadInput:
    """Errors come when minibatches is called, before any batch is asked for."""

    X, y = numbered(5)

    @pytest.mark.parametrize("batch_size", [0, -3])
    def test_batch_size_below_one(self, batch_size):
        with pytest.raises(ValueError, match="batch_size must be >= 1"):
            minibatches(self.X, self.y, batch_size)

    @pytest.mark.parametrize("batch_size", [2.5, 2.0, True, "4", None])
    def test_batch_size_not_an_integer(self, batch_size):
        with pytest.raises(TypeError, match="batch_size must be an integer"):
            minibatches(self.X, self.y, batch_size)

    def test_lengths_differ(self):
        with pytest.raises(ValueError, match=r"len\(X\) = 5 and len\(y\) = 4"):
            minibatches(self.X, self.y[:4], 2)

    def test_no_samples(self):
        with pytest.raises(ValueError, match="at least one sample"):
            minibatches(np.zeros((0, 3)), np.zeros(0), 2)

    def test_scalar(self):
        with pytest.raises(ValueError, match="one row per sample"):
            minibatches(np.float64(1.0), np.zeros(1), 1)

    @pytest.mark.parametrize("rng", ["seed", 1.5, True, np.random.RandomState(0)])
    def test_bad_rng_type(self, rng):
        with pytest.raises(TypeError, match="rng must be an integer seed, a numpy.random"):
            minibatches(self.X, self.y, 2, rng=rng)

    def test_negative_seed(self):
        with pytest.raises(ValueError, match="rng must be a seed >= 0"):
            minibatches(self.X, self.y, 2, rng=-1)


# ----------------------------------------------------------------- train_test_split


@pytest.mark.parametrize("n, fraction", [(2, 0.25), (10, 0.25), (178, 0.25), (33, 0.5), (7, 0.8)])
def test_split_sizes_and_partition(n, fraction):
    X, y = numbered(n)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=fraction, rng=0)
    assert len(y_test) == len(X_test) == math.ceil(fraction * n)
    assert len(y_train) == len(X_train) == n - math.ceil(fraction * n)
    assert_array_equal(np.sort(np.concatenate([y_train, y_test])), np.arange(n))
    assert_array_equal(X_train[:, 0], y_train)
    assert_array_equal(X_test[:, 0], y_test)


def test_split_is_deterministic_and_random():
    X, y = numbered(40)
    a = train_test_split(X, y, rng=1)
    for left, right in zip(a, train_test_split(X, y, rng=1), strict=True):
        assert_array_equal(left, right)
    assert not np.array_equal(a[3], train_test_split(X, y, rng=2)[3])
    assert not np.array_equal(np.sort(a[3]), np.arange(30, 40))  # not simply the tail


def test_split_stratified_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [59, 71, 48])  # the Wine class sizes
    X = np.arange(len(y), dtype=float)[:, None]
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, rng=0, stratify=True)
    for label, n_c in zip([0, 1, 2], [59, 71, 48], strict=True):
        n_test_c = math.floor(0.25 * n_c + 0.5)
        assert np.sum(y_test == label) == n_test_c
        assert np.sum(y_train == label) == n_c - n_test_c
    assert_array_equal(y[X_train[:, 0].astype(int)], y_train)
    assert_array_equal(np.sort(np.concatenate([X_train, X_test])[:, 0]), X[:, 0])
    assert not np.all(np.diff(y_test) >= 0)  # the test part is shuffled, not class-sorted


def test_split_stratified_rounds_halves_up():
    y = np.repeat([0, 1], [10, 6])  # 0.25 * 10 = 2.5 -> 3 and 0.25 * 6 = 1.5 -> 2
    _, _, y_train, y_test = train_test_split(y[:, None], y, 0.25, rng=0, stratify=True)
    assert_array_equal(np.bincount(y_test), [3, 2])
    assert_array_equal(np.bincount(y_train), [7, 4])


def test_split_stratified_by_a_label_array():
    # scikit-learn's spelling, stratify=y, gives the very split of stratify=True; any other
    # labels, one per row, stratify by their classes (here y is a regression target)
    y = np.repeat([0, 1, 2], [59, 71, 48])
    X = np.arange(len(y), dtype=float)[:, None]
    for by_array, by_flag in zip(train_test_split(X, y, 0.25, rng=3, stratify=y),
                                 train_test_split(X, y, 0.25, rng=3, stratify=True), strict=True):
        assert_array_equal(by_array, by_flag)
    target = X[:, 0] ** 2
    _, X_test, _, y_test = train_test_split(X, target, 0.25, rng=0, stratify=list(y))
    assert_array_equal(np.bincount(y[X_test[:, 0].astype(int)]), [15, 18, 12])
    assert_array_equal(y_test, X_test[:, 0] ** 2)


@pytest.mark.parametrize("off", [False, None])
def test_split_not_stratified(off):
    X, y = numbered(40)
    for left, right in zip(train_test_split(X, y, rng=1, stratify=off),
                           train_test_split(X, y, rng=1), strict=True):
        assert_array_equal(left, right)


def test_split_does_not_modify_inputs():
    X, y = numbered(10)
    X_before = X.copy()
    X_train, *_ = train_test_split(X, y, rng=0)
    X_train[:] = -1
    assert_array_equal(X, X_before)


class TestSplitBadInput:
    X, y = numbered(10)

    @pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
    def test_fraction_outside_open_interval(self, fraction):
        with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\)"):
            train_test_split(self.X, self.y, test_fraction=fraction)

    def test_fraction_not_finite(self):
        with pytest.raises(ValueError, match="test_fraction must be finite"):
            train_test_split(self.X, self.y, test_fraction=float("nan"))

    def test_lengths_differ(self):
        with pytest.raises(ValueError, match=r"len\(X\) = 10 and len\(y\) = 9"):
            train_test_split(self.X, self.y[:9])

    def test_too_few_samples_for_two_parts(self):
        with pytest.raises(ValueError, match="both need at least one"):
            train_test_split(self.X[:1], self.y[:1])
        with pytest.raises(ValueError, match="both need at least one"):
            train_test_split(self.X[:3], self.y[:3], test_fraction=0.1, stratify=True)

    def test_stratify_needs_labels(self):
        with pytest.raises(ValueError, match="stratify=True needs y of class labels"):
            train_test_split(self.X, self.X, stratify=True)

    @pytest.mark.parametrize("stratify", ["no", "yes", 0, 1, 0.5, np.int64(1)])
    def test_stratify_neither_bool_nor_labels(self, stratify):
        with pytest.raises(TypeError, match="stratify must be True, False or an array of class"):
            train_test_split(self.X, self.y, stratify=stratify)

    @pytest.mark.parametrize("labels", [np.zeros(9), np.zeros((10, 1)), np.zeros(11)])
    def test_stratify_labels_one_per_row(self, labels):
        message = r"stratify must hold one class label per row, shape \(10,\)"
        with pytest.raises(ValueError, match=message):
            train_test_split(self.X, self.y, stratify=labels)


# ----------------------------------------------------------------- one_hot


def test_one_hot_closed_form():
    labels = np.array([2, 0, 1, 2, 4])
    Y = one_hot(labels, 5)
    assert Y.shape == (5, 5) and Y.dtype == np.float64
    for i, label in enumerate(labels):
        expected = np.zeros(5)
        expected[label] = 1.0
        assert_array_equal(Y[i], expected)
    assert one_hot(labels, 6, dtype=np.float32).dtype == np.float32
    assert one_hot(np.array([], dtype=int), 3).shape == (0, 3)


@pytest.mark.parametrize(
    "labels, n_classes, error, match",
    [
        (np.array([0.0, 1.0]), 2, TypeError, "labels must be an integer array"),
        (np.array([True, False]), 2, TypeError, "labels must be an integer array"),
        (np.array([[0, 1]]), 2, ValueError, "labels must be 1-D"),
        (np.array([0, 2]), 2, ValueError, r"labels must lie in 0 \.\. 1"),
        (np.array([-1, 0]), 2, ValueError, r"labels must lie in 0 \.\. 1"),
        (np.array([0, 1]), 0, ValueError, "n_classes must be >= 1"),
    ],
)
def test_one_hot_bad_input(labels, n_classes, error, match):
    with pytest.raises(error, match=match):
        one_hot(labels, n_classes)


# ----------------------------------------------------------------- make_scaled_regression


def test_scaled_regression_follows_its_formula():
    scales = (1.0, 1000.0, 0.01)
    X, y, true_w, true_b = make_scaled_regression(500, scales=scales, noise=0.0, rng=0)
    assert X.shape == (500, 3) and y.shape == (500,) and true_w.shape == (3,)
    assert X.dtype == y.dtype == true_w.dtype == np.float64 and isinstance(true_b, float)
    assert np.all(X >= 0) and np.all(X <= np.array(scales))
    assert np.all(X.max(axis=0) > 0.9 * np.array(scales))  # feature j fills [0, s_j]
    assert_allclose(np.abs(true_w * scales), np.clip(np.abs(true_w * scales), 1.0, 2.0))
    assert_allclose(y, X @ true_w + true_b, rtol=1e-12, atol=1e-12)


def test_scaled_regression_noise_level():
    X, y, true_w, true_b = make_scaled_regression(4000, noise=0.5, rng=1)
    residual = y - (X @ true_w + true_b)
    assert abs(residual.std() - 0.5) < 0.05
    assert abs(residual.mean()) < 0.05


def test_scaled_regression_is_ill_conditioned_until_scaled():
    # The docstring's claim: the MSE Hessian in (w, b) has condition >= (max/min scale)**2.
    X, *_ = make_scaled_regression(scales=(1, 1000), rng=0)

    def hessian_condition(features):
        A = np.column_stack([features, np.ones(len(features))])
        return np.linalg.cond(A.T @ A / len(A))

    assert hessian_condition(X) >= 1000.0**2
    assert hessian_condition(ZScoreScaler().fit_transform(X)) < 10.0


def test_scaled_regression_seeds():
    a = make_scaled_regression(rng=3)
    b = make_scaled_regression(rng=3)
    c = make_scaled_regression(rng=np.random.default_rng(3))
    for left, middle, right in zip(a, b, c, strict=True):
        assert_array_equal(left, middle)
        assert_array_equal(left, right)
    assert not np.array_equal(a[0], make_scaled_regression(rng=4)[0])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_samples": 0}, ValueError, "n_samples must be >= 1"),
        ({"n_samples": 2.5}, TypeError, "n_samples must be an integer"),
        ({"scales": ()}, ValueError, "scales must be one or more positive numbers"),
        ({"scales": (1.0, 0.0)}, ValueError, "scales must be one or more positive numbers"),
        ({"scales": (1.0, -5.0)}, ValueError, "scales must be one or more positive numbers"),
        ({"scales": (1.0, np.inf)}, ValueError, "scales contains NaN or infinity"),
        ({"scales": [[1.0, 2.0]]}, ValueError, "scales must be 1-D"),
        ({"noise": -0.1}, ValueError, "noise must be >= 0"),
        ({"rng": "zero"}, TypeError, "rng must be"),
    ],
)
def test_scaled_regression_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_scaled_regression(**kwargs)


# ----------------------------------------------------------------- make_spirals


@pytest.mark.parametrize("n_samples, n_classes", [(300, 2), (301, 3), (10, 5), (2, 2)])
def test_spirals_shapes_labels_and_balance(n_samples, n_classes):
    X, y = make_spirals(n_samples, n_classes, rng=0)
    assert X.shape == (n_samples, 2) and X.dtype == np.float64
    assert y.shape == (n_samples,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes and counts.sum() == n_samples
    assert counts.max() - counts.min() <= 1
    assert np.all(np.hypot(X[:, 0], X[:, 1]) <= 1.0 + 1e-12)


def test_spirals_follow_the_arm_formula_without_noise():
    n_classes = 3
    X, y = make_spirals(90, n_classes, noise=0.0, rng=0)
    r = np.hypot(X[:, 0], X[:, 1])
    for k in range(n_classes):
        # radii (i + 1) / n_k, i = 0 .. n_k - 1
        assert_allclose(np.sort(r[y == k]), np.arange(1, 31) / 30, rtol=1e-12)
    theta = 4.0 * r + 2.0 * np.pi * y / n_classes
    assert_allclose(X, np.column_stack([r * np.sin(theta), r * np.cos(theta)]), atol=1e-12)


def test_spirals_are_shuffled_and_seeded():
    X, y = make_spirals(200, rng=5)
    assert not np.all(np.diff(y) >= 0)
    X2, y2 = make_spirals(200, rng=5)
    assert_array_equal(X, X2)
    assert_array_equal(y, y2)
    assert not np.array_equal(X, make_spirals(200, rng=6)[0])
    # noise jitters the angle only: radii are the same as without noise
    X0, y0 = make_spirals(200, noise=0.0, rng=5)
    assert_allclose(np.sort(np.hypot(*X.T)), np.sort(np.hypot(*X0.T)), rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_classes": 1}, ValueError, "n_classes must be >= 2"),
        ({"n_samples": 3, "n_classes": 4}, ValueError, "n_samples must be >= n_classes"),
        ({"n_samples": 0}, ValueError, "n_samples must be >= 1"),
        ({"noise": -1.0}, ValueError, "noise must be >= 0"),
        ({"n_classes": 2.0}, TypeError, "n_classes must be an integer"),
    ],
)
def test_spirals_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_spirals(**kwargs)


# ----------------------------------------------------------------- shipped data sets


def sha256(array: np.ndarray, dtype: type) -> str:
    return hashlib.sha256(np.ascontiguousarray(array, dtype=dtype).tobytes()).hexdigest()


@pytest.mark.parametrize("name, loader", [("wine", load_wine), ("digits", load_digits)])
def test_same_numbers_as_scikit_learn(name, loader):
    data = loader()
    assert data.X.dtype == np.float64 and data.y.dtype == np.int64
    assert sha256(data.X, np.float64) == DIGESTS[f"{name}.X_sha256"]
    assert sha256(data.y, np.int64) == DIGESTS[f"{name}.y_sha256"]


def test_wine():
    wine = load_wine()
    assert isinstance(wine, Dataset) and wine.name == "wine"
    assert wine.X.shape == (178, 13) and wine.y.shape == (178,)
    assert_array_equal(np.bincount(wine.y), [59, 71, 48])  # class sizes stated by UCI
    assert wine.target_names == ("class_0", "class_1", "class_2")
    assert len(wine.feature_names) == 13
    assert wine.feature_names[0] == "alcohol" and wine.feature_names[-1] == "proline"
    # very different scales: the point of the feature-scaling lesson
    assert wine.X.min() < 0.2 and wine.X.max() > 1000.0
    proline = wine.X[:, wine.feature_names.index("proline")]
    hue = wine.X[:, wine.feature_names.index("hue")]
    assert proline.std() > 100 * hue.std()
    assert "CC BY 4.0" in wine.description and "10.24432/C5PC7J" in wine.description


def test_digits():
    digits = load_digits()
    assert digits.name == "digits"
    assert digits.X.shape == (1797, 64) and digits.y.shape == (1797,)
    assert digits.X.min() == 0.0 and digits.X.max() == 16.0
    assert_array_equal(digits.X, np.round(digits.X))  # integer pixel counts
    counts = np.bincount(digits.y)
    assert len(counts) == 10 and counts.min() == 174 and counts.max() == 183  # as described
    assert digits.target_names == tuple("0123456789")
    assert digits.feature_names[0] == "pixel_0_0" and digits.feature_names[-1] == "pixel_7_7"
    assert digits.feature_names[9] == "pixel_1_1"  # row by row
    assert "CC BY 4.0" in digits.description and "10.24432/C50P49" in digits.description


def test_wine_description_table_matches_the_data():
    wine = load_wine()
    rows = {}
    for line in wine.description.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] in wine.feature_names:
            rows[parts[0]] = [float(p) for p in parts[1:]]
    assert list(rows) == list(wine.feature_names)
    stated = np.array(list(rows.values()))
    actual = np.column_stack([wine.X.min(axis=0), wine.X.max(axis=0), wine.X.mean(axis=0)])
    assert_allclose(stated, actual, atol=0.005 + 1e-9)


@pytest.mark.parametrize("loader", [load_wine, load_digits])
def test_every_call_returns_fresh_writeable_arrays(loader):
    first = loader()
    X_before, y_before = first.X.copy(), first.y.copy()
    first.X[:] = -1.0  # a learner scribbling on the data ...
    first.y[:] = -1
    second = loader()  # ... does not corrupt the next load
    assert_array_equal(second.X, X_before)
    assert_array_equal(second.y, y_before)
    assert second.X.flags.writeable and second.X.flags.c_contiguous
    assert not np.shares_memory(first.X, second.X)


def test_dataset_repr_is_short():
    text = repr(load_wine())
    assert text == "Dataset('wine': X (178, 13) float64, y (178,) int64, 3 classes)"


# ----------------------------------------------------------------- digits_subset


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_digits_subset_z_scores_the_rows_of_a_seeded_permutation(dtype):
    X, y = digits_subset(300, seed=4, dtype=dtype)
    digits = load_digits()
    rows = np.random.default_rng(4).permutation(1797)[:300]
    pixels = digits.X[rows]
    std = pixels.std(axis=0)
    expected = (pixels - pixels.mean(axis=0)) / np.where(std > 0, std, 1.0)
    np.testing.assert_allclose(X, expected.astype(dtype), rtol=1e-6 if dtype == np.float32
                               else 1e-12, atol=1e-6)
    np.testing.assert_array_equal(y, digits.y[rows])
    assert X.dtype == dtype and y.dtype == np.int64 and X.shape == (300, 64)
    moving = std > 0
    np.testing.assert_allclose(X[:, moving].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(X[:, moving].std(axis=0), 1, rtol=1e-5)
    np.testing.assert_array_equal(X[:, ~moving], 0)


def test_digits_subset_can_scale_over_all_the_digits():
    X, y = digits_subset(200, seed=0, scale_on="all")
    digits = load_digits()
    everything = ZScoreScaler().fit_transform(digits.X)
    rows = np.random.default_rng(0).permutation(1797)[:200]
    np.testing.assert_array_equal(X, everything[rows])
    assert not np.allclose(X, digits_subset(200, seed=0)[0])  # other means and stds


def test_digits_subset_seeds_and_generators():
    np.testing.assert_array_equal(digits_subset(50, 1)[1], digits_subset(50, 1)[1])
    assert not np.array_equal(digits_subset(50, 1)[1], digits_subset(50, 2)[1])
    rng = np.random.default_rng(1)
    first, second = digits_subset(50, rng)[1], digits_subset(50, rng)[1]
    np.testing.assert_array_equal(first, digits_subset(50, 1)[1])
    assert not np.array_equal(first, second)  # the generator's draws continue


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"n_samples": 0}, ValueError, "n_samples must be >= 1"),
    ({"n_samples": 1798}, ValueError, "n_samples must be at most 1797"),
    ({"n_samples": 10, "seed": -1}, ValueError, "seed must be a seed >= 0"),
    ({"n_samples": 10, "seed": 1.5}, TypeError, "seed must be an integer seed"),
    ({"n_samples": 10, "dtype": np.int64}, TypeError, "dtype must be"),
    ({"n_samples": 10, "scale_on": "train"}, ValueError, "scale_on must be"),
])
def test_digits_subset_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        digits_subset(**kwargs)
