"""Gradient-descent optimizers: update rules, and thin classes that keep their state.

Each optimizer is two things, in the spirit of CS231n's ``optim.py`` and optax:

* a **rule**, a plain function that takes one parameter ``w``, its gradient ``g``, its state and
  the hyperparameters (and optionally ``scratch``, an array shaped like ``w`` that it may
  overwrite instead of allocating temporaries), updates ``w`` in place and returns the state of
  the next step::

      state = momentum_init(w)           # {"v": zeros like w}
      for _ in range(100):
          state = momentum_update(w, grad(w), state, lr=0.1, beta=0.9)

  The body of each rule reads like the formula in its docstring. Array state (velocities,
  moments) is updated in place too, so the returned dict holds the same arrays; a counter (Adam's
  ``"t"``) is a new number in a new dict. Rules check nothing: they trust their caller, so a loop
  of a million tiny steps pays only for the arithmetic. ``lr`` may be an array that broadcasts
  against ``w`` (one learning rate per row: several runs advanced together).
* a **class** (``SGD``, ``Momentum``, ``RMSProp``, ``Adam``, ``AdamW``) with the contract the
  training loop uses::

      opt = Adam(lr=1e-3)
      opt.step(params, grads)   # updates the arrays in params, in place
      opt.lr = 1e-4             # change the learning rate between steps (a schedule does this)

  The class validates its hyperparameters once, keeps ``opt.state[name]`` per parameter name and
  calls its rule. ``Optimizer.step`` checks everything before any parameter changes, so a bad call
  (names, shapes or dtypes that differ) leaves ``params`` and the state untouched. So does a
  gradient that the rule cannot use, the usual sign of a learning rate that is too large: NaN
  or infinite, or, for RMSProp and Adam, which square it, beyond ``±gradient_limit(dtype)``
  (about 9e18 in float32, 7e153 in float64), where ``g²`` would overflow and the step would be
  silently 0. It raises ``GradientError`` (a ``ValueError``), which ``training.fit`` records as
  divergence. This check (one ``np.isfinite(g).all()``, or ``g.max()`` and ``g.min()`` where
  there is a limit) costs about half an array copy, while an SGD step costs about four and an
  Adam step about fourteen (``benchmarks/bench_optimizers.py``).

``params`` and ``grads`` are ``dict[str, np.ndarray]`` with the same names, shapes and dtypes;
``grads`` is never changed. The state is created at the first step of each name, for that array:
a step that brings another array under a name that has state (a second model built the same
way) is refused, since it would inherit the first model's moments and step count; give each
model its own optimizer, or call ``opt.reset()``, which forgets everything. float32 stays
float32: the state has the parameter's dtype, and the hyperparameters are Python floats, which
numpy applies in the array's precision.

The forms follow PyTorch, so the lessons can check every optimizer against ``torch.optim``:
``Momentum`` is the exponential-moving-average form (PyTorch's ``SGD(momentum=beta)`` with the
learning rate ``lr * (1 - beta)``), ``RMSProp`` and ``Adam`` add ``eps`` outside the square root.

Writing a new optimizer
-----------------------
Write its rule, then a thin class that names the rule, its hyperparameters and its initial state.
Lion (Chen et al., 2023), for example (``w ← w − lr·sign(β₁·m + (1−β₁)·g)``, then
``m ← β₂·m + (1−β₂)·g``)::

    def lion_update(w, g, state, *, lr, beta1=0.9, beta2=0.99, scratch=None):
        m = state["m"]
        w -= lr * np.sign(beta1 * m + (1 - beta1) * g)
        m *= beta2
        m += (1 - beta2) * g
        return state

    class Lion(Optimizer):
        rule = staticmethod(lion_update)
        hyperparameter_names = ("lr", "beta1", "beta2")
        beta1 = Hyperparameter(check_beta)   # checked whenever it is set
        beta2 = Hyperparameter(check_beta)

        def __init__(self, lr, beta1=0.9, beta2=0.99):
            super().__init__(lr)
            self.beta1, self.beta2 = beta1, beta2

        def init_state(self, w):
            return {"m": np.zeros_like(w)}

``Lion(1e-4).step(params, grads)`` then checks its input, keeps ``state[name]["m"]`` and has a
``repr`` and ``reset`` like the optimizers here. ``step`` passes each rule a ``scratch`` array
kept per name; a rule may ignore it (this one allocates its temporaries), or write into it with
``out=`` as the rules here do, which pays off for large parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from course_lib.validation import check_beta, check_bool, check_nonnegative, check_positive

__all__ = [
    "Optimizer", "Hyperparameter", "GradientError", "SGD", "Momentum", "Adagrad", "RMSProp",
    "Adam", "AdamW",
    "sgd_update", "momentum_update", "adagrad_update", "rmsprop_update", "adam_update",
    "adamw_update", "momentum_init", "adagrad_init", "rmsprop_init", "adam_init",
]

State = dict[str, np.ndarray | int]


# --- the rules ---------------------------------------------------------------------------------
#
# Read ``x -= np.multiply(a, b, out=tmp)`` as ``x -= a * b``: ``out=tmp`` writes the product into
# the scratch array instead of allocating a new array, which for large parameters costs more
# than the arithmetic. Each rule uses one scratch array shaped like ``w``.


def sgd_update(w: np.ndarray, g: np.ndarray, state: State, *, lr: float,
               weight_decay: float = 0.0, scratch: np.ndarray | None = None) -> State:
    """Plain gradient descent, ``w ← w − lr·g``; no state (``{}``).

    With ``weight_decay = λ > 0`` the L2 penalty ``λ/2·‖w‖²`` is added to the loss, that is
    ``g ← g + λ·w`` before the step (as ``torch.optim.SGD(weight_decay=λ)``).
    """
    tmp = np.empty_like(w) if scratch is None else scratch
    if weight_decay:
        # g ← g + λ·w   (a new array: the caller's gradient stays untouched)
        g = g + weight_decay * w
    # w ← w − lr·g
    w -= np.multiply(lr, g, out=tmp)
    return state


def momentum_init(w: np.ndarray) -> State:
    """The state of momentum before its first step: the velocity ``v₀ = 0``."""
    return {"v": np.zeros_like(w)}


def momentum_update(w: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta: float = 0.9,
                    nesterov: bool = False, scratch: np.ndarray | None = None) -> State:
    """Momentum in exponential-moving-average form; state ``{"v": velocity}``.

        v ← β·v + (1−β)·g
        w ← w − lr·v                     (heavy ball)
        w ← w − lr·(β·v + (1−β)·g)       (nesterov=True: look ahead along the new v)
    """
    tmp = np.empty_like(w) if scratch is None else scratch
    v = state["v"]
    # v ← β·v + (1−β)·g
    v *= beta
    v += np.multiply(1 - beta, g, out=tmp)
    if nesterov:
        # w ← w − lr·(β·v + (1−β)·g), in two parts; tmp still holds (1−β)·g
        w -= np.multiply(lr, tmp, out=tmp)
        w -= np.multiply(lr * beta, v, out=tmp)
    else:
        # w ← w − lr·v
        w -= np.multiply(lr, v, out=tmp)
    return state


def adagrad_init(w: np.ndarray) -> State:
    """The state of Adagrad before its first step: the sum of squares ``s₀ = 0``."""
    return {"s": np.zeros_like(w)}


def adagrad_update(w: np.ndarray, g: np.ndarray, state: State, *, lr: float, eps: float = 1e-10,
                   scratch: np.ndarray | None = None) -> State:
    """Adagrad; state ``{"s": sum of every g² so far}``.

        s ← s + g²
        w ← w − lr·g / (√s + eps)

    Each weight's step shrinks like 1/√(number of steps) once its gradients settle: the sum
    never forgets, which RMSProp's moving average fixes.
    """
    tmp = np.empty_like(w) if scratch is None else scratch
    s = state["s"]
    # s ← s + g²
    s += np.square(g, out=tmp)
    # w ← w − lr·g / (√s + eps)
    denominator = np.add(np.sqrt(s, out=tmp), eps, out=tmp)
    w -= np.multiply(lr, np.divide(g, denominator, out=tmp), out=tmp)
    return state


def rmsprop_init(w: np.ndarray) -> State:
    """The state of RMSProp before its first step: the mean square ``s₀ = 0``."""
    return {"s": np.zeros_like(w)}


def rmsprop_update(w: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta: float = 0.9,
                   eps: float = 1e-8, scratch: np.ndarray | None = None) -> State:
    """RMSProp; state ``{"s": running mean of g²}``.

        s ← β·s + (1−β)·g²
        w ← w − lr·g / (√s + eps)
    """
    tmp = np.empty_like(w) if scratch is None else scratch
    s = state["s"]
    # s ← β·s + (1−β)·g²
    s *= beta
    s += np.multiply(1 - beta, np.square(g, out=tmp), out=tmp)
    # w ← w − lr·g / (√s + eps)
    denominator = np.add(np.sqrt(s, out=tmp), eps, out=tmp)
    w -= np.multiply(lr, np.divide(g, denominator, out=tmp), out=tmp)
    return state


def adam_init(w: np.ndarray) -> State:
    """The state of Adam before its first step: ``t = 0`` steps taken, ``m₀ = v₀ = 0``."""
    return {"t": 0, "m": np.zeros_like(w), "v": np.zeros_like(w)}


def adam_update(w: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float = 0.9,
                beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
                bias_correction: bool = True, scratch: np.ndarray | None = None) -> State:
    """Adam; state ``{"t": steps taken, "m": first moment, "v": second moment}``.

        t ← t + 1
        m ← β₁·m + (1−β₁)·g
        v ← β₂·v + (1−β₂)·g²
        m̂ = m / (1−β₁ᵗ),  v̂ = v / (1−β₂ᵗ)     (bias_correction=False: m̂ = m, v̂ = v)
        w ← w − lr·m̂ / (√v̂ + eps)

    The corrections are numbers, so they are applied where they cost least, as PyTorch does:
    ``lr·m̂ = (lr / (1−β₁ᵗ))·m`` and ``√v̂ = √v / √(1−β₂ᵗ)``. With ``weight_decay = λ > 0``,
    ``g ← g + λ·w`` first (the L2 penalty of ``torch.optim.Adam(weight_decay=λ)``);
    ``adamw_update`` decouples it instead.
    """
    tmp = np.empty_like(w) if scratch is None else scratch
    if weight_decay:
        # g ← g + λ·w   (a new array: the caller's gradient stays untouched)
        g = g + weight_decay * w
    t, m, v = state["t"] + 1, state["m"], state["v"]
    # m ← β₁·m + (1−β₁)·g
    m *= beta1
    m += np.multiply(1 - beta1, g, out=tmp)
    # v ← β₂·v + (1−β₂)·g²
    v *= beta2
    v += np.multiply(1 - beta2, np.square(g, out=tmp), out=tmp)
    if bias_correction:
        # lr·m̂ = (lr / (1−β₁ᵗ))·m,   √v̂ = √v / √(1−β₂ᵗ)
        lr_over_correction = lr / (1 - beta1**t)
        sqrt_v_hat = np.divide(np.sqrt(v, out=tmp), math.sqrt(1 - beta2**t), out=tmp)
    else:
        lr_over_correction, sqrt_v_hat = lr, np.sqrt(v, out=tmp)
    # w ← w − lr·m̂ / (√v̂ + eps)
    denominator = np.add(sqrt_v_hat, eps, out=tmp)
    w -= np.multiply(lr_over_correction, np.divide(m, denominator, out=tmp), out=tmp)
    return {"t": t, "m": m, "v": v}


def adamw_update(w: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.01,
                 scratch: np.ndarray | None = None) -> State:
    """AdamW: decoupled weight decay, then the Adam step with the raw gradient.

        w ← w − lr·λ·w          (λ = weight_decay)
        then adam_update(w, g, state, ...)
    """
    # w ← (1 − lr·λ)·w
    w *= 1 - lr * weight_decay
    return adam_update(w, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps, scratch=scratch)


# --- the classes -------------------------------------------------------------------------------


class GradientError(ValueError):
    """A gradient that ``Optimizer.step`` refuses: NaN, infinite, or too large for the rule.

    Nothing was updated: the parameters and the optimizer's state are as before the step.
    ``training.fit`` records it as divergence (``History.diverged``) instead of raising.
    """


class Hyperparameter:
    """An attribute checked whenever it is set, e.g. ``beta = Hyperparameter(check_beta)``.

    ``opt.beta = 1.0`` then raises at once, naming ``beta``, instead of a step failing later
    with its state half-advanced; the old value stays.
    """

    def __init__(self, check: Callable[[str, object], object]) -> None:
        self.check = check

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, optimizer: object, owner: type | None = None) -> object:
        return self if optimizer is None else optimizer.__dict__[self.name]

    def __set__(self, optimizer: object, value: object) -> None:
        optimizer.__dict__[self.name] = self.check(self.name, value)


class Optimizer:
    """What every optimizer shares: the learning rate, the checks, the state per name.

    A subclass sets ``rule`` (its update function), ``hyperparameter_names`` (the keyword
    arguments of the rule, which are also attributes of the optimizer and its ``repr``) and
    ``init_state(w)``; its ``__init__`` validates the hyperparameters. ``elementwise = True``
    says that the rule treats every element on its own (no norm or sum over a parameter), so
    that ``step`` may run it once on all parameters joined into one flat array.
    ``squares_gradient = True`` says that the rule squares the gradient (RMSProp, Adam), so
    that ``step`` refuses gradients whose square would overflow (see ``gradient_limit``).
    """

    rule: Callable[..., State]
    hyperparameter_names: tuple[str, ...] = ("lr",)
    lr = Hyperparameter(check_positive)  # settable between steps (a schedule does this)
    elementwise: bool = False  # True if the rule treats every element on its own (see step)
    squares_gradient: bool = False  # True if the rule computes g² (see gradient_limit)

    def __init__(self, lr: float) -> None:
        self.lr = lr
        self.state: dict[str, State] = {}
        self._scratch: dict[str, np.ndarray] = {}  # one array per name for the rule to overwrite
        self._flat: _FlatStep | None = None
        self._owners: dict[str, np.ndarray] = {}  # the array each name's state was made for

    @property
    def hyperparameters(self) -> dict[str, object]:
        """The keyword arguments of ``rule``, with their current values."""
        return {name: getattr(self, name) for name in self.hyperparameter_names}

    def check_hyperparameters(self) -> None:
        """Raise if the hyperparameters, each valid alone, do not make sense together.

        ``step`` calls it before it changes anything; each one alone is checked when set.
        """

    def init_state(self, w: np.ndarray) -> State:
        """The state of one parameter before its first step (none for plain SGD)."""
        return {}

    def gradient_limit(self, dtype: np.dtype | type) -> np.floating:
        """The largest ``|g|`` that ``step`` accepts in ``dtype``; beyond it, ``GradientError``.

        Any finite number, unless the rule squares the gradient: then ``√max / 2``, where
        ``max`` is the dtype's largest number (about 9.2e18 in float32, 6.7e153 in float64).
        A larger ``g`` would make ``g²``, the running mean of the squares and so ``√v``
        infinite, and the step ``m / √v`` exactly 0 without a word; the margin of 2 keeps the
        running mean finite after any number of such steps. The limit is a number of ``dtype``,
        so it is exact where it is compared.
        """
        largest = np.finfo(dtype).max
        return np.sqrt(largest) / 2 if self.squares_gradient else largest

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every array in ``params`` in place, using the gradient of the same name.

        Fast path: if the rule is ``elementwise`` (the rules here are) and the arrays of
        ``params`` are views that fill one flat array, one after the other, and those of
        ``grads`` likewise (a ``Sequential`` keeps them so), the rule runs once on the two
        flat arrays instead of once per name: the same numbers, with a fraction of the numpy
        calls. The state is then kept in flat arrays too, and ``state[name]`` holds views into
        them, so it reads as usual. The checks are the same on both paths.
        """
        self.check_hyperparameters()
        if self.elementwise:
            if self._flat is None or not self._flat.matches(self.state, params, grads):
                self._check_owners(params)
                self._flat = _FlatStep.build(self, params, grads)
            if self._flat is not None:
                self._owners.update(params)
                self._flat.run(self, params, grads)
                return
        _check_params_and_grads(params, grads, self)
        _check_state_matches(self.state, params)
        self._check_owners(params)
        self._owners.update(params)
        hyperparameters = self.hyperparameters
        for name, w in params.items():
            if name not in self.state:
                self.state[name] = self.init_state(w)
            if name not in self._scratch:
                self._scratch[name] = np.empty_like(w)
            self.state[name] = self.rule(w, grads[name], self.state[name],
                                         scratch=self._scratch[name], **hyperparameters)

    def _check_owners(self, params: object) -> None:
        """Raise if a name's state was made for another array: one optimizer, one model."""
        if not isinstance(params, Mapping) or not all(
                isinstance(w, np.ndarray) for w in params.values()):
            return  # the checks of the step say what is wrong
        _check_state_matches(self.state, params)  # another shape or dtype: its own message
        for name, w in params.items():
            owner = self._owners.get(name)
            if owner is not None and owner is not w and self.state.get(name):  # SGD keeps {}
                raise ValueError(
                    f"this optimizer's state for {name!r} (its moments and step count) belongs "
                    f"to another array, from another model: give each model its own optimizer, "
                    "or call reset() to start this one afresh"
                )

    def state_dict(self) -> dict[str, dict]:
        """The hyperparameters and a copy of the state of every name, to save and restore.

        ``{"hyperparameters": {"lr": ..., ...}, "state": {name: {"t": ..., "m": ..., ...}}}``;
        ``course_lib.io.save`` writes it to a file.
        """
        return {
            "hyperparameters": self.hyperparameters,
            "state": {name: {key: value.copy() if isinstance(value, np.ndarray) else value
                             for key, value in state.items()}
                      for name, state in self.state.items()},
        }

    def load_state_dict(self, state_dict: Mapping[str, Mapping]) -> None:
        """Restore what ``state_dict`` returned: hyperparameters and state, as copies.

        Everything is checked first (the names and kinds of the hyperparameters and of each
        name's state), so a refused load leaves the optimizer as it was. Whether the state fits
        the model's arrays is checked at the next ``step``, as always.
        """
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"hyperparameters", "state"}:
            raise ValueError('state_dict must be a dict with the keys "hyperparameters" and '
                             '"state", as state_dict() returns')
        hyperparameters, states = state_dict["hyperparameters"], state_dict["state"]
        if set(hyperparameters) != set(self.hyperparameter_names):
            raise ValueError(f"the hyperparameters of a {type(self).__name__} are "
                             f"{list(self.hyperparameter_names)}, got {sorted(hyperparameters)}")
        template = self.init_state(np.zeros(1))
        for name, state in states.items():
            if not isinstance(state, Mapping) or set(state) != set(template):
                raise ValueError(f"state[{name!r}] must have the keys {sorted(template)}, as "
                                 f"{type(self).__name__}.state_dict() writes them")
            for key, value in state.items():
                if isinstance(template[key], np.ndarray) != isinstance(value, np.ndarray):
                    raise TypeError(f"state[{name!r}][{key!r}] must be "
                                    + ("an array" if isinstance(template[key], np.ndarray)
                                       else "a count"))
        before = self.hyperparameters
        try:
            for name, value in hyperparameters.items():
                setattr(self, name, value)  # each one checked as it is set
            self.check_hyperparameters()
        except (TypeError, ValueError):
            for name, value in before.items():
                setattr(self, name, value)
            raise
        self.reset()
        self.state = {name: {key: value.copy() if isinstance(value, np.ndarray) else int(value)
                             for key, value in state.items()}
                      for name, state in states.items()}

    def reset(self) -> None:
        """Forget all state (velocities, moments, step counters); keep the hyperparameters."""
        self.state.clear()
        self._scratch.clear()
        self._flat = None
        self._owners.clear()

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self.hyperparameters.items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain (stochastic) gradient descent, ``w ← w − lr·g`` (see ``sgd_update``).

    ``weight_decay = λ > 0`` adds the L2 penalty ``λ/2·‖w‖²`` to the loss, as
    ``torch.optim.SGD(weight_decay=λ)``.
    """

    rule = staticmethod(sgd_update)
    elementwise = True
    hyperparameter_names = ("lr", "weight_decay")
    weight_decay = Hyperparameter(check_nonnegative)

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        super().__init__(lr)
        self.weight_decay = weight_decay


class Momentum(Optimizer):
    """Gradient descent with momentum, in exponential-moving-average form (see ``momentum_update``).

        v ← β·v + (1−β)·g          (v₀ = 0)
        w ← w − lr·v

    ``v`` is an average of the recent gradients, so ``lr`` keeps its meaning from SGD. This is
    PyTorch's heavy ball ``b ← β·b + g``, ``w ← w − lr'·b`` with ``lr' = lr·(1−β)``, step for
    step, because ``v = (1−β)·b``.

    With ``nesterov=True`` the step looks ahead along the updated velocity:

        w ← w − lr·(β·v + (1−β)·g)     (after updating v; PyTorch's Nesterov with lr·(1−β))

    State per parameter: ``"v"``, the velocity.
    """

    rule = staticmethod(momentum_update)
    elementwise = True
    hyperparameter_names = ("lr", "beta", "nesterov")
    beta = Hyperparameter(check_beta)
    nesterov = Hyperparameter(check_bool)

    def __init__(self, lr: float, beta: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(lr)
        self.beta, self.nesterov = beta, nesterov

    def init_state(self, w: np.ndarray) -> State:
        return momentum_init(w)


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan and Singer, 2011): divide the step by the root of a sum of g².

    The rule is ``adagrad_update``:

        s ← s + g²                  (s₀ = 0)
        w ← w − lr·g / (√s + eps)

    As ``torch.optim.Adagrad(lr, eps=eps)`` with its defaults ``lr_decay = 0`` and
    ``initial_accumulator_value = 0``. State per parameter: ``"s"``.
    """

    rule = staticmethod(adagrad_update)
    elementwise = True
    squares_gradient = True
    hyperparameter_names = ("lr", "eps")
    eps = Hyperparameter(check_nonnegative)

    def __init__(self, lr: float, eps: float = 1e-10) -> None:
        super().__init__(lr)
        self.eps = eps

    def init_state(self, w: np.ndarray) -> State:
        return adagrad_init(w)


class RMSProp(Optimizer):
    """RMSProp: divide the step by a running root mean square of the gradient.

    The rule is ``rmsprop_update``:

        s ← β·s + (1−β)·g²          (s₀ = 0)
        w ← w − lr·g / (√s + eps)

    ``eps`` is added outside the square root, as in ``torch.optim.RMSprop(alpha=β)`` (whose
    default ``alpha`` is 0.99; ours is 0.9). ``eps = 0`` is allowed, to show why it is there:
    a weight whose gradient has been exactly 0 so far then gets 0/0 = NaN.
    State per parameter: ``"s"``.
    """

    rule = staticmethod(rmsprop_update)
    elementwise = True
    squares_gradient = True
    hyperparameter_names = ("lr", "beta", "eps")
    beta = Hyperparameter(check_beta)
    eps = Hyperparameter(check_nonnegative)

    def __init__(self, lr: float, beta: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta, self.eps = beta, eps

    def init_state(self, w: np.ndarray) -> State:
        return rmsprop_init(w)


class Adam(Optimizer):
    """Adam: momentum and RMSProp together, with bias correction (see ``adam_update``).

    At step t = 1, 2, … of a parameter (the counter ``"t"`` is kept per parameter):

        m ← β₁·m + (1−β₁)·g            (m₀ = 0)
        v ← β₂·v + (1−β₂)·g²           (v₀ = 0)
        m̂ = m / (1−β₁ᵗ),  v̂ = v / (1−β₂ᵗ)
        w ← w − lr·m̂ / (√v̂ + eps)     (eps outside the root, after the correction)

    identical to ``torch.optim.Adam``. ``bias_correction=False`` uses ``m`` and ``v`` directly,
    ``w ← w − lr·m / (√v + eps)``. Both start at zero, so early on ``m`` is too small by the
    factor ``1−β₁ᵗ`` and ``√v`` by ``√(1−β₂ᵗ)``; with the default betas the second wins, and the
    early steps are several times too large: √10 ≈ 3.2 times at t = 1, about 6.5 times around
    t = 10, still 1.26 at t = 1000.

    ``eps = 0`` is allowed (as in PyTorch) but gives 0/0 = NaN for a weight whose gradient has
    been exactly 0 so far.

    ``weight_decay = λ > 0`` adds the L2 penalty to the gradient, ``g ← g + λ·w``, before the
    moments (as ``torch.optim.Adam(weight_decay=λ)``); the penalty is then divided by ``√v̂``
    like the rest of the gradient. ``AdamW`` decouples it instead.

    State per parameter: ``"t"`` (steps taken), ``"m"`` and ``"v"``.
    """

    rule = staticmethod(adam_update)
    elementwise = True
    squares_gradient = True
    hyperparameter_names = ("lr", "beta1", "beta2", "eps", "weight_decay", "bias_correction")
    beta1 = Hyperparameter(check_beta)
    beta2 = Hyperparameter(check_beta)
    eps = Hyperparameter(check_nonnegative)
    weight_decay = Hyperparameter(check_nonnegative)
    bias_correction = Hyperparameter(check_bool)

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
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.weight_decay, self.bias_correction = weight_decay, bias_correction

    def init_state(self, w: np.ndarray) -> State:
        return adam_init(w)


class AdamW(Adam):
    """Adam with decoupled weight decay; as ``torch.optim.AdamW`` (see ``adamw_update``).

    Each step first shrinks the weights, then takes the ordinary Adam step (see ``Adam``)
    with the raw gradient:

        w ← w − lr·λ·w              (λ = weight_decay)
        w ← w − lr·m̂ / (√v̂ + eps)

    Unlike the L2 penalty in ``Adam(weight_decay=λ)``, the decay never passes through the
    moments, so every weight shrinks by the same factor ``1 − lr·λ`` whatever its gradient
    history. State per parameter: ``"t"``, ``"m"`` and ``"v"``, as in ``Adam``.
    """

    rule = staticmethod(adamw_update)
    hyperparameter_names = ("lr", "beta1", "beta2", "eps", "weight_decay")

    def __init__(
        self,
        lr: float,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(lr, beta1, beta2, eps, weight_decay)
        self.check_hyperparameters()

    def check_hyperparameters(self) -> None:
        """Refuse ``lr·weight_decay >= 1``: the shrink factor ``1 − lr·λ`` would zero the
        weights or flip their sign at every step."""
        if self.lr * self.weight_decay >= 1:
            raise ValueError(
                f"AdamW shrinks the weights by 1 - lr*weight_decay each step, and lr*weight_decay "
                f"= {self.lr}*{self.weight_decay} >= 1 would zero or flip them; lower lr or "
                "weight_decay"
            )


# --- the fast path: one rule call on flat arrays --------------------------------------------------


class _FlatStep:
    """The fast path of ``Optimizer.step``: the rule on flat arrays, with the state kept flat.

    ``optimizer.state[name]`` holds views into the flat state arrays (and the same counters),
    so it reads as if every name had been updated on its own.
    """

    def __init__(self, optimizer: Optimizer, params: dict, grads: dict, flat: tuple) -> None:
        self.flat_w, self.flat_g = flat
        self.scratch = np.empty_like(self.flat_w)
        old = [optimizer.state.get(name) for name in params]
        if all(s is None for s in old):
            self.state = optimizer.init_state(self.flat_w)
        else:  # every name has taken the same steps so far (checked by build): join them
            self.state = {key: np.concatenate([s[key].ravel() for s in old])
                          if isinstance(value, np.ndarray) else value
                          for key, value in old[0].items()}
        self.arrays = list(zip(params.items(), grads.values(), strict=True))
        self.share(optimizer)

    def share(self, optimizer: Optimizer) -> None:
        """Put views of the flat state into ``optimizer.state[name]`` for every name."""
        self.entries = []  # (name, w, g, the state dict of the name, its array views)
        start = 0
        for (name, w), g in self.arrays:
            views = {key: value[start : start + w.size].reshape(w.shape)
                     for key, value in self.state.items() if isinstance(value, np.ndarray)}
            optimizer.state[name] = {**self.state, **views}
            self.entries.append((name, w, g, optimizer.state[name], views))
            start += w.size

    @classmethod
    def build(cls, optimizer: Optimizer, params: object, grads: object) -> _FlatStep | None:
        """Check everything and set up the flat state; None where the fast path does not apply."""
        flat = _flat_bases(params, grads)
        if flat is None:
            return None
        _check_params_and_grads(params, grads, optimizer)
        _check_state_matches(optimizer.state, params)
        old = [optimizer.state.get(name) for name in params]
        if any(s is None for s in old) and not all(s is None for s in old):
            return None
        if old[0] is not None and not all(
            s.keys() == old[0].keys() and all(
                isinstance(s[key], np.ndarray) if isinstance(value, np.ndarray)
                else not isinstance(s[key], np.ndarray) and s[key] == value
                for key, value in old[0].items())
            for s in old
        ):
            return None
        return cls(optimizer, params, grads, flat)

    def matches(self, state: dict, params: object, grads: object) -> bool:
        """True if ``params``, ``grads`` and ``state`` still hold what was set up."""
        if not (isinstance(params, dict) and isinstance(grads, dict)
                and len(params) == len(grads) == len(self.entries)):
            return False
        for name, w, g, kept, views in self.entries:
            if (params.get(name) is not w or grads.get(name) is not g or state.get(name) is not kept
                    or w.shape != g.shape or w.dtype != g.dtype or not w.flags.writeable
                    or len(kept) != len(self.state)):
                return False
            for key, value in self.state.items():  # the very arrays and numbers set up
                if kept.get(key) is not views.get(key, value):
                    return False
        return True

    def run(self, optimizer: Optimizer, params: dict, grads: dict) -> None:
        """One step of the rule on the flat arrays; refused (nothing changes) on a gradient that
        is NaN, infinite or beyond the optimizer's limit."""
        if not _within_limit(self.flat_g, optimizer.gradient_limit(self.flat_g.dtype)):
            _check_params_and_grads(params, grads, optimizer)  # raises, naming the gradient
        new = optimizer.rule(self.flat_w, self.flat_g, self.state, scratch=self.scratch,
                             **optimizer.hyperparameters)
        same_arrays = all(value is self.state.get(key) for key, value in new.items()
                          if isinstance(value, np.ndarray))
        self.state = new
        if not same_arrays:  # a rule that returns new arrays instead of updating them in place
            self.share(optimizer)
            return
        numbers = {key: value for key, value in new.items() if not isinstance(value, np.ndarray)}
        for _, _, _, kept, _ in self.entries:
            kept.update(numbers)


def _flat_bases(params: object, grads: object) -> tuple[np.ndarray, np.ndarray] | None:
    """The two 1-D arrays that the arrays of ``params``, and of ``grads``, fill in order."""
    if not (isinstance(params, dict) and isinstance(grads, dict) and params):
        return None
    if list(params) != list(grads):
        return None
    bases = []
    for arrays in (params.values(), grads.values()):
        base = getattr(next(iter(arrays)), "base", None)
        if not (type(base) is np.ndarray and base.ndim == 1 and base.flags.c_contiguous):
            return None
        address = base.ctypes.data
        for a in arrays:
            if not (type(a) is np.ndarray and a.base is base and a.flags.c_contiguous
                    and a.ctypes.data == address):
                return None
            address += a.nbytes
        if address != base.ctypes.data + base.nbytes:
            return None
        bases.append(base)
    if np.may_share_memory(*bases):
        return None
    return bases[0], bases[1]


# --- the checks at the door of step ------------------------------------------------------------


def _check_params_and_grads(params: object, grads: object, optimizer: Optimizer) -> None:
    """Raise unless params and grads are dicts of float arrays that match name for name, with
    every gradient within ``optimizer.gradient_limit`` (else ``GradientError``)."""
    if not (type(params) is type(grads) is dict
            or isinstance(params, Mapping) and isinstance(grads, Mapping)):
        arg, value = ("grads", grads) if isinstance(params, Mapping) else ("params", params)
        raise TypeError(
            f"{arg} must be a dict mapping names to numpy arrays, got {type(value).__name__}"
        )
    if params.keys() != grads.keys():
        missing = params.keys() - grads.keys()
        extra = grads.keys() - params.keys()
        raise ValueError(
            "grads must have the same names as params: "
            f"missing from grads {sorted(missing, key=str)}, "
            f"extra in grads {sorted(extra, key=str)}"
        )
    for name, w in params.items():
        g = grads[name]
        # one cheap test for the usual case; _explain_bad_pair finds what is wrong otherwise
        if not (
            type(w) is np.ndarray and type(g) is np.ndarray
            and g.shape == w.shape and g.dtype == w.dtype and w.dtype.kind == "f"
            and w.dtype.itemsize >= 4
            and w.flags.writeable and not np.may_share_memory(w, g)
        ):
            _explain_bad_pair(name, w, g)
        limit = optimizer.gradient_limit(g.dtype)
        if not _within_limit(g, limit):
            _refuse_gradient(name, g, limit, optimizer)


def _within_limit(g: np.ndarray, limit: np.floating) -> bool:
    """True if every entry of ``g`` lies in ``[-limit, limit]`` (NaN does not)."""
    if limit >= np.finfo(g.dtype).max:  # the same as finite, and np.isfinite reads g only once
        return bool(np.isfinite(g).all())
    # two reductions without a temporary array; NaN makes a comparison False
    return g.size == 0 or bool(g.max() <= limit and g.min() >= -limit)


def _refuse_gradient(name: str, g: np.ndarray, limit: np.floating, optimizer: Optimizer) -> None:
    """Raise the ``GradientError`` that says why ``grads[name]`` is outside ``±limit``."""
    if not np.isfinite(g).all():
        raise GradientError(
            f"grads[{name!r}] contains NaN or infinity; the parameters were not updated "
            "(a learning rate that is too large often makes the loss overflow)"
        )
    largest = g.flat[np.argmax(np.abs(g))]
    raise GradientError(
        f"grads[{name!r}] holds {largest:.3g}, too large for {g.dtype}: "
        f"{type(optimizer).__name__} squares the gradient, and beyond ±{limit:.2g} the squares "
        f"may overflow {g.dtype} and silently make the step 0; the parameters were not updated. "
        "Lower the learning rate, clip the gradients"
        + (" or use float64" if g.dtype == np.float32 else "")
    )


def _explain_bad_pair(name: str, w: object, g: object) -> None:
    """Raise the error that says what is wrong with ``params[name]`` and ``grads[name]``."""
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
    if w.dtype.itemsize < 4:
        raise TypeError(
            f"params[{name!r}] is {w.dtype}: in half precision eps and small squared gradients "
            "round to 0 and the steps become NaN or infinite; use np.float32 or np.float64"
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


def _check_state_matches(state: dict[str, State], params: Mapping[str, np.ndarray]) -> None:
    """Raise if the state kept for a name was made for an array of another shape or dtype."""
    for name, w in params.items():
        for key, s in state.get(name, {}).items():
            if isinstance(s, np.ndarray) and (s.shape != w.shape or s.dtype != w.dtype):
                raise ValueError(
                    f"the optimizer's state[{name!r}][{key!r}] has shape {s.shape} and dtype "
                    f"{s.dtype}, but params[{name!r}] has shape {w.shape} and dtype {w.dtype}; "
                    "use a new optimizer for a different model, or call reset()"
                )
