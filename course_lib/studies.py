"""The lessons' experiments: one training run per setting, and the grids of runs over them.

Each grid runs through ``experiments.run_grid`` and keeps, for every setting, what the
lesson's explorer draws, so that moving a slider redraws from stored runs instead of
training. The networks come from ``networks.mlp``; one ``seed`` gives the initial weights
(``np.random.default_rng(seed)``), the shuffling and, for the default data, the digits drawn
(``data.digits_subset``).

* 05 ``mini_batch_run``, ``mini_batch_runs``: SGD at every batch size and learning rate;
* 07 ``batch_norm_runs`` -> ``BNRun``: plain against batch norm, by depth and learning rate;
* 08 ``residual_runs`` -> ``ResidualRun``: plain against residual, by depth and init;
* 09 ``train_recipe`` -> ``RecipeRun``: the six techniques on one switchboard
  (``TECHNIQUES``), ``tune_lr``: a learning rate from a log grid widened until the choice is
  inside it, and ``recipe_runs``: a configuration x seed ablation of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from course_lib.data import digits_subset
from course_lib.experiments import Results, run_grid
from course_lib.losses import softmax_cross_entropy
from course_lib.networks import MLPConfig, mlp, weight_names
from course_lib.optimizers import SGD, Adam, Momentum
from course_lib.probes import gradient_norms, relu_inputs
from course_lib.scaling import ZScoreScaler
from course_lib.schedules import cosine_decay
from course_lib.stats import bin_fractions
from course_lib.training import History, evaluate, fit, steps_per_epoch
from course_lib.validation import (
    check_array,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
)

__all__ = [
    "RESIDUAL_INITS", "TECHNIQUES", "BNRun", "RecipeRun", "ResidualRun", "batch_norm_runs",
    "mini_batch_run",
    "mini_batch_runs", "recipe_runs", "residual_runs", "train_recipe", "tune_lr",
]


def _check_classification(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """``X`` a 2-D float32/float64 array, ``y`` one integer class label per row."""
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype not in (np.float32, np.float64):
        raise TypeError("X must be a 2-D float32 or float64 array")
    y = np.asarray(y)
    if y.shape != (len(X),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold one integer class label per row of X, got {y.dtype} "
                         f"{y.shape}")
    return X, y


def _classifier(network: MLPConfig | str, X: np.ndarray, n_classes: int, seed: int,
                **changes: object):
    """``mlp(network)`` reading the columns of ``X`` into ``n_classes`` scores, in X's dtype."""
    return mlp(network, in_features=X.shape[1], out_features=n_classes, dtype=X.dtype.name,
               rng=seed, **changes)


# --------------------------------------------------------------------------- 05 mini-batches


def mini_batch_run(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    lr: float,
    seed: int,
    *,
    epochs: int,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    network: MLPConfig | str = "l05_mini_batch",
) -> History:
    """Mini-batch SGD on ``(X, y)``: the ``History`` of one run of lesson 05.

    A fresh ``mlp(network)`` (weights from ``seed``) trained by ``fit`` with ``SGD(lr)`` on
    the mean softmax cross-entropy, ``epochs`` epochs of ``batch_size`` rows shuffled with
    ``seed``, evaluated after every epoch (on ``validation`` too, if given); gradient norms
    are not recorded.
    """
    X, y = _check_classification(X, y)
    n_classes = int(max(y.max(), np.max(validation[1]) if validation else 0)) + 1
    model = _classifier(network, X, n_classes, seed)
    return fit(model, softmax_cross_entropy, SGD(lr), X, y, epochs=epochs,
               batch_size=batch_size, seed=seed, validation=validation, track_grad_norms=False)


def mini_batch_runs(
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    batch_sizes: Sequence[int] = (4, 16, 64, 256, 1024),
    lrs: Sequence[float] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    epochs: int = 3,
    seed: int = 0,
) -> dict[tuple[int, float], History]:
    """``mini_batch_run`` for every batch size and learning rate: ``{(batch_size, lr): History}``.

    All runs start from the same weights (``seed``) and shuffle the same way. Without data,
    1024 z-scored digits drawn with ``seed`` (``digits_subset(1024, seed)``). The input of
    ``widgets.mini_batch_explorer``.
    """
    if X is None or y is None:
        X, y = digits_subset(1024, seed)
    runs = {}

    def run(batch_size: int, lr: float, seed: int) -> dict[str, float]:
        history = mini_batch_run(X, y, batch_size, lr, seed, epochs=epochs)
        runs[int(batch_size), float(lr)] = history
        return {"final_loss": history.train_loss[-1]}

    run_grid(run, {"batch_size": list(batch_sizes), "lr": list(lrs)}, seeds=[seed])
    return runs


# --------------------------------------------------------------------------- 07 batch norm


@dataclass(frozen=True, eq=False)
class BNRun:
    """One trained network of ``batch_norm_runs``.

    ``step_loss``: the mini-batch loss before each step (NaN after a divergence);
    ``histograms``: ``(depth + 1, bins)``, row ``k`` the fraction of the ``k+1``-th ReLU's
    inputs in each bin of ``edges`` after training (in training mode: batch norm uses the
    statistics of the probed rows);
    ``stds``: the standard deviation of each ReLU's inputs (NaN if diverged);
    ``final_loss``: the training-set loss after training, in evaluation mode (NaN if diverged).
    """

    step_loss: np.ndarray
    histograms: np.ndarray
    stds: np.ndarray
    final_loss: float
    diverged: bool


def batch_norm_runs(
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    depths: Sequence[int] = (0, 2, 4, 6, 8),
    lrs: Sequence[float] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    width: int = 24,
    epochs: int = 3,
    batch_size: int = 32,
    seed: int = 0,
    edges: np.ndarray | None = None,
    probe_rows: int = 256,
) -> dict[tuple[int, float, bool], BNRun]:
    """Lesson 07: an ``mlp`` for every depth, learning rate and ``batch_norm`` off and on.

    Each network (``width`` wide, He init, weights from ``seed``: the plain and the batch-norm
    network of one depth share their ``Dense`` weights) is trained by ``fit`` with ``SGD(lr)``
    on softmax cross-entropy for ``epochs`` epochs of ``batch_size`` rows (shuffled by
    ``seed``), in the dtype of ``X``. After training the ReLU inputs of the first
    ``probe_rows`` rows are binned on ``edges`` (default: 40 bins on ``[-4, 4]``) as a training
    step sees them (``probes.relu_inputs(..., training=True)``: batch norm normalises with the
    statistics of these rows). Without data: 384 z-scored digits drawn with ``seed``, in
    float32 (``digits_subset(384, seed, dtype=np.float32)``): small widths, few epochs and
    float32 keep the 60 runs of the defaults to about a second.

    Returns ``{(depth, lr, batch_norm): BNRun}``, the input of ``widgets.batch_norm_explorer``.
    ``len(X) % batch_size`` must not be 1: batch norm refuses a training batch of one row.
    """
    if X is None or y is None:
        X, y = digits_subset(384, seed, dtype=np.float32)
    X, y = _check_classification(X, y)
    batch_size = check_positive_int("batch_size", batch_size)
    if len(X) % batch_size == 1:
        raise ValueError(
            f"len(X) = {len(X)} leaves a last batch of one row with batch_size = {batch_size}, "
            "which batch norm cannot normalise; drop a row or change batch_size"
        )
    depths = [check_nonnegative_int("depths", d) for d in depths]
    lrs = [check_positive("lrs", lr) for lr in lrs]
    if not depths or not lrs:
        raise ValueError("depths and lrs must each hold at least one value")
    probe_rows = check_positive_int("probe_rows", probe_rows)
    edges = np.linspace(-4.0, 4.0, 41) if edges is None else np.asarray(edges, dtype=np.float64)
    if (edges.ndim != 1 or edges.size < 2 or not np.isfinite(edges).all()
            or not np.all(np.diff(edges) > 0)):
        raise ValueError("edges must be an increasing 1-D array of at least two finite bin edges")
    probe = X[:probe_rows]
    n_classes = int(y.max()) + 1
    runs = {}

    def run(depth: int, lr: float, batch_norm: bool, seed: int) -> dict[str, float]:
        model = _classifier("l07_batch_normalization", X, n_classes, seed, depth=depth,
                            width=width, batch_norm=batch_norm)
        history = fit(model, softmax_cross_entropy, SGD(lr), X, y, epochs=epochs,
                      batch_size=batch_size, seed=seed, evaluate=False, track_grad_norms=False)
        final = np.nan
        if not history.diverged:
            final = evaluate(model, softmax_cross_entropy, X, y)[0]
        with np.errstate(all="ignore"):  # a diverged network's values are inf or NaN
            hidden = list(relu_inputs(model, probe, training=True).values())
            histograms = np.array([bin_fractions(z, edges) for z in hidden])
            stds = np.array([np.std(z, dtype=np.float64) for z in hidden])
        diverged = bool(history.diverged or not np.isfinite(final))
        if diverged:
            histograms[...] = 0.0
            stds[...] = np.nan
        runs[depth, lr, batch_norm] = BNRun(history.step_loss, histograms, stds, float(final),
                                            diverged)
        return {"final_loss": final}

    run_grid(run, {"depth": depths, "lr": lrs, "batch_norm": [False, True]}, seeds=[seed])
    return runs


# --------------------------------------------------------------------------- 08 residual layers


@dataclass(frozen=True, eq=False)
class ResidualRun:
    """One trained network of ``residual_runs``.

    ``norms``: ``(epochs + 1, depth + 2)`` gradient norms ``‖∂L/∂W‖`` of every weight matrix
    (``networks.weight_names``: the stem first, the head last); row 0 at initialisation (one
    backward pass over all the rows), row ``k`` the mean over the steps of epoch ``k``;
    ``step_loss``: the mini-batch losses, ``history.step_loss``; ``history``: the ``History``.
    """

    norms: np.ndarray
    step_loss: np.ndarray
    history: History


RESIDUAL_INITS = {"std 0.1": 0.1, "He": "he"}


def residual_runs(
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    depths: Sequence[int] = (2, 4, 8, 16, 32),
    inits: Mapping[str, str | float] | None = None,
    width: int = 32,
    epochs: int = 3,
    batch_size: int = 32,
    lr: float = 0.3,
    seed: int = 0,
) -> dict[tuple[str, str, int], ResidualRun]:
    """Lesson 08: a plain and a residual ``mlp`` for every depth and init.

    Each network (``width`` wide, weights from ``seed``: the plain and the residual network
    share their weights) is trained with ``Momentum(lr, beta=0.9)`` for ``epochs`` epochs of
    ``batch_size`` rows (``fit``, no evaluation passes: cheap), in the dtype of ``X``.
    ``inits`` maps a label to a ``Dense`` init (default ``RESIDUAL_INITS``: a fixed standard
    deviation of 0.1, and He). Without data: 256 digits drawn with ``seed``, z-scored over
    all the digits, in float32 (``digits_subset(256, seed, dtype=np.float32, scale_on="all")``).

    Returns ``{(init_label, kind, depth): ResidualRun}`` with ``kind`` in ``("plain",
    "residual")``, the input of ``widgets.residual_explorer``.
    """
    if X is None or y is None:
        X, y = digits_subset(256, seed, dtype=np.float32, scale_on="all")
    X, y = _check_classification(X, y)
    inits = dict(RESIDUAL_INITS if inits is None else inits)
    n_classes = int(y.max()) + 1
    runs = {}

    def run(init: str, kind: str, depth: int, seed: int) -> dict[str, float]:
        model = _classifier("l08_residual_layers", X, n_classes, seed, depth=depth,
                            width=width, residual=kind == "residual", init=inits[init])
        names = weight_names(model)
        with np.errstate(all="ignore"):  # He-initialised deep residual nets overflow
            model.backward(softmax_cross_entropy(model.forward(X, training=True), y)[1])
        at_init = gradient_norms(model)
        history = fit(model, softmax_cross_entropy, Momentum(lr, beta=0.9), X, y,
                      epochs=epochs, batch_size=batch_size, seed=seed, evaluate=False)
        norms = np.array([[at_init[name] for name in names]]
                         + [[history.grad_norm[name][k] for name in names]
                            for k in range(1, epochs + 1)])
        runs[init, kind, depth] = ResidualRun(norms, history.step_loss, history)
        return {"final_step_loss": history.step_loss[-1]}

    run_grid(run, {"init": list(inits), "kind": ["plain", "residual"], "depth": list(depths)},
             seeds=[seed])
    return runs


# --------------------------------------------------------------------------- 09 the recipe

TECHNIQUES = ("z-score", "mini-batch", "Adam", "lr decay", "batch norm", "residual")


class RecipeRun(NamedTuple):
    """What ``train_recipe`` returns: the ``History``, the test accuracy and the model.

    ``test_accuracy`` is None when no test split was given. ``model`` is the trained network
    (evaluate it with ``training.predict(model, X)`` on features prepared like the training
    rows: z-scored with ``scaler`` when ``"z-score"`` was used, ``scaler`` None otherwise).
    """

    history: History
    test_accuracy: float | None
    model: object
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
    depth: int = 4,
    width: int = 64,
    seed: int = 0,
    dtype: type | np.dtype = np.float64,
) -> RecipeRun:
    """Lesson 09: train a fresh network with the techniques in ``used``; the others are off.

    ``used`` holds names from ``TECHNIQUES``; a technique that is off is replaced by the plain
    thing it improves on. Step by step:

    1. features: with ``"z-score"``, a ``ZScoreScaler`` is fitted on ``X_train`` and
       transforms every split (else the raw features); then all are cast to ``dtype``;
    2. batches: ``batch_size`` rows with ``"mini-batch"``, else all of ``X_train``, one step
       an epoch (``steps = epochs · steps_per_epoch(model, n_train, batch_size)`` updates in
       all: ``ceil(n_train / batch_size)`` per epoch, one fewer when a one-row remainder is
       dropped for batch norm);
    3. optimizer: ``Adam(lr)`` with ``"Adam"``, else ``SGD(lr)``;
    4. schedule: with ``"lr decay"``, ``cosine_decay(lr, t_max=steps)``, from ``lr`` at the
       first step towards 0 after the last; else the constant ``lr``;
    5. network: ``mlp("l09_putting_it_together", batch_norm="batch norm" in used,
       residual="residual" in used, depth=depth, width=width, rng=seed)``, the same layers
       without skips when ``"residual"`` is off;
    6. ``fit`` with the mean softmax cross-entropy for ``epochs`` epochs, shuffled with
       ``seed``, evaluated on ``validation`` after every epoch (gradient norms not recorded),
       then the accuracy on ``test``.

    The same ``seed`` gives the same initial weights and shuffling in every configuration
    that shares the architecture, so configurations are compared seed by seed. The learning
    rate is the caller's: each configuration needs its own (tune it on a validation split,
    never on the test split).
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
    model = _classifier("l09_putting_it_together", X, n_classes, seed, depth=depth,
                        width=width, batch_norm="batch norm" in used,
                        residual="residual" in used)
    steps = epochs * steps_per_epoch(model, len(X), rows)
    optimizer = Adam(lr) if "Adam" in used else SGD(lr)
    schedule = cosine_decay(lr, t_max=steps) if "lr decay" in used else None
    history = fit(model, softmax_cross_entropy, optimizer, X, y_train, epochs=epochs,
                  batch_size=rows, schedule=schedule, seed=seed,
                  validation=prepared["validation"], track_grad_norms=False)
    test_accuracy = None
    if prepared["test"] is not None:
        test_accuracy = evaluate(model, softmax_cross_entropy, *prepared["test"])[1]
    return RecipeRun(history, test_accuracy, model, scaler)


def recipe_runs(
    configs: Mapping[str, Iterable[str]],
    lrs: Mapping[str, float],
    X_train: np.ndarray,
    y_train: np.ndarray,
    *,
    validation: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    seeds: Sequence[int],
    epochs: int,
    target: float,
) -> tuple[Results, dict[tuple[str, int], History]]:
    """Lesson 09's ablation: ``train_recipe`` for every named configuration and seed.

    ``configs`` maps a name to the techniques it uses, ``lrs`` a name to its learning rate.
    Returns the ``run_grid`` results, with the metrics ``test_accuracy`` and
    ``epochs_to_target`` (the first epoch whose validation accuracy reached ``target``,
    ``inf`` if none did), and ``{(name, seed): History}``.
    """
    histories = {}

    def run(config: str, seed: int) -> dict[str, float]:
        result = train_recipe(configs[config], lrs[config], X_train, y_train,
                              validation=validation, test=test, epochs=epochs, seed=seed)
        histories[config, seed] = result.history
        return {"test_accuracy": result.test_accuracy,
                "epochs_to_target": result.history.epochs_to("val_accuracy", target)}

    return run_grid(run, {"config": list(configs)}, seeds=seeds), histories


def tune_lr(
    score: Callable[[float], float],
    grid: Sequence[float],
    *,
    tolerance: float = 0.005,
    max_widenings: int = 4,
) -> tuple[float, dict[float, float]]:
    """Choose a learning rate on a log grid, widening the grid until the choice is interior.

    ``grid``: at least three increasing rates with a constant ratio ``r = grid[k+1]/grid[k]``.
    Every rate is scored once (``score(lr)``, higher is better, a non-finite score counts as
    0); the choice is the smallest rate within ``tolerance`` of the best score,
    ``min{lr : score(lr) >= max score - tolerance}``. While the choice is the first rate of
    the grid, ``grid[0] / r`` is added in front; while it is the last, ``grid[-1] * r`` is
    added at the end (at most ``max_widenings`` times, then the choice stays at the edge).

    Returns ``(lr, {lr: score})`` over the widened grid, in increasing order of ``lr``.
    """
    grid = [check_positive("grid", lr) for lr in grid]
    if len(grid) < 3:
        raise ValueError(f"grid must hold at least three rates, got {len(grid)}")
    ratio = grid[1] / grid[0]
    if ratio <= 1 or not np.allclose(np.diff(np.log(grid)), np.log(ratio), rtol=1e-6):
        raise ValueError(f"grid must increase by a constant ratio, got {grid}")
    tolerance = check_positive("tolerance", tolerance)
    max_widenings = check_nonnegative_int("max_widenings", max_widenings)
    scores: dict[float, float] = {}

    def choose() -> float:
        for lr in grid:
            if lr not in scores:
                value = float(score(lr))
                scores[lr] = value if np.isfinite(value) else 0.0
        best = max(scores[lr] for lr in grid)
        return min(lr for lr in grid if scores[lr] >= best - tolerance)

    chosen = choose()
    for _ in range(max_widenings):
        if chosen == grid[0]:
            grid.insert(0, grid[0] / ratio)
        elif chosen == grid[-1]:
            grid.append(grid[-1] * ratio)
        else:
            break
        chosen = choose()
    return chosen, {lr: scores[lr] for lr in grid}


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
