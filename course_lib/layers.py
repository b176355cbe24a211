"""Network layers with hand-written backward passes: Dense, ReLU, BatchNorm, LayerNorm, Residual,
Sequential.

Every layer has the same small interface:

- ``forward(x, training=False)`` returns the output and remembers what the
  backward pass needs. **The default is evaluation mode**, as Keras's ``model(x)``:
  ``model(x)`` and ``model.forward(x)`` only look, and never move ``BatchNorm``'s
  running statistics. A training step says so, ``model.forward(x, training=True)``
  (``fit`` does); ``training`` matters only for ``BatchNorm``, which normalises with
  the batch's statistics and updates its running ones in training mode;
- ``backward(dy)`` takes ``dL/dy`` (same shape as the output), returns
  ``dL/dx`` and writes ``dL/dparam`` into ``grads``, in the mode of the last
  forward; ``Dense`` and ``Sequential`` also take ``input_grad=False``, which skips
  ``dL/dx`` and returns None (a training loop never needs the gradient with respect
  to the data);
- ``params`` and ``grads`` hold the *live* arrays under the same names: an
  optimizer that updates ``params`` in place trains the layer, and ``backward``
  overwrites ``grads`` in place. They are ``NamedArrays``, dicts whose names stay
  bound to the same arrays once the layer is built: ``params["W"][...] = values`` and
  ``params["W"] -= lr * g`` change the values in place, while ``params["W"] = other``,
  ``params.update(saved)``, deleting or adding a name raise a ``TypeError`` (the layer
  would go on computing with the old array). To restore saved values, use
  ``load_state_dict``. Only building a ``Sequential`` replaces the arrays, by views
  into one buffer (see ``Sequential``): take references from the finished model.
- ``buffers`` holds state that ``forward`` updates but no optimizer touches
  (``BatchNorm``'s running statistics), bound in the same way; it is empty for
  the other layers.

A layer of your own (a subclass of ``Layer``) fills ``self.params``, ``self.grads`` and
``self.buffers`` in its ``__init__`` as plain dicts; they are bound in the same way once it
returns.

Unlike PyTorch, ``backward`` *overwrites* the gradients instead of adding to
them, so there is no ``zero_grad``. Inputs are 2-D arrays ``(batch, features)``
whose dtype must match the layer's ``dtype`` (float64 by default; build the
layers with ``dtype=np.float32`` to train in single precision; ``ReLU`` takes
either, in any shape). Nothing is cast silently: a mismatch is a
``TypeError`` that tells you how to fix it. The checks look at shapes and
dtypes only, never at every value, so they cost next to nothing per call.

``forward`` keeps a reference to its input (not a copy) for the backward
pass, as PyTorch does: do not modify an input in place between ``forward``
and ``backward``.
"""

from __future__ import annotations

import inspect
import math
from abc import ABCMeta
from collections.abc import Iterator, Mapping

import numpy as np

from course_lib.validation import (
    check_bool,
    check_positive,
    check_positive_int,
    check_real,
    check_rng,
)

__all__ = [
    "Layer", "Dense", "ReLU", "BatchNorm", "LayerNorm", "Residual", "Sequential", "NamedArrays",
    "skips_input_grad", "uses_batch_statistics",
]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _check_dtype(dtype: object) -> np.dtype:
    """The layer dtype: float32 or float64."""
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype!r}") from err
    if dt not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be np.float32 or np.float64, got {dt}")
    return dt


def _check_input(layer: str, x: object, dtype: np.dtype | None, width: int | None) -> np.ndarray:
    """Cheap checks of a forward input: a 2-D array of the layer's dtype and width.

    Only shape and dtype are looked at (O(1)); the values are not scanned.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{layer}: x must be a numpy array, got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(f"{layer}: x must be 2-D (batch, features), got shape {x.shape}")
    if dtype is None:
        if x.dtype not in _FLOAT_DTYPES:
            raise TypeError(
                f"{layer}: x must have dtype float32 or float64, got {x.dtype}; "
                "cast it with x.astype(np.float64)"
            )
    elif x.dtype != dtype:
        raise TypeError(
            f"{layer}: x has dtype {x.dtype} but the layer computes in {dtype}; "
            f"cast the input with x.astype(np.{dtype}) or build the layer with "
            f"dtype=np.{x.dtype}"
        )
    if width is not None and x.shape[1] != width:
        raise ValueError(
            f"{layer}: x must have {width} features (columns), got shape {x.shape}"
        )
    return x


def _check_dy(layer: str, dy: object, out_shape: tuple | None, dtype: np.dtype) -> np.ndarray:
    """Cheap checks of a backward input: same shape and dtype as the forward output."""
    if out_shape is None:
        raise RuntimeError(f"{layer}: call forward(x) before backward(dy)")
    if not isinstance(dy, np.ndarray):
        raise TypeError(f"{layer}: dy must be a numpy array, got {type(dy).__name__}")
    if dy.shape != out_shape:
        raise ValueError(
            f"{layer}: dy must have the shape of the forward output {out_shape}, "
            f"got {dy.shape}"
        )
    if dy.dtype != dtype:
        raise TypeError(
            f"{layer}: dy has dtype {dy.dtype} but the forward output had {dtype}; "
            f"cast it with dy.astype(np.{dtype})"
        )
    return dy


_KINDS = ("params", "grads", "buffers")
_MISSING = object()


def _check_entry(kind: str, name: object, array: object) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{kind}[{name!r}] must be a numpy array, got {type(array).__name__}")
    return array


class NamedArrays(dict):
    """A layer's ``params``, ``grads`` or ``buffers``: a dict whose names keep their arrays.

    Read it as any dict (``params["W"]``, ``items()``, ``len``, ``dict(params)``). While the
    layer is being built (in its ``__init__``) it is an ordinary dict of arrays. Once the layer
    is built, what cannot change is *which array* a name holds, since the layer computes with
    that array: a new array in its place would be ignored by ``forward`` while an optimizer
    trained it, and the loss would stay flat without a word. So, on a built layer,

    - ``params["W"][...] = values`` (copy values in) and ``params["W"] -= lr * g`` (in place:
      Python then stores back the very array the name holds) work;
    - ``params["W"] = other_array``, a new name, ``del``, ``pop``, ``popitem``, ``clear``,
      ``update``, ``setdefault`` and ``|=`` raise a ``TypeError`` saying what to do instead:
      copy the values in place, or restore a whole saved state with ``load_state_dict(state)``.

    ``kind`` (``"params"``, ``"grads"`` or ``"buffers"``) names it in those messages.
    """

    __slots__ = ("kind", "_building")

    def __init__(self, arrays: Mapping[str, np.ndarray] | None = None, kind: str = "params",
                 building: bool = False) -> None:
        arrays = {} if arrays is None else arrays
        if not isinstance(arrays, Mapping):
            raise TypeError(f"{kind} must be a dict of numpy arrays by name, "
                            f"got {type(arrays).__name__}")
        super().__init__({name: _check_entry(kind, name, a) for name, a in arrays.items()})
        self.kind = kind
        self._building = building

    def seal(self) -> None:
        """Fix the names and their arrays: the layer is built (``Layer`` calls it)."""
        self._building = False

    def __setitem__(self, name: str, array: np.ndarray) -> None:
        if self._building:
            dict.__setitem__(self, name, _check_entry(self.kind, name, array))
        # params[name] -= step calls this with the array the name already holds: allowed
        elif dict.get(self, name, _MISSING) is not array:
            raise TypeError(self._refusal(name))

    def _how(self, name: str = "name") -> str:
        """What to do instead of rebinding: copy values into the arrays."""
        how = f"copy values into the array in place, {self.kind}[{name}][...] = values"
        return how + ("" if self.kind == "grads" else
                      ", or restore a saved state with load_state_dict(state)")

    def _refusal(self, name: object) -> str:
        if name not in self:
            return (f"{self.kind} has no entry {name!r}, and a built layer takes no new names "
                    f"(forward would not use them; a layer makes its names in __init__). Its "
                    f"names are {list(self)}; to change values, {self._how()}")
        return (f"{self.kind}[{name!r}] cannot be bound to another array: the layer computes "
                f"with the array it holds, and would ignore a new one; {self._how(repr(name))}")

    def _check_building(self, operation: str) -> None:
        if not self._building:
            raise TypeError(
                f"{self.kind}.{operation} is refused: the layer computes with the arrays "
                f"{self.kind} holds, so its names and their arrays are fixed once it is built; "
                f"{self._how()}"
            )

    def __delitem__(self, name: str) -> None:
        self._check_building(f"__delitem__ (del {self.kind}[{name!r}])")
        dict.__delitem__(self, name)

    def pop(self, *args: object) -> np.ndarray:
        self._check_building("pop")
        return dict.pop(self, *args)

    def popitem(self) -> tuple[str, np.ndarray]:
        self._check_building("popitem")
        return dict.popitem(self)

    def clear(self) -> None:
        self._check_building("clear")
        dict.clear(self)

    def update(self, *args: object, **kwargs: np.ndarray) -> None:
        self._check_building("update")
        for name, array in dict(*args, **kwargs).items():
            self[name] = array

    def setdefault(self, name: str, default: np.ndarray | None = None) -> np.ndarray:
        self._check_building("setdefault")
        if name not in self:
            self[name] = default
        return self[name]

    def __ior__(self, other: Mapping[str, np.ndarray]) -> NamedArrays:
        self._check_building("__ior__ (|=)")
        self.update(other)
        return self

    def __reduce__(self) -> tuple:
        # copy.deepcopy and pickle rebuild it whole, not name by name through __setitem__
        return type(self), (dict(self), self.kind, self._building)


class _LayerType(ABCMeta):
    """Builds a layer: once its ``__init__`` has returned, ``params``, ``grads`` and ``buffers``
    are ``NamedArrays`` (a plain dict assigned in ``__init__`` is converted), and sealed.

    It derives from ``ABCMeta`` so that a layer of your own may also be an abstract base class
    (``class Block(Layer, ABC)`` with ``@abstractmethod``s)."""

    def __call__(cls, *args: object, **kwargs: object) -> Layer:
        layer = super().__call__(*args, **kwargs)
        for kind in _KINDS:
            arrays = getattr(layer, kind, None)
            if arrays is None:
                continue
            if type(arrays) is not NamedArrays:
                arrays = NamedArrays(arrays, kind)
                try:
                    setattr(layer, kind, arrays)
                except AttributeError:  # a property of the layer's own: left as it is
                    continue
            arrays.seal()
        return layer


class Layer(metaclass=_LayerType):
    """Base class: ``forward``, ``backward`` and the ``params``/``grads``/``buffers`` dicts.

    Subclass it to write your own layer. Every layer starts with empty ``params``, ``grads``
    and ``buffers``; fill them in ``__init__``, entry by entry (``self.params["W"] = ...``) or
    by assigning dicts (``self.params = {"W": ...}``). When ``__init__`` returns, they become
    ``NamedArrays`` whose names stay bound to those arrays: values change in place only (do
    not assign ``layer.params`` another dict afterwards either; ``load_state_dict`` copies a
    saved state in).

    ``forward(x, training=False)``: evaluation mode unless ``training=True`` is given (a
    training step passes it; only batch norm behaves differently). Calling a layer,
    ``layer(x)``, is ``layer.forward(x)``: evaluation mode too.
    """

    def __new__(cls, *args: object, **kwargs: object) -> Layer:
        # every layer starts with empty dicts, even one whose __init__ skips super().__init__();
        # set as ordinary attributes (writing into __dict__ directly would take every attribute
        # read of the layer off CPython's fast path)
        layer = super().__new__(cls)
        for kind in _KINDS:
            try:
                setattr(layer, kind, NamedArrays(None, kind, building=True))
            except AttributeError:  # a property of the layer's own
                pass
        return layer

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Return the output for input ``x`` (evaluation mode unless ``training=True``);
        remember what ``backward`` needs."""
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Given ``dy = dL/d(output)``, fill ``grads`` and return ``dL/dx``."""
        raise NotImplementedError

    def __call__(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``layer(x)`` is ``layer.forward(x)``, in evaluation mode unless ``training=True``."""
        return self.forward(x, training)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters and buffers (running statistics), by name.

        A ``Sequential`` names them by position, ``"0.W"``, ``"1.running_mean"``, as in
        ``params``; ``course_lib.io.save`` writes them to a file.
        """
        return {name: array.copy() for name, array in _named_arrays(self).items()}

    def load_state_dict(self, state: Mapping[str, np.ndarray], strict: bool = True) -> None:
        """Copy ``state`` into the layer's own parameter and buffer arrays, in place.

        Every entry is checked before anything is copied: an entry of another shape is refused,
        and with ``strict=True`` (the default) so are missing and extra names, so a refused
        load leaves the layer as it was.
        """
        own = _named_arrays(self)
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a dict of arrays by name, got {type(state).__name__}")
        strict = check_bool("strict", strict)
        missing, extra = sorted(own.keys() - state.keys()), sorted(state.keys() - own.keys())
        if strict and (missing or extra):
            raise ValueError(f"state does not fit this {type(self).__name__}: missing {missing}, "
                             f"extra {extra} (load_state_dict(state, strict=False) loads the "
                             "names both have)")
        common = [name for name in own if name in state]
        for name in common:
            value = np.asarray(state[name])
            if value.shape != own[name].shape:
                raise ValueError(f"state[{name!r}] has shape {value.shape}, but this "
                                 f"{type(self).__name__} has {own[name].shape}")
        for name in common:
            np.copyto(own[name], state[name], casting="same_kind")


class Dense(Layer):
    """Fully connected layer ``y = x @ W + b``.

    Shapes: ``x`` is ``(N, in_features)``, ``W`` is ``(in_features, out_features)``
    (the transpose of PyTorch's ``nn.Linear.weight``), ``b`` is ``(out_features,)``.

    Backward, for ``dy = dL/dy``::

        dL/dW = x.T @ dy        dL/db = sum_n dy[n]        dL/dx = dy @ W.T

    Parameters
    ----------
    in_features, out_features : int
        Input and output widths.
    rng : int, numpy.random.Generator or None
        Seed or generator for the initial weights (None: fresh entropy).
    dtype : np.float64 (default) or np.float32
        Dtype of the parameters; inputs must have the same dtype.
    init : "he" (default), "xavier" or a float
        Initial weights are drawn from a normal distribution with mean 0 and
        standard deviation

        - ``"he"``: ``sqrt(2 / in_features)`` (He et al. 2015, for ReLU nets);
        - ``"xavier"``: ``sqrt(2 / (in_features + out_features))`` (the
          *normal* Glorot initialisation, Glorot & Bengio 2010);
        - a float: that standard deviation.

        The bias starts at zero. Weights are drawn in float64 and then cast,
        so the same seed gives the same weights (up to rounding) in float32.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rng: int | np.random.Generator | None = None,
        dtype: type | np.dtype = np.float64,
        init: str | float = "he",
    ) -> None:
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        self.dtype = _check_dtype(dtype)
        std = _init_std(init, self.in_features, self.out_features)
        rng = check_rng("rng", rng)
        W = rng.normal(0.0, std, size=(self.in_features, self.out_features))
        self.params = {
            "W": W.astype(self.dtype),
            "b": np.zeros(self.out_features, dtype=self.dtype),
        }
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self._x: np.ndarray | None = None
        self._out_shape: tuple | None = None

    W = property(lambda self: self.params["W"], doc='The weight matrix, ``params["W"]``.')
    b = property(lambda self: self.params["b"], doc='The bias vector, ``params["b"]``.')

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``y = x @ W + b``."""
        check_bool("training", training)
        _check_input("Dense", x, self.dtype, self.in_features)
        self._x = x
        y = x @ self.params["W"]
        y += self.params["b"]
        self._out_shape = y.shape
        return y

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """``dW = x.T @ dy``, ``db = sum_n dy[n]``; returns ``dx = dy @ W.T``.

        ``input_grad=False`` skips ``dx`` and returns None: the first layer of a network does
        not need the gradient with respect to the data, a third of its matrix products.
        """
        _check_dy("Dense", dy, self._out_shape, self.dtype)
        np.matmul(self._x.T, dy, out=self.grads["W"])
        np.add.reduce(dy, axis=0, out=self.grads["b"])
        return dy @ self.params["W"].T if input_grad else None

    def __repr__(self) -> str:
        extra = "" if self.dtype == np.float64 else f", dtype={self.dtype}"
        return f"Dense(in_features={self.in_features}, out_features={self.out_features}{extra})"


class ReLU(Layer):
    """Rectified linear unit ``y = max(x, 0)``, elementwise.

    Backward: ``dx = dy * [x > 0]`` (the gradient at exactly 0 is taken as 0,
    as in PyTorch). ReLU has no parameters and accepts float32 or float64
    arrays of any shape.
    """

    def __init__(self) -> None:
        super().__init__()
        self._mask: np.ndarray | None = None
        self._dtype: np.dtype | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``y = x * [x > 0]``; the mask ``[x > 0]`` is kept for backward."""
        check_bool("training", training)
        if not isinstance(x, np.ndarray):
            raise TypeError(f"ReLU: x must be a numpy array, got {type(x).__name__}")
        if x.dtype not in _FLOAT_DTYPES:
            raise TypeError(
                f"ReLU: x must have dtype float32 or float64, got {x.dtype}; "
                "cast it with x.astype(np.float64)"
            )
        # The mask holds 0.0 and 1.0 in x's dtype: numpy multiplies two float arrays about
        # twice as fast as a float array by a boolean one (which it converts on the fly).
        self._mask = (x > 0).astype(x.dtype)
        self._dtype = x.dtype
        return x * self._mask

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """``dx = dy * [x > 0]``."""
        mask = self._mask
        _check_dy("ReLU", dy, None if mask is None else mask.shape, self._dtype)
        return dy * mask

    def __repr__(self) -> str:
        return "ReLU()"


class BatchNorm(Layer):
    """Batch normalisation over the batch axis, as ``torch.nn.BatchNorm1d`` on ``(N, C)``.

    Training mode (``training=True``), per feature ``c`` over the ``N`` rows::

        mu    = mean_n x[n]
        var   = mean_n (x[n] - mu)**2                  (biased: divide by N)
        xhat  = (x - mu) / sqrt(var + eps)
        y     = gamma * xhat + beta

        running_mean <- (1 - momentum) * running_mean + momentum * mu
        running_var  <- (1 - momentum) * running_var  + momentum * var * N / (N - 1)

    The running variance stores the *unbiased* batch variance, exactly as
    PyTorch does; a training batch needs ``N >= 2``.

    Evaluation mode (``training=False``) normalises with the running
    statistics instead, which turns the layer into a fixed affine map::

        y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta

    Backward, with ``dy = dL/dy`` and sums over the batch::

        dL/dgamma = sum_n dy * xhat          dL/dbeta = sum_n dy

        training:   dx = gamma / (N * sqrt(var + eps))
                         * (N * dy - sum_n dy - xhat * sum_n (dy * xhat))
        evaluation: dx = gamma / sqrt(running_var + eps) * dy

    (the training form is derived in lesson 07: ``mu`` and ``var`` depend on
    every row, which adds the two sums).

    Parameters
    ----------
    num_features : int
        Number of features ``C`` (columns of ``x``).
    momentum : float in [0, 1]
        Weight of the new batch in the running averages (PyTorch's sense;
        Keras's ``momentum`` is ``1 - momentum``).
    eps : float > 0
        Added to the variance before the square root.
    dtype : np.float64 (default) or np.float32

    Attributes
    ----------
    params : ``{"gamma": ones(C), "beta": zeros(C)}``
    running_mean, running_var : arrays ``(C,)``, start at zeros and ones;
        ``buffers["running_mean"]`` and ``buffers["running_var"]``, updated in place by a
        training forward only (``training=True``), read by an evaluation forward.
    """

    def __init__(
        self,
        num_features: int,
        momentum: float = 0.1,
        eps: float = 1e-5,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        super().__init__()
        self.num_features = check_positive_int("num_features", num_features)
        momentum = check_real("momentum", momentum)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        self.momentum = momentum
        self.eps = check_positive("eps", eps)
        self.dtype = _check_dtype(dtype)
        self.params = {
            "gamma": np.ones(self.num_features, dtype=self.dtype),
            "beta": np.zeros(self.num_features, dtype=self.dtype),
        }
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.buffers = {
            "running_mean": np.zeros(self.num_features, dtype=self.dtype),
            "running_var": np.ones(self.num_features, dtype=self.dtype),
        }
        self._xhat: np.ndarray | None = None
        self._inv_std: np.ndarray | None = None
        self._training = True

    @property
    def running_mean(self) -> np.ndarray:
        """The running mean, ``buffers["running_mean"]`` (a training forward updates it)."""
        return self.buffers["running_mean"]

    @property
    def running_var(self) -> np.ndarray:
        """The running variance, ``buffers["running_var"]`` (a training forward updates it)."""
        return self.buffers["running_var"]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Normalise with the batch statistics (training) or the running ones (evaluation)."""
        check_bool("training", training)
        _check_input("BatchNorm", x, self.dtype, self.num_features)
        n = x.shape[0]
        if training:
            if n < 2:
                raise ValueError(
                    f"BatchNorm: a training batch needs at least 2 rows to estimate a "
                    f"variance, got shape {x.shape}; use a larger batch or training=False"
                )
            # mu = mean_n x ;  var = mean_n (x - mu)^2   (biased)
            mu = np.add.reduce(x, axis=0)
            mu /= n
            xhat = x - mu
            var = np.einsum("ij,ij->j", xhat, xhat)  # sum_n (x - mu)^2, no temporary array
            var /= n
            # xhat = (x - mu) / sqrt(var + eps)
            inv_std = var + self.eps
            np.sqrt(inv_std, out=inv_std)
            np.divide(1, inv_std, out=inv_std)
            xhat *= inv_std
            # running <- (1 - momentum) * running + momentum * batch (unbiased var)
            m = self.momentum
            running_mean, running_var = self.running_mean, self.running_var
            running_mean *= 1 - m
            running_mean += m * mu
            running_var *= 1 - m
            running_var += (m * n / (n - 1)) * var
        else:
            # xhat = (x - running_mean) / sqrt(running_var + eps)
            inv_std = 1 / np.sqrt(self.running_var + self.eps)
            xhat = x - self.running_mean
            xhat *= inv_std
        self._xhat, self._inv_std, self._training = xhat, inv_std, bool(training)
        # y = gamma * xhat + beta
        y = xhat * self.params["gamma"]
        y += self.params["beta"]
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Writes ``dgamma``, ``dbeta``; returns ``dx`` (formulas in the class docstring)."""
        xhat = self._xhat
        _check_dy("BatchNorm", dy, None if xhat is None else xhat.shape, self.dtype)
        dgamma, dbeta = self.grads["gamma"], self.grads["beta"]
        # dbeta = sum_n dy ;  dgamma = sum_n dy * xhat
        np.add.reduce(dy, axis=0, out=dbeta)
        np.einsum("ij,ij->j", dy, xhat, out=dgamma)  # no temporary array
        scale = self.params["gamma"] * self._inv_std
        if not self._training:
            # evaluation: an affine map, dx = gamma / sqrt(running_var + eps) * dy
            return dy * scale
        # training: dx = gamma / (N sqrt(var + eps)) * (N dy - sum dy - xhat * sum(dy xhat))
        #              = gamma / sqrt(var + eps) * (dy - mean dy - xhat * mean(dy xhat))
        n = dy.shape[0]
        dx = xhat * (dgamma / n)
        dx += dbeta / n
        np.subtract(dy, dx, out=dx)
        dx *= scale
        return dx

    def __repr__(self) -> str:
        extra = "" if self.dtype == np.float64 else f", dtype={self.dtype}"
        return f"BatchNorm({self.num_features}, momentum={self.momentum}, eps={self.eps}{extra})"


class LayerNorm(Layer):
    """Layer normalisation over the feature axis, as ``torch.nn.LayerNorm(C)`` on ``(N, C)``.

    Per row ``n``, over its ``C`` features (Ba, Kiros and Hinton 2016)::

        mu[n]  = mean_c x[n, c]
        var[n] = mean_c (x[n, c] - mu[n])**2           (biased: divide by C)
        xhat   = (x - mu) / sqrt(var + eps)
        y      = gamma * xhat + beta                   (gamma, beta: one per feature)

    Every row is normalised with its own statistics, so the layer does the same thing in
    training and in evaluation, keeps no running statistics and works on a batch of one.

    Backward, with ``dy = dL/dy``, ``g = gamma * dy`` and means over the features of a row::

        dL/dgamma = sum_n dy * xhat          dL/dbeta = sum_n dy
        dx = (g - mean_c g - xhat * mean_c (g * xhat)) / sqrt(var + eps)

    (batch norm's backward with the roles of the two axes swapped: ``mu`` and ``var`` of a
    row depend on every feature of that row, which adds the two means).

    Parameters
    ----------
    num_features : int
        Number of features ``C`` (columns of ``x``); ``C >= 2``, or every output is ``beta``.
    eps : float > 0
        Added to the variance before the square root.
    dtype : np.float64 (default) or np.float32

    Attributes
    ----------
    params : ``{"gamma": ones(C), "beta": zeros(C)}``; ``buffers`` is empty.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        super().__init__()
        self.num_features = check_positive_int("num_features", num_features)
        if self.num_features < 2:
            raise ValueError("num_features must be >= 2: the mean and variance of one feature "
                             f"are itself and 0, so every output would be beta; got {num_features}")
        self.eps = check_positive("eps", eps)
        self.dtype = _check_dtype(dtype)
        self.params = {
            "gamma": np.ones(self.num_features, dtype=self.dtype),
            "beta": np.zeros(self.num_features, dtype=self.dtype),
        }
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self._xhat: np.ndarray | None = None
        self._inv_std: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Normalise every row with its own mean and variance (the same in both modes)."""
        check_bool("training", training)
        _check_input("LayerNorm", x, self.dtype, self.num_features)
        # mu = mean_c x ;  var = mean_c (x - mu)^2   (biased), one per row
        xhat = x - x.mean(axis=1, keepdims=True)
        var = np.einsum("ij,ij->i", xhat, xhat)[:, None]
        var /= self.num_features
        # xhat = (x - mu) / sqrt(var + eps)
        inv_std = 1 / np.sqrt(var + self.eps)
        xhat *= inv_std
        self._xhat, self._inv_std = xhat, inv_std
        # y = gamma * xhat + beta
        y = xhat * self.params["gamma"]
        y += self.params["beta"]
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Writes ``dgamma``, ``dbeta``; returns ``dx`` (formulas in the class docstring)."""
        xhat = self._xhat
        _check_dy("LayerNorm", dy, None if xhat is None else xhat.shape, self.dtype)
        # dbeta = sum_n dy ;  dgamma = sum_n dy * xhat
        np.add.reduce(dy, axis=0, out=self.grads["beta"])
        np.einsum("ij,ij->j", dy, xhat, out=self.grads["gamma"])
        # dx = (g - mean_c g - xhat * mean_c (g xhat)) / sqrt(var + eps),  g = gamma * dy
        g = dy * self.params["gamma"]
        dx = g - g.mean(axis=1, keepdims=True)
        dx -= xhat * np.einsum("ij,ij->i", g, xhat)[:, None] / self.num_features
        dx *= self._inv_std
        return dx

    def __repr__(self) -> str:
        extra = "" if self.dtype == np.float64 else f", dtype={self.dtype}"
        return f"LayerNorm({self.num_features}, eps={self.eps}{extra})"


def check_layer(name: str, layer: object) -> None:
    """Raise unless ``layer`` has what a layer needs: forward, backward, params and grads."""
    missing = [a for a in ("forward", "backward", "params", "grads") if not hasattr(layer, a)]
    if missing:
        raise TypeError(
            f"{name} must be a layer (with forward, backward, params and grads), "
            f"got {type(layer).__name__} without {', '.join(missing)}"
        )


class Residual(Layer):
    """Skip connection around a block: ``y = x + block(x)``.

    Backward: the identity path passes the gradient through unchanged, so
    ``dx = dy + block.backward(dy)`` -- the ``+ dy`` is why deep residual
    networks keep a usable gradient (lesson 08). The block must return an
    output of the same shape as its input.

    ``params``, ``grads`` and ``buffers`` are the block's own dicts, with the
    same keys (the residual adds no name level): in a ``Sequential``,
    ``Residual(Sequential(Dense, ReLU))`` at index 1 owns ``"1.0.W"``.
    """

    def __init__(self, block: Layer) -> None:
        check_layer("block", block)
        n_in, n_out = features(block)
        if n_in is not None and n_out is not None and n_in != n_out:
            raise ValueError(
                f"Residual: the block maps {n_in} features to {n_out}, but x + block(x) needs "
                "the block to keep the width"
            )
        self.block = block
        # a block that tells its widths was checked above; for another, forward checks the shape
        # after the block ran, and must then undo what the block did to its buffers
        self._width_unknown = n_in is None or n_out is None
        self.params = block.params
        self.grads = block.grads
        self.buffers = getattr(block, "buffers", {})
        self._out_shape: tuple | None = None
        self._dtype: np.dtype | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``y = x + block(x)``."""
        check_bool("training", training)
        _check_input("Residual", x, None, None)
        kept = {k: b.copy() for k, b in self.buffers.items()} if self._width_unknown else {}
        fx = self.block.forward(x, training)
        if fx.shape != x.shape:
            for k, b in kept.items():  # undo the block's running statistics: nothing changes
                self.buffers[k][...] = b
            raise ValueError(
                f"Residual: the block must keep the shape of its input for x + block(x); "
                f"it maps {x.shape} to {fx.shape}"
            )
        y = x + fx
        self._out_shape, self._dtype = y.shape, y.dtype
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """``dx = dy + block.backward(dy)``."""
        _check_dy("Residual", dy, self._out_shape, self._dtype)
        return dy + self.block.backward(dy)

    def __repr__(self) -> str:
        return "Residual(\n  (block): " + _indent(repr(self.block)) + "\n)"


class Sequential(Layer):
    """Layers applied one after the other: ``y = layer_k(... layer_1(layer_0(x)))``.

    Backward runs the layers in reverse order, each turning ``dL/d(its output)``
    into ``dL/d(its input)`` (the chain rule).

    ``params``/``grads``/``buffers`` gather every layer's entries, prefixed with
    the layer's index: ``Sequential(Dense(...), BatchNorm(...), ReLU())`` has
    ``"0.W"``, ``"0.b"``, ``"1.gamma"``, ``"1.beta"``; nested containers nest
    the prefixes (``"3.0.W"``). The dicts are built once, from the live arrays
    of the layers, so ``opt.step(model.params, model.grads)`` trains the model;
    like every layer's, their names stay bound to those arrays (``NamedArrays``).

    One flat buffer: the parameters are moved into one 1-D array, one after the
    other in the order of ``params``, and each ``params[name]`` (in the model and in
    its layer) becomes a view into it; the gradients likewise. Nothing else changes
    (same names, shapes, dtypes and values), but an optimizer can then update the
    whole model with a few numpy operations on the two flat arrays instead of a
    few per parameter (see ``Optimizer.step``). This is done when all parameters
    share a dtype and belong to this module's layers (``Dense``, ``BatchNorm``,
    inside any ``Sequential`` or ``Residual``), as a layer of your own may keep its
    arrays elsewhere too. A layer belongs to one model: do not put it into a second.

    ``training`` (default False: evaluation) is passed on to every layer. ``model[i]`` is
    the i-th layer, ``len(model)`` the number of layers.
    """

    def __init__(self, *layers: Layer) -> None:
        super().__init__()
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            check_layer(f"layer {i}", layer)
        _check_widths_chain(layers)
        self.layers = list(layers)
        seen: set[int] = set()
        for layer in _walk(self):
            if id(layer) in seen:
                raise ValueError(
                    f"Sequential: the same {type(layer).__name__} object appears twice; "
                    "each position needs its own layer (it caches its own input for backward)"
                )
            seen.add(id(layer))
        for kind in _KINDS:
            setattr(self, kind, {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                                 for k, v in getattr(layer, kind, {}).items()})
        self._flat: tuple[np.ndarray, np.ndarray] | None = None  # (params, grads)
        if _can_share_one_buffer(self):
            for layer in _walk(self):
                if isinstance(layer, Sequential):
                    layer._flat = None  # a nested model's buffers are replaced by this one's
            self._flat = tuple(_move_into_one_buffer(self, kind) for kind in ("params", "grads"))
        self._first_skips_input_grad = skips_input_grad(self.layers[0])

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Apply every layer in order."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Apply every layer's backward in reverse order; returns ``dL/dx``.

        ``input_grad=False`` returns None, and the first layer skips computing ``dL/dx``
        if it can (``skips_input_grad``); a training loop never needs the gradient with
        respect to the data.
        """
        for layer in reversed(self.layers[1:]):
            dy = layer.backward(dy)
        first = self.layers[0]
        if input_grad:
            return first.backward(dy)
        if self._first_skips_input_grad:
            first.backward(dy, input_grad=False)
        else:
            first.backward(dy)
        return None

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __repr__(self) -> str:
        lines = [f"  ({i}): " + _indent(repr(layer)) for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"


def skips_input_grad(layer: object) -> bool:
    """True if ``layer.backward`` takes ``input_grad`` (``Dense`` and ``Sequential`` do).

    ``backward(dy, input_grad=False)`` then fills the layer's ``grads`` but skips ``dL/dx``.
    """
    try:
        return "input_grad" in inspect.signature(layer.backward).parameters
    except (AttributeError, TypeError, ValueError):
        return False


def uses_batch_statistics(layer: object) -> bool:
    """True if ``layer`` is, or holds, a ``BatchNorm``: a training batch then needs 2 rows."""
    return any(isinstance(inner, BatchNorm) for inner in _walk(layer))


_LAYERS_WITHOUT_COPIES = (Dense, BatchNorm)  # reach their parameters only through params


def _can_share_one_buffer(model: Sequential) -> bool:
    """Whether ``model``'s parameters can move into one buffer (see ``Sequential``)."""
    own_buffers = set()
    for layer in _walk(model):
        if isinstance(layer, Sequential) and layer._flat is not None:
            own_buffers.update(id(flat) for flat in layer._flat)
        elif layer.params and type(layer) not in _LAYERS_WITHOUT_COPIES + (Residual, Sequential):
            return False
    arrays = [*model.params.values(), *model.grads.values()]
    return (
        len(arrays) > 0
        and len({a.dtype for a in arrays}) == 1
        and len({id(a) for a in arrays}) == len(arrays)
        and all(a.base is None or id(a.base) in own_buffers for a in arrays)
    )


def _move_into_one_buffer(model: Sequential, kind: str) -> np.ndarray:
    """Copy ``model.params`` (``kind="params"``) or ``grads`` into one flat array, in order,
    and put a view of it in place of each array, in every dict of the model that holds it."""
    arrays = getattr(model, kind)
    flat = np.empty(sum(a.size for a in arrays.values()), dtype=next(iter(arrays.values())).dtype)
    views, start = {}, 0
    for a in arrays.values():
        view = flat[start : start + a.size].reshape(a.shape)
        view[...] = a
        views[id(a)] = view
        start += a.size
    for layer in _walk(model):
        entries = getattr(layer, kind)
        for name, a in entries.items():
            if id(a) in views:
                dict.__setitem__(entries, name, views[id(a)])  # NamedArrays refuse it to others
    return flat


def _named_arrays(layer: Layer) -> dict[str, np.ndarray]:
    """The layer's parameters and buffers, by name (the arrays themselves)."""
    arrays = {**layer.params, **getattr(layer, "buffers", {})}
    if len(arrays) != len(layer.params) + len(getattr(layer, "buffers", {})):
        raise ValueError("a parameter and a buffer of this layer share a name")
    return arrays


def features(layer: object) -> tuple[int | None, int | None]:
    """``(features in, features out)`` of a layer; ``None`` where the layer does not fix it.

    ``Dense(64, 32)`` gives ``(64, 32)``, ``BatchNorm(32)`` and ``LayerNorm(32)`` ``(32, 32)``,
    ``ReLU()`` ``(None, None)`` (it keeps whatever width it gets), a ``Residual`` its block's
    width, a ``Sequential`` the first width it takes and the last it gives. A layer of the
    learner's tells its widths by ``in_features`` and ``out_features`` attributes, if it has them.
    """
    if isinstance(layer, Sequential):
        return _check_widths_chain(layer.layers)
    if isinstance(layer, Residual):
        n_in, n_out = features(layer.block)
        return (n_in, n_in) if n_in is not None else (n_out, n_out)
    if isinstance(layer, (BatchNorm, LayerNorm)):
        return layer.num_features, layer.num_features
    n_in, n_out = getattr(layer, "in_features", None), getattr(layer, "out_features", None)
    if isinstance(n_in, int) and isinstance(n_out, int):
        return n_in, n_out
    return None, None


def _check_widths_chain(layers: tuple | list) -> tuple[int | None, int | None]:
    """Raise, naming the layer, if a layer takes another width than the one before gives.

    Returns the chain's ``features``. A layer of unknown widths that is not a ``ReLU`` may
    change the width, so the check starts afresh after it.
    """
    first_in = width = None
    known = True  # False after a layer that may change the width in a way we cannot tell
    for i, layer in enumerate(layers):
        n_in, n_out = features(layer)
        if n_in is not None:
            if width is not None and n_in != width:
                raise ValueError(
                    f"Sequential: layer {i} ({type(layer).__name__}) takes {n_in} features, "
                    f"but the layers before it give {width}"
                )
            if first_in is None and width is None and known:
                first_in = n_in
        if n_out is not None:
            width = n_out
        elif not isinstance(layer, ReLU):
            width, known = None, False
    return first_in, width


def _walk(layer: object) -> Iterator[object]:
    """The layer and every layer nested inside it (Sequential layers, Residual blocks)."""
    yield layer
    for child in getattr(layer, "layers", ()):
        yield from _walk(child)
    block = getattr(layer, "block", None)
    if block is not None:
        yield from _walk(block)


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _init_std(init: object, fan_in: int, fan_out: int) -> float:
    """Standard deviation of the initial weights for ``init``."""
    if isinstance(init, str):
        if init == "he":
            return math.sqrt(2.0 / fan_in)
        if init == "xavier":
            return math.sqrt(2.0 / (fan_in + fan_out))
        raise ValueError(f'init must be "he", "xavier" or a float std, got {init!r}')
    return check_positive("init", init)
