"""Deep multilayer perceptrons, plain or residual, for the depth experiments of lesson 08.

Both networks read ``in_features`` inputs, lift them to ``width`` features, run ``depth``
hidden ``Dense(width, width)`` layers and end with a ``Dense(width, out_features)`` head::

    plain:     Dense(in, w), ReLU, [Dense(w, w), ReLU] * depth,            Dense(w, out)
    residual:  Dense(in, w), ReLU, [Residual(Dense(w, w), ReLU, Dense(w, w))] * (depth / 2),
               Dense(w, out)

A residual block computes ``x + W2 relu(W1 x + b1) + b2``: its two hidden layers are the
plain network's layers ``2k`` and ``2k + 1``, with the skip added around them and no ReLU after
the addition (so the identity path from the output back to the input is clean, as in He et
al. 2016, "Identity mappings in deep residual networks"). The two networks therefore have the
same parameters, layer for layer, and differ only by the skips (and by the ReLU that the plain
network has after every hidden layer where the residual one adds the skip instead).

The width stays constant through the body, so ``x + F(x)`` is defined.
"""

from __future__ import annotations

import numpy as np

from course_lib.layers import Dense, ReLU, Residual, Sequential
from course_lib.validation import check_positive_int

__all__ = ["deep_mlp", "hidden_weight_names"]


def deep_mlp(
    depth: int,
    *,
    residual: bool,
    width: int = 32,
    in_features: int = 64,
    out_features: int = 10,
    init: str | float = "he",
    rng: int | np.random.Generator | None = None,
    dtype: type | np.dtype = np.float64,
) -> Sequential:
    """A plain or residual MLP with ``depth`` hidden ``Dense(width, width)`` layers.

    Layout (see the module docstring)::

        plain:     Dense(in, w), ReLU, [Dense(w, w), ReLU] * depth, Dense(w, out)
        residual:  Dense(in, w), ReLU, [Residual(Sequential(Dense, ReLU, Dense))] * (depth/2),
                   Dense(w, out)

    Parameters
    ----------
    depth : int >= 1 (even when ``residual``: each block holds two layers)
        Number of hidden ``Dense(width, width)`` layers.
    residual : bool
        Group the hidden layers in pairs around skip connections ``y = x + F(x)``.
    width, in_features, out_features : int
        Feature counts (``in_features = 64`` and ``out_features = 10`` fit the 8x8 digits).
    init : "he", "xavier" or a float standard deviation
        Passed to every ``Dense`` (see ``Dense``); the knob of lesson 08.
    rng : seed or generator
        The same seed gives the same weights for both networks, layer for layer: the plain and
        the residual network of one seed differ only by the skips.
    dtype : np.float64 (default) or np.float32

    Returns a ``Sequential``; ``hidden_weight_names(model)`` lists its weight matrices in
    order, input projection first and head last.
    """
    depth = check_positive_int("depth", depth)
    if not isinstance(residual, bool):
        raise TypeError(f"residual must be True or False, got {residual!r}")
    if residual and depth % 2:
        raise ValueError(
            f"depth must be even for a residual network (two layers a block), got {depth}"
        )
    width = check_positive_int("width", width)
    rng = np.random.default_rng(rng)  # a Generator is returned as it is, so draws continue

    def dense(n_in: int, n_out: int) -> Dense:
        return Dense(n_in, n_out, rng=rng, dtype=dtype, init=init)

    layers = [dense(in_features, width), ReLU()]
    for _ in range(depth // 2 if residual else depth):
        if residual:
            # y = x + W2 relu(W1 x + b1) + b2
            first, second = dense(width, width), dense(width, width)
            layers.append(Residual(Sequential(first, ReLU(), second)))
        else:
            layers += [dense(width, width), ReLU()]
    layers.append(dense(width, out_features))
    return Sequential(*layers)


def hidden_weight_names(model: Sequential) -> list[str]:
    """The names of the model's weight matrices in forward order (``"0.W"``, ``"2.0.W"`` ...).

    For a ``deep_mlp`` of depth ``L`` that is ``L + 2`` names: the input projection, the ``L``
    hidden layers, the head. Use them to read ``probes.gradient_norms`` or
    ``History.grad_norm`` layer by layer.
    """
    params = getattr(model, "params", None)
    if not isinstance(params, dict):
        raise TypeError(f"model must be a layer with params, got {type(model).__name__}")
    return [name for name in params if name.split(".")[-1] == "W"]
