"""Tests for course_lib.callbacks: EarlyStopping inside fit, and the Callback hooks.

The reference for a restored model is a second run of the same seed for exactly the best
epoch's number of epochs: early stopping must give back those weights, bit for bit.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from course_lib.callbacks import Callback, EarlyStopping, ReduceLROnPlateau
from course_lib.data import load_digits, train_test_split
from course_lib.layers import BatchNorm, Dense, ReLU, Sequential
from course_lib.losses import softmax_cross_entropy
from course_lib.optimizers import SGD, Adam
from course_lib.schedules import constant
from course_lib.training import fit

PLATEAU = np.load(Path(__file__).parent / "fixtures" / "plateau.npz")
PLATEAU_CONFIGS = json.loads(str(PLATEAU["configs"]))

DIGITS = load_digits()
X_TRAIN, X_VAL, Y_TRAIN, Y_VAL = train_test_split(DIGITS.X[:600] / 16, DIGITS.y[:600], 0.5,
                                                  rng=0)


def net():
    return Sequential(Dense(64, 64, rng=0), BatchNorm(64), ReLU(), Dense(64, 10, rng=1))


def train(epochs, callbacks=(), lr=3e-2):
    """A run that overfits: the validation loss has its minimum after a few epochs."""
    model = net()
    history = fit(model, softmax_cross_entropy, Adam(lr), X_TRAIN, Y_TRAIN, epochs=epochs,
                  batch_size=32, validation=(X_VAL, Y_VAL), callbacks=callbacks)
    return model, history


def test_early_stopping_stops_after_patience_epochs_and_restores_the_best_weights(same_state):
    stopper = EarlyStopping(monitor="val_loss", patience=3)
    model, history = train(40, [stopper])
    _, full = train(40)
    best = int(np.argmin(full.val_loss[: history.stopped_epoch + 1]))
    assert history.stopped_epoch == best + 3 < 40
    assert history.restored_epoch == stopper.best_epoch_ == best
    assert stopper.best_ == full.val_loss[best]
    # the arrays end at the stop, and agree with the run that was not stopped
    assert history.epochs == history.stopped_epoch and len(history.val_loss) == best + 4
    assert len(history.step_loss) == history.epochs * history.steps_per_epoch
    np.testing.assert_array_equal(history.val_loss, full.val_loss[: best + 4])
    # restored: the very weights and running statistics of a run of `best` epochs
    reference, _ = train(best)
    same_state(model.state_dict(), reference.state_dict())
    assert "stopped_epoch" in repr(history) and "restored_epoch" in repr(history)


def test_an_accuracy_is_monitored_upwards_and_min_delta_demands_a_real_improvement():
    stopper = EarlyStopping(monitor="val_accuracy", patience=2, min_delta=0.5)
    _, history = train(10, [stopper])
    # no epoch gains 50 points over the one before training... except the first: 10 % -> 90 %
    first_gain = history.val_accuracy[1] - history.val_accuracy[0]
    assert first_gain > 0.5
    assert stopper.best_epoch_ == 1 and history.stopped_epoch == 3


def test_without_restore_best_the_last_weights_stay():
    model, history = train(40, [EarlyStopping(patience=2, restore_best=False)])
    reference, _ = train(history.stopped_epoch)
    np.testing.assert_array_equal(model.params["0.W"], reference.params["0.W"])
    assert history.restored_epoch is None


def test_the_best_weights_come_back_when_the_run_ends_without_a_stop():
    stopper = EarlyStopping(patience=100)
    model, history = train(8, [stopper])
    assert history.stopped_epoch is None and history.epochs == 8
    reference, _ = train(history.restored_epoch)
    np.testing.assert_array_equal(model.params["3.W"], reference.params["3.W"])


def test_every_hook_is_called_in_order_with_epoch_0_first():
    class Recorder(Callback):
        def __init__(self):
            self.calls = []

        def on_fit_start(self, model, history):
            self.calls.append("start")

        def on_epoch_end(self, epoch, model, history):
            self.calls.append(epoch)
            assert math.isfinite(history.val_loss[epoch])
            return epoch == 2

        def on_fit_end(self, model, history):
            self.calls.append("end")

    recorder = Recorder()
    _, history = train(5, [recorder, EarlyStopping(patience=50)])
    assert recorder.calls == ["start", 0, 1, 2, "end"]
    assert history.stopped_epoch == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"monitor": "val_los"}, ValueError, "monitor must be one of"),
        ({"patience": 0}, ValueError, "patience"),
        ({"patience": 2.5}, TypeError, "patience"),
        ({"min_delta": -1}, ValueError, "min_delta"),
        ({"restore_best": "yes"}, TypeError, "restore_best"),
    ],
)
def test_bad_settings_are_refused_naming_them(kwargs, error, message):
    with pytest.raises(error, match=message):
        EarlyStopping(**kwargs)


def test_a_monitored_metric_that_fit_does_not_record_is_refused_before_training():
    model = net()
    before = model.params["0.W"].copy()
    with pytest.raises(ValueError, match="val_accuracy.*validation"):
        fit(model, softmax_cross_entropy, Adam(1e-2), X_TRAIN, Y_TRAIN, epochs=3, batch_size=32,
            callbacks=[EarlyStopping("val_accuracy")])
    np.testing.assert_array_equal(model.params["0.W"], before)


# --- ReduceLROnPlateau ------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["plateau_default", "plateau_abs_cooldown", "plateau_max_rel"])
def test_reduce_on_plateau_lowers_the_rate_exactly_when_torch_does(case):
    c = PLATEAU_CONFIGS[case]
    arguments = dict(c["arguments"])
    monitor = "val_accuracy" if arguments.pop("mode", "min") == "max" else "val_loss"
    optimizer = SGD(c["lr0"])
    reducer = ReduceLROnPlateau(optimizer, monitor=monitor, **arguments)
    lrs = [reducer.step(metric) for metric in c["metrics"]]
    np.testing.assert_allclose(lrs, PLATEAU[case], rtol=1e-15)
    assert len(set(lrs)) >= 3  # the case lowers the rate more than once


def test_reduce_on_plateau_inside_fit_sets_the_rate_of_the_next_epochs_steps():
    optimizer = SGD(0.5)
    reducer = ReduceLROnPlateau(optimizer, monitor="train_loss", factor=0.5, patience=0,
                                threshold=10.0, threshold_mode="abs")  # only inf improves
    history = fit(net(), softmax_cross_entropy, optimizer, X_TRAIN, Y_TRAIN, epochs=4,
                  batch_size=100, callbacks=[reducer])
    per_epoch = history.step_lr.reshape(4, history.steps_per_epoch)
    assert np.all(per_epoch == per_epoch[:, :1])  # one rate per epoch
    # epoch 1 improves on inf; every later epoch is a bad one, and patience 0 halves at once
    np.testing.assert_array_equal(per_epoch[:, 0], [0.5, 0.5, 0.25, 0.125])
    assert optimizer.lr == 0.0625


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda opt: dict(schedule=constant(0.1), callbacks=[ReduceLROnPlateau(opt)]),
         "give one or the other"),
        (lambda opt: dict(callbacks=[ReduceLROnPlateau(SGD(0.1))]), "another optimizer"),
        (lambda opt: dict(callbacks=[ReduceLROnPlateau(opt)], validation=None), "validation"),
    ],
    ids=["with a schedule", "of another optimizer", "without validation"],
)
def test_reduce_on_plateau_is_refused_where_it_cannot_work(make, message):
    optimizer = SGD(0.1)
    kwargs = {"validation": (X_VAL, Y_VAL), **make(optimizer)}
    model = net()
    before = model.params["0.W"].copy()
    with pytest.raises(ValueError, match=message):
        fit(model, softmax_cross_entropy, optimizer, X_TRAIN, Y_TRAIN, epochs=2, batch_size=32,
            **kwargs)
    np.testing.assert_array_equal(model.params["0.W"], before)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"factor": 1.0}, ValueError, "factor"),
        ({"factor": 0}, ValueError, "factor"),
        ({"patience": -1}, ValueError, "patience"),
        ({"threshold_mode": "relative"}, ValueError, "threshold_mode"),
        ({"cooldown": 1.5}, TypeError, "cooldown"),
        ({"min_lr": -0.1}, ValueError, "min_lr"),
        ({"monitor": "loss"}, ValueError, "monitor"),
    ],
)
def test_reduce_on_plateau_refuses_bad_settings_naming_them(kwargs, error, message):
    with pytest.raises(error, match=message):
        ReduceLROnPlateau(SGD(0.1), **kwargs)
    with pytest.raises(TypeError, match="optimizer"):
        ReduceLROnPlateau(object())
