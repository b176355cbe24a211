"""Finite-difference gradient checks: is a hand-written backward pass right?

The central difference approximates each partial derivative of a scalar
function ``f`` with an error of order ``h**2``::

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2 h)

and ``max_relative_error`` compares it with the analytic gradient. In
float64 a correct backward pass typically agrees to 1e-7 or better, a wrong
one to 1e-3 or worse. Use float64 arrays: in float32 the rounding of ``f``
swamps the difference quotient.

``check_layer`` runs the whole comparison for a layer (its input and every
parameter), ``check_loss`` for a loss function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.validation import check_nonnegative, check_positive, check_rng

__all__ = ["numerical_gradient", "max_relative_error", "check_layer", "check_loss"]


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6
) -> np.ndarray:
    """Central-difference gradient of a scalar function ``f`` at ``x``.

    ``grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h)`` for every element ``i``.

    ``x`` (a float64 array) is perturbed *in place*, one element at a time,
    and each element is set back to its original value before the next one,
    so ``f`` may read ``x`` through another reference (for instance a layer's
    live parameter array). ``x`` holds its original values when this returns,
    even if ``f`` raises. Costs ``2 * x.size`` calls of ``f``.
    """
    h = check_positive("h", h)
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            "x must be a float64 numpy array (finite differences need double precision), "
            f"got {getattr(x, 'dtype', type(x).__name__)}"
        )
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        try:
            x[i] = old + h
            f_plus = float(f(x))
            x[i] = old - h
            f_minus = float(f(x))
        finally:
            x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def max_relative_error(a: np.ndarray, b: np.ndarray, floor: float = 0.0) -> float:
    """Largest elementwise relative difference of two arrays of the same shape.

    ``max_i |a_i - b_i| / max(|a_i| + |b_i|, floor, tiny)`` with ``tiny`` the
    smallest positive normal float64, so two exact zeros agree and the result
    is in ``[0, 1]`` when ``floor = 0``. Empty arrays give 0.

    ``floor`` sets the size below which an element is no longer compared
    relative to itself but on the scale ``floor``. Finite differences carry an
    absolute noise of roughly ``1e-16 * |f| / h``, so a gradient element that
    is zero in exact arithmetic (the bias of a Dense layer feeding a
    BatchNorm) comes out as ``1e-10``-sized noise, a relative error of 1.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    floor = max(check_nonnegative("floor", floor), np.finfo(np.float64).tiny)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)))


def check_layer(
    layer,
    x: np.ndarray,
    training: bool = True,
    rng: int | np.random.Generator = 0,
    h: float = 1e-5,
    rel_floor: float = 1e-3,
) -> dict[str, float]:
    """Compare a layer's ``backward`` with finite differences; returns name -> max relative error.

    ``training`` is the mode checked, passed to every ``forward``: True (the default here,
    unlike ``forward``'s own) checks the backward pass of a training step, where batch norm
    differentiates through the batch statistics; False the evaluation one.

    The layer is reduced to a scalar with a fixed random projection
    ``L = sum(layer.forward(x, training) * r)``, ``r ~ N(0, 1)``, so that
    ``dL/dy = r`` and every output element matters. The analytic gradients
    from ``layer.backward(r)`` are compared with ``numerical_gradient`` for
    the input (key ``"x"``) and for every entry of ``layer.params`` (keys as
    in ``params``), each with ``max_relative_error(analytic, numeric, floor)``
    where ``floor = rel_floor * (largest |analytic gradient| in the check)``:
    gradient elements that small are below what finite differences resolve
    (a Dense bias feeding a BatchNorm has an exactly zero gradient).

    The default step ``h = 1e-5`` is a little larger than the textbook 1e-6:
    the truncation error of the central difference grows like ``h**2`` and
    the rounding error like ``1e-16 / h``, so their sum is smallest near
    ``h ~ 1e-16**(1/3) ~ 5e-6``. A correct layer then typically scores
    1e-7 or less, a wrong one 1e-3 or more.

    The layer is left as it was: parameters are perturbed in place and set
    back, and the ``layer.buffers`` arrays (BatchNorm's running statistics,
    which every training-mode forward updates) are saved first and restored
    before each forward and at the end. ``x`` is not modified; ``layer.grads``
    holds the analytic gradients afterwards. Use float64 (``x`` and the
    layer's ``dtype``).
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            "x must be a float64 numpy array; build the layer with dtype=np.float64 for "
            f"gradient checks, got {getattr(x, 'dtype', type(x).__name__)}"
        )
    rel_floor = check_nonnegative("rel_floor", rel_floor)
    rng = check_rng("rng", rng)
    buffers = getattr(layer, "buffers", {})
    saved = {name: buf.copy() for name, buf in buffers.items()}

    def restore() -> None:
        for name, buf in buffers.items():
            buf[...] = saved[name]

    x_probe = x.copy()

    def loss(_: np.ndarray) -> float:
        restore()
        return float(np.sum(layer.forward(x_probe, training) * r))

    try:
        # analytic: dL/dy = r, backpropagated by the layer
        out = layer.forward(x_probe, training)
        r = rng.standard_normal(out.shape)
        analytic = {"x": np.array(layer.backward(r.copy()), copy=True)}
        analytic.update({name: g.copy() for name, g in layer.grads.items()})
        # numeric: central differences of L, one element at a time
        numeric = {"x": numerical_gradient(loss, x_probe, h)}
        for name, p in layer.params.items():
            numeric[name] = numerical_gradient(loss, p, h)
    finally:
        restore()
    floor = rel_floor * max(float(np.max(np.abs(g), initial=0.0)) for g in analytic.values())
    return {name: max_relative_error(analytic[name], numeric[name], floor) for name in numeric}


def check_loss(
    loss_fn: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]],
    pred: np.ndarray,
    target: np.ndarray,
    h: float = 1e-5,
    rel_floor: float = 1e-3,
) -> float:
    """Max relative error between a loss's returned gradient and finite differences.

    ``loss_fn(pred, target)`` must return ``(loss, dloss/dpred)``; the
    returned gradient is compared with ``numerical_gradient`` of the loss
    value by ``max_relative_error(analytic, numeric, floor)`` with
    ``floor = rel_floor * max|analytic|`` (see ``check_layer``). ``pred`` must
    be float64 and is not modified.
    """
    if not isinstance(pred, np.ndarray) or pred.dtype != np.float64:
        raise TypeError(
            "pred must be a float64 numpy array for gradient checks, "
            f"got {getattr(pred, 'dtype', type(pred).__name__)}"
        )
    rel_floor = check_nonnegative("rel_floor", rel_floor)
    probe = pred.copy()
    _, analytic = loss_fn(probe, target)
    analytic = np.array(analytic, dtype=np.float64, copy=True)
    numeric = numerical_gradient(lambda p: loss_fn(p, target)[0], probe, h)
    floor = rel_floor * float(np.max(np.abs(analytic), initial=0.0))
    return max_relative_error(analytic, numeric, floor)
