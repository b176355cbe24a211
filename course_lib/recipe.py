"""The whole course on one switchboard: the recipe of lesson 09 and its leave-one-out ablation.

Six techniques, one switch each; a technique that is off is replaced by the plain thing it
improves on:

=============  ================================================  ==============================
technique      on                                                off
=============  ================================================  ==============================
z-score        ``ZScoreScaler`` fitted on the training rows (01)  the raw features
mini-batch     shuffled batches of ``batch_size`` rows (05)       one full batch: a step an epoch
Adam           ``Adam(lr)`` (04)                                  ``SGD(lr)`` (00)
lr decay       ``cosine_decay(lr, t_max=total steps)`` (06)       the constant rate ``lr``
batch norm     ``BatchNorm`` after every hidden ``Dense`` (07)    nothing
residual       skips around pairs of hidden layers (08)           the same layers, no skips
=============  ================================================  ==============================

::

    run = train_recipe(TECHNIQUES, 0.01, X_train, y_train, validation=(X_val, y_val),
                       test=(X_test, y_test), epochs=12)
    run.history.val_accuracy[-1], run.test_accuracy
    train_recipe(set(TECHNIQUES) - {"batch norm"}, 0.01, X_train, y_train, ...)  # one removed
    train_recipe(set(), 0.01, X_train, y_train, ...)                              # the baseline

The learning rate is the caller's: each configuration needs its own (tune it on a
validation split, never on the test split).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from course_lib.layers import BatchNorm, Dense, ReLU, Residual, Sequential
from course_lib.losses import softmax_cross_entropy
from course_lib.optimizers import SGD, Adam
from course_lib.scaling import ZScoreScaler
from course_lib.schedules import cosine_decay
from course_lib.training import History, evaluate, fit
from course_lib.validation import check_array, check_positive, check_positive_int

__all__ = ["TECHNIQUES", "RecipeRun", "build_network", "train_recipe"]

TECHNIQUES = ("z-score", "mini-batch", "Adam", "lr decay", "batch norm", "residual")


def build_network(
    in_features: int,
    out_features: int,
    *,
    batch_norm: bool = True,
    residual: bool = True,
    width: int = 64,
    blocks: int = 2,
    rng: int | np.random.Generator | None = None,
    dtype: type | np.dtype = np.float64,
) -> Sequential:
    """The recipe's network: a stem, ``blocks`` blocks of two hidden layers, a head.

    With ``BN`` standing for ``BatchNorm(width)`` when ``batch_norm`` and for nothing
    otherwise::

        stem:      Dense(in, w), BN, ReLU
        block:     Residual(Sequential(Dense(w, w), BN, ReLU, Dense(w, w), BN))   residual
                   Dense(w, w), BN, ReLU, Dense(w, w), BN, ReLU                   plain
        head:      Dense(w, out)

    A residual block computes ``y = x + BN(W2 relu(BN(W1 x + b1)) + b2)``, with no ReLU after
    the sum, so the identity path runs clean from the head to the stem (lesson 08). The plain
    network has exactly the same parameters, drawn in the same order (the same ``rng`` seed
    gives the same weights), with a ReLU where the residual one adds the skip: it is "the
    same depth without the skips".

    ``width`` (the same throughout, so ``x + F(x)`` is defined), ``blocks >= 0`` and ``dtype``
    (float64 by default: a float32 run is chaotic in the last bits of the matrix products,
    so its final accuracy would depend on the CPU and the BLAS thread count; float64 runs
    agree to many digits on every machine).
    """
    in_features = check_positive_int("in_features", in_features)
    out_features = check_positive_int("out_features", out_features)
    width = check_positive_int("width", width)
    if isinstance(blocks, bool) or not isinstance(blocks, int | np.integer) or blocks < 0:
        raise ValueError(f"blocks must be an integer >= 0, got {blocks!r}")
    for name, flag in (("batch_norm", batch_norm), ("residual", residual)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    rng = np.random.default_rng(rng)  # a Generator is used as it is, so the draws continue

    def dense_bn(n_in: int) -> list:
        dense = Dense(n_in, width, rng=rng, dtype=dtype)
        return [dense, BatchNorm(width, dtype=dtype)] if batch_norm else [dense]

    layers = [*dense_bn(in_features), ReLU()]
    for _ in range(blocks):
        first, second = dense_bn(width), dense_bn(width)
        if residual:
            # y = x + BN(W2 relu(BN(W1 x + b1)) + b2)
            layers.append(Residual(Sequential(*first, ReLU(), *second)))
        else:
            layers += [*first, ReLU(), *second, ReLU()]
    layers.append(Dense(width, out_features, rng=rng, dtype=dtype))
    return Sequential(*layers)


class RecipeRun(NamedTuple):
    """What ``train_recipe`` returns: the ``History``, the test accuracy and the model.

    ``test_accuracy`` is None when no test split was given. ``model`` is the trained network
    (evaluate it with ``training.predict(model, X)`` on features prepared like the training
    rows: z-scored with ``scaler`` when ``"z-score"`` was used, ``scaler`` None otherwise).
    """

    history: History
    test_accuracy: float | None
    model: Sequential
    scaler: ZScoreScaler | None


def train_recipe(
    used: Iterable[str],
    lr: float,
    X_train: np.ndarray,
    y_train: np.ndarray,
    *,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int = 12,
    batch_size: int = 64,
    width: int = 64,
    blocks: int = 2,
    seed: int = 0,
    dtype: type | np.dtype = np.float64,
) -> RecipeRun:
    """Train a fresh ``build_network`` with the techniques in ``used``; the others are off.

    ``used`` holds names from ``TECHNIQUES`` (the module docstring says what each switch
    does). Step by step:

    1. features: with ``"z-score"``, a ``ZScoreScaler`` is fitted on ``X_train`` and
       transforms every split; then all are cast to ``dtype``;
    2. batches: ``batch_size`` rows with ``"mini-batch"``, else all of ``X_train``
       (``steps = epochs · ceil(n_train / batch_size)`` updates in all);
    3. optimizer: ``Adam(lr)`` with ``"Adam"``, else ``SGD(lr)``;
    4. schedule: with ``"lr decay"``, ``cosine_decay(lr, t_max=steps)``, from ``lr`` at the
       first step towards 0 after the last; else the constant ``lr``;
    5. network: ``build_network(batch_norm="batch norm" in used, residual="residual" in
       used, width=width, blocks=blocks, rng=seed)``;
    6. ``fit`` with the mean softmax cross-entropy for ``epochs`` epochs, shuffled with
       ``seed``, evaluated on ``validation`` after every epoch (gradient norms not recorded),
       then the accuracy on ``test``.

    The same ``seed`` gives the same initial weights and shuffling in every configuration
    that shares the architecture, so configurations are compared seed by seed.
    """
    used = _check_used(used)
    lr = check_positive("lr", lr)
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    X_train = check_array("X_train", X_train, ndim=2)
    y_train = np.asarray(y_train)
    if y_train.ndim != 1 or not np.issubdtype(y_train.dtype, np.integer):
        raise ValueError(f"y_train must be a 1-D array of integer class labels, got "
                         f"{y_train.dtype} of shape {y_train.shape}")
    splits = {"validation": validation, "test": test}
    for name, split in splits.items():
        if split is not None and (not isinstance(split, tuple | list) or len(split) != 2):
            raise TypeError(f"{name} must be a pair (X, y) or None")
    n_classes = int(max([y_train.max()] + [np.max(s[1]) for s in splits.values() if s])) + 1

    scaler = ZScoreScaler().fit(X_train) if "z-score" in used else None

    def features(X: np.ndarray) -> np.ndarray:
        return (X if scaler is None else scaler.transform(X)).astype(dtype)

    X = features(X_train)
    prepared = {name: (features(s[0]), np.asarray(s[1])) if s is not None else None
                for name, s in splits.items()}
    rows = batch_size if "mini-batch" in used else len(X)
    steps = epochs * math.ceil(len(X) / rows)
    optimizer = Adam(lr) if "Adam" in used else SGD(lr)
    schedule = cosine_decay(lr, t_max=steps) if "lr decay" in used else None
    model = build_network(X.shape[1], n_classes, batch_norm="batch norm" in used,
                          residual="residual" in used, width=width, blocks=blocks, rng=seed,
                          dtype=dtype)
    history = fit(model, softmax_cross_entropy, optimizer, X, y_train, epochs=epochs,
                  batch_size=rows, schedule=schedule, seed=seed,
                  validation=prepared["validation"], track_grad_norms=False)
    test_accuracy = None
    if prepared["test"] is not None:
        test_accuracy = evaluate(model, softmax_cross_entropy, *prepared["test"])[1]
    return RecipeRun(history, test_accuracy, model, scaler)


def _check_used(used: object) -> frozenset[str]:
    if isinstance(used, str):
        raise TypeError(f"used must be a collection of technique names, e.g. {{{used!r}}}, "
                        f"not the string {used!r}")
    try:
        used = frozenset(used)
    except TypeError as err:
        raise TypeError(f"used must be a collection of names from {TECHNIQUES}, "
                        f"got {type(used).__name__}") from err
    unknown = sorted(str(name) for name in used - set(TECHNIQUES))
    if unknown:
        raise ValueError(f"used names unknown techniques {unknown}; choose from {TECHNIQUES}")
    return used
