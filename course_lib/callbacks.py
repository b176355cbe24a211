"""Callbacks: code that ``training.fit`` runs around the epochs, e.g. early stopping.

``fit(..., callbacks=[EarlyStopping(patience=5)])`` calls, for every callback:

    on_fit_start(model, history)          before the first step (refuse bad settings here)
    on_epoch_end(epoch, model, history)   after epoch ``epoch`` was evaluated, and once for
                                          epoch 0 (the model before training); True = stop
    on_fit_end(model, history)            after the last epoch, also after a stop or divergence

Write your own by subclassing ``Callback`` and overriding what you need.
"""

from __future__ import annotations

import math

from course_lib.validation import (
    check_bool,
    check_nonnegative,
    check_nonnegative_int,
    check_positive_int,
    check_real,
)

__all__ = ["Callback", "EarlyStopping", "ReduceLROnPlateau", "ProgressBar"]

_MONITORS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


class Callback:
    """Base class: every hook does nothing, and ``on_epoch_end`` never asks to stop.

    A callback that sets the optimizer's learning rate says so with ``changes_lr = True``;
    ``fit`` then refuses a ``schedule``, which would overwrite the rate at every step.
    """

    changes_lr = False

    def on_fit_start(self, model: object, history: object) -> None:
        """Called before the first step; raise here to refuse a run before anything changes."""

    def on_epoch_end(self, epoch: int, model: object, history: object) -> bool:
        """Called after epoch ``epoch`` is recorded in ``history``; return True to stop."""
        return False

    def on_fit_end(self, model: object, history: object) -> None:
        """Called once when training ends, however it ends."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; restore the best weights.

    A loss improves when it falls below the best value so far by more than ``min_delta``; an
    accuracy when it rises above it by more than ``min_delta``. Epoch 0, the model before
    training, is the first candidate. Training stops after epoch ``k`` when

        k − best_epoch ≥ patience

    With ``restore_best=True`` the model gets the weights (and running statistics) of
    ``best_epoch`` back when training ends, whether it stopped early, ran all its epochs or
    diverged, and ``history.restored_epoch`` says which epoch that was. Keeping the best
    weights costs one copy of them (``model.state_dict()``) per improvement.

    Attributes set by a run: ``best_`` (the best value), ``best_epoch_``, ``stopped_epoch_``
    (``None`` when the run was not stopped by this callback).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 restore_best: bool = True) -> None:
        if monitor not in _MONITORS:
            raise ValueError(f"monitor must be one of {list(_MONITORS)}, got {monitor!r}")
        self.monitor = monitor
        self.patience = check_positive_int("patience", patience)
        self.min_delta = check_nonnegative("min_delta", min_delta)
        self.restore_best = check_bool("restore_best", restore_best)
        self.lower_is_better = monitor.endswith("loss")

    def on_fit_start(self, model: object, history: object) -> None:
        _check_monitored(self, history)
        if self.restore_best and not (hasattr(model, "state_dict")
                                      and hasattr(model, "load_state_dict")):
            raise TypeError("EarlyStopping(restore_best=True) needs a model with state_dict() "
                            "and load_state_dict(), as every course_lib layer has")
        self.best_ = math.inf if self.lower_is_better else -math.inf
        self.best_epoch_: int | None = None
        self.stopped_epoch_: int | None = None
        self._best_state: dict | None = None

    def on_epoch_end(self, epoch: int, model: object, history: object) -> bool:
        value = float(getattr(history, self.monitor)[epoch])
        if self.lower_is_better:
            improved = value < self.best_ - self.min_delta
        else:
            improved = value > self.best_ + self.min_delta
        if improved:  # a NaN never improves
            self.best_, self.best_epoch_ = value, epoch
            if self.restore_best:
                self._best_state = model.state_dict()
        if self.best_epoch_ is not None and epoch - self.best_epoch_ >= self.patience:
            self.stopped_epoch_ = epoch
            return True
        return False

    def on_fit_end(self, model: object, history: object) -> None:
        if self.restore_best and self._best_state is not None:
            model.load_state_dict(self._best_state)
            history.restored_epoch = self.best_epoch_
        self._best_state = None

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, restore_best={self.restore_best})")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    The rule of ``torch.optim.lr_scheduler.ReduceLROnPlateau``, after every epoch ``k >= 1``
    with the monitored value ``a`` (for a loss; an accuracy is the mirror image)::

        improved    = a < best · (1 − threshold)          threshold_mode="rel"
                      a < best − threshold                threshold_mode="abs"
        bad_epochs  = 0 if improved else bad_epochs + 1   (best ← a when improved)
        in a cooldown: one cooldown epoch is used up and bad_epochs = 0
        if bad_epochs > patience:
            lr ← max(lr · factor, min_lr)                 (unless that changes it by < 1e-8)
            then ``cooldown`` epochs in which bad epochs are not counted

    Give it the optimizer that ``fit`` trains with; ``fit`` refuses it together with a
    ``schedule``. Outside ``fit``, call ``step(value)`` once per epoch, as with PyTorch's.
    """

    changes_lr = True

    def __init__(self, optimizer: object, monitor: str = "val_loss", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float = 0.0) -> None:
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"optimizer must have a settable lr (e.g. course_lib.optimizers"
                            f".SGD), got {type(optimizer).__name__}")
        if monitor not in _MONITORS:
            raise ValueError(f"monitor must be one of {list(_MONITORS)}, got {monitor!r}")
        factor = check_real("factor", factor)
        if not 0.0 < factor < 1.0:
            raise ValueError(f"factor must be in (0, 1) (the rate is multiplied by it), "
                             f"got {factor}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f'threshold_mode must be "rel" or "abs", got {threshold_mode!r}')
        self.optimizer = optimizer
        self.monitor = monitor
        self.factor = factor
        self.patience = check_nonnegative_int("patience", patience)
        self.threshold = check_nonnegative("threshold", threshold)
        self.threshold_mode = threshold_mode
        self.cooldown = check_nonnegative_int("cooldown", cooldown)
        self.min_lr = check_nonnegative("min_lr", min_lr)
        self.lower_is_better = monitor.endswith("loss")
        self.reset()

    def reset(self) -> None:
        """Forget the best value and the counters (the learning rate stays as it is)."""
        self.best_ = math.inf if self.lower_is_better else -math.inf
        self.bad_epochs_ = 0
        self.cooldown_left_ = 0

    def improved(self, value: float) -> bool:
        """Is ``value`` better than ``best_`` by more than the threshold?"""
        best, threshold = self.best_, self.threshold
        if self.lower_is_better:
            if self.threshold_mode == "rel":
                return value < best * (1 - threshold)
            return value < best - threshold
        if self.threshold_mode == "rel":
            return value > best * (1 + threshold)
        return value > best + threshold

    def step(self, value: float) -> float:
        """Take the epoch's monitored ``value``; lower the rate if it is time; return the rate."""
        value = float(value)
        if self.improved(value):
            self.best_, self.bad_epochs_ = value, 0
        else:
            self.bad_epochs_ += 1
        if self.cooldown_left_ > 0:
            self.cooldown_left_ -= 1
            self.bad_epochs_ = 0
        if self.bad_epochs_ > self.patience:
            lowered = max(self.optimizer.lr * self.factor, self.min_lr)
            if self.optimizer.lr - lowered > 1e-8:
                self.optimizer.lr = lowered
            self.cooldown_left_, self.bad_epochs_ = self.cooldown, 0
        return self.optimizer.lr

    def on_fit_start(self, model: object, history: object) -> None:
        _check_monitored(self, history)

    def on_epoch_end(self, epoch: int, model: object, history: object) -> bool:
        if epoch > 0:
            self.step(getattr(history, self.monitor)[epoch])
        return False

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(monitor={self.monitor!r}, factor={self.factor}, "
                f"patience={self.patience}, threshold={self.threshold}, "
                f"threshold_mode={self.threshold_mode!r}, cooldown={self.cooldown}, "
                f"min_lr={self.min_lr})")


def _check_monitored(callback: EarlyStopping | ReduceLROnPlateau, history: object) -> None:
    """Raise before training if ``fit`` does not record the metric the callback monitors."""
    monitor = callback.monitor
    if getattr(history, monitor) is None:
        needs = ("fit(..., validation=(X_val, y_val))" if monitor.startswith("val")
                 else "fit(..., evaluate=True)")
        kind = " and integer class labels" if monitor.endswith("accuracy") else ""
        raise ValueError(f"{type(callback).__name__} monitors {monitor!r}, which needs "
                         f"{needs}{kind}")


class ProgressBar(Callback):
    """A ``tqdm`` progress bar over the epochs, showing each epoch's losses and accuracies.

    ``fit(..., verbose=True)`` adds one. ``tqdm.auto`` draws a widget in JupyterLab and text
    on ``stderr`` elsewhere. Without ``evaluate`` it shows the mean loss of the epoch's
    mini-batches instead.
    """

    def on_fit_start(self, model: object, history: object) -> None:
        try:
            from tqdm.auto import tqdm  # the display extra, imported only when a bar is drawn
        except ModuleNotFoundError:
            raise ModuleNotFoundError('the progress bar of fit(verbose=True) is drawn by tqdm: '
                                      'pip install "course_lib[display]"') from None
        self.bar = tqdm(total=history.epochs, desc="fit", unit="epoch")

    def on_epoch_end(self, epoch: int, model: object, history: object) -> bool:
        if epoch == 0:
            return False
        shown = {name: f"{getattr(history, name)[epoch]:.4g}" for name in _MONITORS
                 if getattr(history, name) is not None}
        if not shown:  # evaluate=False: the mean loss of the epoch's mini-batches
            k = history.steps_per_epoch
            shown["step_loss"] = f"{history.step_loss[(epoch - 1) * k : epoch * k].mean():.4g}"
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)
        return False

    def on_fit_end(self, model: object, history: object) -> None:
        self.bar.close()
