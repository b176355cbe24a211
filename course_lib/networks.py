"""The course's one network builder, ``mlp``, and the networks of lessons 05 to 09 as presets.

Every network is a stem, a body of ``depth`` layers and a head::

    stem:  Dense(in, w), BN, ReLU
    body:  [Dense(w, w), BN, ReLU] * depth                                      plain
           [Residual(Sequential(Dense(w, w), BN, ReLU, Dense(w, w), BN))] * (depth / 2)   residual
    head:  Dense(w, out)

with ``w = width`` and ``BN`` a ``BatchNorm(w)`` when ``batch_norm`` is on, a ``LayerNorm(w)``
when ``layer_norm`` is on, nothing when both are off. **Depth** is the number of
``Dense(w, w)`` layers of the body, between the stem (the input projection) and the head, as
GPT's ``n_layer`` counts the blocks between the embedding
and the head: a network of depth ``L`` has ``L + 2`` weight layers and ``L + 1`` hidden
layers (the stem's and the body's). Depth 0 is the one-hidden-layer MLP
``Dense(in, w), ReLU, Dense(w, out)``.

A residual body groups its layers in pairs around a skip, ``y = x + F(x)`` with
``F(x) = BN(W2 relu(BN(W1 x + b1)) + b2)``, and has no ReLU after the sum, so the identity
path runs clean from the head to the stem (He et al. 2016, "Identity mappings in deep residual
networks"). The width stays the same through the body, so ``x + F(x)`` is defined.
``zero_init_residual`` starts every branch ``F`` at zero, so that every block starts as the
identity ``y = x`` (Goyal et al. 2017; torchvision's knob of the same name).

The ``Dense`` layers draw their weights from one generator, in forward order (batch norm
draws nothing): one seed gives the same weights, layer for layer, with and without batch norm
and with and without skips, so two networks of one seed differ only by those switches.

Each knob has one meaning, kept in an ``MLPConfig``; ``PRESETS`` names the exact network of
each lesson, and ``mlp`` builds one, with changes::

    mlp(depth=4, residual=True, rng=0)                       # the defaults, changed
    mlp("l08_residual_layers", depth=32, rng=seed)           # lesson 08's network, deeper
    mlp(PRESETS["l09_putting_it_together"], batch_norm=False, rng=3)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from course_lib.layers import BatchNorm, Dense, Layer, LayerNorm, ReLU, Residual, Sequential
from course_lib.validation import (
    check_bool,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
    check_rng,
)

__all__ = ["PRESETS", "MLPConfig", "mlp", "weight_names"]

_DTYPES = ("float32", "float64")


def _check_init(init: object) -> str | float:
    if isinstance(init, str):
        if init not in ("he", "xavier"):
            raise ValueError(f'init must be "he", "xavier" or a standard deviation > 0, '
                             f"got {init!r}")
        return init
    return check_positive("init", init)


def _check_dtype(dtype: object) -> str:
    try:
        name = np.dtype(dtype).name
    except TypeError as err:
        raise TypeError(f'dtype must be "float64" or "float32", got {dtype!r}') from err
    if name not in _DTYPES:
        raise TypeError(f'dtype must be "float64" or "float32", got {dtype!r}')
    return name



@dataclass(frozen=True)
class MLPConfig:
    """The knobs of ``mlp``, one meaning each (the module docstring draws the layout).

    ``in_features``: columns of the input (64 pixels of an 8x8 digit);
    ``out_features``: scores out (10 classes);
    ``depth``: the ``Dense(width, width)`` layers between the stem and the head (>= 0; even
    with ``residual``, two a block): ``depth + 2`` weight layers in all;
    ``width``: features of the stem and of every hidden layer;
    ``batch_norm``: a ``BatchNorm(width)`` after every ``Dense`` but the head, before its ReLU
    (PyTorch's defaults: momentum 0.1, eps 1e-5);
    ``layer_norm``: a ``LayerNorm(width)`` in the same places instead (not both);
    ``residual``: skips around pairs of body layers, ``depth / 2`` blocks;
    ``zero_init_residual``: start each residual block's last layer at zero, so that every
    block starts as the identity: the ``gamma`` of its last norm layer, or, without one, the
    ``W`` of its last ``Dense`` (the weights are drawn first, so every other layer keeps the
    weights of the seed); needs ``residual``;
    ``init``: the ``Dense`` initialisation, ``"he"``, ``"xavier"`` or a standard deviation;
    ``dtype``: ``"float64"`` or ``"float32"`` (``np.float32`` and the like are accepted).

    Wrong values raise when the config is made, naming the knob.
    """

    in_features: int = 64
    out_features: int = 10
    depth: int = 2
    width: int = 32
    batch_norm: bool = False
    residual: bool = False
    init: str | float = "he"
    dtype: str = "float64"
    layer_norm: bool = False
    zero_init_residual: bool = False

    def __post_init__(self) -> None:
        checked = {
            "in_features": check_positive_int("in_features", self.in_features),
            "out_features": check_positive_int("out_features", self.out_features),
            "depth": check_nonnegative_int("depth", self.depth),
            "width": check_positive_int("width", self.width),
            "batch_norm": check_bool("batch_norm", self.batch_norm),
            "residual": check_bool("residual", self.residual),
            "init": _check_init(self.init),
            "layer_norm": check_bool("layer_norm", self.layer_norm),
            "zero_init_residual": check_bool("zero_init_residual", self.zero_init_residual),
            "dtype": _check_dtype(self.dtype),
        }
        if checked["residual"] and checked["depth"] % 2:
            raise ValueError(f"depth must be even for a residual network (two layers "
                             f"a block), got {self.depth}")
        if checked["batch_norm"] and checked["layer_norm"]:
            raise ValueError("batch_norm and layer_norm are both on: choose one normalisation")
        if checked["zero_init_residual"] and not checked["residual"]:
            raise ValueError("zero_init_residual=True needs residual=True: it zeroes the last "
                             "layer of each residual block")
        for name, value in checked.items():
            object.__setattr__(self, name, value)  # frozen: the checked, normalised values


PRESETS: Mapping[str, MLPConfig] = MappingProxyType({
    # 05: one hidden layer of 32 ReLU units, trained at many batch sizes
    "l05_mini_batch": MLPConfig(depth=0),
    # 07: ten weight layers (depth 8), with and without batch norm
    "l07_batch_normalization": MLPConfig(depth=8, batch_norm=True),
    # 08: a deep narrow network, plain or residual (8 blocks), with a small or a He init
    "l08_residual_layers": MLPConfig(depth=16, residual=True, init=0.1),
    # 09: the recipe's network, 64 wide, two residual blocks with batch norm
    "l09_putting_it_together": MLPConfig(depth=4, width=64, batch_norm=True, residual=True),
})


def mlp(
    config: MLPConfig | str = MLPConfig(),
    *,
    rng: int | np.random.Generator | None = None,
    **changes: object,
) -> Sequential:
    """A new multilayer perceptron: ``config`` (an ``MLPConfig`` or a name in ``PRESETS``),
    with the knobs in ``changes`` replaced, its weights drawn from ``rng``.

    Layout, with ``BN`` a ``BatchNorm(width)`` if ``batch_norm``, a ``LayerNorm(width)`` if
    ``layer_norm`` and nothing otherwise::

        Dense(in, w), BN, ReLU,
        [Dense(w, w), BN, ReLU] * depth                                 (residual=False)
        [Residual(Sequential(Dense, BN, ReLU, Dense, BN))] * (depth/2)  (residual=True)
        Dense(w, out)

    ``rng``: a seed (``np.random.default_rng(seed)``) or a Generator, whose draws continue.
    Returns a ``Sequential``; ``weight_names(model)`` lists its ``depth + 2`` weight
    matrices in forward order.
    """
    if isinstance(config, str):
        if config not in PRESETS:
            raise ValueError(f"config must be an MLPConfig or one of {list(PRESETS)}, "
                             f"got {config!r}")
        config = PRESETS[config]
    if not isinstance(config, MLPConfig):
        raise TypeError(f"config must be an MLPConfig or a preset name, got {config!r}")
    unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(MLPConfig)})
    if unknown:
        raise TypeError(f"mlp got unknown knobs {unknown}; the knobs are the fields of "
                        "MLPConfig")
    c = dataclasses.replace(config, **changes) if changes else config
    rng = check_rng("rng", rng)

    def dense(n_in: int, n_out: int) -> Dense:
        return Dense(n_in, n_out, rng=rng, dtype=c.dtype, init=c.init)

    def dense_bn(n_in: int) -> list[Layer]:
        # Dense(n_in, w), then BN when batch norm (or layer norm) is on
        layer = dense(n_in, c.width)
        if c.batch_norm:
            return [layer, BatchNorm(c.width, dtype=c.dtype)]
        if c.layer_norm:
            return [layer, LayerNorm(c.width, dtype=c.dtype)]
        return [layer]

    layers = [*dense_bn(c.in_features), ReLU()]
    if c.residual:
        for _ in range(c.depth // 2):
            # y = x + BN(W2 relu(BN(W1 x + b1)) + b2)
            first, second = dense_bn(c.width), dense_bn(c.width)
            if c.zero_init_residual:
                # F(x) = 0 at the start: the last norm's gamma, or the last Dense's W, is 0
                second[-1].params["gamma" if len(second) == 2 else "W"][...] = 0
            layers.append(Residual(Sequential(*first, ReLU(), *second)))
    else:
        for _ in range(c.depth):
            layers += [*dense_bn(c.width), ReLU()]
    layers.append(dense(c.width, c.out_features))
    return Sequential(*layers)


def weight_names(model: object) -> list[str]:
    """The names of the model's weight matrices in forward order (``"0.W"``, ``"2.0.W"`` ...).

    For an ``mlp`` of depth ``L`` that is ``L + 2`` names: the stem, the ``L`` body layers,
    the head. Use them to read ``probes.gradient_norms`` or ``History.grad_norm`` layer by
    layer.
    """
    params = getattr(model, "params", None)
    if not isinstance(params, dict):
        raise TypeError(f"model must be a layer with params, got {type(model).__name__}")
    return [name for name in params if name.split(".")[-1] == "W"]

