"""Checks at the door: every public function validates what it is given.

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the
argument and says what was expected, so a learner sees *which* input is
wrong instead of a shape error three calls deeper.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np


def check_real(name: str, value: object) -> float:
    """Return ``value`` as a float; raise if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive(name: str, value: object) -> float:
    """A finite number > 0 (learning rates, scales)."""
    value = check_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_nonnegative(name: str, value: object) -> float:
    """A finite number >= 0 (eps, weight decay)."""
    value = check_real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_beta(name: str, value: object) -> float:
    """An averaging coefficient in [0, 1) (momentum, RMSProp and Adam betas)."""
    value = check_real(name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def check_positive_int(name: str, value: object) -> int:
    """An integer >= 1 (batch sizes, step counts)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def check_nonnegative_int(name: str, value: object) -> int:
    """An integer >= 0 (step counters, warm-up lengths)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def check_bool(name: str, value: object) -> bool:
    """``True`` or ``False`` (numpy's bool too), not ``0``, ``1`` or ``"yes"``."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_callable(name: str, value: object, form: str) -> object:
    """A function (or any callable); ``form`` says which, e.g. ``"a callable t -> lr"``."""
    if not callable(value):
        raise TypeError(f"{name} must be {form}, got {type(value).__name__}")
    return value


def check_rng(name: str, value: object) -> np.random.Generator:
    """The course's one seed policy: return a ``numpy.random.Generator``.

    An integer seed >= 0 gives ``np.random.default_rng(seed)``, the same draws on every run;
    a ``Generator`` is returned as it is, so its draws continue where they were; ``None``
    takes fresh entropy from the operating system (a different result each run).
    """
    if isinstance(value, np.random.Generator):
        return value
    if value is None:
        return np.random.default_rng()
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(
            f"{name} must be an integer seed, a numpy.random.Generator or None, got {value!r}"
        )
    if value < 0:
        raise ValueError(f"{name} must be a seed >= 0, got {value}")
    return np.random.default_rng(int(value))


def check_array(
    name: str,
    x: object,
    *,
    ndim: int | None = None,
    shape: tuple[int, ...] | None = None,
    finite: bool = True,
) -> np.ndarray:
    """Return ``x`` as a floating-point array without copying a float array.

    Integer and boolean input is converted to float64; float32 stays float32.
    Raises when ``x`` is not numeric, has the wrong number of dimensions or
    not the given ``shape``, or (with ``finite=True``) holds NaN or infinity.
    """
    arr = np.asarray(x)
    kind = arr.dtype.kind  # "f" float, "i"/"u" integer, "b" bool, "c" complex, ...
    if kind == "c":
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    if kind not in "fiub":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if kind != "f":
        arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got shape {arr.shape}")
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return arr
