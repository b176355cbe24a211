"""Data for the lessons: mini-batches, synthetic problems, two small real data sets.

* ``minibatches`` cuts a data set into shuffled mini-batches, one epoch per call;
* ``train_test_split`` and ``one_hot`` are the small helpers a training loop needs;
* ``make_scaled_regression`` and ``make_spirals`` generate the synthetic
  problems of the lessons (features on wildly different scales; two or more
  interleaved spirals);
* ``load_wine`` and ``load_digits`` return two classic UCI data sets that are
  shipped inside the package (``course_lib/datasets/``), so nothing is
  downloaded at run time; ``digits_subset`` draws z-scored digits for the
  experiments of lessons 05, 07 and 08.

Randomness: every function that draws random numbers takes ``rng`` (or
``seed``), which may be an ``int`` seed (``np.random.default_rng(seed)``: the
same seed gives the same result every time), a ``numpy.random.Generator``
(its state advances, so a second call gives new numbers), or ``None`` (fresh,
unpredictable randomness: avoid it where results must be reproducible); see
``validation.check_rng``.
"""

from __future__ import annotations

import functools
import gzip
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.scaling import ZScoreScaler
from course_lib.validation import (
    check_array,
    check_bool,
    check_nonnegative,
    check_positive_int,
    check_real,
    check_rng,
)

__all__ = [
    "Dataset",
    "digits_subset",
    "load_digits",
    "load_wine",
    "make_scaled_regression",
    "make_spirals",
    "minibatches",
    "one_hot",
    "train_test_split",
]

RngLike = int | np.random.Generator | None


def _check_samples(X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``X`` and ``y`` as arrays with the same, non-zero number of rows (dtypes kept)."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(
            f"X and y must be arrays with one row per sample, got shapes {X.shape} and {y.shape}"
        )
    if len(X) != len(y):
        raise ValueError(
            f"X and y must have the same number of samples, got len(X) = {len(X)} "
            f"and len(y) = {len(y)}"
        )
    if len(X) == 0:
        raise ValueError(f"X must contain at least one sample, got shape {X.shape}")
    return X, y


# --------------------------------------------------------------------------- batches


def minibatches(
    X: ArrayLike,
    y: ArrayLike,
    batch_size: int,
    rng: RngLike = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    r"""One epoch of mini-batches ``(X_batch, y_batch)``.

    With ``n`` samples and batch size ``B`` an epoch has ``ceil(n / B)``
    batches; every sample appears in exactly one batch, and the last batch
    keeps the ``n mod B`` left-over samples (with ``drop_last=True`` it is
    dropped instead, as PyTorch's ``DataLoader`` does: ``n // B`` batches, all
    of ``B`` rows; shuffled, a different remainder each epoch). With
    ``shuffle=True`` the samples are visited in the order of a random
    permutation :math:`\pi` of ``0..n-1``; batch ``k`` is

    .. math::

        X_{\pi(kB)}, X_{\pi(kB+1)}, \dots, X_{\pi(\min(kB+B, n) - 1)},

    and with ``shuffle=False`` the order of ``X`` is kept (``rng`` is ignored).

    Call it once per epoch with a Generator made once, before the loop, so
    every epoch is shuffled differently yet the whole run is reproducible::

        rng = np.random.default_rng(0)
        for epoch in range(n_epochs):
            for X_batch, y_batch in minibatches(X, y, 32, rng):
                ...

    An int seed gives the same order every time it is used (every epoch the
    same order, if passed inside the loop); ``rng=None`` gives an
    unpredictable order.

    Parameters
    ----------
    X : shape ``(n_samples, ...)``; rows are samples. Its dtype is kept.
    y : shape ``(n_samples, ...)``: targets or labels, one per row of ``X``.
    batch_size : integer >= 1; a batch size above ``n_samples`` gives one batch.
    rng : int seed, ``numpy.random.Generator`` or None (see above).
    shuffle : visit the samples in random order (default) or in order.
    drop_last : leave out the last batch when it has fewer than ``batch_size`` rows.

    Returns
    -------
    An iterator of ``(X_batch, y_batch)`` pairs. The batches are slices of
    one copy of ``X`` and ``y`` taken for this epoch, so changing a batch in
    place never changes ``X`` or ``y``. The arguments are checked when
    ``minibatches`` is called, before the first batch is asked for.
    """
    X, y = _check_samples(X, y)
    batch_size = check_positive_int("batch_size", batch_size)
    generator = check_rng("rng", rng)  # checked even when shuffle=False, which ignores it
    drop_last = check_bool("drop_last", drop_last)
    n_samples = len(X)
    order = generator.permutation(n_samples) if shuffle else np.arange(n_samples)
    if drop_last:
        order = order[: n_samples - n_samples % batch_size]
    # One gather per epoch (a fresh copy in batch order); each batch is then a cheap slice.
    # On the digits data this is about 2x faster at batch size 32 (5x at batch size 1)
    # than indexing X with a slice of the permutation for every batch.
    X_epoch = np.take(X, order, axis=0)
    y_epoch = np.take(y, order, axis=0)
    return _slices(X_epoch, y_epoch, batch_size)


def _slices(
    X: np.ndarray, y: np.ndarray, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(X), batch_size):
        stop = start + batch_size
        yield X[start:stop], y[start:stop]


def train_test_split(
    X: ArrayLike,
    y: ArrayLike,
    test_fraction: float = 0.25,
    rng: RngLike = 0,
    stratify: bool | ArrayLike | None = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``X`` and ``y`` at random into a training and a test part.

    ``n_test = ceil(test_fraction * n)`` samples go to the test part (the
    rule scikit-learn uses) and the other ``n - n_test`` to the training
    part; rows of ``X`` and ``y`` stay paired and both parts are shuffled.

    With ``stratify=True``, ``y`` holds class labels and each class ``c``
    with ``n_c`` samples puts ``round(test_fraction * n_c)`` of them (halves
    rounded up) into the test part, so both parts keep the class
    proportions of ``y`` up to rounding. ``stratify=labels`` (scikit-learn's
    spelling, e.g. ``stratify=y``) does the same with the classes of
    ``labels``, one per row; ``stratify=y`` and ``stratify=True`` give the
    same split.

    Fit scalers and models on the training part only; the test part
    measures how well they do on data they have not seen.

    Parameters
    ----------
    X, y : arrays with the same number of rows.
    test_fraction : the share of samples for the test part, in (0, 1).
    rng : int seed, ``numpy.random.Generator`` or None (module docstring).
    stratify : ``True`` keeps the class proportions of ``y`` in both parts;
        an array of class labels, one per row, keeps theirs; ``False`` (or
        ``None``, scikit-learn's default) splits without regard to classes.

    Returns
    -------
    ``X_train, X_test, y_train, y_test`` (new arrays; the inputs are not modified).
    """
    X, y = _check_samples(X, y)
    test_fraction = check_real("test_fraction", test_fraction)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    generator = check_rng("rng", rng)
    n_samples = len(X)
    labels = _stratify_labels(stratify, y)
    if labels is not None:
        test_parts, train_parts = [], []
        for label in np.unique(labels):
            members = generator.permutation(np.flatnonzero(labels == label))
            n_test_c = math.floor(test_fraction * len(members) + 0.5)
            test_parts.append(members[:n_test_c])
            train_parts.append(members[n_test_c:])
        test = generator.permutation(np.concatenate(test_parts))
        train = generator.permutation(np.concatenate(train_parts))
    else:
        order = generator.permutation(n_samples)
        n_test = math.ceil(test_fraction * n_samples)
        test, train = order[:n_test], order[n_test:]
    if len(test) == 0 or len(train) == 0:
        raise ValueError(
            f"test_fraction = {test_fraction} of {n_samples} samples leaves "
            f"{len(train)} for training and {len(test)} for testing; both need at least one"
        )
    return X[train], X[test], y[train], y[test]


def _stratify_labels(stratify: object, y: np.ndarray) -> np.ndarray | None:
    """The class labels ``train_test_split`` stratifies by: ``y``, ``stratify`` or None."""
    if stratify is None or isinstance(stratify, bool | np.bool_):
        if not stratify:
            return None
        if y.ndim != 1:
            raise ValueError(f"stratify=True needs y of class labels, shape (n,), got {y.shape}")
        return y
    if isinstance(stratify, str | bytes) or np.ndim(stratify) == 0:
        raise TypeError(
            f"stratify must be True, False or an array of class labels with one per row "
            f"(stratify=y), got {stratify!r}"
        )
    labels = np.asarray(stratify)
    if labels.shape != (len(y),):
        raise ValueError(
            f"stratify must hold one class label per row, shape ({len(y)},), got shape "
            f"{labels.shape}"
        )
    return labels


def one_hot(labels: ArrayLike, n_classes: int, dtype: DTypeLike = np.float64) -> np.ndarray:
    r"""One-hot encode integer class labels.

    .. math::

        Y_{ik} = 1 \text{ if } \mathrm{labels}_i = k \text{ else } 0,
        \qquad k = 0, \dots, K - 1.

    Parameters
    ----------
    labels : 1-D integer array with values in ``0 .. n_classes - 1``.
    n_classes : ``K``, the number of classes (a batch need not contain them all).
    dtype : dtype of the result (float64 by default).

    Returns
    -------
    ``Y`` of shape ``(len(labels), n_classes)``; each row has a single 1.
    """
    labels = np.asarray(labels)
    n_classes = check_positive_int("n_classes", n_classes)
    if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be an integer array, got dtype {labels.dtype}")
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0 .. {n_classes - 1} (n_classes = {n_classes}), "
            f"got values from {labels.min()} to {labels.max()}"
        )
    Y = np.zeros((len(labels), n_classes), dtype=dtype)
    Y[np.arange(len(labels)), labels] = 1
    return Y


# --------------------------------------------------------------------------- synthetic


def make_scaled_regression(
    n_samples: int = 200,
    scales: ArrayLike = (1.0, 1000.0),
    noise: float = 0.1,
    rng: RngLike = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    r"""A linear regression problem whose features live on very different scales.

    Feature ``j`` is uniform on ``[0, scales[j]]`` (not centred, and with a
    spread proportional to ``scales[j]``), and the weights are chosen so
    that every feature moves the target by a similar amount:

    .. math::

        x_{ij} = s_j\, u_{ij}, \quad u_{ij} \sim \mathcal U(0, 1), \qquad
        w_j = \pm\, c_j / s_j, \quad c_j \sim \mathcal U(1, 2), \qquad
        b \sim \mathcal N(0, 1),

    .. math::

        y_i = x_i^\top w + b + \text{noise} \cdot \epsilon_i,
        \qquad \epsilon_i \sim \mathcal N(0, 1).

    The Hessian of the mean-squared-error loss in ``(w, b)`` then has a
    condition number of order ``(max(scales) / min(scales))**2`` or more: plain
    gradient descent crawls until the features are scaled.

    Parameters
    ----------
    n_samples : number of rows (>= 1).
    scales : one positive number per feature, the width ``s_j`` of its range.
    noise : standard deviation of the Gaussian noise added to ``y`` (>= 0).
    rng : int seed (default 0), ``numpy.random.Generator`` or None.

    Returns
    -------
    ``X`` (n_samples, n_features), ``y`` (n_samples,), ``true_w`` (n_features,),
    ``true_b`` (float): all float64.
    """
    n_samples = check_positive_int("n_samples", n_samples)
    scales = check_array("scales", scales, ndim=1).astype(np.float64)
    if scales.size == 0 or np.any(scales <= 0):
        raise ValueError(f"scales must be one or more positive numbers, got {scales.tolist()}")
    noise = check_nonnegative("noise", noise)
    generator = check_rng("rng", rng)
    n_features = scales.size
    X = generator.uniform(0.0, 1.0, size=(n_samples, n_features)) * scales
    signs = generator.choice([-1.0, 1.0], size=n_features)
    true_w = signs * generator.uniform(1.0, 2.0, size=n_features) / scales
    true_b = float(generator.normal())
    y = X @ true_w + true_b + noise * generator.normal(size=n_samples)
    return X, y, true_w, true_b


def make_spirals(
    n_samples: int = 300,
    n_classes: int = 2,
    noise: float = 0.2,
    rng: RngLike = 0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Interleaved spirals in the plane, one arm per class (CS231n style).

    Class ``k`` gets ``n_k`` points (the classes differ in size by at most
    one). Point ``i`` of class ``k`` sits at radius ``r_i`` and angle
    ``theta_i``:

    .. math::

        r_i = \frac{i + 1}{n_k}, \qquad
        \theta_i = 4 r_i + \frac{2\pi k}{K} + \text{noise} \cdot \epsilon_i,
        \quad \epsilon_i \sim \mathcal N(0, 1),

    .. math::

        x_i = (r_i \sin\theta_i,\; r_i \cos\theta_i),

    with ``i = 0 .. n_k - 1``. Each arm winds 4 radians outwards from the
    centre (as in the CS231n spiral data), the ``K`` arms are rotated evenly
    around it, and the noise jitters only the angle, so every point lies in
    the unit disc. The rows are returned in random order.

    Parameters
    ----------
    n_samples : total number of points (>= n_classes).
    n_classes : number of arms ``K`` (>= 2).
    noise : standard deviation of the angle jitter, in radians (>= 0).
    rng : int seed (default 0), ``numpy.random.Generator`` or None.

    Returns
    -------
    ``X`` of shape (n_samples, 2), float64, and ``y`` of shape (n_samples,),
    int64 labels in ``0 .. n_classes - 1``.
    """
    n_samples = check_positive_int("n_samples", n_samples)
    n_classes = check_positive_int("n_classes", n_classes)
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples must be >= n_classes, got n_samples = {n_samples} "
            f"and n_classes = {n_classes}"
        )
    noise = check_nonnegative("noise", noise)
    generator = check_rng("rng", rng)
    sizes = [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]
    y = np.repeat(np.arange(n_classes, dtype=np.int64), sizes)
    r = np.concatenate([np.arange(1, n_k + 1) / n_k for n_k in sizes])
    theta = 4.0 * r + 2.0 * np.pi * y / n_classes + noise * generator.normal(size=n_samples)
    X = np.column_stack([r * np.sin(theta), r * np.cos(theta)])
    order = generator.permutation(n_samples)
    return X[order], y[order]


# --------------------------------------------------------------------------- real data

# The data files travel inside the package (see course_lib/datasets/README.md).
_DATA_DIR = Path(__file__).resolve().parent / "datasets"


@dataclass(frozen=True, repr=False, eq=False)
class Dataset:
    """A small labelled data set.

    Attributes
    ----------
    name : short name (``"wine"``, ``"digits"``).
    X : features, shape ``(n_samples, n_features)``, float64.
    y : integer class labels, shape ``(n_samples,)``, int64, in ``0 .. n_classes - 1``.
    feature_names : one name per column of ``X``.
    target_names : one name per class; ``target_names[k]`` names label ``k``.
    description : where the data come from, what they mean, how to cite them.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    description: str

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: X {self.X.shape} {self.X.dtype}, "
            f"y {self.y.shape} {self.y.dtype}, {len(self.target_names)} classes)"
        )


@functools.cache
def _read_table(file_name: str) -> tuple[tuple[str, ...], np.ndarray]:
    """Header names and numbers of a CSV file in ``course_lib/datasets`` (cached, read-only)."""
    raw = (_DATA_DIR / file_name).read_bytes()
    if file_name.endswith(".gz"):
        raw = gzip.decompress(raw)
    lines = raw.decode("utf-8").splitlines()
    table = np.loadtxt(lines[1:], delimiter=",", dtype=np.float64, ndmin=2)
    table.flags.writeable = False
    return tuple(lines[0].split(",")), table


@functools.cache
def _read_text(file_name: str) -> str:
    return (_DATA_DIR / file_name).read_text("utf-8")


def _load(name: str, file_name: str, target_names: tuple[str, ...]) -> Dataset:
    header, table = _read_table(file_name)
    return Dataset(
        name=name,
        X=table[:, :-1].copy(),  # copies: changing them cannot corrupt the cache
        y=table[:, -1].astype(np.int64),
        feature_names=header[:-1],
        target_names=target_names,
        description=_read_text(f"{name}.txt"),
    )


def load_wine() -> Dataset:
    """The UCI Wine recognition data: 178 wines, 13 chemical measurements, 3 cultivars.

    The columns span very different ranges (hue around 1, proline in the
    hundreds to 1680), which makes it the real-data example of the feature
    scaling lesson. Classes: 59, 71 and 48 wines.

    Returns a ``Dataset`` with ``X`` (178, 13) float64 and ``y`` (178,) in
    ``{0, 1, 2}``; identical to ``sklearn.datasets.load_wine()``. Every call
    returns new arrays. Source and licence (CC BY 4.0): ``print(load_wine().description)``.
    """
    return _load("wine", "wine.csv", ("class_0", "class_1", "class_2"))


def load_digits() -> Dataset:
    """The UCI optical handwritten digits (test set): 1797 images of 8x8 pixels.

    Each row of ``X`` is an 8x8 image flattened row by row (column
    ``pixel_r_c`` is row ``r``, column ``c``; ``X.reshape(-1, 8, 8)`` gives
    the images), with integer pixel values 0..16 stored as float64. ``y``
    is the digit 0..9 (about 180 images each).

    Returns a ``Dataset``; identical to ``sklearn.datasets.load_digits()``.
    Every call returns new arrays. Source and licence (CC BY 4.0):
    ``print(load_digits().description)``.
    """
    return _load("digits", "digits.csv.gz", tuple(str(d) for d in range(10)))


def digits_subset(
    n_samples: int,
    seed: RngLike = 0,
    *,
    dtype: DTypeLike = np.float64,
    scale_on: str = "subset",
) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` of the 1797 digits, drawn at random, with z-scored pixels: ``(X, y)``.

    The rows are the first ``n_samples`` of a random permutation, and each pixel ``j`` is
    z-scored with the mean and (population) standard deviation of a set of images::

        rows   = np.random.default_rng(seed).permutation(1797)[:n_samples]
        X[:, j] = (pixels[rows, j] − mean_j) / std_j        (ZScoreScaler)

    ``scale_on="subset"`` (default) takes ``mean_j`` and ``std_j`` over the rows drawn, so
    every column of ``X`` has mean 0 and std 1 (a pixel constant on these rows stays 0);
    ``scale_on="all"`` takes them over all 1797 images (lesson 08's data). ``X`` is cast to
    ``dtype`` (float64 or float32) after scaling; ``y`` holds the digits, int64.
    """
    if scale_on not in ("subset", "all"):
        raise ValueError(f'scale_on must be "subset" or "all", got {scale_on!r}')
    digits = load_digits()
    n_samples = check_positive_int("n_samples", n_samples)
    if n_samples > len(digits.y):
        raise ValueError(f"n_samples must be at most {len(digits.y)} (the number of digits), "
                         f"got {n_samples}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be np.float64 or np.float32, got {dtype}")
    rows = check_rng("seed", seed).permutation(len(digits.y))[:n_samples]
    if scale_on == "subset":
        X = ZScoreScaler().fit_transform(digits.X[rows])
    else:
        X = ZScoreScaler().fit_transform(digits.X)[rows]
    return X.astype(dtype), digits.y[rows]
