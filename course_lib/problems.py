"""Test objectives with exact gradients, and the runner that walks optimizers across them.

The lessons watch optimizers walk across these surfaces. Each problem has

* ``loss(x)`` and ``grad(x)`` for ``x`` of shape ``(..., d)``: one point, a stack of points
  (several runs advanced together), a trajectory or a whole contour grid at once;
* ``minimiser`` and ``min_value``.

``run_optimizer`` drives the rule of any ``course_lib.optimizers`` optimizer across a problem
and returns the path it took: one run from a start of shape ``(d,)``, or ``K`` runs advanced
together as one ``(K, d)`` array, each with its own start, problem or learning rate.
``distance_to_minimiser`` measures how far a path is from the minimiser.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol

import numpy as np

from course_lib.validation import (
    check_array,
    check_bool,
    check_nonnegative,
    check_nonnegative_int,
    check_positive,
    check_real,
    check_rng,
)


class Problem(Protocol):
    """What ``run_optimizer`` and the plots need from an objective.

    ``grad`` takes points of shape ``(..., d)`` and returns gradients of the same shape; row
    ``k`` of the result depends on row ``k`` of ``x`` only, so runs advanced together as the
    rows of one array do not interact.
    """

    minimiser: np.ndarray
    min_value: float

    def loss(self, x: np.ndarray) -> np.ndarray | float: ...

    def grad(self, x: np.ndarray) -> np.ndarray: ...


def _bowl_gradient(d0, d1, h00, h01, h10, h11) -> tuple:
    """The two entries of ``A d`` for ``A = [[h00, h01], [h10, h11]]``; numbers or arrays alike.

    Written out with * and +, which round the same way on every CPU; a BLAS matrix product may
    not (its kernel, e.g. with or without fused multiply-adds, depends on the CPU), and the
    lessons' long runs would show it.
    """
    return d0 * h00 + d1 * h01, d0 * h10 + d1 * h11


class Quadratic:
    r"""An ill-conditioned quadratic bowl.

    .. math::

        f(x) = \tfrac12 (x - x^*)^\top A (x - x^*), \qquad
        A = R_\theta \begin{pmatrix} L & 0 \\ 0 & \mu \end{pmatrix} R_\theta^\top,
        \qquad \mu = L / \kappa

    ``R_theta`` rotates by ``angle`` degrees, so the steep direction (curvature
    ``L``) points along ``(cos theta, sin theta)`` and the shallow one
    (curvature ``mu``) is perpendicular to it. The gradient is
    ``A (x - x*)`` and the Hessian is ``A`` everywhere.

    Parameters
    ----------
    kappa : condition number ``L / mu`` (>= 1).
    L : largest curvature (> 0).
    angle : rotation of the axes of the bowl, in degrees.
    minimiser : the point ``x*`` (default the origin).
    """

    def __init__(
        self,
        kappa: float = 10.0,
        L: float = 1.0,  # noqa: N803 - the standard name of the smoothness constant
        angle: float = 0.0,
        minimiser: tuple[float, float] | np.ndarray = (0.0, 0.0),
    ) -> None:
        self.kappa = check_real("kappa", kappa)
        if self.kappa < 1:
            raise ValueError(f"kappa must be >= 1 (it is L / mu), got {self.kappa}")
        self.L = check_positive("L", L)
        self.mu = self.L / self.kappa
        self.angle = check_real("angle", angle)
        minimiser = check_array("minimiser", minimiser, ndim=1)
        if minimiser.shape != (2,):
            raise ValueError(f"minimiser must have shape (2,), got {minimiser.shape}")
        self.minimiser = minimiser.astype(np.float64)
        self.min_value = 0.0
        theta = math.radians(self.angle)
        steep = np.array([math.cos(theta), math.sin(theta)])
        shallow = np.array([-math.sin(theta), math.cos(theta)])
        # A = L s s^T + mu t t^T, the same as R diag(L, mu) R^T, without a BLAS product
        self.hessian = self.L * np.outer(steep, steep) + self.mu * np.outer(shallow, shallow)
        self._hessian_entries = tuple(float(h) for h in self.hessian.ravel())
        self._minimiser_entries = tuple(float(m) for m in self.minimiser)

    def loss(self, x: np.ndarray) -> np.ndarray | float:
        """``0.5 (x - x*)^T A (x - x*)`` over the last axis of ``x``."""
        d = np.asarray(x, dtype=np.float64) - self.minimiser
        g = self.grad(x)
        value = 0.5 * (d[..., 0] * g[..., 0] + d[..., 1] * g[..., 1])
        return float(value) if np.ndim(value) == 0 else value

    def grad(self, x: np.ndarray) -> np.ndarray:
        """``A (x - x*)`` over the last axis of ``x``."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape == (2,):  # one point: Python floats are several times faster than numpy here
            m0, m1 = self._minimiser_entries
            return np.array(_bowl_gradient(float(x[0]) - m0, float(x[1]) - m1,
                                           *self._hessian_entries))
        d = x - self.minimiser
        g = np.empty(d.shape)
        g[..., 0], g[..., 1] = _bowl_gradient(d[..., 0], d[..., 1], *self._hessian_entries)
        return g

    def __repr__(self) -> str:
        return f"Quadratic(kappa={self.kappa:g}, L={self.L:g}, angle={self.angle:g})"


class Rosenbrock:
    r"""Rosenbrock's banana valley.

    .. math:: f(x, y) = (a - x)^2 + b\,(y - x^2)^2

    with gradient ``(-2(a - x) - 4 b x (y - x^2),  2 b (y - x^2))`` and its
    minimum 0 at ``(a, a^2)``, at the end of a long curved flat valley.
    """

    def __init__(self, a: float = 1.0, b: float = 100.0) -> None:
        self.a = check_real("a", a)
        self.b = check_positive("b", b)
        self.minimiser = np.array([self.a, self.a**2])
        self.min_value = 0.0

    def loss(self, x: np.ndarray) -> np.ndarray | float:
        """``(a - x)^2 + b (y - x^2)^2`` over the last axis of ``x``."""
        x = np.asarray(x, dtype=np.float64)
        u, v = x[..., 0], x[..., 1]
        value = (self.a - u) ** 2 + self.b * (v - u**2) ** 2
        return float(value) if np.ndim(value) == 0 else value

    def grad(self, x: np.ndarray) -> np.ndarray:
        """``(-2(a - x) - 4 b x (y - x^2),  2 b (y - x^2))`` over the last axis of ``x``."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape == (2,):  # one point: Python floats are several times faster than numpy here
            return np.array(self._partials(float(x[0]), float(x[1])))
        g = np.empty(x.shape)
        g[..., 0], g[..., 1] = self._partials(x[..., 0], x[..., 1])
        return g

    def _partials(self, u, v) -> tuple:
        """``(∂f/∂x, ∂f/∂y)`` at ``(u, v)``, numbers or arrays alike."""
        return (-2.0 * (self.a - u) - 4.0 * self.b * u * (v - u * u),
                2.0 * self.b * (v - u * u))

    def __repr__(self) -> str:
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"


class LeastSquares:
    r"""The least-squares loss of a linear model, with its gradient and Hessian.

    .. math::

        J(w) = \frac{1}{2n} \lVert X w - y \rVert^2
             = \frac{1}{2n} \sum_{i=1}^n (x_i^\top w - y_i)^2,

    .. math::

        \nabla J(w) = \frac1n X^\top (X w - y) = H w - \frac1n X^\top y,
        \qquad H = \nabla^2 J = \frac1n X^\top X .

    (The factor 1/2, the ``1/(2m)`` of Andrew Ng's linear-regression cost,
    makes the Hessian exactly ``X^T X / n``.) The Hessian is the same at
    every ``w``, so the loss is a quadratic bowl: its largest and smallest
    eigenvalues ``L`` and ``mu`` set the stable learning rates ``lr < 2/L``
    and the speed of gradient descent, ``kappa = L / mu`` (lesson 00).

    With ``bias=True`` a column of ones is appended to ``X``, so the model is
    ``x^T w + b`` and the last entry of the parameter vector is ``b``; the
    Hessian is then ``X~^T X~ / n`` with ``X~ = [X, 1]``.

    ``loss`` works on any array of parameter vectors, shape ``(..., d)`` (a
    point, a path, a contour grid); it is computed from the ``d x d``
    statistics, ``J(w) = w^T H w / 2 - w^T X^T y / n + y^T y / (2n)``, so
    a grid costs nothing per sample. ``grad`` also takes ``(..., d)``.
    With ``d = 2`` a ``LeastSquares`` works with ``run_optimizer`` and the
    contour plots like the other problems here.

    Parameters
    ----------
    X : design matrix, shape ``(n_samples, n_features)``, finite.
    y : targets, shape ``(n_samples,)``, finite.
    bias : append a column of ones to ``X`` (default ``False``: use ``X`` as given).

    Attributes
    ----------
    design : the matrix the model multiplies, ``X`` or ``[X, 1]``, shape ``(n, d)``.
    hessian : ``H = design^T design / n``, shape ``(d, d)``.
    L, mu, kappa : largest and smallest eigenvalue of ``H`` and their ratio
        (``mu = 0`` and ``kappa = inf`` when the columns are linearly dependent).
    minimiser : ``w*`` from ``np.linalg.lstsq`` (the minimum-norm one if there are several).
    min_value : ``J(w*)``, computed from the residuals ``design @ w* - y``.
    """

    def __init__(self, X, y, *, bias: bool = False) -> None:
        X = check_array("X", X, ndim=2).astype(np.float64)
        y = check_array("y", y, ndim=1).astype(np.float64)
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"y must have one target per row of X: X has {X.shape[0]} rows, "
                f"y has {y.shape[0]} entries"
            )
        self.bias = check_bool("bias", bias)
        self.design = np.column_stack([X, np.ones(len(X))]) if bias else X.copy()
        self.y = y.copy()
        n = len(y)
        # H = X^T X / n,   X^T y / n,   y^T y / (2n): everything the loss needs
        self.hessian = self.design.T @ self.design / n
        self._xty = self.design.T @ y / n
        self._half_yty = 0.5 * float(y @ y) / n
        eigenvalues = np.linalg.eigvalsh(self.hessian)
        self.L = float(eigenvalues[-1])
        self.mu = max(float(eigenvalues[0]), 0.0)
        self.kappa = self.L / self.mu if self.mu > 0 else math.inf
        self.minimiser = np.linalg.lstsq(self.design, y, rcond=None)[0]
        residual = self.design @ self.minimiser - y
        self.min_value = 0.5 * float(residual @ residual) / n

    @property
    def n_params(self) -> int:
        """``d``, the length of a parameter vector (features, plus one with ``bias``)."""
        return self.design.shape[1]

    def _check_w(self, w) -> np.ndarray:
        w = np.asarray(w, dtype=np.float64)
        if w.ndim == 0 or w.shape[-1] != self.n_params:
            raise ValueError(
                f"w must have shape (..., {self.n_params}) (one entry per column of the "
                f"design matrix), got shape {w.shape}"
            )
        return w

    def loss(self, w) -> np.ndarray | float:
        r"""``J(w) = w^T H w / 2 - w^T X^T y / n + y^T y / (2n)`` over the last axis of ``w``."""
        w = self._check_w(w)
        value = (0.5 * np.einsum("...i,ij,...j->...", w, self.hessian, w)
                 - w @ self._xty + self._half_yty)
        return float(value) if np.ndim(value) == 0 else value

    def grad(self, w) -> np.ndarray:
        r"""``H w - X^T y / n``, the same as ``X^T (X w - y) / n``."""
        w = self._check_w(w)
        return w @ self.hessian - self._xty  # H is symmetric: w H = (H w)^T

    def __repr__(self) -> str:
        n, d = self.design.shape
        return f"LeastSquares(n={n}, d={d}, bias={self.bias}, kappa={self.kappa:.3g})"


class Rescaled:
    r"""A 2-D problem with its coordinates measured in other units.

    .. math::

        g(z) = f(s \circ z) = f(s_1 z_1,\ s_2 z_2), \qquad
        \nabla g(z) = s \circ \nabla f(s \circ z), \qquad
        z^* = x^* / s

    ``Rescaled(f, (1, 1000))`` is ``f(x, 1000 y)``: the same valley, squeezed 1000 times along
    ``y``. Its gradient along ``y`` is 1000 times larger at the matching point and its curvature
    along ``y`` is ``1000² = 10⁶`` times larger, so the learning rate that suited gradient
    descent on ``f`` makes it diverge on ``g`` (lesson 03).

    For a bowl centred at the origin whose axes are the coordinate axes (a ``Quadratic`` with
    ``angle=0``), ``∇g(z) = s² ∘ ∇f(z)`` at *every* point ``z``: each coordinate's gradient is
    multiplied by a constant, which RMSProp divides out.

    Parameters
    ----------
    problem : any problem with ``loss``, ``grad``, ``minimiser`` and ``min_value``.
    scales : ``(s1, s2)``, finite and > 0.
    """

    def __init__(self, problem: Problem, scales) -> None:
        scales = check_array("scales", scales, ndim=1)
        if scales.shape != (2,) or not np.all(scales > 0):
            raise ValueError(f"scales must be two numbers > 0, got {scales.tolist()}")
        for attribute in ("loss", "grad", "minimiser", "min_value"):
            if not hasattr(problem, attribute):
                raise TypeError(
                    f"problem must have loss, grad, minimiser and min_value (like Quadratic); "
                    f"{type(problem).__name__} has no {attribute!r}"
                )
        self.problem = problem
        self.scales = scales.astype(np.float64)
        self.minimiser = np.asarray(problem.minimiser, dtype=np.float64) / self.scales
        self.min_value = problem.min_value

    def loss(self, z: np.ndarray) -> np.ndarray | float:
        """``f(s ∘ z)`` over the last axis of ``z``."""
        return self.problem.loss(np.asarray(z, dtype=np.float64) * self.scales)

    def grad(self, z: np.ndarray) -> np.ndarray:
        """``s ∘ ∇f(s ∘ z)`` (the chain rule)."""
        return self.scales * self.problem.grad(np.asarray(z, dtype=np.float64) * self.scales)

    def __repr__(self) -> str:
        s1, s2 = self.scales
        return f"Rescaled({self.problem!r}, scales=({s1:g}, {s2:g}))"


# --- lesson 06: learning-rate decay ---------------------------------------------------------


class NoisyQuadratic:
    r"""The 1-D bowl ``f(x) = L·x²/2`` seen through noisy gradients: SGD noise in its simplest form.

    .. math::

        f(x) = \tfrac{L}{2} x^2, \qquad
        g(x) = L x + \sigma \xi, \quad \xi \sim \mathcal N(0, 1)

    with a fresh ``ξ`` at every call, so ``E[g] = f'(x)`` and ``Var[g] = σ²``: like a mini-batch
    gradient, the true gradient plus zero-mean noise. The problem owns the generator the noise
    comes from, so ``run_optimizer`` runs it like any other problem: ``x`` of shape ``(K, 1)``
    is ``K`` independent runs (chains), and each step draws their ``K`` noises as one
    ``rng.standard_normal((K, 1))``. For ``x ← x − η_t·g`` the second moment
    ``v_t = E[x_t²]`` follows (lesson 06 derives it)

    .. math::

        v_{t+1} = (1 - \eta_t L)^2 v_t + \eta_t^2 \sigma^2 ,

    and at a constant rate ``0 < ηL < 2`` the expected loss ``E[f] = L·v/2`` settles at the
    noise floor

    .. math::

        \frac{\eta \sigma^2}{2 (2 - \eta L)} .

    ``expected_loss`` takes a callable ``t -> lr`` (``course_lib.schedules``) or a number,
    meaning that constant rate; ``run_optimizer(SGD(lr), problem, x0, steps, lr=schedule)`` runs
    SGD with the same schedule.

    Parameters
    ----------
    L : the curvature ``f''`` (> 0).
    sigma : the standard deviation of the gradient noise (>= 0; 0 gives exact gradients).
    rng : the seed of the noise (an int >= 0, default 0) or a ``numpy.random.Generator``, which
        is used as it is (its draws continue). Each problem made from a seed draws the same
        noise; one problem used for two runs draws new noise for the second.
    """

    minimiser = 0.0
    min_value = 0.0

    def __init__(self, L: float = 1.0, sigma: float = 1.0,  # noqa: N803
                 rng: int | np.random.Generator = 0) -> None:
        self.L = check_positive("L", L)
        self.sigma = check_nonnegative("sigma", sigma)
        self.rng = check_rng("rng", rng)

    def loss(self, x) -> np.ndarray | float:
        """``f(x) = L·x²/2``, element by element."""
        x = np.asarray(x, dtype=np.float64)
        value = 0.5 * self.L * x * x
        return float(value) if value.ndim == 0 else value

    def grad(self, x: np.ndarray) -> np.ndarray:
        """A noisy gradient ``L·x + σ·ξ``, one ``ξ ~ N(0, 1)`` per entry of ``x``.

        The noise is ``sigma * self.rng.standard_normal(x.shape)``: one draw of the shape of
        ``x``.
        """
        x = np.asarray(x, dtype=np.float64)
        return self.L * x + self.sigma * self.rng.standard_normal(x.shape)

    def noise_floor(self, lr: float) -> float:
        """The stationary expected loss at a constant rate: ``lr·σ² / (2·(2 − lr·L))``.

        Only defined for ``0 < lr·L < 2``; at ``lr·L >= 2`` the iterates diverge.
        """
        lr = check_positive("lr", lr)
        if lr * self.L >= 2:
            raise ValueError(
                f"lr must be below 2/L = {2 / self.L:g} (at lr·L >= 2 SGD diverges and there is "
                f"no floor), got lr={lr}"
            )
        # η σ² / (2 (2 − η L))
        return lr * self.sigma**2 / (2 * (2 - lr * self.L))

    def expected_loss(self, schedule, x0: float, steps: int) -> np.ndarray:
        """``E[f(x_t)]`` for ``t = 0 … steps`` from ``x_0 = x0``, exactly (no sampling).

        Iterates ``v_{t+1} = (1 − η_t·L)²·v_t + η_t²·σ²`` from ``v_0 = x0²`` with
        ``η_t = schedule(t)`` and returns ``L·v_t/2``, shape ``(steps + 1,)`` (inf once a rate
        above ``2/L`` has made it overflow).
        """
        lr_at = _as_schedule(schedule)
        x0 = check_real("x0", x0)
        steps = check_nonnegative_int("steps", steps)
        L, noise = self.L, self.sigma**2  # noqa: N806
        v = np.empty(steps + 1)
        v[0] = x0 * x0
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(steps):
                lr = lr_at(t)
                # v_{t+1} = (1 − η_t L)² v_t + η_t² σ²
                v[t + 1] = (1 - lr * L) ** 2 * v[t] + lr * lr * noise
        v[~np.isfinite(v)] = np.inf
        return 0.5 * L * v

    def __repr__(self) -> str:
        return f"NoisyQuadratic(L={self.L:g}, sigma={self.sigma:g})"


def _as_schedule(schedule):
    """A callable ``t -> lr`` from a schedule or a number (a constant rate)."""
    if callable(schedule):
        return schedule
    if isinstance(schedule, bool) or not isinstance(schedule, int | float | np.floating):
        raise TypeError(
            "schedule must be a callable t -> lr (course_lib.schedules) or a number, "
            f"got {type(schedule).__name__}"
        )
    lr = check_positive("schedule", schedule)
    return lambda t: lr


# --- the runner ----------------------------------------------------------------------------


def run_optimizer(optimizer, problem: Problem | Sequence[Problem], x0, steps: int, *,
                  lr=None) -> np.ndarray:
    """Run ``steps`` steps of ``optimizer``'s update rule from ``x0``; return the path.

    One run: ``x0`` of shape ``(d,)`` gives the path, shape ``(steps + 1, d)``, whose row ``t``
    is the point after ``t`` steps (row 0 is ``x0``).

    ``K`` runs advanced together as the rows of one ``(K, d)`` array (several seeds or learning
    rates for the price of about one run) give the paths, shape ``(K, steps + 1, d)``. A run is
    batched as soon as one of these has ``K`` entries (the others are shared by every run):

    * ``x0`` of shape ``(K, d)``: one start per run;
    * ``problem``, a sequence of ``K`` problems: run ``k`` walks on ``problem[k]``;
    * ``lr``, ``K`` learning rates: run ``k`` uses ``lr[k]`` instead of ``optimizer.lr``.

    Every rule in ``course_lib.optimizers`` treats each entry of an array on its own, so run
    ``k`` takes exactly the path (bit for bit) that it would take alone.

    ``lr`` may also be a schedule, a callable ``t -> lr`` evaluated before step ``t = 0, 1, …``
    (``course_lib.schedules``), or a number.

    When a run overflows to infinity or NaN (a diverging learning rate), its rows are NaN from
    there on, so plots simply stop where the path left the finite plane; the other runs carry
    on. Each call starts from a fresh state (``optimizer.init_state``) and leaves
    ``optimizer`` unchanged: it only supplies its rule and hyperparameters.

    The inputs are checked here, once; the steps then call the rule directly, without the
    checks of ``optimizer.step`` (``benchmarks/bench_optimizers.py`` measures the cost per
    step against a bare numpy loop of the same update).
    """
    for attribute in ("rule", "hyperparameters", "init_state"):
        if not hasattr(optimizer, attribute):
            raise TypeError(
                "optimizer must be a course_lib.optimizers optimizer (with rule, "
                f"hyperparameters and init_state), got {type(optimizer).__name__}"
            )
    x = check_array("x0", x0)
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"x0 must have shape (d,) or (K, d), got {x.shape}")
    steps = check_nonnegative_int("steps", steps)
    sizes = {"x0": len(x)} if x.ndim == 2 else {}
    if isinstance(problem, Sequence):
        sizes["problem"] = len(problem)
    schedule, rates = _check_lr(lr)
    if rates is not None and np.ndim(rates) == 1:
        sizes["lr"] = len(rates)
    if len(set(sizes.values())) > 1:
        raise ValueError(
            "x0, problem and lr must give the same number of runs: "
            + ", ".join(f"{name} gives {k}" for name, k in sizes.items())
        )
    batched = bool(sizes)
    runs = next(iter(sizes.values()), 1)
    grad = _gradient_of_each(problem) if isinstance(problem, Sequence) else problem.grad
    x = np.array(np.broadcast_to(x, (runs, x.shape[-1])) if batched else x, dtype=np.float64)
    hyperparameters = optimizer.hyperparameters
    if rates is not None:
        hyperparameters["lr"] = rates[:, None] if np.ndim(rates) == 1 else rates
    update = partial(optimizer.rule, scratch=np.empty_like(x), **hyperparameters)
    state = optimizer.init_state(x)
    path = np.full((steps + 1, *x.shape), np.nan)  # time first: each step writes one block
    path[0] = x
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            if schedule is not None:
                update = partial(update, lr=check_positive("lr", schedule(t - 1)))
            state = update(x, grad(x), state)
            path[t] = x
            if t % 64 == 0 and not np.isfinite(x).all(axis=-1).any():
                break  # every run has left the finite plane
    # NaN from the first non-finite point of each run on
    path[np.logical_or.accumulate(~np.isfinite(path).all(axis=-1), axis=0)] = np.nan
    return np.ascontiguousarray(path.swapaxes(0, 1)) if batched else path


def _check_lr(lr: object) -> tuple[Callable | None, np.ndarray | float | None]:
    """``(schedule, rates)`` from the ``lr`` of ``run_optimizer``, one of them None."""
    if lr is None:
        return None, None
    if callable(lr):
        return lr, None
    if np.ndim(lr) == 0:
        return None, check_positive("lr", lr)
    rates = check_array("lr", lr, ndim=1)
    if len(rates) == 0 or not np.all(rates > 0):
        raise ValueError(f"lr must hold learning rates > 0, one per run, got {rates.tolist()}")
    return None, rates.astype(np.float64)


def _gradient_of_each(problems: Sequence[Problem]) -> Callable[[np.ndarray], np.ndarray]:
    """``grad(x)`` for ``x`` of shape ``(K, d)``: row ``k`` is ``problems[k].grad(x[k])``."""
    problems = list(problems)
    if problems and all(p is problems[0] for p in problems):
        return problems[0].grad  # one problem, repeated: its gradient works on the whole stack
    if problems and all(type(p) is Quadratic for p in problems):
        # all the bowls at once, row by row the numbers of Quadratic.grad
        minimisers = np.stack([p.minimiser for p in problems])
        entries = np.stack([p.hessian.ravel() for p in problems], axis=1)  # 4 rows of K

        def grad(x: np.ndarray) -> np.ndarray:
            d = x - minimisers
            g = np.empty(d.shape)
            g[:, 0], g[:, 1] = _bowl_gradient(d[:, 0], d[:, 1], *entries)
            return g

        return grad
    return lambda x: np.stack([p.grad(row) for p, row in zip(problems, x, strict=True)])


def distance_to_minimiser(points: np.ndarray, problem: Problem | Sequence[Problem]) -> np.ndarray:
    """``‖x − x*‖`` over the last axis of ``points`` (a point, a path, or the paths of K runs).

    ``problem`` is one problem, or (as in ``run_optimizer``) a sequence of ``K`` problems, one
    for each run along the first axis of ``points``. A point that overflowed to infinity is at
    distance ``inf``; NaN (a run that left the finite plane, see ``run_optimizer``) stays NaN.
    """
    points = np.asarray(points, dtype=np.float64)
    if isinstance(problem, Sequence):
        minimiser = np.stack([np.asarray(p.minimiser, dtype=np.float64) for p in problem])
        if points.ndim < 2 or len(points) != len(minimiser):
            raise ValueError(
                f"points must have one row per problem ({len(minimiser)}), got shape "
                f"{points.shape}"
            )
        minimiser = minimiser.reshape(len(minimiser), *[1] * (points.ndim - 2), -1)
    else:
        minimiser = np.asarray(problem.minimiser, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.linalg.norm(points - minimiser, axis=-1)
