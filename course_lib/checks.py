"""Checkers for the exercises.

Each ``check_*`` function takes the learner's function, runs it on random
cases next to the reference answer, prints one line per case (``pass``, or
the first mismatch with the inputs that produced it) and returns ``True``
only when every case passes. The learner's inputs are fresh copies on every
call, and a function that changes its inputs is reported, because callers
of a numerical routine rely on their arrays staying put.

The checkers depend on nothing but their arguments: a learner may print,
add cells or rename things around their function without breaking them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

import numpy as np

from course_lib.optimizers import SGD
from course_lib.problems import Quadratic, run_optimizer

Case = dict[str, Any]


def _describe(value: Any, width: int = 60) -> str:
    """A short one-line description of a value for a report line."""
    if isinstance(value, np.generic):  # np.float64(1.0) reads better as 1.0
        value = value.item()
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, separator=", ", threshold=6)
        text = " ".join(text.split())
        return text if len(text) <= width else f"array of shape {value.shape}"
    if isinstance(value, dict):
        inner = ", ".join(f"{k!r}: {_describe(v, width)}" for k, v in value.items())
        text = "{" + inner + "}"
        return text if len(text) <= width else f"dict with keys {sorted(value, key=str)}"
    if callable(value):
        return getattr(value, "__name__", "a function")
    text = " ".join(repr(value).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _same(expected: Any, got: Any, rtol: float, atol: float) -> str | None:
    """``None`` when ``got`` matches ``expected``, else what differs."""
    if got is None:
        return "got None (did you forget to return the result?)"
    if isinstance(expected, tuple):
        if not isinstance(got, tuple | list) or len(got) != len(expected):
            return f"expected a tuple of {len(expected)} values, got {_describe(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            problem = _same(e, g, rtol, atol)
            if problem:
                return f"item {i}: {problem}"
        return None
    try:
        got_arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected a number or array, got {type(got).__name__}"
    exp_arr = np.asarray(expected, dtype=np.float64)
    if got_arr.shape != exp_arr.shape:
        return f"expected shape {exp_arr.shape}, got shape {got_arr.shape}"
    if not np.allclose(got_arr, exp_arr, rtol=rtol, atol=atol, equal_nan=True):
        # report the worst mismatch (inf - inf and NaN count as the worst)
        mismatch = ~np.isclose(got_arr, exp_arr, rtol=rtol, atol=atol, equal_nan=True)
        with np.errstate(invalid="ignore"):
            gap = np.nan_to_num(np.abs(got_arr - exp_arr) - rtol * np.abs(exp_arr), nan=np.inf)
        where = np.unravel_index(np.argmax(np.where(mismatch, gap, -np.inf)), exp_arr.shape)
        at = f" at index {tuple(int(i) for i in where)}" if exp_arr.ndim else ""
        return (
            f"expected {_describe(exp_arr[where])}{at}, got {_describe(got_arr[where])}"
            if exp_arr.ndim
            else f"expected {_describe(float(exp_arr))}, got {_describe(float(got_arr))}"
        )
    return None


def _unchanged(before: Case, after: Case) -> str | None:
    for name, value in before.items():
        if isinstance(value, np.ndarray) and not np.array_equal(value, after[name], equal_nan=True):
            return f"your function changed its input {name!r}; work on a copy instead"
    return None


def run_cases(
    name: str,
    learner_fn: Callable[..., Any],
    reference_fn: Callable[..., Any],
    cases: Iterable[Case],
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> bool:
    """Compare ``learner_fn(**case)`` with ``reference_fn(**case)`` on every case.

    Prints ``name case k: pass`` or ``name case k: FAIL ...`` with the inputs,
    then a summary line; returns whether all cases passed.
    """
    if not callable(learner_fn):
        raise TypeError(f"pass your function itself, got {type(learner_fn).__name__}")
    results = []
    for k, case in enumerate(cases, start=1):
        expected = reference_fn(**copy.deepcopy(case))
        given = copy.deepcopy(case)
        inputs = ", ".join(f"{key}={_describe(value)}" for key, value in case.items())
        try:
            got = learner_fn(**given)
        except NotImplementedError:
            print(f"{name} case {k}: not implemented yet (replace the `raise NotImplementedError`)")
            results.append(False)
            break
        except Exception as error:  # the learner's bug, reported, not raised
            print(f"{name} case {k}: FAIL, raised {type(error).__name__}: {error}  [{inputs}]")
            results.append(False)
            continue
        problem = _same(expected, got, rtol, atol) or _unchanged(case, given)
        print(f"{name} case {k}: " + (f"FAIL, {problem}  [{inputs}]" if problem else "pass"))
        results.append(problem is None)
    passed = sum(results)
    ok = bool(results) and passed == len(results)
    print(f"{name}: {'all ' if ok else ''}{passed} of {len(results)} cases passed")
    return ok


# --- lesson 00: gradient descent ------------------------------------------


def _random_spd(rng: np.random.Generator, n: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    eigenvalues = np.exp(rng.uniform(-2.0, 2.0, size=n))
    return (q * eigenvalues) @ q.T


def _reference_gradient_descent(grad, x0, lr, steps):
    return run_optimizer(SGD(lr), SimpleNamespace(grad=grad), x0, steps)


def check_gradient_descent(learner_fn: Callable[..., np.ndarray], seed: int = 0) -> bool:
    """Exercise: ``gradient_descent(grad, x0, lr, steps)`` returns the path.

    The path is an array of shape ``(steps + 1, 2)`` whose row ``t`` is the
    point after ``t`` updates ``x <- x - lr * grad(x)`` (row 0 is ``x0``).
    Cases: random rotated quadratics, several learning rates and lengths.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(5):
        problem = Quadratic(
            kappa=float(rng.uniform(1, 50)), L=float(rng.uniform(0.5, 4)),
            angle=float(rng.uniform(0, 180)),
        )
        cases.append({
            "grad": problem.grad,
            "x0": rng.uniform(-3, 3, size=2),
            "lr": float(rng.uniform(0.05, 1.9) / problem.L),
            "steps": int(rng.integers(1, 30)),
        })
    return run_cases("gradient_descent", learner_fn, _reference_gradient_descent, cases)


def _reference_optimal_step(A):
    eigenvalues = np.linalg.eigvalsh(A)
    L, mu = eigenvalues[-1], eigenvalues[0]
    return 2.0 / (L + mu), (L - mu) / (L + mu), 2.0 / L


def check_optimal_step(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``optimal_step(A)`` for a symmetric positive definite Hessian.

    Returns ``(best_lr, rate, max_stable_lr)`` =
    ``(2/(L + mu), (kappa - 1)/(kappa + 1), 2/L)`` where ``L`` and ``mu`` are
    the largest and smallest eigenvalues of ``A`` and ``kappa = L/mu``.
    Cases: random SPD matrices from 2x2 to 6x6.
    """
    rng = np.random.default_rng(seed)
    cases = [{"A": _random_spd(rng, n)} for n in (2, 2, 3, 4, 6)]
    return run_cases("optimal_step", learner_fn, _reference_optimal_step, cases)



# --- lesson 02: momentum --------------------------------------------------


def _reference_momentum_step(params, grads, velocity, lr, beta):
    new_velocity = {name: beta * velocity[name] + (1 - beta) * grads[name] for name in params}
    new_params = {name: params[name] - lr * new_velocity[name] for name in params}
    return new_params, new_velocity


def _flatten_momentum_step(result, names) -> tuple:
    """``(new_params, new_velocity)`` as one tuple of arrays, parameters first."""
    if result is None:
        raise TypeError("got None (did you forget to return (new_params, new_velocity)?)")
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise TypeError(
            f"return the tuple (new_params, new_velocity), got {_describe(result)}"
        )
    for label, value in zip(("new_params", "new_velocity"), result, strict=True):
        if not isinstance(value, dict) or set(value) != set(names):
            keys = sorted(value) if isinstance(value, dict) else type(value).__name__
            raise ValueError(f"{label} must be a dict with the keys {sorted(names)}, got {keys}")
    new_params, new_velocity = result
    return tuple(new_params[name] for name in names) + tuple(new_velocity[name] for name in names)


def check_momentum_step(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``momentum_step(params, grads, velocity, lr, beta)``, one step on dicts.

    Returns ``(new_params, new_velocity)``, two new dicts with the keys of
    ``params``, for the exponential-moving-average form of ``Momentum``::

        v ← beta·v + (1 − beta)·g
        w ← w − lr·v

    The inputs must not change. A mismatch is reported as ``item k``: the
    new parameters come first, then the new velocities, each in the order of
    ``params``' keys. Cases: dicts of one to three arrays of several shapes,
    zero and non-zero velocities, beta from 0 to 0.99.
    """
    rng = np.random.default_rng(seed)
    shapes = [(3,), (2, 3), (4, 1), (5,)]
    cases = []
    for k, beta in enumerate([0.9, 0.0, 0.5, 0.99, float(rng.uniform(0.1, 0.95))]):
        names = ["W", "b", "gamma"][: 1 + k % 3]
        params = {n: rng.normal(size=shapes[i]) for i, n in enumerate(names)}
        cases.append({
            "params": params,
            "grads": {n: rng.normal(size=w.shape) for n, w in params.items()},
            "velocity": {n: rng.normal(size=w.shape) if k else np.zeros(w.shape)
                         for n, w in params.items()},  # case 1 starts from v = 0
            "lr": float(rng.uniform(0.01, 1.0)),
            "beta": beta,
        })

    def reference(params, grads, velocity, lr, beta):
        return _flatten_momentum_step(
            _reference_momentum_step(params, grads, velocity, lr, beta), list(params))

    def learner(params, grads, velocity, lr, beta):
        inputs = {"params": params, "grads": grads, "velocity": velocity}
        before = copy.deepcopy(inputs)
        result = learner_fn(params, grads, velocity, lr, beta)
        for label, value in inputs.items():
            for name, array in value.items():
                if not np.array_equal(array, before[label][name]):
                    raise ValueError(
                        f"your function changed {label}[{name!r}] in place; "
                        "build new arrays instead (e.g. w - lr * v)"
                    )
        return _flatten_momentum_step(result, list(params))

    return run_cases("momentum_step", learner, reference, cases)


def _reference_optimal_momentum(L, mu):  # noqa: N803 - the standard name of the curvature
    root_kappa = np.sqrt(L / mu)
    rate = (root_kappa - 1) / (root_kappa + 1)
    return 1 / np.sqrt(L * mu), rate**2, rate


def check_optimal_momentum(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``optimal_momentum(L, mu)``, the tuned momentum on a quadratic.

    For curvatures between ``mu`` and ``L`` (``kappa = L / mu``), returns
    ``(lr, beta, rate)`` for ``course_lib.optimizers.Momentum`` (the EMA
    form)::

        beta = ((sqrt(kappa) − 1) / (sqrt(kappa) + 1))²
        lr   = 1 / sqrt(L·mu)              (heavy ball: 4 / (sqrt(L) + sqrt(mu))² = lr·(1 − beta))
        rate = (sqrt(kappa) − 1) / (sqrt(kappa) + 1)

    Cases: random ``L`` from 0.1 to 20 and ``kappa`` from 1 (a round bowl)
    to 10⁴.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for kappa in [100.0, 1.0, 10.0, float(np.exp(rng.uniform(0, 9.2))), 1e4]:
        L = float(np.exp(rng.uniform(np.log(0.1), np.log(20))))  # noqa: N806
        cases.append({"L": L, "mu": L / kappa})
    return run_cases("optimal_momentum", learner_fn, _reference_optimal_momentum, cases)


def _reference_ema_weights(beta, t):
    return (1 - beta) * beta ** np.arange(t)


def check_ema_weights(learner_fn: Callable[..., np.ndarray], seed: int = 0) -> bool:
    """Exercise: ``ema_weights(beta, t)``, the unrolled velocity.

    ``v_t = sum_k w_k·g_(t−k)`` after ``t`` steps of ``v ← beta·v + (1 − beta)·g``
    from ``v_0 = 0``; return the array ``(w_0, ..., w_(t−1))``, so ``w_0`` is
    the weight of the newest gradient. Cases: beta from 0 to 0.99, t from 1
    to 60.
    """
    rng = np.random.default_rng(seed)
    cases = [{"beta": beta, "t": t} for beta, t in
             [(0.9, 10), (0.5, 1), (0.0, 4), (0.99, 60), (float(rng.uniform(0.1, 0.95)), 25)]]
    return run_cases("ema_weights", learner_fn, _reference_ema_weights, cases)


# --- lesson 01: feature scaling ---------------------------------------------


def _scaling_cases(rng: np.random.Generator) -> list[Case]:
    """Training and test matrices with columns on very different scales.

    Some cases hold constant training columns (exactly representable values,
    so their variance and range are exactly 0) and one has a single training
    row, where every column is constant.
    """
    cases = []
    for k in range(6):
        n_train, n_features = int(rng.integers(5, 40)), int(rng.integers(1, 6))
        scales = 10.0 ** rng.uniform(-2, 3, size=n_features)
        offsets = rng.uniform(-1, 1, size=n_features) * 10.0 ** rng.uniform(0, 3, size=n_features)
        X_train = rng.normal(size=(n_train, n_features)) * scales + offsets
        if k in (2, 4):
            X_train[:, int(rng.integers(n_features))] = rng.choice([0.0, 2.0, -3.5, 1024.0])
        if k == 5:
            X_train = X_train[:1]
        n_test = int(rng.integers(1, 8))
        X_test = rng.normal(size=(n_test, n_features)) * scales + offsets
        cases.append({"X_train": X_train, "X_test": X_test})
    return cases


def _reference_zscore(X_train, X_test):
    from course_lib.scaling import ZScoreScaler

    scaler = ZScoreScaler().fit(X_train)
    return scaler.mean_, scaler.scale_, scaler.transform(X_train), scaler.transform(X_test)


def check_zscore(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    r"""Exercise: ``zscore(X_train, X_test)`` fits on the training rows only.

    Returns ``(mean, scale, Z_train, Z_test)``: the per-column mean and
    population standard deviation of ``X_train`` (``scale = 1`` for a
    constant column), and both matrices transformed with them,
    ``z = (x - mean) / scale``. Cases: random columns on scales from 0.01 to
    1000, some constant training columns, one single-row training set.
    """
    cases = _scaling_cases(np.random.default_rng(seed))
    return run_cases("zscore", learner_fn, _reference_zscore, cases)


def _reference_mean_normalize(X_train, X_test):
    from course_lib.scaling import MeanNormalizer

    scaler = MeanNormalizer().fit(X_train)
    return scaler.mean_, scaler.range_, scaler.transform(X_train), scaler.transform(X_test)


def check_mean_normalize(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    r"""Exercise: ``mean_normalize(X_train, X_test)`` fits on the training rows only.

    Returns ``(mean, range, Z_train, Z_test)``: the per-column mean and
    ``max - min`` of ``X_train`` (``range = 1`` for a constant column), and
    both matrices transformed with them, ``x' = (x - mean) / range``. Same
    cases as ``check_zscore``.
    """
    cases = _scaling_cases(np.random.default_rng(seed))
    return run_cases("mean_normalize", learner_fn, _reference_mean_normalize, cases)


def _reference_condition_number(X):
    from course_lib.problems import LeastSquares

    return LeastSquares(X, np.zeros(len(X)), bias=True).kappa


def check_condition_number(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    r"""Exercise: ``condition_number(X)`` of the least-squares Hessian with a bias.

    Returns :math:`\kappa = \lambda_{\max} / \lambda_{\min}` of
    :math:`H = \tilde X^\top \tilde X / n`, :math:`\tilde X = [X, \mathbf 1]`
    (a column of ones appended for the bias). Cases: raw, centred and
    standardized random matrices with 1 to 4 columns on different scales.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(6):
        n, d = int(rng.integers(20, 60)), int(rng.integers(1, 5))
        X = rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-1, 2, size=d) + rng.uniform(0, 20, d)
        if k % 3 == 1:
            X = X - X.mean(axis=0)
        elif k % 3 == 2:
            X = (X - X.mean(axis=0)) / X.std(axis=0)
        cases.append({"X": X})
    return run_cases("condition_number", learner_fn, _reference_condition_number, cases)


# --- lesson 03: RMSProp -----------------------------------------------------

_RMSPROP_NAMES = ("W", "b")


def _reference_rmsprop_step(params, grads, s, lr, beta, eps):
    from course_lib.optimizers import RMSProp

    optimizer = RMSProp(lr, beta=beta, eps=eps)
    # one step on zeros creates the optimizer's state; then load the learner's s into it
    optimizer.step({k: np.zeros_like(v) for k, v in params.items()},
                   {k: np.zeros_like(v) for k, v in params.items()})
    for name in params:
        optimizer.state[name]["s"][...] = s[name]
    new_params = {name: w.copy() for name, w in params.items()}
    optimizer.step(new_params, grads)
    new_s = {name: optimizer.state[name]["s"] for name in params}
    return tuple(new_params[k] for k in _RMSPROP_NAMES) + tuple(new_s[k] for k in _RMSPROP_NAMES)


def _as_rmsprop_items(learner_fn: Callable[..., Any]) -> Callable[..., tuple]:
    """Call the learner's ``rmsprop_step`` and flatten its two dicts into the compared items.

    Raises (and so reports) a result of the wrong form, or inputs changed in place.
    """

    def adapted(params, grads, s, lr, beta, eps):
        inputs = {"params": params, "grads": grads, "s": s}
        before = copy.deepcopy(inputs)
        result = learner_fn(params, grads, s, lr, beta, eps)
        for arg, value in inputs.items():
            for name in _RMSPROP_NAMES:
                if not np.array_equal(value[name], before[arg][name]):
                    raise ValueError(
                        f"your function changed {arg}[{name!r}] in place; "
                        "return new arrays and leave the inputs alone"
                    )
        if result is None:
            return None
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise TypeError(f"return the pair (new_params, new_s), got {_describe(result)}")
        for label, value in zip(("new_params", "new_s"), result, strict=True):
            if not isinstance(value, dict) or set(value) != set(_RMSPROP_NAMES):
                raise TypeError(
                    f"{label} must be a dict with the keys {list(_RMSPROP_NAMES)}, "
                    f"got {_describe(value)}"
                )
        new_params, new_s = result
        return (tuple(new_params[k] for k in _RMSPROP_NAMES)
                + tuple(new_s[k] for k in _RMSPROP_NAMES))

    return adapted


def check_rmsprop_step(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``rmsprop_step(params, grads, s, lr, beta, eps)`` -> ``(new_params, new_s)``.

    ``params``, ``grads`` and ``s`` are dicts with the keys ``"W"`` and ``"b"``; for each key::

        s_new = beta * s + (1 - beta) * g**2
        w_new = w - lr * g / (sqrt(s_new) + eps)

    Nothing passed in may change. The items compared are, in order, ``new_params["W"]``,
    ``new_params["b"]``, ``new_s["W"]`` and ``new_s["b"]``. Cases: random shapes, a first step
    (``s = 0``), gradients of very different sizes, and an ``eps`` large enough to matter.
    """
    if not callable(learner_fn):
        raise TypeError(f"pass your function itself, got {type(learner_fn).__name__}")
    rng = np.random.default_rng(seed)
    cases = []
    settings = [  # (lr, beta, eps, gradient scale, first step?)
        (0.01, 0.9, 1e-8, 1.0, True),
        (0.001, 0.99, 1e-8, 1.0, False),
        (0.1, 0.5, 1e-3, 1e-3, False),
        (0.05, 0.9, 1e-2, 1e-2, True),
        (0.003, 0.999, 1e-8, 1e3, False),
    ]
    for lr, beta, eps, scale, first in settings:
        shapes = {"W": (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                  "b": (int(rng.integers(1, 4)),)}
        grads = {k: scale * rng.standard_normal(shape) for k, shape in shapes.items()}
        s = {k: np.zeros(shape) if first else scale**2 * rng.uniform(0.1, 2.0, size=shape)
             for k, shape in shapes.items()}
        cases.append({
            "params": {k: rng.standard_normal(shape) for k, shape in shapes.items()},
            "grads": grads, "s": s, "lr": lr, "beta": beta, "eps": eps,
        })
    print("rmsprop_step: items compared: 0 = new_params['W'], 1 = new_params['b'], "
          "2 = new_s['W'], 3 = new_s['b']")
    return run_cases("rmsprop_step", _as_rmsprop_items(learner_fn), _reference_rmsprop_step,
                     cases)


def _reference_effective_learning_rates(grads, lr, beta, eps):
    from course_lib.optimizers import RMSProp

    optimizer = RMSProp(lr, beta=beta, eps=eps)
    params = {"w": np.zeros(grads.shape[1])}
    rows = []
    for g in grads:
        optimizer.step(params, {"w": np.array(g, dtype=np.float64)})
        rows.append(lr / (np.sqrt(optimizer.state["w"]["s"]) + eps))
    return np.array(rows)


def check_effective_learning_rates(learner_fn: Callable[..., np.ndarray], seed: int = 0) -> bool:
    """Exercise: ``effective_learning_rates(grads, lr, beta, eps)``.

    ``grads`` has shape ``(T, n)``: the gradients of ``n`` coordinates over ``T`` steps. Return
    the array of shape ``(T, n)`` whose row ``t`` is ``lr / (sqrt(s_t) + eps)``, the
    per-coordinate learning rate RMSProp uses at step ``t``, after ``s`` has taken in
    ``grads[t]`` (``s`` starts at 0). Cases: coordinates whose gradients differ by up to
    ``10^6`` in size, a coordinate whose gradient is always 0, several betas and eps.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for lr, beta, eps in [(0.01, 0.9, 1e-8), (0.001, 0.99, 1e-8), (0.1, 0.5, 1e-4),
                          (0.05, 0.9, 1e-2), (0.01, 0.0, 1e-8)]:
        steps, n = int(rng.integers(1, 12)), int(rng.integers(2, 5))
        sizes = 10.0 ** rng.uniform(-3, 3, size=n)
        grads = sizes * rng.standard_normal((steps, n))
        if eps >= 1e-4:
            grads[:, 0] = 0.0  # a coordinate that never gets a gradient: lr / eps
        cases.append({"grads": grads, "lr": lr, "beta": beta, "eps": eps})
    return run_cases("effective_learning_rates", learner_fn,
                     _reference_effective_learning_rates, cases)


# --- lesson 04: Adam --------------------------------------------------------

_ADAM_NAMES = ("W", "b")


def _reference_adam_step(params, grads, m, v, t, lr, beta1, beta2, eps):
    from course_lib.optimizers import Adam

    optimizer = Adam(lr, beta1=beta1, beta2=beta2, eps=eps)
    # one step on zeros creates the optimizer's state (m = v = 0, nothing moves);
    # then load the learner's moments and step counter into it
    optimizer.step({k: np.zeros_like(w) for k, w in params.items()},
                   {k: np.zeros_like(w) for k, w in params.items()})
    for name in params:
        state = optimizer.state[name]
        state["t"] = t - 1  # the optimizer counts this step as t
        state["m"][...] = m[name]
        state["v"][...] = v[name]
    new_params = {name: w.copy() for name, w in params.items()}
    optimizer.step(new_params, grads)
    return (tuple(new_params[k] for k in _ADAM_NAMES)
            + tuple(optimizer.state[k]["m"] for k in _ADAM_NAMES)
            + tuple(optimizer.state[k]["v"] for k in _ADAM_NAMES))


def _as_adam_items(learner_fn: Callable[..., Any]) -> Callable[..., tuple]:
    """Call the learner's ``adam_step`` and flatten its three dicts into the compared items.

    Raises (and so reports) a result of the wrong form, or inputs changed in place.
    """

    def adapted(params, grads, m, v, t, lr, beta1, beta2, eps):
        inputs = {"params": params, "grads": grads, "m": m, "v": v}
        before = copy.deepcopy(inputs)
        result = learner_fn(params, grads, m, v, t, lr, beta1, beta2, eps)
        for arg, value in inputs.items():
            for name in _ADAM_NAMES:
                if not np.array_equal(value[name], before[arg][name]):
                    raise ValueError(
                        f"your function changed {arg}[{name!r}] in place; "
                        "return new arrays and leave the inputs alone"
                    )
        if result is None:
            return None
        if not isinstance(result, tuple | list) or len(result) != 3:
            raise TypeError(
                f"return the triple (new_params, new_m, new_v), got {_describe(result)}"
            )
        for label, value in zip(("new_params", "new_m", "new_v"), result, strict=True):
            if not isinstance(value, dict) or set(value) != set(_ADAM_NAMES):
                raise TypeError(
                    f"{label} must be a dict with the keys {list(_ADAM_NAMES)}, "
                    f"got {_describe(value)}"
                )
        return tuple(d[k] for d in result for k in _ADAM_NAMES)

    return adapted


def check_adam_step(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``adam_step(params, grads, m, v, t, lr, beta1, beta2, eps)``, one Adam step.

    ``params``, ``grads``, ``m`` and ``v`` are dicts with the keys ``"W"`` and ``"b"``; ``t`` is
    the number of this step (1 for the first). For each key::

        m_new = beta1 * m + (1 - beta1) * g
        v_new = beta2 * v + (1 - beta2) * g**2
        m_hat = m_new / (1 - beta1**t),   v_hat = v_new / (1 - beta2**t)
        w_new = w - lr * m_hat / (sqrt(v_hat) + eps)

    Return ``(new_params, new_m, new_v)``, three new dicts (``m`` and ``v`` *uncorrected*);
    nothing passed in may change. The items compared are, in order, ``new_params["W"]``,
    ``new_params["b"]``, ``new_m["W"]``, ``new_m["b"]``, ``new_v["W"]`` and ``new_v["b"]``.
    Cases: the first step (``t = 1``, ``m = v = 0``), later steps (``t`` up to 1000),
    gradients from 0.001 to 1000 in size, several betas, and an ``eps`` large enough to matter.
    """
    if not callable(learner_fn):
        raise TypeError(f"pass your function itself, got {type(learner_fn).__name__}")
    rng = np.random.default_rng(seed)
    settings = [  # (t, lr, beta1, beta2, eps, gradient scale)
        (1, 0.001, 0.9, 0.999, 1e-8, 1.0),
        (2, 0.01, 0.9, 0.999, 1e-8, 1e3),
        (10, 0.1, 0.5, 0.99, 1e-8, 1.0),
        (1000, 0.003, 0.9, 0.999, 1e-8, 1e-3),
        (5, 0.05, 0.0, 0.9, 1e-2, 1e-2),
        (1, 0.02, 0.95, 0.9999, 1e-3, 1e-3),
    ]
    cases = []
    for t, lr, beta1, beta2, eps, scale in settings:
        shapes = {"W": (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                  "b": (int(rng.integers(1, 4)),)}
        first = t == 1
        cases.append({
            "params": {k: rng.standard_normal(s) for k, s in shapes.items()},
            "grads": {k: scale * rng.standard_normal(s) for k, s in shapes.items()},
            "m": {k: np.zeros(s) if first else scale * 0.3 * rng.standard_normal(s)
                  for k, s in shapes.items()},
            "v": {k: np.zeros(s) if first else scale**2 * rng.uniform(0.1, 2.0, size=s)
                  for k, s in shapes.items()},
            "t": t, "lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
        })
    print("adam_step: items compared: 0, 1 = new_params['W'], ['b']; 2, 3 = new_m['W'], ['b']; "
          "4, 5 = new_v['W'], ['b']")
    return run_cases("adam_step", _as_adam_items(learner_fn), _reference_adam_step, cases)


def _reference_bias_corrections(beta1, beta2, t):
    t = np.asarray(t, dtype=np.float64)
    c1 = 1 - beta1**t
    c2 = 1 - beta2**t
    return c1, c2, c1 / np.sqrt(c2)


def check_bias_corrections(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    r"""Exercise: ``bias_corrections(beta1, beta2, t)`` for an array of step numbers ``t``.

    Returns three arrays shaped like ``t``:

    * ``c1 = 1 - beta1**t``: ``E[m_t] = c1 · E[g]`` (the first moment is too small by c1);
    * ``c2 = 1 - beta2**t``: ``E[v_t] = c2 · E[g²]``;
    * ``ratio = c1 / sqrt(c2)``: the step without bias correction divided by the step with
      it (``eps = 0``), ``(m / sqrt(v)) / ((m / c1) / sqrt(v / c2))``.

    Cases: ``t`` from 1 to 10⁵, Adam's default betas, fast.ai's ``beta2 = 0.99``, ``beta1 = 0``
    (RMSProp with a corrected denominator) and other pairs.
    """
    rng = np.random.default_rng(seed)
    cases = [
        {"beta1": 0.9, "beta2": 0.999, "t": np.arange(1, 21)},
        {"beta1": 0.9, "beta2": 0.99, "t": np.array([1, 2, 5, 10, 100])},
        {"beta1": 0.99, "beta2": 0.999, "t": np.arange(1, 31)},
        {"beta1": 0.0, "beta2": 0.999, "t": np.array([1, 10, 1000, 100_000])},
        {"beta1": float(rng.uniform(0.5, 0.95)), "beta2": float(rng.uniform(0.95, 0.9999)),
         "t": rng.integers(1, 5000, size=8)},
    ]
    return run_cases("bias_corrections", learner_fn, _reference_bias_corrections, cases)


# --- lesson 06: learning-rate decay -----------------------------------------------------------


def _rates_over(learner_fn: Callable[..., float], name: str, times: range,
                call: Callable[[Callable, int], Any]) -> np.ndarray:
    """``[call(learner_fn, t) for t in times]`` as a float array; a non-number is reported."""
    rates = []
    for t in times:
        value = call(learner_fn, t)
        if value is None:
            raise TypeError(f"returned None at {name}={t} (did you forget to return the rate?)")
        try:
            rates.append(float(value))
        except (TypeError, ValueError):
            raise TypeError(
                f"must return one number, got {_describe(value)} at {name}={t}"
            ) from None
    return np.array(rates)


def _reference_inverse_time_staircase(lr0, epoch, decay_rate, interval):
    from course_lib.schedules import inverse_time_decay

    return inverse_time_decay(lr0, decay_rate, decay_steps=interval, staircase=True)(epoch)


def check_inverse_time_staircase(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    """Exercise: ``inverse_time_staircase(lr0, epoch, decay_rate, interval)``, one rate.

    The Deep Learning Specialization's fixed-interval decay (its ``schedule_lr_decay``)::

        lr = lr0 / (1 + decay_rate · ⌊epoch / interval⌋)

    Each case calls the function for ``epoch = 0 … epochs−1`` and compares the whole
    sequence, so a mismatch ``at index (k,)`` is at ``epoch = k``. Cases: intervals from 1 to
    7 epochs, decay rates from 0 to 2.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for interval, decay_rate in [(1, 1.0), (3, 0.5), (5, 0.3), (int(rng.integers(2, 8)), 0.0),
                                 (int(rng.integers(2, 8)), float(rng.uniform(0.1, 2.0)))]:
        cases.append({"lr0": float(rng.uniform(0.01, 1.0)), "decay_rate": decay_rate,
                      "interval": interval, "epochs": 3 * interval + 2})

    def reference(lr0, decay_rate, interval, epochs):
        return np.array([_reference_inverse_time_staircase(lr0, e, decay_rate, interval)
                         for e in range(epochs)])

    def learner(lr0, decay_rate, interval, epochs):
        return _rates_over(learner_fn, "epoch", range(epochs),
                           lambda fn, e: fn(lr0, e, decay_rate, interval))

    return run_cases("inverse_time_staircase", learner, reference, cases, rtol=1e-9)


def _reference_warmup_cosine(t, lr0, warmup_steps, total_steps):
    from course_lib.schedules import cosine_decay, warmup

    return warmup(cosine_decay(lr0, total_steps - warmup_steps), warmup_steps)(t)


def check_warmup_cosine(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    """Exercise: ``warmup_cosine(t, lr0, warmup_steps, total_steps)``, the rate of step ``t``.

    A linear warm-up over ``w = warmup_steps`` steps, then a cosine decay over the remaining
    ``T − w`` steps (``T = total_steps``), as ``warmup(cosine_decay(lr0, T − w), w)``::

        lr(t) = lr0 · (t + 1) / (w + 1)                           for t < w
        lr(t) = lr0 · (1 + cos(π · (t − w) / (T − w))) / 2        for w <= t < T

    Each case calls the function for ``t = 0 … T−1`` and compares the whole sequence, so a
    mismatch ``at index (k,)`` is at ``t = k``. Cases: no warm-up, short and long warm-ups.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for warmup_steps, total_steps in [(0, 20), (5, 30), (1, 8), (int(rng.integers(5, 20)), 60),
                                      (int(rng.integers(1, 10)), int(rng.integers(20, 50)))]:
        cases.append({"lr0": float(rng.uniform(0.01, 1.0)), "warmup_steps": warmup_steps,
                      "total_steps": total_steps})

    def reference(lr0, warmup_steps, total_steps):
        return np.array([_reference_warmup_cosine(t, lr0, warmup_steps, total_steps)
                         for t in range(total_steps)])

    def learner(lr0, warmup_steps, total_steps):
        return _rates_over(learner_fn, "t", range(total_steps),
                           lambda fn, t: fn(t, lr0, warmup_steps, total_steps))

    return run_cases("warmup_cosine", learner, reference, cases, rtol=1e-9, atol=1e-12)


def _reference_noise_floor(lr, L, sigma):  # noqa: N803 - the standard name of the curvature
    from course_lib.problems import NoisyQuadratic

    return NoisyQuadratic(L=L, sigma=sigma).noise_floor(lr)


def check_noise_floor(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    """Exercise: ``noise_floor(lr, L, sigma)``, the stationary expected loss of SGD.

    For ``f(x) = L·x²/2`` with noisy gradients ``L·x + σ·ξ`` (``E ξ = 0``, ``E ξ² = 1``) and a
    constant rate ``lr`` with ``0 < lr·L < 2``, return ``lim E[f(x_t)]``, the noise floor
    (``problems.NoisyQuadratic.noise_floor``). Cases: ``lr·L`` from 0.01 to 1.9 (where the
    small-rate approximation ``lr·σ²/4`` is far off), curvatures and noise levels from 0.1 to 10.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for lr_times_L in [0.01, 0.5, 1.0, 1.9, float(rng.uniform(0.05, 1.95))]:
        L = float(10 ** rng.uniform(-1, 1))  # noqa: N806
        cases.append({"lr": lr_times_L / L, "L": L, "sigma": float(10 ** rng.uniform(-1, 1))})

    def learner(lr, L, sigma):  # noqa: N803 - called by position: any argument names work
        return learner_fn(lr, L, sigma)

    return run_cases("noise_floor", learner, _reference_noise_floor, cases, rtol=1e-9)


# --- lesson 05: mini-batches ------------------------------------------------


def _epoch_order(batches: Any, n_samples: int, batch_size: int) -> np.ndarray:
    """The learner's batches of one epoch joined in order, after checking their form.

    Raises (and so reports) a wrong number or size of batches, non-integer or out-of-range
    indices, and samples visited twice or never.
    """
    if batches is None:
        raise TypeError("got None (did you forget to return the list of batches?)")
    batches = [np.asarray(batch) for batch in batches]
    expected = -(-n_samples // batch_size)  # ceil(n_samples / batch_size)
    left = n_samples - (expected - 1) * batch_size
    if len(batches) != expected:
        raise ValueError(
            f"expected ceil({n_samples}/{batch_size}) = {expected} batches, the last one with "
            f"what is left over ({left} of {batch_size}; it is not dropped), got {len(batches)}"
        )
    for k, batch in enumerate(batches):
        if batch.ndim != 1 or not np.issubdtype(batch.dtype, np.integer):
            raise TypeError(f"batch {k} must be a 1-D array of integer sample indices, got "
                            f"{batch.dtype} of shape {batch.shape}")
        size = batch_size if k < expected - 1 else left
        if batch.size != size:
            raise ValueError(f"batch {k} must hold {size} samples, got {batch.size}")
    order = np.concatenate(batches)
    outside = order[(order < 0) | (order >= n_samples)]
    if outside.size:
        raise ValueError(f"index {outside[0]} is not a sample: indices run from 0 to "
                         f"{n_samples - 1}")
    counts = np.bincount(order, minlength=n_samples)
    twice, never = np.flatnonzero(counts > 1), np.flatnonzero(counts == 0)
    if twice.size or never.size:
        raise ValueError(
            f"every sample must be visited exactly once per epoch; samples {twice[:4].tolist()} "
            f"come more than once and {never[:4].tolist()} never (drawn with replacement?)"
        )
    return order


def check_epoch_batches(learner_fn: Callable[..., Any], seed: int = 0) -> bool:
    """Exercise: ``epoch_batches(n_samples, batch_size, rng)``, the index batches of one epoch.

    Returns a list of 1-D integer arrays: a random permutation of ``0 .. n_samples − 1``
    drawn from the generator ``rng``, cut into ``ceil(n_samples / batch_size)`` consecutive
    pieces of ``batch_size`` indices (the last one holds what is left). So every sample is
    visited exactly once per epoch, as ``course_lib.data.minibatches`` does.

    Each case calls the function with ``rng = np.random.default_rng(rng_seed)`` and checks
    the number and sizes of the batches, that every sample comes exactly once, that the order
    is shuffled (``n_samples >= 8``), that the same seed gives the same batches (all the
    randomness comes from ``rng``) and that two calls with one generator give two different
    epochs. The compared items are the batch sizes (0) and the sorted indices (1).
    """
    if not callable(learner_fn):
        raise TypeError(f"pass your function itself, got {type(learner_fn).__name__}")
    rng = np.random.default_rng(seed)
    cases = [{"n_samples": n, "batch_size": b, "rng_seed": int(rng.integers(1000))}
             for n, b in [(10, 3), (12, 4), (7, 7), (5, 8), (40, 1),
                          (int(rng.integers(20, 200)), int(rng.integers(2, 20)))]]

    def reference(n_samples, batch_size, rng_seed):
        order = np.random.default_rng(rng_seed).permutation(n_samples)
        batches = [order[k:k + batch_size] for k in range(0, n_samples, batch_size)]
        return np.array([b.size for b in batches]), np.arange(n_samples)

    def learner(n_samples, batch_size, rng_seed):
        def call(generator):
            return learner_fn(n_samples, batch_size, generator)

        batches = call(np.random.default_rng(rng_seed))
        batches = None if batches is None else list(batches)  # a generator is fine too
        first = _epoch_order(batches, n_samples, batch_size)
        sizes = np.array([np.asarray(b).size for b in batches])
        again = _epoch_order(call(np.random.default_rng(rng_seed)), n_samples, batch_size)
        if not np.array_equal(first, again):
            raise ValueError(
                f"two calls with rng = np.random.default_rng({rng_seed}) gave different "
                "batches: draw every random number from rng (not from np.random)"
            )
        if n_samples >= 8:
            if np.array_equal(first, np.arange(n_samples)):
                raise ValueError("the samples come in their stored order 0, 1, 2, ...: "
                                 "shuffle them with rng (rng.permutation)")
            generator = np.random.default_rng(rng_seed)
            one = _epoch_order(call(generator), n_samples, batch_size)
            two = _epoch_order(call(generator), n_samples, batch_size)
            if np.array_equal(one, two):
                raise ValueError(
                    "two epochs drawn from one generator came out in the same order: use "
                    "rng itself, do not make a new generator inside the function"
                )
        return sizes, np.sort(first)

    return run_cases("epoch_batches", learner, reference, cases, rtol=0, atol=0)


def _reference_batch_gradient_variance(per_example_grads, batch_size):
    G = np.asarray(per_example_grads, dtype=np.float64)  # noqa: N806 - a matrix
    n = G.shape[0]
    # sigma² = (1/N) Σ_i ‖g_i − ḡ‖²
    sigma2 = np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1))
    # E‖g_B − ḡ‖² = sigma²/B · (N − B)/(N − 1)
    return sigma2 / batch_size * (n - batch_size) / (n - 1)


def check_batch_gradient_variance(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    r"""Exercise: ``batch_gradient_variance(per_example_grads, batch_size)``.

    ``per_example_grads`` has shape ``(N, P)``: row ``i`` is the gradient ``g_i`` of example
    ``i``'s loss (``N >= 2``). For a batch of ``B`` distinct examples drawn at random (without
    replacement, as in an epoch), return the expected squared distance of the batch-mean
    gradient from the full-batch gradient ``ḡ``::

        E‖g_B − ḡ‖² = (sigma² / B) · (N − B) / (N − 1),   sigma² = (1/N) Σ_i ‖g_i − ḡ‖²

    (zero at ``B = N``). Cases: random gradient matrices from 2 to 60 examples, ``B`` from 1
    to ``N``, gradients with a large common mean (it must be subtracted).
    """
    rng = np.random.default_rng(seed)
    cases = []
    for n, p, batch_size, offset in [(10, 3, 1, 0.0), (10, 3, 10, 0.0), (20, 5, 7, 5.0),
                                     (2, 1, 1, 1.0), (60, 4, 30, 0.0), (33, 2, 32, 100.0)]:
        scales = 10.0 ** rng.uniform(-1, 1, size=p)
        cases.append({"per_example_grads": offset + scales * rng.standard_normal((n, p)),
                      "batch_size": batch_size})
    if not callable(learner_fn):
        raise TypeError(f"pass your function itself, got {type(learner_fn).__name__}")

    def learner(per_example_grads, batch_size):  # by position: any argument names work
        return learner_fn(per_example_grads, batch_size)

    return run_cases("batch_gradient_variance", learner, _reference_batch_gradient_variance,
                     cases, rtol=1e-9, atol=1e-12)


# --- lesson 09: putting it together -----------------------------------------------------------


def _reference_epochs_to_target(curve, target):
    import math

    hits = np.flatnonzero(np.asarray(curve, dtype=np.float64) >= target)
    return float(hits[0]) if hits.size else math.inf


def check_epochs_to_target(learner_fn: Callable[..., float], seed: int = 0) -> bool:
    """Exercise: ``epochs_to_target(curve, target)``, the first epoch that reached the target.

    ``curve[k]`` is the validation accuracy after ``k`` epochs (``curve[0]``: before
    training). Return the first ``k`` with ``curve[k] >= target``, or ``math.inf`` when no
    epoch reached it; a NaN (a run that diverged) never counts as reaching it. This is
    ``History.epochs_to("val_accuracy", target)``. Cases: noisy rising curves of 5 to 20
    epochs, a target reached at epoch 0, one reached exactly, one never reached, one after a
    dip, a NaN tail.
    """
    rng = np.random.default_rng(seed)

    def rising(n):
        # 1 - e^(-k/τ) towards a random plateau, plus noise: a typical accuracy curve
        k = np.arange(n)
        plateau = rng.uniform(0.8, 0.99)
        curve = plateau * (1 - np.exp(-k / rng.uniform(1, 4))) + rng.normal(0, 0.02, n)
        return np.clip(curve + 0.1, 0, 1)

    cases = [{"curve": rising(int(rng.integers(5, 21))), "target": float(t)}
             for t in (0.9, 0.95)]
    never = rising(8)
    cases.append({"curve": never, "target": float(never.max() + 0.01)})  # not reached: inf
    exact = np.sort(rising(10))
    cases.append({"curve": exact, "target": float(exact[6])})  # reached exactly: >=, not >
    cases.append({"curve": np.array([0.2, 0.6, 0.5, 0.4, 0.7, 0.9]), "target": 0.65})
    cases.append({"curve": np.array([0.97, 0.1, 0.2]), "target": 0.95})  # epoch 0 counts
    cases.append({"curve": np.array([0.1, 0.5, 0.8, np.nan, np.nan]), "target": 0.9})
    with np.errstate(invalid="ignore"):  # comparing inf with a wrong answer computes inf − inf
        return run_cases("epochs_to_target", learner_fn, _reference_epochs_to_target, cases)


def _reference_t_interval(values, confidence):
    from course_lib.experiments import summarize

    s = summarize(values, confidence)
    return s.mean, s.low, s.high


def check_t_interval(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``t_interval(values, confidence)``, the mean and its Student-t interval.

    Leave out the values that are not finite (a run that diverged, a target never reached),
    then, for the ``n`` that remain, return ``(mean, low, high)`` with::

        s = sqrt( Σ (x_i − mean)² / (n − 1) ),   low, high = mean ∓ t_{(1+c)/2, n−1} · s / √n

    (``c = confidence``; ``course_lib.experiments.t_quantile(p, df)`` gives ``t``). This is
    ``experiments.summarize``. Cases: 2 to 10 values, confidences 0.9, 0.95 and 0.99, one
    case with an ``inf`` and a ``nan`` among the values.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for n, confidence in [(5, 0.95), (2, 0.95), (10, 0.9), (3, 0.99), (7, 0.95)]:
        cases.append({"values": rng.normal(rng.uniform(0.5, 5), rng.uniform(0.05, 1), n),
                      "confidence": confidence})
    with_failures = rng.normal(3.0, 0.5, 6)
    with_failures[[1, 4]] = [np.inf, np.nan]
    cases.append({"values": with_failures, "confidence": 0.95})
    return run_cases("t_interval", learner_fn, _reference_t_interval, cases, rtol=1e-6)


# --- lesson 07: batch normalization -----------------------------------------------------------


def _batch_norm_cases(rng: np.random.Generator) -> list[Case]:
    """Batches ``x`` of shape ``(N, D)`` with ``gamma``, ``beta`` and ``eps``.

    Columns on different scales and offsets, the smallest batch (``N = 2``), a single column,
    a constant column (its variance is 0: only ``eps`` keeps the division finite) and a
    large ``eps``.
    """
    cases = []
    for k, (n, d, eps) in enumerate([(8, 3, 1e-5), (2, 4, 1e-5), (5, 1, 1e-5), (16, 5, 1e-3),
                                     (33, 2, 1e-5), (12, 3, 0.1)]):
        scales = 10.0 ** rng.uniform(-1, 1, size=d)
        x = rng.normal(size=(n, d)) * scales + rng.uniform(-3, 3, size=d)
        if k == 3:
            x[:, 1] = 2.5  # a constant column
        cases.append({"x": x, "gamma": rng.uniform(0.5, 2.0, size=d),
                      "beta": rng.uniform(-1, 1, size=d), "eps": eps})
    return cases


def _batch_norm_layer(gamma: np.ndarray, beta: np.ndarray, eps: float, momentum: float = 0.1):
    from course_lib.layers import BatchNorm

    layer = BatchNorm(gamma.size, momentum=momentum, eps=eps)
    layer.params["gamma"][...] = gamma
    layer.params["beta"][...] = beta
    return layer


def _reference_batchnorm_forward(x, gamma, beta, eps):
    return _batch_norm_layer(gamma, beta, eps).forward(x, training=True)


def _print_hint(learner_fn: Callable[..., Any], case: Case, variants: dict[str, Any],
                extract: Callable[[Any], Any]) -> None:
    """After a failure: if the learner's output on ``case`` equals a known wrong variant, say so."""
    try:
        got = extract(learner_fn(**copy.deepcopy(case)))
    except Exception:  # the failure was reported already
        return
    for hint, expected in variants.items():
        if _same(expected, got, 1e-6, 1e-9) is None:
            print(f"hint: {hint}")
            return


def check_batchnorm_forward(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``batchnorm_forward(x, gamma, beta, eps)`` in training mode -> ``(out, cache)``.

    For a batch ``x`` of shape ``(N, D)``, per column::

        mu   = mean_n x                       var = mean_n (x - mu)**2   (biased: divide by N)
        xhat = (x - mu) / sqrt(var + eps)     out = gamma * xhat + beta

    Return the pair ``(out, cache)``; ``cache`` is whatever your backward pass will need (it
    is not compared). ``x`` must not change. Cases: batches of 2 to 33 rows, columns on
    different scales, a constant column, a large ``eps``.
    """
    if not callable(learner_fn):
        raise TypeError(f"pass your function itself, got {type(learner_fn).__name__}")

    def output(result):
        if result is None:
            return None
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise TypeError(f"return the pair (out, cache), got {_describe(result)}")
        return result[0]

    def learner(x, gamma, beta, eps):
        return output(learner_fn(x, gamma, beta, eps))

    cases = _batch_norm_cases(np.random.default_rng(seed))
    ok = run_cases("batchnorm_forward", learner, _reference_batchnorm_forward, cases)
    if not ok:
        case = cases[0]
        x, gamma, beta, eps = case["x"], case["gamma"], case["beta"], case["eps"]
        centred = x - x.mean(axis=0)
        _print_hint(learner, case, {
            "you normalised with the unbiased variance (divide by N - 1); batch norm divides "
            "by N": gamma * centred / np.sqrt(x.var(axis=0, ddof=1) + eps) + beta,
            "eps goes inside the square root: sqrt(var + eps)":
                gamma * centred / (np.sqrt(x.var(axis=0)) + eps) + beta,
            "the statistics are per column (axis=0), over the rows of the batch":
                gamma * (x - x.mean(axis=1, keepdims=True))
                / np.sqrt(x.var(axis=1, keepdims=True) + eps) + beta,
        }, lambda out: out)
    return ok


def _reference_batchnorm_backward(dy, x, gamma, eps):
    layer = _batch_norm_layer(gamma, np.zeros_like(gamma), eps)
    layer.forward(x, training=True)
    dx = layer.backward(dy)
    return dx, layer.grads["gamma"].copy(), layer.grads["beta"].copy()


def check_batchnorm_backward(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``batchnorm_backward(dy, x, gamma, eps)`` -> ``(dx, dgamma, dbeta)``.

    The gradients of training-mode batch norm (``beta`` does not enter them) for the upstream
    gradient ``dy = dL/dout``, with ``xhat`` and ``var`` recomputed from ``x``::

        dbeta  = sum_n dy                   dgamma = sum_n dy * xhat
        dx     = gamma / (N * sqrt(var + eps)) * (N * dy - sum_n dy - xhat * sum_n (dy * xhat))

    Nothing passed in may change. Items compared: 0 = ``dx``, 1 = ``dgamma``, 2 = ``dbeta``.
    Cases: those of ``check_batchnorm_forward`` with a random ``dy``.
    """
    if not callable(learner_fn):
        raise TypeError(f"pass your function itself, got {type(learner_fn).__name__}")
    rng = np.random.default_rng(seed)
    cases = []
    for case in _batch_norm_cases(rng):
        cases.append({"dy": rng.normal(size=case["x"].shape), "x": case["x"],
                      "gamma": case["gamma"], "eps": case["eps"]})

    def learner(dy, x, gamma, eps):
        result = learner_fn(dy, x, gamma, eps)
        if result is None:
            return None
        if not isinstance(result, tuple | list) or len(result) != 3:
            raise TypeError(f"return the triple (dx, dgamma, dbeta), got {_describe(result)}")
        return tuple(result)

    print("batchnorm_backward: items compared: 0 = dx, 1 = dgamma, 2 = dbeta")
    ok = run_cases("batchnorm_backward", learner, _reference_batchnorm_backward, cases)
    if not ok:
        case = cases[0]
        dy, x, gamma, eps = case["dy"], case["x"], case["gamma"], case["eps"]
        xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
        _, dgamma, dbeta = _reference_batchnorm_backward(dy, x, gamma, eps)
        _print_hint(learner, case, {
            "dx = gamma * dy / sqrt(var + eps) treats mu and var as constants; they depend on "
            "every row of x, which adds the two sums":
                (gamma * dy / np.sqrt(x.var(axis=0) + eps), dgamma, dbeta),
            "dx is missing the term - xhat * sum_n(dy * xhat), which comes from var":
                (gamma * (dy - dy.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps), dgamma, dbeta),
            "dx is missing the term - sum_n dy, which comes from mu":
                (gamma * (dy - xhat * (dy * xhat).mean(axis=0)) / np.sqrt(x.var(axis=0) + eps),
                 dgamma, dbeta),
        }, lambda result: result)
    return ok


def _reference_running_stats(running_mean, running_var, x, momentum):
    layer = _batch_norm_layer(np.ones(x.shape[1]), np.zeros(x.shape[1]), 1e-5, momentum)
    layer.running_mean[...] = running_mean
    layer.running_var[...] = running_var
    layer.forward(x, training=True)
    return layer.running_mean.copy(), layer.running_var.copy()


def check_running_stats(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``update_running_stats(running_mean, running_var, x, momentum)``, PyTorch's way.

    One training batch ``x`` of shape ``(N, D)`` updates the running statistics with
    ``momentum`` the weight of the *new* batch (``torch.nn.BatchNorm1d``, ``course_lib``)::

        new_mean = (1 - momentum) * running_mean + momentum * mean_n x
        new_var  = (1 - momentum) * running_var  + momentum * var_unbiased(x)

    where ``var_unbiased`` divides by ``N - 1``. Return ``(new_mean, new_var)`` as new arrays;
    the inputs must not change. Items compared: 0 = ``new_mean``, 1 = ``new_var``. Cases:
    momentum 0.1 (the default), 0.01, 0.5, 1 (keep only the batch) and 0 (keep only the
    running values), batches of 2 to 40 rows.
    """
    if not callable(learner_fn):
        raise TypeError(f"pass your function itself, got {type(learner_fn).__name__}")
    rng = np.random.default_rng(seed)
    cases = []
    for momentum, n in [(0.1, 16), (0.01, 8), (0.5, 2), (1.0, 5), (0.0, 10),
                        (float(rng.uniform(0.05, 0.3)), 40)]:
        d = int(rng.integers(1, 5))
        cases.append({
            "running_mean": rng.normal(size=d),
            "running_var": rng.uniform(0.5, 2.0, size=d),
            "x": rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d) + rng.normal(size=d),
            "momentum": momentum,
        })

    def learner(running_mean, running_var, x, momentum):
        result = learner_fn(running_mean, running_var, x, momentum)
        if result is None:
            return None
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise TypeError(f"return the pair (new_mean, new_var), got {_describe(result)}")
        return tuple(result)

    print("update_running_stats: items compared: 0 = new_mean, 1 = new_var")
    ok = run_cases("update_running_stats", learner, _reference_running_stats, cases)
    if not ok:
        case = cases[0]
        mean, var, x, m = case["running_mean"], case["running_var"], case["x"], case["momentum"]
        _print_hint(learner, case, {
            "momentum is the weight of the new batch in PyTorch's sense, (1 - momentum) * "
            "running + momentum * batch; you used Keras's sense, momentum * running + "
            "(1 - momentum) * batch":
                (m * mean + (1 - m) * x.mean(axis=0), m * var + (1 - m) * x.var(axis=0, ddof=1)),
            "the running variance stores the unbiased batch variance (divide by N - 1)":
                ((1 - m) * mean + m * x.mean(axis=0), (1 - m) * var + m * x.var(axis=0)),
        }, lambda result: result)
    return ok


# --- lesson 08: residual layers -------------------------------------------


def _reference_residual_forward_backward(block_forward, block_backward, x, dy):
    # y = x + F(x);  dL/dx = dL/dy + dL/dy · ∂F/∂x  (the block's backward gives the second term)
    y = x + block_forward(x)
    dx = dy + block_backward(dy)
    return y, dx


def check_residual_forward_backward(learner_fn: Callable[..., tuple], seed: int = 0) -> bool:
    """Exercise: ``residual_forward_backward(block_forward, block_backward, x, dy)``.

    Given a block's ``forward(x)`` and ``backward(dy)`` (``backward`` is valid after
    ``forward``), return ``(y, dx)`` for the skip connection around it:
    ``y = x + block_forward(x)`` and ``dx = dy + block_backward(dy)``. Cases: random
    ``Dense, ReLU, Dense`` blocks of several widths and weight scales, one with a
    ``BatchNorm`` inside.
    """
    from course_lib.layers import BatchNorm, Dense, ReLU, Sequential

    rng = np.random.default_rng(seed)
    cases = []
    for width, batch, std, norm in [(3, 4, 0.5, False), (5, 2, 0.1, False), (4, 6, 1.0, False),
                                    (6, 3, 2.0, False), (4, 5, 0.5, True)]:
        middle = [BatchNorm(width)] if norm else []
        block = Sequential(Dense(width, width, rng=rng, init=std), *middle, ReLU(),
                           Dense(width, width, rng=rng, init=std))
        for layer in block:  # non-zero biases, so a forgotten term shows
            if "b" in layer.params:
                layer.params["b"][...] = rng.normal(size=width)
        cases.append({
            "block_forward": block.forward,
            "block_backward": block.backward,
            "x": rng.normal(size=(batch, width)),
            "dy": rng.normal(size=(batch, width)),
        })
    return run_cases("residual_forward_backward", learner_fn,
                     _reference_residual_forward_backward, cases)


def _reference_backprop_jacobians(g, jacobians, skip):
    # dL/dx_{k-1} = dL/dx_k · (I + J_k)  (or · J_k without the skip), for k = L, ..., 1
    for J in jacobians[::-1]:
        g = g + g @ J if skip else g @ J
    return g


def check_backprop_jacobians(learner_fn: Callable[..., np.ndarray], seed: int = 0) -> bool:
    """Exercise: ``backprop_jacobians(g, jacobians, skip)``.

    The network is ``x_k = f_k(x_{k-1})`` for ``k = 1 … L``; ``jacobians`` has shape
    ``(L, w, w)`` with ``jacobians[k-1] = J_k = ∂f_k/∂x_{k-1}`` (rows: outputs, columns:
    inputs), and ``g = dL/dx_L`` is a vector of length ``w``. Return ``dL/dx_0``::

        skip=False:  g · J_L · J_{L-1} ⋯ J_1
        skip=True:   g · (I + J_L) · (I + J_{L-1}) ⋯ (I + J_1)      (x_k = x_{k-1} + f_k(x_{k-1}))

    Cases: random non-symmetric Jacobians of several sizes and scales, with and without skip.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for depth, width, scale, skip in [(1, 3, 0.5, False), (3, 4, 0.3, True), (4, 3, 1.2, False),
                                      (5, 5, 0.2, True), (6, 2, 0.8, True), (2, 4, 0.7, False)]:
        cases.append({
            "g": rng.normal(size=width),
            "jacobians": rng.normal(scale=scale, size=(depth, width, width)),
            "skip": skip,
        })
    return run_cases("backprop_jacobians", learner_fn, _reference_backprop_jacobians, cases)
