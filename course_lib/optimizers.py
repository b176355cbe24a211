"""Gradient-descent optimizers: SGD, Momentum, RMSProp, Adam and AdamW.

Every optimizer has the same small contract::

    opt = Adam(lr=1e-3)
    opt.step(params, grads)   # updates the arrays in params, in place
    opt.lr = 1e-4             # change the learning rate between steps (a schedule does this)

- ``params`` and ``grads`` are ``dict[str, np.ndarray]`` with the same names, shapes and dtypes.
  The arrays in ``params`` are changed in place, so a layer holding them trains; ``grads`` is
  never changed.
- The optimizer keeps its state per parameter name, created at the first step of that name:
  ``opt.state["W"]["v"]`` is the velocity of ``params["W"]`` in ``Momentum``, ``opt.state["W"]``
  holds ``"t"``, ``"m"`` and ``"v"`` in ``Adam``. Two models with different parameter names can
  share one optimizer without interfering; ``opt.reset()`` forgets everything.
- float32 stays float32: the state has the parameter's dtype, and the hyperparameters are plain
  Python floats, which numpy applies in the array's precision.
- The update is written with in-place numpy operations (``v *= beta``, ``out=``) into one
  scratch array per parameter, so it makes no temporary arrays (except for the L2 penalty,
  ``weight_decay`` in ``SGD`` and ``Adam``).
- Everything is checked before any parameter changes, so a bad call leaves ``params`` and the
  state untouched. That includes a NaN or infinite gradient (the usual sign of a learning rate
  that is too large): the check reads every gradient once, which costs about half an array
  copy, while an SGD step costs about four and an Adam step about fourteen
  (``benchmarks/bench_optimizers.py`` measures them).

The forms follow PyTorch, so the lessons can check every optimizer against ``torch.optim``:
``Momentum`` is the exponential-moving-average form (PyTorch's ``SGD(momentum=beta)`` with the
learning rate ``lr * (1 - beta)``), ``RMSProp`` and ``Adam`` add ``eps`` outside the square root.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from course_lib.validation import check_beta, check_nonnegative, check_positive

__all__ = ["SGD", "Momentum", "RMSProp", "Adam", "AdamW", "Optimizer"]


class Optimizer:
    """What every optimizer shares: the learning rate, the checks, the state per name.

    A subclass lists its constructor arguments in ``_repr_args``, creates the state of one
    parameter in ``_init_state(w)`` and updates one parameter in ``_update(w, g, state, tmp)``,
    where ``tmp`` is a scratch array shaped like ``w``.
    """

    _repr_args: tuple[str, ...] = ("lr",)

    def __init__(self, lr: float) -> None:
        self.lr = lr
        self.state: dict[str, dict[str, np.ndarray | int]] = {}
        self._scratch: dict[str, np.ndarray] = {}
        self._checked: list[tuple] = []  # the arrays that passed the last full check

    @property
    def lr(self) -> float:
        """The learning rate: a finite number > 0, settable between steps."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_positive("lr", value)

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every array in ``params`` in place, using the gradient of the same name."""
        # A training loop passes the same arrays at every step: once they have passed the full
        # check (names, types, shapes, dtypes, memory), only their values are new, so later
        # steps re-check just those (and the few attributes an array can change in place).
        if self._same_arrays_as_checked(params, grads):
            for name, g in grads.items():
                _check_finite(name, g)
        else:
            _check_params_and_grads(params, grads)
            self._checked = [(name, w, grads[name], w.shape, w.dtype) for name, w in params.items()]
        for name, w in params.items():
            if name in self.state:
                _check_state_matches(name, self.state[name], w)
        for name, w in params.items():
            if name not in self.state:
                self.state[name] = self._init_state(w)
                self._scratch[name] = np.empty_like(w)
            self._update(w, grads[name], self.state[name], self._scratch[name])

    def reset(self) -> None:
        """Forget all state (velocities, moments, step counters); keep the hyperparameters."""
        self.state.clear()
        self._scratch.clear()
        self._checked = []

    def _same_arrays_as_checked(self, params: object, grads: object) -> bool:
        """True if ``params`` and ``grads`` hold the very arrays of the last full check."""
        checked = self._checked
        if not (
            isinstance(params, dict)
            and isinstance(grads, dict)
            and len(params) == len(grads) == len(checked) > 0
        ):
            return False
        for name, w, g, shape, dtype in checked:
            # an array keeps its memory, but its shape, dtype and flags can be set in place
            if (
                params.get(name) is not w
                or grads.get(name) is not g
                or w.shape != shape
                or g.shape != shape
                or w.dtype != dtype
                or g.dtype != dtype
                or not w.flags.writeable
            ):
                return False
        return True

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._repr_args)
        return f"{type(self).__name__}({args})"

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray | int]:
        return {}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict, tmp: np.ndarray) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain (stochastic) gradient descent.

        w ← w − lr·g

    With ``weight_decay = λ > 0`` an L2 penalty ``λ/2·‖w‖²`` is added to the loss, that is
    ``g ← g + λ·w`` before the step (as ``torch.optim.SGD(weight_decay=λ)``).
    """

    _repr_args = ("lr", "weight_decay")

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        super().__init__(lr)
        self.weight_decay = check_nonnegative("weight_decay", weight_decay)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict, tmp: np.ndarray) -> None:
        if self.weight_decay:
            # g ← g + λ·w   (a new array: the caller's gradient stays untouched)
            g = g + self.weight_decay * w
        # w ← w − lr·g
        np.multiply(g, self.lr, out=tmp)
        w -= tmp


class Momentum(Optimizer):
    """Gradient descent with momentum, in exponential-moving-average form.

        v ← β·v + (1−β)·g          (v₀ = 0)
        w ← w − lr·v

    ``v`` is an average of the recent gradients, so ``lr`` keeps its meaning from SGD. This is
    PyTorch's heavy ball ``b ← β·b + g``, ``w ← w − lr'·b`` with ``lr' = lr·(1−β)``, step for
    step, because ``v = (1−β)·b``.

    With ``nesterov=True`` the step looks ahead along the updated velocity:

        w ← w − lr·(β·v + (1−β)·g)     (after updating v; PyTorch's Nesterov with lr·(1−β))

    State per parameter: ``"v"``, the velocity.
    """

    _repr_args = ("lr", "beta", "nesterov")

    def __init__(self, lr: float, beta: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(lr)
        self.beta = check_beta("beta", beta)
        self.nesterov = _check_bool("nesterov", nesterov)

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray | int]:
        return {"v": np.zeros_like(w)}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict, tmp: np.ndarray) -> None:
        lr, beta, v = self.lr, self.beta, state["v"]
        # v ← β·v + (1−β)·g
        np.multiply(g, 1 - beta, out=tmp)
        v *= beta
        v += tmp
        if self.nesterov:
            # w ← w − lr·(β·v + (1−β)·g), in two parts; tmp still holds (1−β)·g
            tmp *= lr
            w -= tmp
            np.multiply(v, lr * beta, out=tmp)
            w -= tmp
        else:
            # w ← w − lr·v
            np.multiply(v, lr, out=tmp)
            w -= tmp


class RMSProp(Optimizer):
    """RMSProp: divide the step by a running root mean square of the gradient.

        s ← β·s + (1−β)·g²          (s₀ = 0)
        w ← w − lr·g / (√s + eps)

    ``eps`` is added outside the square root, as in ``torch.optim.RMSprop(alpha=β)`` (whose
    default ``alpha`` is 0.99; ours is 0.9). ``eps = 0`` is allowed, to show why it is there:
    a weight whose gradient has been exactly 0 so far then gets 0/0 = NaN.
    State per parameter: ``"s"``.
    """

    _repr_args = ("lr", "beta", "eps")

    def __init__(self, lr: float, beta: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta = check_beta("beta", beta)
        self.eps = check_nonnegative("eps", eps)

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray | int]:
        return {"s": np.zeros_like(w)}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict, tmp: np.ndarray) -> None:
        beta, s = self.beta, state["s"]
        # s ← β·s + (1−β)·g²
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta
        s *= beta
        s += tmp
        # w ← w − lr·g / (√s + eps)
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr
        w -= tmp


class Adam(Optimizer):
    """Adam: momentum and RMSProp together, with bias correction; as ``torch.optim.Adam``.

    At step t = 1, 2, … of a parameter (the counter ``"t"`` is kept per parameter):

        m ← β₁·m + (1−β₁)·g            (m₀ = 0)
        v ← β₂·v + (1−β₂)·g²           (v₀ = 0)
        m̂ = m / (1−β₁ᵗ),  v̂ = v / (1−β₂ᵗ)
        w ← w − lr·m̂ / (√v̂ + eps)     (eps outside the root, after the correction)

    ``bias_correction=False`` uses ``m`` and ``v`` directly, ``w ← w − lr·m / (√v + eps)``.
    Both start at zero, so early on ``m`` is too small by the factor ``1−β₁ᵗ`` and ``√v`` by
    ``√(1−β₂ᵗ)``; with the default betas the second wins, and the early steps are several times
    too large: √10 ≈ 3.2 times at t = 1, about 6.5 times around t = 10, still 1.26 at t = 1000.

    ``eps = 0`` is allowed (as in PyTorch) but gives 0/0 = NaN for a weight whose gradient has
    been exactly 0 so far.

    ``weight_decay = λ > 0`` adds the L2 penalty to the gradient, ``g ← g + λ·w``, before the
    moments (as ``torch.optim.Adam(weight_decay=λ)``); the penalty is then divided by ``√v̂``
    like the rest of the gradient. ``AdamW`` decouples it instead.

    State per parameter: ``"t"`` (steps taken), ``"m"`` and ``"v"``.
    """

    _repr_args = ("lr", "beta1", "beta2", "eps", "weight_decay", "bias_correction")
    decoupled_weight_decay = False

    def __init__(
        self,
        lr: float,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        bias_correction: bool = True,
    ) -> None:
        super().__init__(lr)
        self.beta1 = check_beta("beta1", beta1)
        self.beta2 = check_beta("beta2", beta2)
        self.eps = check_nonnegative("eps", eps)
        self.weight_decay = check_nonnegative("weight_decay", weight_decay)
        self.bias_correction = _check_bool("bias_correction", bias_correction)

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray | int]:
        return {"t": 0, "m": np.zeros_like(w), "v": np.zeros_like(w)}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict, tmp: np.ndarray) -> None:
        lr, beta1, beta2, m, v = self.lr, self.beta1, self.beta2, state["m"], state["v"]
        state["t"] += 1
        t = state["t"]
        if self.weight_decay and self.decoupled_weight_decay:
            # AdamW: w ← w − lr·λ·w = (1 − lr·λ)·w, before the Adam step
            w *= 1 - lr * self.weight_decay
        elif self.weight_decay:
            # L2 penalty: g ← g + λ·w   (a new array: the caller's gradient stays untouched)
            g = g + self.weight_decay * w
        # m ← β₁·m + (1−β₁)·g
        np.multiply(g, 1 - beta1, out=tmp)
        m *= beta1
        m += tmp
        # v ← β₂·v + (1−β₂)·g²
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v *= beta2
        v += tmp
        # w ← w − lr·m̂ / (√v̂ + eps), with the corrections folded into two numbers (as at the
        # end of section 2 of Kingma & Ba's paper), which saves one pass over the arrays:
        #   lr·m̂ / (√v̂ + eps) = α·m / (√v + ε̂),  α = lr·√(1−β₂ᵗ) / (1−β₁ᵗ),  ε̂ = eps·√(1−β₂ᵗ)
        if self.bias_correction:
            root_correction2 = math.sqrt(1 - beta2**t)
            alpha = lr * root_correction2 / (1 - beta1**t)
            eps_hat = self.eps * root_correction2
        else:
            alpha, eps_hat = lr, self.eps
        np.sqrt(v, out=tmp)
        tmp += eps_hat
        np.divide(m, tmp, out=tmp)
        tmp *= alpha
        w -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay; as ``torch.optim.AdamW``.

    Each step first shrinks the weights, then takes the ordinary Adam step (see ``Adam``)
    with the raw gradient:

        w ← w − lr·λ·w              (λ = weight_decay)
        w ← w − lr·m̂ / (√v̂ + eps)

    Unlike the L2 penalty in ``Adam(weight_decay=λ)``, the decay never passes through the
    moments, so every weight shrinks by the same factor ``1 − lr·λ`` whatever its gradient
    history. State per parameter: ``"t"``, ``"m"`` and ``"v"``, as in ``Adam``.
    """

    _repr_args = ("lr", "beta1", "beta2", "eps", "weight_decay")
    decoupled_weight_decay = True

    def __init__(
        self,
        lr: float,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(lr, beta1, beta2, eps, weight_decay)


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_params_and_grads(params: object, grads: object) -> None:
    """Raise unless params and grads are dicts of float arrays that match name for name."""
    for arg, value in (("params", params), ("grads", grads)):
        if not isinstance(value, Mapping):
            raise TypeError(
                f"{arg} must be a dict mapping names to numpy arrays, got {type(value).__name__}"
            )
    missing = params.keys() - grads.keys()
    extra = grads.keys() - params.keys()
    if missing or extra:
        raise ValueError(
            "grads must have the same names as params: "
            f"missing from grads {sorted(missing, key=str)}, "
            f"extra in grads {sorted(extra, key=str)}"
        )
    for name, w in params.items():
        g = grads[name]
        if not isinstance(w, np.ndarray):
            raise TypeError(
                f"params[{name!r}] must be a numpy array (it is updated in place), "
                f"got {type(w).__name__}"
            )
        if w.dtype.kind != "f":  # float16, float32, float64, ...
            raise TypeError(
                f"params[{name!r}] must be a floating-point array, got dtype {w.dtype}; "
                "create it with dtype=np.float64 or np.float32"
            )
        if not w.flags.writeable:
            raise ValueError(f"params[{name!r}] is read-only; the optimizer updates it in place")
        if not isinstance(g, np.ndarray):
            raise TypeError(f"grads[{name!r}] must be a numpy array, got {type(g).__name__}")
        if g.shape != w.shape:
            raise ValueError(
                f"grads[{name!r}] has shape {g.shape} but params[{name!r}] has shape {w.shape}"
            )
        if g.dtype != w.dtype:
            raise TypeError(
                f"grads[{name!r}] has dtype {g.dtype} but params[{name!r}] has dtype {w.dtype}; "
                "compute both in the same precision"
            )
        if np.may_share_memory(w, g):
            raise ValueError(
                f"grads[{name!r}] shares memory with params[{name!r}]; pass a copy of the gradient"
            )
        _check_finite(name, g)


def _check_finite(name: str, g: np.ndarray) -> None:
    """Raise if the gradient holds a NaN or an infinity."""
    # np.isfinite is one elementwise pass, cheaper than an array copy. (A sum of squares would
    # also do, but np.vdot goes to the threaded BLAS, which can be many times slower.)
    if not np.isfinite(g).all():
        raise ValueError(
            f"grads[{name!r}] contains NaN or infinity; the parameters were not updated "
            "(a learning rate that is too large often makes the loss overflow)"
        )


def _check_state_matches(name: str, state: dict, w: np.ndarray) -> None:
    """Raise if the state kept for ``name`` was made for an array of another shape or dtype."""
    for key, s in state.items():
        if isinstance(s, np.ndarray) and (s.shape != w.shape or s.dtype != w.dtype):
            raise ValueError(
                f"the optimizer's state[{name!r}][{key!r}] has shape {s.shape} and dtype "
                f"{s.dtype}, but params[{name!r}] has shape {w.shape} and dtype {w.dtype}; "
                "use a new optimizer for a different model, or call reset()"
            )
