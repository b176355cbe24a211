"""Probes: look inside a model without training it.

``layer_outputs`` records what each layer of a ``Sequential`` hands on to the next (the
activations whose histograms lessons 07 and 08 draw), ``relu_inputs`` what each ReLU receives
(lesson 07's pre-activations), and ``gradient_norms`` the size of every gradient after a
backward pass (the bars of lesson 08)::

    outputs = layer_outputs(model, X_val)       # {"0:Dense": h1, "1:BatchNorm": h2, ...}
    inputs = relu_inputs(model, X_val)          # {"layer 1": z1, "layer 2": z2, ...}
    loss, dpred = softmax_cross_entropy(model.forward(X, training=True), y)
    model.backward(dpred)
    norms = gradient_norms(model)               # {"0.W": 1.3, "0.b": 0.2, ...}

Neither changes the model's parameters or running statistics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from course_lib.layers import ReLU
from course_lib.validation import check_array, check_bool

__all__ = ["gradient_norms", "layer_outputs", "relu_inputs"]


def layer_outputs(model: object, X: np.ndarray, training: bool = False) -> dict[str, np.ndarray]:
    """The output of every layer of the ``Sequential`` ``model`` for the input ``X``.

    With ``h_0 = X`` and the model's layers ``layer_0, layer_1, …``::

        h_{i+1} = layer_i.forward(h_i, training)

    Returns ``{"0:Dense": h_1, "1:BatchNorm": h_2, …}``, in order: each key is the layer's
    index (the prefix of its parameter names, as in ``"1.gamma"``) and its class name, and the
    last entry is the model's output. A ``Residual`` counts as one layer: its entry is
    ``x + block(x)``.

    ``training=False`` (the default) is evaluation mode, as in ``predict``: batch norm uses its
    running statistics. ``training=True`` shows the activations as a training step sees them
    (batch norm normalises with the statistics of ``X``). Either way the model's buffers (the
    running statistics) are put back as they were, even if a layer raises, so looking never
    changes the model. The layers' caches for ``backward`` are overwritten: run a forward
    pass of your own before the next ``backward``.
    """
    layers = getattr(model, "layers", None)
    if layers is None:
        raise TypeError(
            "model must be a Sequential (a container with .layers), "
            f"got {type(model).__name__}"
        )
    training = check_bool("training", training)
    X = check_array("X", X, ndim=2)
    buffers = getattr(model, "buffers", {})
    saved = {name: value.copy() for name, value in buffers.items()}
    outputs = {}
    h = X
    try:
        for i, layer in enumerate(layers):
            h = layer.forward(h, training)
            outputs[f"{i}:{type(layer).__name__}"] = h
    finally:
        for name, value in saved.items():
            np.copyto(buffers[name], value)  # in place: the layers hold these very arrays
    return outputs


def relu_inputs(model: object, X: np.ndarray, training: bool = False) -> dict[str, np.ndarray]:
    """The input of every ``ReLU`` of ``model`` for the batch ``X``: ``{"layer 1": z_1, ...}``.

    For the ``k``-th ReLU of a ``networks.mlp`` that is ``z_k = x W + b`` in a plain network
    and ``z_k = gamma * xhat + beta`` (the batch-norm output) in a batch-norm network: the
    values the non-linearity sees, its *pre-activations*. Read off ``layer_outputs`` (same
    ``training`` meaning), so the model is left unchanged. Only the ReLUs of the top level of
    the ``Sequential`` count; a model without them gives an empty dict.
    """
    layers = getattr(model, "layers", None)
    if layers is None:
        raise TypeError(f"model must be a Sequential, got {type(model).__name__}")
    outputs = list(layer_outputs(model, X, training).values())
    inputs = {}
    for i, layer in enumerate(layers):
        if isinstance(layer, ReLU):
            inputs[f"layer {len(inputs) + 1}"] = X if i == 0 else outputs[i - 1]
    return inputs


def gradient_norms(model: object) -> dict[str, float]:
    """The Euclidean norm of every gradient, by parameter name.

    For each gradient ``g = ∂L/∂θ`` (any shape)::

        ‖g‖ = sqrt( Σ_i g_i² )

    the same norm ``fit`` averages into ``History.grad_norm``. ``model`` is a layer (its
    ``grads`` are read: call ``backward`` first) or a dict of gradients. A NaN or infinite
    gradient gives a NaN or infinite norm.
    """
    grads = model if isinstance(model, Mapping) else getattr(model, "grads", None)
    if not isinstance(grads, Mapping):
        raise TypeError(
            "model must be a layer with grads (e.g. a Sequential) or a dict of gradients, "
            f"got {type(model).__name__}"
        )
    norms = {}
    for name, g in grads.items():
        g = check_array(f"grads[{name!r}]", g, finite=False)
        # ‖g‖ = sqrt(sum of g²), one dot product of the flattened gradient
        norms[name] = math.sqrt(float(np.vdot(g, g)))
    return norms
