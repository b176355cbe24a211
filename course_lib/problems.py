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
        rotation = np.array([[math.cos(theta), -math.sin(theta)],
                             [math.sin(theta), math.cos(theta)]])
        self.hessian = rotation @ np.diag([self.L, self.mu]) @ rotation.T

    def loss(self, x: np.ndarray) -> np.ndarray | float:
        """``0.5 (x - x*)^T A (x - x*)`` over the last axis of ``x``."""
        d = np.asarray(x, dtype=np.float64) - self.minimiser
        value = 0.5 * np.einsum("...i,ij,...j->...", d, self.hessian, d)
        return float(value) if np.ndim(value) == 0 else value

    def grad(self, x: np.ndarray) -> np.ndarray:
        """``A (x - x*)``."""
        return self.hessian @ (np.asarray(x, dtype=np.float64) - self.minimiser)

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
