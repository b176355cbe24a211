"""Statistics over seeds: the mean and its Student-t interval, a band along curves, bins.

* ``summarize`` -> ``Summary``: the mean of the finite values and its confidence interval
  from Student's t (``t_quantile``); NaN and inf (a diverged run, a target never reached) are
  counted apart, never averaged in;
* ``mean_and_band``: the same, step by step along curves of several seeds (the band the
  lessons' plots shade);
* ``bin_fractions``: the fraction of values in each bin of a histogram.

Numpy and the standard library only: the t quantile is computed here (bisection on the
distribution function, through the regularised incomplete beta function), not taken from
scipy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np

from course_lib.validation import check_beta, check_real

__all__ = ["Summary", "bin_fractions", "mean_and_band", "moving_average", "summarize",
           "t_quantile"]


@dataclass(frozen=True)
class Summary:
    """Mean, standard deviation and confidence interval ``[low, high]`` of ``n`` finite values.

    ``n_nonfinite`` counts the values left out because they were NaN or infinite.
    """

    mean: float
    std: float
    low: float
    high: float
    n: int
    n_nonfinite: int = 0
    confidence: float = 0.95

    def __str__(self) -> str:
        half = (self.high - self.low) / 2
        text = f"{self.mean:.4g} ± {half:.4g} ({self.confidence * 100:g}% CI, n={self.n}"
        return text + (f", {self.n_nonfinite} nan/inf)" if self.n_nonfinite else ")")


def summarize(values: Sequence[float], confidence: float = 0.95) -> Summary:
    """Mean and Student-t confidence interval of the mean of the finite ``values``.

    For the ``n`` finite values ``x_1 … x_n``::

        mean = (1/n) Σ x_i
        s    = sqrt( Σ (x_i − mean)² / (n − 1) )          (sample std, ddof = 1)
        CI   = mean ± t_{(1+c)/2, n−1} · s / √n            (c = confidence)

    If the values are independent draws from a normal distribution, an interval made this way
    contains the true mean with probability ``c``; ``t`` (wider than the normal 1.96 for small
    ``n``) pays for estimating the spread from the same few values.

    NaN and ±inf values (a diverged run, an epoch count never reached) are left out of the
    numbers and counted in ``n_nonfinite``. The summary then describes only the runs that
    finished, which flatters the setting: read it together with ``n_nonfinite``. With fewer
    than two finite values the std and the interval are NaN (one value says nothing about the
    spread); with none, the mean is NaN too.
    """
    confidence = _check_confidence(confidence)
    x = np.asarray(values)
    if x.ndim != 1 or x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.number):
        raise TypeError(f"values must be a 1-D sequence of numbers, got {x.dtype} {x.shape}")
    x = x.astype(np.float64)
    finite = x[np.isfinite(x)]
    n = finite.size
    mean = float(finite.mean()) if n else math.nan
    std = half = math.nan
    if n >= 2:
        std = float(finite.std(ddof=1))
        # t_{(1+c)/2, n−1} · s / √n
        half = t_quantile((1 + confidence) / 2, n - 1) * std / math.sqrt(n)
    return Summary(mean, std, mean - half, mean + half, n, x.size - n, confidence)


def t_quantile(p: float, df: float) -> float:
    """The ``p``-quantile of Student's t distribution with ``df`` degrees of freedom.

    The ``t`` with ``P(T <= t) = p``, e.g. ``t_quantile(0.975, 4) = 2.776``; ``df = math.inf``
    gives the standard normal (1.960). Found by bisection on the distribution function, which
    for ``t >= 0`` is::

        P(T <= t) = 1 − I_x(df/2, 1/2) / 2,    x = df / (df + t²)

    with ``I`` the regularised incomplete beta function (``_betainc``); negative ``t`` follow
    from the symmetry ``P(T <= −t) = 1 − P(T <= t)``. Accurate to about 1e-12.
    """
    p = check_real("p", p)
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if isinstance(df, bool) or not isinstance(df, Real) or math.isnan(df) or df <= 0:
        raise ValueError(f"df must be a number > 0 (or math.inf), got {df!r}")
    return _t_quantile(p, float(df))


@functools.lru_cache(maxsize=256)
def _t_quantile(p: float, df: float) -> float:
    if p < 0.5:
        return -_t_quantile(1 - p, df)
    lo, hi = 0.0, 1.0
    while _t_cdf(hi, df) < p:  # find an upper end, then halve the bracket
        lo, hi = hi, 2 * hi
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):  # the bracket cannot shrink any more
            break
        lo, hi = (mid, hi) if _t_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


def _t_cdf(t: float, df: float) -> float:
    """``P(T <= t)`` for ``t >= 0``.

    ``1 − I_x(df/2, 1/2) / 2`` is computed as ``1/2 + I_{1−x}(1/2, df/2) / 2`` (the same
    number, as ``I_x(a, b) = 1 − I_{1−x}(b, a)``) with ``1 − x = t² / (df + t²)`` formed
    directly: for small ``t``, ``x`` itself would round to 1 and lose ``t²``.
    """
    if math.isinf(df):
        return 0.5 * (1 + math.erf(t / math.sqrt(2)))  # the normal limit
    return 0.5 + 0.5 * _betainc(0.5, df / 2, t * t / (df + t * t))


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta ``I_x(a, b) = ∫₀ˣ u^(a−1) (1−u)^(b−1) du / B(a, b)``.

    Evaluated with its continued fraction (Numerical Recipes, section 6.4), which converges
    fast for ``x < (a+1)/(a+b+2)``; above that, ``I_x(a, b) = 1 − I_{1−x}(b, a)``.
    """
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    # x^a (1−x)^b / B(a, b), in logs
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1 - front * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of ``I_x(a, b)``, by the modified Lentz method."""
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        # even term  m(b−m)x / ((a+2m−1)(a+2m)),  odd term  −(a+m)(a+b+m)x / ((a+2m)(a+2m+1))
        for coef in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + coef * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + coef / c
            c = c if abs(c) > tiny else tiny
            h *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return h


def mean_and_band(
    curves: object, *, band: str = "std", confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds and the band around it: ``(mean, low, high)``, one value per step.

    ``curves`` is ``(seeds, steps)``. At each step the ``n`` finite values (a diverged run's
    NaN and inf are left out, as in ``summarize``) give::

        mean = (1/n) Σ x_i,   s = sqrt( Σ (x_i − mean)² / (n − 1) )
        band="std":  mean ± s
        band="ci":   mean ± t_{(1+c)/2, n−1} · s / √n      (c = confidence)

    the interval ``summarize`` reports. Where fewer than two runs are finite the band is NaN
    (no spread to show); where none is, so is the mean.
    """
    curves = np.asarray(curves, dtype=np.float64)
    if curves.ndim != 2 or curves.shape[0] < 1 or curves.shape[1] < 1:
        raise ValueError(f"curves must be 2-D (seeds, steps), got shape {curves.shape} "
                         "(one run: curves[None, :])")
    if band not in ("std", "ci"):
        raise ValueError(f'band must be "std" or "ci", got {band!r}')
    finite = np.isfinite(curves)
    n = finite.sum(axis=0)
    with np.errstate(all="ignore"):  # 0/0 where no run is finite; overflow near divergence
        mean = np.where(finite, curves, 0.0).sum(axis=0) / n
        squares = np.where(finite, curves - mean, 0.0) ** 2
        std = np.where(n >= 2, np.sqrt(squares.sum(axis=0) / (n - 1)), np.nan)
    half = std
    if band == "ci":
        confidence = _check_confidence(confidence)
        t = {k: t_quantile((1 + confidence) / 2, k - 1) for k in np.unique(n[n >= 2]).tolist()}
        # t_{(1+c)/2, n−1} · s / √n, with t NaN where n < 2
        half = std * np.array([t.get(k, np.nan) for k in n.tolist()]) / np.sqrt(np.maximum(n, 1))
    return mean, mean - half, mean + half


def moving_average(values: Sequence[float], beta: float) -> np.ndarray:
    """The bias-corrected exponential moving average of ``values`` (0 <= beta < 1)::

        m_t = β·m_(t−1) + (1 − β)·x_t,   m_(−1) = 0,   average_t = m_t / (1 − β^(t+1))

    the moving average of lesson 02 divided by the total weight so far (Adam's bias correction,
    lesson 04), so the start is not pulled towards zero; ``beta = 0`` gives the values back.
    From the first value that is not finite (a diverged run) on, the average is NaN.
    """
    values = np.asarray(values, dtype=np.float64)
    beta = check_beta("beta", beta)
    average = np.full_like(values, np.nan)
    m = 0.0
    for t, x in enumerate(values):
        if not math.isfinite(x):
            break
        m = beta * m + (1 - beta) * x
        average[t] = m
    return average / (1 - beta ** np.arange(1, values.size + 1))


def bin_fractions(values: object, edges: object) -> np.ndarray:
    """The fraction of the finite ``values`` (any shape) falling in each bin of ``edges``.

    ``count_in_bin / number_of_finite_values``: sums to 1 when no value lies outside the edges.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    counts = np.histogram(values, bins=edges)[0]
    return counts / max(values.size, 1)


def _check_confidence(confidence: object) -> float:
    confidence = check_real("confidence", confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95, got {confidence}")
    return confidence
