r"""Feature scaling: z-score normalization and mean normalization.

Gradient descent crawls when one feature is measured in thousands and
another in tenths: the loss surface becomes a long narrow valley. Scaling
each column to a comparable range rounds the valley off. Both scalers here
follow scikit-learn's API:

* ``fit(X)`` learns one statistic per column (per feature) from the
  training data and returns ``self``;
* ``transform(X)`` applies the learned statistics to any data with the same
  columns (the training set, the test set, a new sample);
* ``fit_transform(X)`` is ``fit(X).transform(X)``;
* ``inverse_transform(Z)`` undoes ``transform``;
* everything learned by ``fit`` ends in ``_`` (``mean_``, ``scale_``, ...).

Fit on the training data only, then transform the training and the test
data with the same fitted scaler: the test set must not leak into the
statistics.

``X`` has shape ``(n_samples, n_features)``: one row per sample. The
statistics are computed in float64 (as scikit-learn does); ``transform``
and ``inverse_transform`` return the dtype they are given, so float32 stays
float32 (integer input becomes float64). The input is never modified.

Values near the float limit are scaled correctly: ``fit`` computes each
column's sums and squares on ``x / p``, with ``p`` a power of two near the
column's largest ``|x|`` (an exact division), so ``1e200**2`` or the sum of
two values of ``1e308`` never overflows; on ordinary data the statistics are
bit for bit those of the plain formulas. ``fit`` refuses a column whose
``max - min`` is itself beyond the largest number of the dtype (values of
``-1.5e308`` and ``1.5e308``): centring it would overflow.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.validation import check_array

__all__ = ["MeanNormalizer", "NotFittedError", "ZScoreScaler"]

# Machine epsilon of float64, the precision in which the statistics are computed.
_EPS = float(np.finfo(np.float64).eps)


class NotFittedError(ValueError, AttributeError):
    """``transform`` or ``inverse_transform`` was called before ``fit``.

    A subclass of ``ValueError`` (and ``AttributeError``, like scikit-learn's
    error of the same name), so ``except ValueError`` catches it.
    """


def _check_X(X: ArrayLike, name: str = "X") -> np.ndarray:
    """``X`` as a finite 2-D float array with at least one row and one column."""
    arr = check_array(name, X, finite=False)
    if arr.ndim == 1:
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, n_features), got a 1-D array of "
            f"shape {arr.shape}. Use {name}.reshape(-1, 1) for a single feature or "
            f"{name}.reshape(1, -1) for a single sample."
        )
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, n_features), got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"{name} must have at least one sample and one feature, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity; remove or impute those values first")
    return arr


def _check_fit_X(X: ArrayLike) -> np.ndarray:
    """``_check_X``, and no column so spread out that centring it would overflow.

    ``x - mean`` is at most ``max - min`` in size: when that is beyond the largest number of
    ``X``'s dtype (1.8e308 for float64), ``transform`` could only return infinities.
    """
    X = _check_X(X)
    with np.errstate(over="ignore"):
        spread = X.max(axis=0) - X.min(axis=0)
    too_wide = np.flatnonzero(np.isinf(spread))
    if too_wide.size:
        j = too_wide[0]
        raise ValueError(
            f"X[:, {j}] spans from {X[:, j].min():.3g} to {X[:, j].max():.3g}: max - min is "
            f"beyond the largest {X.dtype} ({np.finfo(X.dtype).max:.3g}), so centring that "
            f"column would overflow. Divide X by a constant first (X / 1e10, say)"
            + ("" if X.dtype == np.float64 else " or convert it with X.astype(np.float64)")
        )
    return X


def _power_of_two_near_max(X: np.ndarray) -> np.ndarray:
    r"""Per column, :math:`p_j = 2^{\lfloor \log_2 \max_i |x_{ij}| \rfloor}` (1 for zeros).

    ``X / p`` lies in ``[-2, 2]``, so its sums and squares cannot overflow, and dividing by a
    power of two is exact: statistics computed on ``X / p`` and multiplied back by ``p`` are
    the very numbers the plain formulas give on ``X`` wherever those neither overflow nor
    underflow.
    """
    peak = np.abs(X).max(axis=0).astype(np.float64)
    _, exponent = np.frexp(peak)  # peak = m 2^exponent with 1/2 <= m < 1
    return np.where(peak > 0, np.ldexp(1.0, exponent - 1), 1.0)


class _FeatureScaler:
    """Plumbing shared by the scalers: input checks, ``fit_transform``, ``inverse_transform``.

    The statistics and the formulas (``fit``, ``transform``) live in the subclasses; each
    says which fitted array it divides by in ``_divisor``.
    """

    n_features_in_: int

    def fit_transform(self, X: ArrayLike) -> np.ndarray:
        """Fit to ``X``, then transform ``X``: the same as ``fit(X).transform(X)``."""
        return self.fit(X).transform(X)

    def state_dict(self) -> dict[str, np.ndarray | int]:
        """Copies of what ``fit`` learned (the attributes ending in ``_``), to save and restore."""
        self._check_fitted()
        return {name: value.copy() if isinstance(value, np.ndarray) else value
                for name, value in vars(self).items() if name.endswith("_")}

    def load_state_dict(self, state: dict[str, np.ndarray | int]) -> None:
        """Restore what ``state_dict`` returned, as if ``fit`` had run; checked first."""
        names = {name for klass in type(self).__mro__
                 for name in getattr(klass, "__annotations__", {}) if name.endswith("_")}
        if not isinstance(state, dict) or set(state) != names:
            raise ValueError(f"state must have the keys {sorted(names)}, as "
                             f"{type(self).__name__}.state_dict() writes them")
        n = state["n_features_in_"]
        for name, value in state.items():
            if isinstance(value, np.ndarray) and value.shape != (n,):
                raise ValueError(f"state[{name!r}] has shape {value.shape}, expected ({n},) for "
                                 f"n_features_in_ = {n}")
        for name, value in state.items():
            setattr(self, name, value.copy() if isinstance(value, np.ndarray) else int(value))

    def inverse_transform(self, Z: ArrayLike) -> np.ndarray:
        r"""Undo ``transform``: :math:`x = z \cdot d + \mu`, column by column.

        ``d`` is the divisor ``transform`` used: ``scale_`` (the standard deviation) in
        ``ZScoreScaler``, ``range_`` (max − min) in ``MeanNormalizer``.
        """
        Z = self._check_fitted_X(Z, "Z")
        return Z * self._divisor().astype(Z.dtype) + self.mean_.astype(Z.dtype)

    def _divisor(self) -> np.ndarray:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit first "
                f"(scaler.fit(X_train)), then transform or inverse_transform."
            )

    def _check_fitted_X(self, X: ArrayLike, name: str) -> np.ndarray:
        """Check that ``fit`` ran and that ``X`` has the fitted number of columns."""
        self._check_fitted()
        arr = _check_X(X, name)
        if arr.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{name} has {arr.shape[1]} features, but {type(self).__name__} was fitted "
                f"with {self.n_features_in_} features"
            )
        return arr


class ZScoreScaler(_FeatureScaler):
    r"""Z-score normalization (standardization): zero mean, unit variance.

    For every column ``j``, ``fit`` learns the mean and the *population*
    standard deviation (divide by ``n``, not ``n - 1``)

    .. math::

        \mu_j = \frac1n \sum_{i=1}^n x_{ij}, \qquad
        \sigma_j^2 = \frac1n \sum_{i=1}^n (x_{ij} - \mu_j)^2,

    and ``transform`` computes

    .. math::

        z_{ij} = \frac{x_{ij} - \mu_j}{\sigma_j}.

    On the data it was fitted on, every column of ``z`` has mean 0 and
    standard deviation 1. This matches scikit-learn's ``StandardScaler``.

    **Constant columns.** A column that never changes has
    :math:`\sigma_j = 0`; dividing by it would give NaN. Such a column is
    left unscaled (``scale_ = 1``), so it is only centred and becomes 0.
    In floating point a constant column does not always give a variance of
    exactly 0 (the mean of ten copies of 0.1 is not exactly 0.1), so, like
    scikit-learn, a column counts as constant when its variance is within the
    rounding error of the two-pass variance (Chan, Golub & LeVeque):

    .. math::

        \sigma_j^2 \le n\,\varepsilon\,\sigma_j^2 + (n\,\mu_j\,\varepsilon)^2,
        \qquad \varepsilon = 2^{-52} \approx 2.2 \times 10^{-16}.

    A column with a tiny but real spread (say values around 1e-10) is
    *not* constant and is scaled as usual.

    Attributes
    ----------
    mean_ : :math:`\mu`, shape ``(n_features,)``, float64.
    var_ : :math:`\sigma^2`, shape ``(n_features,)``, float64; ``inf`` where
        :math:`\sigma^2` is beyond the largest float (:math:`\sigma > 1.3 \times 10^{154}`),
        while ``scale_`` is still exact.
    scale_ : :math:`\sigma`, with 1 for constant columns; the divisor used.
    n_features_in_ : number of columns seen by ``fit``.
    n_samples_seen_ : number of rows seen by ``fit``.

    Examples
    --------
    >>> X_train = np.array([[1.0, 100.0], [2.0, 300.0], [3.0, 200.0]])
    >>> scaler = ZScoreScaler().fit(X_train)
    >>> scaler.mean_
    array([  2., 200.])
    >>> scaler.transform(X_train).std(axis=0)
    array([1., 1.])
    >>> scaler.transform(np.array([[2.0, 300.0]]))  # new data: the training statistics
    array([[0.        , 1.22474487]])
    """

    mean_: np.ndarray
    var_: np.ndarray
    scale_: np.ndarray
    n_samples_seen_: int

    def fit(self, X: ArrayLike) -> ZScoreScaler:
        """Learn the per-column mean and standard deviation of ``X``; return ``self``.

        ``X``: shape ``(n_samples, n_features)``, finite numbers.
        """
        X = _check_fit_X(X)
        n_samples = X.shape[0]
        # mu_j = (1/n) sum_i x_ij,   sigma_j^2 = (1/n) sum_i (x_ij - mu_j)^2,
        # computed on u = x / p and scaled back (p_j: a power of two near max_i |x_ij|, so no
        # rounding): the squares of values near the float limit (1e200) cannot overflow
        p = _power_of_two_near_max(X)
        u = X / p
        mean_u, var_u = u.mean(axis=0), u.var(axis=0)
        # constant column: sigma^2 <= n eps sigma^2 + (n mu eps)^2  ->  leave it unscaled
        constant = var_u <= n_samples * _EPS * var_u + (n_samples * mean_u * _EPS) ** 2
        self.mean_ = mean_u * p
        with np.errstate(over="ignore"):  # sigma^2 overflows to inf when sigma > 1.3e154
            self.var_ = var_u * p * p
        self.scale_ = np.where(constant, 1.0, np.sqrt(var_u) * p)
        self.n_features_in_ = X.shape[1]
        self.n_samples_seen_ = n_samples
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        r"""Standardize ``X``: :math:`z = (x - \mu) / \sigma`, column by column."""
        X = self._check_fitted_X(X, "X")
        return (X - self.mean_.astype(X.dtype)) / self.scale_.astype(X.dtype)

    def _divisor(self) -> np.ndarray:
        return self.scale_


class MeanNormalizer(_FeatureScaler):
    r"""Mean normalization: centre each column and divide by its range.

    For every column ``j``, ``fit`` learns the mean, minimum and maximum,
    and ``transform`` computes

    .. math::

        x'_{ij} = \frac{x_{ij} - \mu_j}{\max_j - \min_j},
        \qquad \mu_j = \frac1n \sum_{i=1}^n x_{ij}.

    On the data it was fitted on, every column of ``x'`` has mean 0,
    ``max - min = 1``, and lies inside ``[-1, 1]``. (This is not
    scikit-learn's ``MinMaxScaler``, which maps to ``[0, 1]`` by subtracting
    the minimum instead of the mean.)

    **Constant columns.** A column with ``max == min`` has range 0; it is
    left unscaled (``range_ = 1``), so it is only centred and becomes 0.
    Unlike the variance, ``max - min`` of a constant column is exactly 0 in
    floating point, so no tolerance is needed.

    Attributes
    ----------
    mean_ : :math:`\mu`, shape ``(n_features,)``, float64.
    min_, max_ : column minima and maxima, float64.
    range_ : ``max_ - min_``, with 1 for constant columns; the divisor used.
    n_features_in_ : number of columns seen by ``fit``.
    n_samples_seen_ : number of rows seen by ``fit``.

    Examples
    --------
    >>> X_train = np.array([[1.0, 100.0], [2.0, 300.0], [3.0, 200.0]])
    >>> normalizer = MeanNormalizer().fit(X_train)
    >>> normalizer.range_
    array([  2., 200.])
    >>> normalizer.transform(X_train)
    array([[-0.5, -0.5],
           [ 0. ,  0.5],
           [ 0.5,  0. ]])
    """

    mean_: np.ndarray
    min_: np.ndarray
    max_: np.ndarray
    range_: np.ndarray
    n_samples_seen_: int

    def fit(self, X: ArrayLike) -> MeanNormalizer:
        """Learn the per-column mean, minimum and maximum of ``X``; return ``self``.

        ``X``: shape ``(n_samples, n_features)``, finite numbers.
        """
        X = _check_fit_X(X)
        # mu_j = (1/n) sum_i x_ij, computed on x / p and scaled back (p_j: a power of two near
        # max_i |x_ij|, so no rounding): the sum of values near the float limit cannot overflow
        p = _power_of_two_near_max(X)
        self.mean_ = (X / p).mean(axis=0) * p
        self.min_ = X.min(axis=0).astype(np.float64)
        self.max_ = X.max(axis=0).astype(np.float64)
        # range_j = max_j - min_j, and 1 for a constant column (max_j == min_j)
        spread = self.max_ - self.min_
        self.range_ = np.where(spread == 0, 1.0, spread)
        self.n_features_in_ = X.shape[1]
        self.n_samples_seen_ = X.shape[0]
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        r"""Mean-normalize ``X``: :math:`x' = (x - \mu) / (\max - \min)`, column by column."""
        X = self._check_fitted_X(X, "X")
        return (X - self.mean_.astype(X.dtype)) / self.range_.astype(X.dtype)

    def _divisor(self) -> np.ndarray:
        return self.range_
