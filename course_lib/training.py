"""The training loop: ``fit`` a model with mini-batches and record a ``History``.

One optimizer step ``t`` (counted from 0 over the whole run) is::

    X_b, y_b     = the next shuffled mini-batch
    optimizer.lr = schedule(t)                       (only if a schedule is given)
    loss, dpred  = loss_fn(model.forward(X_b, training=True), y_b)
    model.backward(dpred)                            (fills model.grads; dL/dX is not needed,
                                                      so input_grad=False where the model
                                                      takes it)
    optimizer.step(model.params, model.grads)        (updates model.params in place)

After every epoch the model is evaluated in evaluation mode (``training=False``, so batch
norm uses its running statistics) on the whole training set and, if given, the validation
set. Everything is recorded in a ``History``::

    history = fit(model, softmax_cross_entropy, Adam(1e-3), X, y, epochs=10, batch_size=64,
                  validation=(X_val, y_val))
    history.val_accuracy[-1]                 # after the last epoch
    history.epochs_to("val_accuracy", 0.95)  # first epoch that reached 95 %

A learning rate that is too large does not raise: the run stops at the first non-finite loss
or at the first gradient the optimizer refuses (NaN, infinite, or too large for it: see
``optimizers.GradientError``), ``history.diverged`` is True and the rest of the record is NaN,
so an ablation over learning rates keeps going.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from course_lib.data import minibatches
from course_lib.layers import check_layer, skips_input_grad
from course_lib.losses import accuracy
from course_lib.optimizers import GradientError
from course_lib.validation import (
    check_array,
    check_bool,
    check_callable,
    check_nonnegative_int,
    check_positive_int,
    check_real,
)

__all__ = ["History", "fit", "evaluate", "predict"]

LossFn = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


@dataclass(repr=False, eq=False)
class History:
    """What happened during ``fit``.

    Per optimizer step ``t = 0 … epochs·steps_per_epoch − 1``:

    - ``step_loss[t]``: the loss of mini-batch ``t`` in training mode, before its update;
    - ``step_lr[t]``: the learning rate used for update ``t``.

    Per epoch, indexed by the epoch number ``k = 0 … epochs``, where **index 0 is the model
    before training** (so every curve starts at the initial loss) and index ``k`` is the model
    after ``k`` epochs, all in evaluation mode (``training=False``):

    - ``train_loss[k]``, ``train_accuracy[k]``: on the whole training set;
    - ``val_loss[k]``, ``val_accuracy[k]``: on the validation set (``None`` without one);
    - ``grad_norm[name][k]``: the mean over the steps of epoch ``k`` of ``‖∂L/∂name‖``
      (the Euclidean norm of that gradient), for every parameter name (``"0.W"``, ``"1.gamma"``
      …); ``grad_norm[name][0]`` is NaN, as no step came before training. Empty when ``fit``
      was called with ``track_grad_norms=False``.

    The accuracies are ``None`` when the targets are not integer class labels (regression);
    all four are ``None`` after ``fit(..., evaluate=False)``.

    ``diverged`` is True when a loss became NaN or infinite, or the optimizer refused a gradient
    (``optimizers.GradientError``: NaN, infinite, or too large for it); training stopped
    there and everything after it is NaN. ``seconds`` is the wall-clock time of ``fit``.
    """

    epochs: int
    steps_per_epoch: int
    step_loss: np.ndarray
    step_lr: np.ndarray
    train_loss: np.ndarray | None = None
    train_accuracy: np.ndarray | None = None
    val_loss: np.ndarray | None = None
    val_accuracy: np.ndarray | None = None
    grad_norm: dict[str, np.ndarray] = field(default_factory=dict)
    diverged: bool = False
    seconds: float = 0.0

    def epochs_to(self, metric: str, target: float) -> float:
        """The first epoch ``k`` at which ``metric`` reached ``target``, or ``math.inf``.

        For a loss (a name ending in ``"loss"``) reaching means ``value <= target``; for an
        accuracy it means ``value >= target``. Epoch 0 counts (the model before training).
        ``math.inf`` means "not within the epochs that were run" (or diverged first); it is a
        float, so it can go straight into ``experiments.summarize``, which reports it apart.
        """
        if metric not in _EPOCH_METRICS:
            raise ValueError(f"metric must be one of {list(_EPOCH_METRICS)}, got {metric!r}")
        target = check_real("target", target)
        values = getattr(self, metric)
        if values is None:
            raise ValueError(f"this history has no {metric} (see the History docstring)")
        reached = values <= target if metric.endswith("loss") else values >= target
        hits = np.flatnonzero(reached)
        return float(hits[0]) if hits.size else math.inf

    def __repr__(self) -> str:
        last = []
        for name in _EPOCH_METRICS:
            values = getattr(self, name)
            if values is not None:
                last.append(f"{name}={values[-1]:.4g}")
        return (
            f"History(epochs={self.epochs}, steps_per_epoch={self.steps_per_epoch}, "
            f"diverged={self.diverged}" + (f", final {', '.join(last)})" if last else ")")
        )


_EPOCH_METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


def predict(model: object, X: np.ndarray) -> np.ndarray:
    """The model's output for ``X`` in evaluation mode: ``model.forward(X, training=False)``."""
    check_layer("model", model)
    return model.forward(check_array("X", X, ndim=2), training=False)


def evaluate(
    model: object, loss: LossFn, X: np.ndarray, y: np.ndarray
) -> tuple[float, float | None]:
    """``(loss, accuracy)`` of the model on ``(X, y)`` in evaluation mode, in one pass.

    ``accuracy`` is the fraction of rows whose largest output is at the label; it is computed
    only when ``y`` holds integer class labels, and is ``None`` otherwise.
    """
    check_layer("model", model)
    _check_loss(loss)
    X, y = _check_data("X", "y", X, y)
    with np.errstate(all="ignore"):
        return _evaluate(model, loss, X, y)


def _evaluate(
    model: object, loss: LossFn, X: np.ndarray, y: np.ndarray
) -> tuple[float, float | None]:
    pred = model.forward(X, training=False)
    value = loss(pred, y)[0]
    acc = accuracy(pred, y) if _is_labels(y) else None
    return value, acc


def fit(
    model: object,
    loss: LossFn,
    optimizer: object,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    schedule: Callable[[int], float] | None = None,
    seed: int = 0,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    evaluate: bool = True,
    track_grad_norms: bool = True,
) -> History:
    """Train ``model`` in place with mini-batch gradient steps; return the ``History``.

    Parameters
    ----------
    model : a layer with ``forward(x, training)``, ``backward(dy)``, ``params`` and ``grads``
        (a ``Sequential``, for example). It is trained in place.
    loss : ``(pred, target) -> (loss, dpred)``, e.g. ``losses.softmax_cross_entropy`` or
        ``losses.mse``.
    optimizer : has ``step(params, grads)`` and a settable ``lr`` (``course_lib.optimizers``).
    X : ``(n_samples, n_features)``, finite, of the model's dtype (nothing is cast).
    y : one target per row of ``X``: integer labels (then accuracies are recorded) or floats.
    epochs : number of passes over the data (>= 1).
    batch_size : rows per mini-batch (>= 1); an epoch has ``ceil(n_samples / batch_size)``
        steps, the last one with the left-over rows.
    schedule : ``t -> lr``, called before every step ``t`` (counted from 0 over the whole run,
        not per epoch); the optimizer is left at the last scheduled rate. For a rate that
        changes once per epoch, give ``lambda t: per_epoch_schedule(t // steps_per_epoch)``
        with ``steps_per_epoch = math.ceil(len(X) / batch_size)``.
    seed : the shuffling: one ``np.random.default_rng(seed)`` made at the start shuffles
        every epoch differently, and the same seed (with a model built the same way) gives
        the same history, number for number.
    validation : optional ``(X_val, y_val)``, evaluated after every epoch.
    evaluate : evaluate before training and after every epoch (default). ``False`` skips it,
        for timing the bare training loop: the per-epoch losses and accuracies are then
        ``None`` (an evaluation pass over the training set costs about a third of an epoch).
    track_grad_norms : record ``History.grad_norm`` (one dot product per parameter and step).

    Returns
    -------
    History (see its docstring; per-epoch arrays have ``epochs + 1`` entries, index 0 is
    before training). NumPy's overflow warnings are silenced inside ``fit``: a diverging run
    is reported by ``History.diverged`` instead.
    """
    check_layer("model", model)
    _check_loss(loss)
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "lr")):
        raise TypeError(
            "optimizer must have step(params, grads) and lr (e.g. course_lib.optimizers.Adam), "
            f"got {type(optimizer).__name__}"
        )
    X, y = _check_data("X", "y", X, y)
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    seed = check_nonnegative_int("seed", seed)
    if schedule is not None:
        check_callable("schedule", schedule, "a callable t -> lr")
    if validation is not None:
        if not isinstance(validation, Sequence) or len(validation) != 2:
            raise TypeError("validation must be a pair (X_val, y_val) or None")
        validation = _check_data("X_val", "y_val", *validation)
    evaluate = check_bool("evaluate", evaluate)
    track_grad_norms = check_bool("track_grad_norms", track_grad_norms)
    if validation is not None and not evaluate:
        raise ValueError("validation needs evaluate=True (it is evaluated after every epoch)")

    start = time.perf_counter()
    steps_per_epoch = math.ceil(len(X) / batch_size)
    n_steps = epochs * steps_per_epoch
    nan_epochs = np.full(epochs + 1, np.nan)
    labels = evaluate and _is_labels(y)
    val_labels = validation is not None and _is_labels(validation[1])
    history = History(
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        step_loss=np.full(n_steps, np.nan),
        step_lr=np.full(n_steps, np.nan),
        train_loss=nan_epochs.copy() if evaluate else None,
        train_accuracy=nan_epochs.copy() if labels else None,
        val_loss=nan_epochs.copy() if validation is not None else None,
        val_accuracy=nan_epochs.copy() if val_labels else None,
        grad_norm={name: nan_epochs.copy() for name in model.grads} if track_grad_norms else {},
    )
    params, grads = model.params, model.grads
    norm_names = list(history.grad_norm)
    # dL/dX is never used here: the model skips computing it if it can (skips_input_grad)
    without_input_grad = {"input_grad": False} if skips_input_grad(model) else {}
    rng = np.random.default_rng(seed)
    t = 0
    with np.errstate(all="ignore"):
        if evaluate:
            _record_epoch(history, 0, model, loss, X, y, validation)
        for epoch in range(1, epochs + 1):
            norm_sums = [0.0] * len(norm_names)
            for X_batch, y_batch in minibatches(X, y, batch_size, rng):
                if schedule is not None:
                    optimizer.lr = schedule(t)
                history.step_lr[t] = optimizer.lr
                value, dpred = loss(model.forward(X_batch, training=True), y_batch)
                history.step_loss[t] = value
                if not math.isfinite(value):
                    history.diverged = True
                    break
                model.backward(dpred, **without_input_grad)
                for i, name in enumerate(norm_names):
                    g = grads[name]
                    # ‖g‖ = sqrt(sum of g²): one dot product of the flattened gradient
                    norm_sums[i] += math.sqrt(np.vdot(g, g))
                if not _step(optimizer, params, grads):
                    history.diverged = True
                    break
                t += 1
            if history.diverged:
                break
            for i, name in enumerate(norm_names):
                history.grad_norm[name][epoch] = norm_sums[i] / steps_per_epoch
            if evaluate:
                _record_epoch(history, epoch, model, loss, X, y, validation)
                if not math.isfinite(history.train_loss[epoch]):
                    history.diverged = True
                    break
    history.seconds = time.perf_counter() - start
    return history


def _step(optimizer: object, params: dict, grads: dict) -> bool:
    """``optimizer.step``; False (instead of an error) when it refuses the gradients.

    The optimizers refuse, with ``GradientError``, a gradient that is NaN, infinite or too
    large for them (``Optimizer.gradient_limit``), and change nothing; any other error is raised.
    """
    try:
        optimizer.step(params, grads)
    except GradientError:
        return False
    return True


def _record_epoch(history: History, k: int, model, loss, X, y, validation) -> None:
    """Evaluate after ``k`` epochs and write the results at index ``k``."""
    history.train_loss[k], train_acc = _evaluate(model, loss, X, y)
    if history.train_accuracy is not None:
        history.train_accuracy[k] = train_acc
    if validation is not None:
        history.val_loss[k], val_acc = _evaluate(model, loss, *validation)
        if history.val_accuracy is not None:
            history.val_accuracy[k] = val_acc


def _is_labels(y: np.ndarray) -> bool:
    """Integer class labels (a classification problem): accuracy makes sense."""
    return y.ndim == 1 and np.issubdtype(y.dtype, np.integer)


def _check_loss(loss: object) -> None:
    check_callable("loss", loss, "a function (pred, target) -> (loss, dpred), e.g. "
                   "course_lib.losses.softmax_cross_entropy")


def _check_data(x_name: str, y_name: str, X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """``X`` 2-D and finite, ``y`` numeric with one entry per row (labels stay integers)."""
    X = check_array(x_name, X, ndim=2)
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != len(X):
        raise ValueError(
            f"{y_name} must have one target per row of {x_name}: len({x_name}) = {len(X)}, "
            f"got {y_name} of shape {y.shape}"
        )
    if len(X) == 0:
        raise ValueError(f"{x_name} must contain at least one sample, got shape {X.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        check_array(y_name, y)  # numeric and finite
    return X, y
