"""Two-dimensional test objectives with exact gradients, and a runner.

The lessons watch optimizers walk across these surfaces. Each problem has

* ``loss(x)`` for ``x`` of shape ``(..., 2)`` (a point, a trajectory or a
  whole contour grid at once),
* ``grad(x)`` for a single point of shape ``(2,)``,
* ``minimiser`` and ``min_value``.

``run_optimizer`` drives any ``course_lib.optimizers`` object across a
problem and returns the path it took.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from course_lib.validation import check_array, check_nonnegative_int, check_positive, check_real


class Problem(Protocol):
    """What ``run_optimizer`` and the plots need from an objective."""

    minimiser: np.ndarray
    min_value: float

    def loss(self, x: np.ndarray) -> np.ndarray | float: ...

    def grad(self, x: np.ndarray) -> np.ndarray: ...


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
        # A = L s s^T + mu t t^T, the same as R diag(L, mu) R^T. Here and in `grad` the
        # 2 x 2 products are written out with * and +, which round the same way on every
        # CPU; a BLAS matrix product may not (its kernel, e.g. with or without fused
        # multiply-adds, depends on the CPU), and the lessons' long runs would show it.
        self.hessian = self.L * np.outer(steep, steep) + self.mu * np.outer(shallow, shallow)

    def loss(self, x: np.ndarray) -> np.ndarray | float:
        """``0.5 (x - x*)^T A (x - x*)`` over the last axis of ``x``."""
        d = np.asarray(x, dtype=np.float64) - self.minimiser
        g = self.grad(x)
        value = 0.5 * (d[..., 0] * g[..., 0] + d[..., 1] * g[..., 1])
        return float(value) if np.ndim(value) == 0 else value

    def grad(self, x: np.ndarray) -> np.ndarray:
        """``A (x - x*)`` over the last axis of ``x``."""
        d = np.asarray(x, dtype=np.float64) - self.minimiser
        return d[..., 0, None] * self.hessian[:, 0] + d[..., 1, None] * self.hessian[:, 1]

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
        u, v = float(x[0]), float(x[1])
        return np.array([-2.0 * (self.a - u) - 4.0 * self.b * u * (v - u * u),
                         2.0 * self.b * (v - u * u)])

    def __repr__(self) -> str:
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"


def run_optimizer(optimizer, problem: Problem, x0, steps: int) -> np.ndarray:
    """Run ``steps`` optimizer steps from ``x0`` and return the path.

    Returns an array of shape ``(steps + 1, 2)`` whose row ``t`` is the
    point after ``t`` steps (row 0 is ``x0``). When the iterate overflows to
    infinity or NaN (a diverging learning rate), the remaining rows are NaN,
    so plots simply stop where the path left the finite plane.

    The optimizer keeps its state between calls; pass a fresh one for an
    independent run.
    """
    x = check_array("x0", x0, ndim=1)
    if x.shape != (2,):
        raise ValueError(f"x0 must have shape (2,), got {x.shape}")
    steps = check_nonnegative_int("steps", steps)
    params = {"x": x.astype(np.float64)}  # a copy: the caller's x0 is never moved
    path = np.full((steps + 1, 2), np.nan)
    path[0] = params["x"]
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            g = problem.grad(params["x"])
            if not np.isfinite(g).all():
                break
            optimizer.step(params, {"x": g})
            if not np.isfinite(params["x"]).all():
                break
            path[t] = params["x"]
    return path


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
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be True or False, got {type(bias).__name__}")
        self.bias = bias
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


def run_optimizer_batch(optimizer, problems, starts, steps: int) -> np.ndarray:
    """Run one optimizer on several problems at once; return their paths.

    Row ``i`` of one ``(n, 2)`` parameter array walks on ``problems[i]`` from ``starts[i]``.
    Every optimizer in ``course_lib.optimizers`` updates each entry of an array on its own
    (the formulas are element by element), so row ``i`` takes exactly the path that
    ``run_optimizer(fresh optimizer, problems[i], starts[i], steps)`` would, bit for bit, while
    the optimizer's Python overhead is paid once per step instead of once per problem. That
    makes multi-seed ablations several times faster.

    Returns an array of shape ``(n, steps + 1, 2)``. As in ``run_optimizer``, a row whose
    gradient or iterate stops being finite is NaN from then on (it is given a zero gradient
    afterwards, so the other rows carry on). Pass a fresh optimizer: it keeps its state.
    """
    problems = list(problems)
    x = check_array("starts", starts, ndim=2)
    if x.shape != (len(problems), 2):
        raise ValueError(
            f"starts must have shape ({len(problems)}, 2), one start per problem, got {x.shape}"
        )
    steps = check_nonnegative_int("steps", steps)
    params = {"x": x.astype(np.float64)}  # a copy: the caller's starts are never moved
    paths = np.full((len(problems), steps + 1, 2), np.nan)
    paths[:, 0] = params["x"]
    alive = np.ones(len(problems), dtype=bool)
    grads = np.zeros_like(params["x"])
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            for i in np.flatnonzero(alive):
                grads[i] = problems[i].grad(params["x"][i])
            alive &= np.isfinite(grads).all(axis=1)
            grads[~alive] = 0.0
            optimizer.step(params, {"x": grads})
            alive &= np.isfinite(params["x"]).all(axis=1)
            if not alive.any():
                break
            paths[alive, t] = params["x"][alive]
    return paths


# --- lesson 06: learning-rate decay ---------------------------------------------------------


class NoisyQuadratic:
    r"""The 1-D bowl ``f(x) = L·x²/2`` seen through noisy gradients: SGD noise in its simplest form.

    .. math::

        f(x) = \tfrac{L}{2} x^2, \qquad
        g(x) = L x + \sigma \xi, \quad \xi \sim \mathcal N(0, 1)

    with a fresh ``ξ`` at every call, so ``E[g] = f'(x)`` and ``Var[g] = σ²``: like a mini-batch
    gradient, the true gradient plus zero-mean noise. For ``x ← x − η_t·g`` the second moment
    ``v_t = E[x_t²]`` follows (lesson 06 derives it)

    .. math::

        v_{t+1} = (1 - \eta_t L)^2 v_t + \eta_t^2 \sigma^2 ,

    and at a constant rate ``0 < ηL < 2`` the expected loss ``E[f] = L·v/2`` settles at the
    noise floor

    .. math::

        \frac{\eta \sigma^2}{2 (2 - \eta L)} .

    ``schedule`` arguments below are a callable ``t -> lr`` (``course_lib.schedules``) or a
    number, meaning that constant rate.

    Parameters
    ----------
    L : the curvature ``f''`` (> 0).
    sigma : the standard deviation of the gradient noise (>= 0; 0 gives exact gradients).
    """

    minimiser = 0.0
    min_value = 0.0

    def __init__(self, L: float = 1.0, sigma: float = 1.0) -> None:  # noqa: N803
        from course_lib.validation import check_nonnegative

        self.L = check_positive("L", L)
        self.sigma = check_nonnegative("sigma", sigma)

    def loss(self, x) -> np.ndarray | float:
        """``f(x) = L·x²/2``, element by element."""
        x = np.asarray(x, dtype=np.float64)
        value = 0.5 * self.L * x * x
        return float(value) if value.ndim == 0 else value

    def grad(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A noisy gradient ``L·x + σ·ξ``, one ``ξ ~ N(0, 1)`` per entry of ``x``.

        The noise is ``sigma * rng.standard_normal(x.shape)``: one draw of the shape of ``x``.
        """
        x = np.asarray(x, dtype=np.float64)
        return self.L * x + self.sigma * rng.standard_normal(x.shape)

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

    def run_sgd(self, schedule, x0: float, steps: int, *, chains: int = 1,
                seed: int = 0) -> np.ndarray:
        """``chains`` independent runs of SGD, ``x ← x − η_t·g(x)``, all from ``x0``.

        Uses ``course_lib.optimizers.SGD`` with ``opt.lr = schedule(t)`` before step ``t``. The
        chains are the entries of one array, so step ``t`` draws its noise as one
        ``rng.standard_normal(chains)`` from ``rng = np.random.default_rng(seed)``.

        Returns the iterates, shape ``(steps + 1, chains)``; row 0 is ``x0``. If the iterates
        overflow (a rate above ``2/L``), the rows from there on are NaN.
        """
        from course_lib.optimizers import SGD
        from course_lib.validation import check_positive_int

        lr_at = _as_schedule(schedule)
        x0 = check_real("x0", x0)
        steps = check_nonnegative_int("steps", steps)
        chains = check_positive_int("chains", chains)
        seed = check_nonnegative_int("seed", seed)
        rng = np.random.default_rng(seed)
        params = {"x": np.full(chains, x0)}
        grads = {"x": np.empty(chains)}  # one array refilled every step (the fast path of step)
        paths = np.full((steps + 1, chains), np.nan)
        paths[0] = params["x"]
        optimizer = SGD(lr_at(0)) if steps else None
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(steps):
                optimizer.lr = lr_at(t)
                grads["x"][:] = self.grad(params["x"], rng)
                if not np.isfinite(grads["x"]).all():
                    break
                optimizer.step(params, grads)  # x ← x − η_t g
                if not np.isfinite(params["x"]).all():
                    break
                paths[t + 1] = params["x"]
        return paths

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
