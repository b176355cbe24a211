"""Deep MLPs with and without batch normalization, and the values their ReLUs see (lesson 07).

A network of ``depth`` weight layers has ``depth - 1`` hidden blocks and a ``Dense`` head::

    plain:       [Dense, ReLU] * (depth - 1),             Dense
    batch norm:  [Dense, BatchNorm, ReLU] * (depth - 1),  Dense

Batch norm sits between each hidden ``Dense`` and its ``ReLU``, as in Ioffe & Szegedy (2015):
it normalises ``z = x W + b`` feature by feature over the batch before the non-linearity. The
bias ``b`` of such a ``Dense`` is then redundant (batch norm subtracts the batch mean, so ``b``
cancels and its gradient is exactly zero; ``beta`` does its job); it is kept so that both
networks have the same ``Dense`` layers, drawn from the same seed.

``relu_inputs`` returns the input of every ReLU (the *pre-activations*) for a batch: the
histograms of lesson 07 are drawn from them, and their scale, layer after layer, is what batch
norm keeps in place.

``depth_lr_runs`` trains one network per depth, learning rate and plain / batch norm and keeps
what the lesson's explorer draws, so that moving a slider redraws from a cache instead of
training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from course_lib.layers import BatchNorm, Dense, ReLU, Sequential
from course_lib.validation import check_positive, check_positive_int

__all__ = ["BNRun", "bn_mlp", "depth_lr_runs", "relu_inputs"]


def bn_mlp(
    depth: int,
    *,
    batch_norm: bool,
    width: int = 32,
    in_features: int = 64,
    out_features: int = 10,
    init: str | float = "he",
    rng: int | np.random.Generator | None = None,
    dtype: type | np.dtype = np.float64,
) -> Sequential:
    """An MLP with ``depth`` weight layers, with or without batch norm before every ReLU.

    Layout::

        batch_norm=False:  [Dense, ReLU] * (depth - 1),             Dense(width, out_features)
        batch_norm=True:   [Dense, BatchNorm, ReLU] * (depth - 1),  Dense(width, out_features)

    The first ``Dense`` reads ``in_features`` columns, the hidden ones are ``width`` wide.

    Parameters
    ----------
    depth : int >= 1
        Number of ``Dense`` layers, the head included (``depth = 1`` is a linear model).
    batch_norm : bool
        Put a ``BatchNorm(width)`` (PyTorch's defaults: momentum 0.1, eps 1e-5) between each
        hidden ``Dense`` and its ``ReLU``.
    width, in_features, out_features : int
        Feature counts (64 inputs and 10 classes fit the 8x8 digits).
    init : "he", "xavier" or a float standard deviation, passed to every ``Dense``.
    rng : seed or generator
        The same seed gives the same ``Dense`` weights with and without batch norm, layer for
        layer: the two networks of one seed differ only by the batch-norm layers.
    dtype : np.float64 (default) or np.float32
    """
    depth = check_positive_int("depth", depth)
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be True or False, got {batch_norm!r}")
    width = check_positive_int("width", width)
    in_features = check_positive_int("in_features", in_features)
    out_features = check_positive_int("out_features", out_features)
    rng = np.random.default_rng(rng)  # a Generator is returned as it is, so draws continue
    layers = []
    n_in = in_features
    for _ in range(depth - 1):
        layers.append(Dense(n_in, width, rng=rng, dtype=dtype, init=init))
        if batch_norm:
            layers.append(BatchNorm(width, dtype=dtype))
        layers.append(ReLU())
        n_in = width
    layers.append(Dense(n_in, out_features, rng=rng, dtype=dtype, init=init))
    return Sequential(*layers)


def relu_inputs(model: Sequential, X: np.ndarray, training: bool = False) -> dict[str, np.ndarray]:
    """The input of every ``ReLU`` of ``model`` for the batch ``X``: ``{"layer 1": z_1, ...}``.

    For the ``k``-th hidden block that is ``z_k = x W + b`` in a plain network and
    ``z_k = gamma * xhat + beta`` (the batch-norm output) in a batch-norm network: the values
    the non-linearity sees. Computed with ``probes.layer_outputs`` (``training=False``, the
    default, uses the running statistics, as at inference), so the model is left unchanged.
    A model without ReLUs gives an empty dict.
    """
    from course_lib.probes import layer_outputs

    layers = getattr(model, "layers", None)
    if layers is None:
        raise TypeError(f"model must be a Sequential, got {type(model).__name__}")
    outputs = list(layer_outputs(model, X, training).values())
    inputs = {}
    for i, layer in enumerate(layers):
        if isinstance(layer, ReLU):
            inputs[f"layer {len(inputs) + 1}"] = X if i == 0 else outputs[i - 1]
    return inputs


@dataclass(frozen=True, eq=False)
class BNRun:
    """One trained network of ``depth_lr_runs``.

    ``step_loss``: the mini-batch loss before each step (NaN after a divergence);
    ``histograms``: ``(depth - 1, bins)``, row ``k`` the fraction of the ``k+1``-th hidden
    layer's ReLU inputs in each bin of ``edges`` after training (in training mode: batch
    norm uses the statistics of the probed rows);
    ``stds``: the standard deviation of each hidden layer's ReLU inputs (NaN if diverged);
    ``final_loss``: the training-set loss after training, in evaluation mode (NaN if diverged).
    """

    step_loss: np.ndarray
    histograms: np.ndarray
    stds: np.ndarray
    final_loss: float
    diverged: bool


def depth_lr_runs(
    X: np.ndarray,
    y: np.ndarray,
    depths: Sequence[int],
    learning_rates: Sequence[float],
    *,
    width: int = 24,
    epochs: int = 3,
    batch_size: int = 64,
    seed: int = 0,
    edges: np.ndarray | None = None,
    probe_rows: int = 256,
) -> dict[tuple[int, float, bool], BNRun]:
    """Train a ``bn_mlp`` for every depth, learning rate and ``batch_norm`` in (False, True).

    Each network is built from ``seed`` (so the plain and the batch-norm network of one depth
    share their ``Dense`` weights), trained by ``training.fit`` with ``SGD(lr)`` on
    softmax cross-entropy for ``epochs`` epochs of ``batch_size`` rows (shuffled by ``seed``),
    in the dtype of ``X``. After training the ReLU inputs of the first ``probe_rows`` rows
    are binned on ``edges`` (default: 40 bins on ``[-4, 4]``), as a training step sees them
    (``relu_inputs(..., training=True)``: batch norm normalises with the statistics of these
    rows; the running statistics are left alone). Returns ``{(depth, lr, batch_norm): BNRun}``.

    ``len(X) % batch_size`` must not be 1: batch norm refuses a training batch of one row.
    """
    from course_lib.losses import softmax_cross_entropy
    from course_lib.optimizers import SGD
    from course_lib.training import evaluate, fit

    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype not in (np.float32, np.float64):
        raise TypeError("X must be a 2-D float32 or float64 array")
    batch_size = check_positive_int("batch_size", batch_size)
    if len(X) % batch_size == 1:
        raise ValueError(
            f"len(X) = {len(X)} leaves a last batch of one row with batch_size = {batch_size}, "
            "which batch norm cannot normalise; drop a row or change batch_size"
        )
    depths = [check_positive_int("depths", d) for d in depths]
    learning_rates = [check_positive("learning_rates", lr) for lr in learning_rates]
    if not depths or not learning_rates:
        raise ValueError("depths and learning_rates must each hold at least one value")
    probe_rows = check_positive_int("probe_rows", probe_rows)
    edges = np.linspace(-4.0, 4.0, 41) if edges is None else np.asarray(edges, dtype=np.float64)
    if (edges.ndim != 1 or edges.size < 2 or not np.isfinite(edges).all()
            or not np.all(np.diff(edges) > 0)):
        raise ValueError("edges must be an increasing 1-D array of at least two finite bin edges")
    y = np.asarray(y)
    if y.shape != (len(X),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold one integer class label per row of X, got {y.dtype} "
                         f"{y.shape}")
    probe = X[:probe_rows]
    runs = {}
    for depth in depths:
        for lr in learning_rates:
            for batch_norm in (False, True):
                model = bn_mlp(depth, batch_norm=batch_norm, width=width,
                               in_features=X.shape[1], out_features=int(y.max()) + 1,
                               rng=seed, dtype=X.dtype)
                history = fit(model, softmax_cross_entropy, SGD(lr), X, y, epochs=epochs,
                              batch_size=batch_size, seed=seed, evaluate=False,
                              track_grad_norms=False)
                final = np.nan
                if not history.diverged:
                    final = evaluate(model, softmax_cross_entropy, X, y)[0]
                with np.errstate(all="ignore"):  # a diverged network's values are inf or NaN
                    hidden = list(relu_inputs(model, probe, training=True).values())
                    histograms = np.array([_bin_fractions(z, edges) for z in hidden])
                    stds = np.array([np.std(z, dtype=np.float64) for z in hidden])
                diverged = bool(history.diverged or not np.isfinite(final))
                if diverged:
                    histograms[...] = 0.0
                    stds[...] = np.nan
                runs[(depth, lr, batch_norm)] = BNRun(
                    history.step_loss, histograms.reshape(depth - 1, edges.size - 1), stds,
                    float(final), diverged)
    return runs


def _bin_fractions(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The fraction of the finite ``values`` in each bin (as ``plots.bin_fractions``)."""
    values = values[np.isfinite(values)]
    return np.histogram(values, bins=edges)[0] / max(values.size, 1)
