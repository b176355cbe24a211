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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from course_lib.callbacks import Callback, ProgressBar
from course_lib.data import minibatches
from course_lib.layers import check_layer, skips_input_grad, uses_batch_statistics
from course_lib.losses import accuracy
from course_lib.optimizers import GradientError
from course_lib.schedules import plan
from course_lib.validation import (
    check_array,
    check_bool,
    check_callable,
    check_nonnegative_int,
    check_positive_int,
    check_real,
)

__all__ = ["History", "fit", "steps_per_epoch", "evaluate", "predict", "Model", "OptimizerLike",
           "LossFn"]

LossFn = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


class Model(Protocol):
    """What ``fit`` trains: a layer, e.g. a ``course_lib.layers.Sequential``."""

    params: Mapping[str, np.ndarray]
    grads: Mapping[str, np.ndarray]

    def forward(self, x: np.ndarray, training: bool = ...) -> np.ndarray: ...

    def backward(self, dy: np.ndarray) -> np.ndarray | None: ...


class OptimizerLike(Protocol):
    """What ``fit`` steps with: a settable ``lr`` and ``step``, e.g. ``optimizers.Adam``."""

    lr: float

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
             ) -> None: ...


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

    ``stopped_epoch`` is the epoch after which a callback stopped the run (the arrays then end
    there, and ``epochs`` is the number of epochs run), ``restored_epoch`` the epoch whose
    weights ``EarlyStopping(restore_best=True)`` put back (both ``None`` otherwise).
    ``first_step`` is the step ``t`` of ``step_loss[0]`` (0, or where a resumed run went on);
    ``rng_state`` is the state of the shuffling at the end, which ``fit(resume=history)``
    continues from.
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
    stopped_epoch: int | None = None
    restored_epoch: int | None = None
    first_step: int = 0
    rng_state: dict | None = None

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
        stops = "".join(f", {name}={getattr(self, name)}"
                        for name in ("stopped_epoch", "restored_epoch")
                        if getattr(self, name) is not None)
        return (
            f"History(epochs={self.epochs}, steps_per_epoch={self.steps_per_epoch}, "
            f"diverged={self.diverged}{stops}" + (f", final {', '.join(last)})" if last else ")")
        )


_EPOCH_METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


def predict(model: Model, X: np.ndarray) -> np.ndarray:
    """The model's output for ``X`` in evaluation mode: ``model.forward(X, training=False)``."""
    check_layer("model", model)
    return model.forward(check_array("X", X, ndim=2), training=False)


def evaluate(
    model: Model, loss: LossFn, X: np.ndarray, y: np.ndarray
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
    model: Model,
    loss: LossFn,
    optimizer: OptimizerLike,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    schedule: Callable[[int], float] | None = None,
    seed: int | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    evaluate: bool = True,
    track_grad_norms: bool = True,
    drop_last: bool | None = None,
    callbacks: Sequence[Callback] = (),
    resume: History | None = None,
    verbose: bool = False,
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
        steps, the last one with the left-over rows (``n_samples // batch_size`` steps when
        the left-over rows are dropped, see ``drop_last``).
    schedule : ``t -> lr``, called before every step ``t`` (counted from 0 over the whole run,
        not per epoch); the optimizer is left at the last scheduled rate. Every planned rate is
        computed and checked (finite, > 0) before the first step (``schedules.plan``). For a
        rate that changes once per epoch, give ``lambda t: per_epoch_schedule(t // k)`` with
        ``k = steps_per_epoch(model, len(X), batch_size)``.
    seed : the shuffling (default 0): one ``np.random.default_rng(seed)`` made at the start
        shuffles every epoch differently, and the same seed (with a model built the same way)
        gives the same history, number for number.
    validation : optional ``(X_val, y_val)``, evaluated after every epoch.
    evaluate : evaluate before training and after every epoch (default). ``False`` skips it,
        for timing the bare training loop: the per-epoch losses and accuracies are then
        ``None`` (an evaluation pass over the training set costs about a third of an epoch).
    track_grad_norms : record ``History.grad_norm`` (one dot product per parameter and step).
    drop_last : drop the last, smaller mini-batch of every epoch (``True``) or train on it
        (``False``). The default, ``None``, keeps it, except that a one-row remainder is
        dropped when the model has a ``BatchNorm``, which cannot train on a single row (a
        different row each epoch, as the rows are shuffled). ``drop_last=False`` with such a
        model and remainder is refused.
    callbacks : ``course_lib.callbacks.Callback`` objects, e.g. ``EarlyStopping``. A callback
        that stops the run leaves a History of the epochs that were run.
    resume : the History of an earlier ``fit`` of this model: this run continues it, as if
        the two were one. The schedule goes on from the step where it stopped, and the
        shuffling from the random state it had reached (so ``seed`` must be left out). Use
        the same data and batch size. The returned History holds the new epochs only; its
        ``first_step`` says where they start.
    verbose : draw a progress bar with the last epoch's losses: the same as adding
        ``callbacks.ProgressBar()`` (``tqdm``: a widget bar in JupyterLab, text elsewhere).

    Returns
    -------
    History (see its docstring; per-epoch arrays have ``epochs + 1`` entries, index 0 is
    before training). NumPy's overflow warnings are silenced inside ``fit``: a diverging run
    is reported by ``History.diverged`` instead.

    Bad arguments, a schedule that reaches 0 or NaN within the run, labels the model's outputs
    cannot hold and mini-batches that BatchNorm cannot train on all raise before the first
    step, so a refused ``fit`` leaves the model and the optimizer as they were.
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
    if schedule is not None:
        check_callable("schedule", schedule, "a callable t -> lr")
    if validation is not None:
        if not isinstance(validation, Sequence) or len(validation) != 2:
            raise TypeError("validation must be a pair (X_val, y_val) or None")
        validation = _check_data("X_val", "y_val", *validation)
    evaluate = check_bool("evaluate", evaluate)
    track_grad_norms = check_bool("track_grad_norms", track_grad_norms)
    verbose = check_bool("verbose", verbose)
    if validation is not None and not evaluate:
        raise ValueError("validation needs evaluate=True (it is evaluated after every epoch)")
    callbacks = _check_callbacks(callbacks, optimizer, schedule)
    if verbose:
        callbacks.append(ProgressBar())
    drop_last = _check_drop_last(drop_last, model, len(X), batch_size)

    start = time.perf_counter()
    per_epoch = len(X) // batch_size if drop_last else math.ceil(len(X) / batch_size)
    first_step, rng = _shuffling(resume, seed, per_epoch)
    n_steps = epochs * per_epoch
    rates = plan(schedule, n_steps, first_step) if schedule is not None else None
    if rates is not None:
        _check_rates_with(optimizer, rates)
    if not evaluate:  # the first evaluation would find bad labels; without it, try two rows
        _check_targets(model, loss, X, y)
    nan_epochs = np.full(epochs + 1, np.nan)
    labels = evaluate and _is_labels(y)
    val_labels = validation is not None and _is_labels(validation[1])
    history = History(
        epochs=epochs,
        steps_per_epoch=per_epoch,
        step_loss=np.full(n_steps, np.nan),
        step_lr=np.full(n_steps, np.nan),
        train_loss=nan_epochs.copy() if evaluate else None,
        train_accuracy=nan_epochs.copy() if labels else None,
        val_loss=nan_epochs.copy() if validation is not None else None,
        val_accuracy=nan_epochs.copy() if val_labels else None,
        grad_norm={name: nan_epochs.copy() for name in model.grads} if track_grad_norms else {},
        first_step=first_step,
    )
    for callback in callbacks:
        callback.on_fit_start(model, history)
    params, grads = model.params, model.grads
    norm_names = list(history.grad_norm)
    # dL/dX is never used here: the model skips computing it if it can (skips_input_grad)
    without_input_grad = {"input_grad": False} if skips_input_grad(model) else {}
    t = 0
    with np.errstate(all="ignore"):
        if evaluate:
            _record_epoch(history, 0, model, loss, X, y, validation)
        if _epoch_end(callbacks, 0, model, history):
            history.stopped_epoch = 0
        for epoch in range(1, epochs + 1):
            if history.stopped_epoch is not None:
                break
            norm_sums = [0.0] * len(norm_names)
            for X_batch, y_batch in minibatches(X, y, batch_size, rng, drop_last=drop_last):
                if rates is not None:
                    optimizer.lr = rates[t]
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
                history.grad_norm[name][epoch] = norm_sums[i] / per_epoch
            if evaluate:
                _record_epoch(history, epoch, model, loss, X, y, validation)
                if not math.isfinite(history.train_loss[epoch]):
                    history.diverged = True
                    break
            if _epoch_end(callbacks, epoch, model, history):
                history.stopped_epoch = epoch
        history.rng_state = rng.bit_generator.state
        if history.stopped_epoch is not None:
            _keep_epochs(history, history.stopped_epoch)
        for callback in callbacks:
            callback.on_fit_end(model, history)
    history.seconds = time.perf_counter() - start
    return history


def _check_callbacks(callbacks: object, optimizer: object, schedule: object) -> list[Callback]:
    if not isinstance(callbacks, Sequence) or isinstance(callbacks, str):
        raise TypeError("callbacks must be a list of Callback objects, e.g. "
                        f"[EarlyStopping(patience=5)], got {type(callbacks).__name__}")
    for i, callback in enumerate(callbacks):
        if not isinstance(callback, Callback):
            raise TypeError(f"callbacks[{i}] must be a course_lib.callbacks.Callback (subclass "
                            f"it to write your own), got {type(callback).__name__}")
        if callback.changes_lr and schedule is not None:
            raise ValueError(f"callbacks[{i}] ({type(callback).__name__}) sets the learning "
                             "rate, and so does schedule: give one or the other")
        if getattr(callback, "optimizer", optimizer) is not optimizer:
            raise ValueError(f"callbacks[{i}] ({type(callback).__name__}) adjusts another "
                             "optimizer than the one fit trains with: give it that one")
    return list(callbacks)


def steps_per_epoch(model: Model, n_samples: int, batch_size: int,
                    drop_last: bool | None = None) -> int:
    """The number of steps in an epoch of ``fit(model, ..., batch_size=, drop_last=)``.

    ``ceil(n_samples / batch_size)``, or ``n_samples // batch_size`` when the last, smaller
    batch is dropped (``drop_last=True``, or the default for a model with BatchNorm and one
    row left over: see ``fit``). Plan a schedule over ``epochs · steps_per_epoch(...)`` steps.
    """
    check_layer("model", model)
    n_samples = check_positive_int("n_samples", n_samples)
    batch_size = check_positive_int("batch_size", batch_size)
    if _check_drop_last(drop_last, model, n_samples, batch_size):
        return n_samples // batch_size
    return math.ceil(n_samples / batch_size)


def _check_drop_last(drop_last: object, model: object, n_samples: int, batch_size: int) -> bool:
    """``drop_last`` as a bool: the default drops a one-row remainder that BatchNorm refuses."""
    batch_norm = uses_batch_statistics(model)
    if batch_norm and batch_size == 1:
        raise ValueError("batch_size must be >= 2 for a model with BatchNorm, which estimates "
                         "a variance from each training batch")
    one_row_left = n_samples % batch_size == 1
    if drop_last is None:
        drop_last = batch_norm and one_row_left
    elif check_bool("drop_last", drop_last) is False and batch_norm and one_row_left:
        raise ValueError(
            f"the last mini-batch of every epoch would have 1 row ({n_samples} rows, batch_size "
            f"{batch_size}), which BatchNorm cannot train on: leave drop_last at its default "
            "(None), set drop_last=True or choose another batch_size"
        )
    if drop_last and n_samples < batch_size:
        raise ValueError(f"drop_last=True with batch_size {batch_size} above the {n_samples} "
                         "rows of X leaves no mini-batch to train on")
    return drop_last


def _shuffling(resume: object, seed: object, steps_per_epoch: int
               ) -> tuple[int, np.random.Generator]:
    """The first step ``t`` of this run and its shuffling generator (fresh, or resumed)."""
    if resume is None:
        seed = 0 if seed is None else check_nonnegative_int("seed", seed)
        return 0, np.random.default_rng(seed)
    if not isinstance(resume, History):
        raise TypeError(f"resume must be the History of an earlier fit, got "
                        f"{type(resume).__name__}")
    if seed is not None:
        raise ValueError("a resumed run continues the shuffling of the run it resumes: leave "
                         "seed out when you give resume")
    if resume.diverged or resume.rng_state is None:
        raise ValueError("resume must be the History of a fit that ran to its end or was "
                         "stopped by a callback, not of a diverged run")
    if resume.steps_per_epoch != steps_per_epoch:
        raise ValueError(
            f"resume continues a run of {resume.steps_per_epoch} steps per epoch, but this one "
            f"has {steps_per_epoch}: give the same X and batch_size as the run it continues"
        )
    rng = np.random.default_rng()
    rng.bit_generator.state = resume.rng_state
    return resume.first_step + resume.epochs * resume.steps_per_epoch, rng


def _check_rates_with(optimizer: object, rates: list[float]) -> None:
    """Raise (before training) if the optimizer refuses a planned rate with its other settings.

    ``optimizer.check_hyperparameters()`` (AdamW: ``lr·weight_decay < 1``) is tried at the
    largest planned rate, then the optimizer's own rate is put back.
    """
    check = getattr(optimizer, "check_hyperparameters", None)
    if check is None:
        return
    own, largest = optimizer.lr, max(rates)
    try:
        optimizer.lr = largest
        check()
    except ValueError as error:
        step = rates.index(largest)
        raise ValueError(f"the schedule's rate at its step {step}, {largest:g}, is refused by "
                         f"the optimizer: {error}") from None
    finally:
        optimizer.lr = own


def _check_targets(model: object, loss: LossFn, X: np.ndarray, y: np.ndarray) -> None:
    """Raise (before training) if the loss refuses the model's outputs for ``y``.

    Labels: the rows with the smallest and the largest label, so a label the outputs cannot
    hold is found; other targets: the first row. In evaluation mode, so nothing is trained.
    """
    rows = [int(np.argmin(y)), int(np.argmax(y))] if _is_labels(y) else [0]
    with np.errstate(all="ignore"):
        loss(model.forward(X[rows], training=False), y[rows])


def _epoch_end(callbacks: list[Callback], epoch: int, model: object, history: History) -> bool:
    """Call every callback's ``on_epoch_end``; True if any of them asks to stop."""
    stops = [callback.on_epoch_end(epoch, model, history) for callback in callbacks]
    return any(stops)


def _keep_epochs(history: History, epochs: int) -> None:
    """Cut ``history`` to its first ``epochs`` epochs (a run stopped early)."""
    history.epochs = epochs
    steps = epochs * history.steps_per_epoch
    history.step_loss, history.step_lr = history.step_loss[:steps], history.step_lr[:steps]
    for name in _EPOCH_METRICS:
        values = getattr(history, name)
        if values is not None:
            setattr(history, name, values[: epochs + 1])
    history.grad_norm = {name: values[: epochs + 1] for name, values in history.grad_norm.items()}


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
