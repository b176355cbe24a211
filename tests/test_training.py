"""Tests for course_lib.training: fit, History, evaluate, predict.

The reference for ``fit`` is the loop its docstring describes, written out by hand with the
library's own pieces; the rest are closed forms (a full-batch gradient norm, a schedule's
values) and behaviour (learning, reproducibility, divergence without an exception).
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest

from course_lib.callbacks import EarlyStopping
from course_lib.data import load_digits, load_wine, minibatches, train_test_split
from course_lib.layers import BatchNorm, Dense, ReLU, Sequential
from course_lib.losses import accuracy, mse, softmax_cross_entropy
from course_lib.optimizers import SGD, Adam, AdamW
from course_lib.schedules import cosine_decay, step_decay
from course_lib.studies import TECHNIQUES, train_recipe
from course_lib.training import History, evaluate, fit, predict, steps_per_epoch

DIGITS = load_digits()
X_TRAIN, X_VAL, Y_TRAIN, Y_VAL = train_test_split(DIGITS.X / 16, DIGITS.y, 0.25, rng=0)


def mlp(seed=0, batchnorm=False, dtype=np.float64):
    layers = [Dense(64, 32, rng=seed, dtype=dtype)]
    if batchnorm:
        layers.append(BatchNorm(32, dtype=dtype))
    layers += [ReLU(), Dense(32, 10, rng=seed + 1, dtype=dtype)]
    return Sequential(*layers)


def regression(n=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.normal(size=(n, 1))


def train_digits(seed=0, **kwargs):
    kwargs = {"epochs": 3, "batch_size": 64, "validation": (X_VAL, Y_VAL), **kwargs}
    model = mlp(seed, batchnorm=True)
    return model, fit(model, softmax_cross_entropy, Adam(1e-2), X_TRAIN, Y_TRAIN, **kwargs)


def history_arrays(h: History) -> dict[str, np.ndarray]:
    arrays = {k: getattr(h, k) for k in ("step_loss", "step_lr", "train_loss", "train_accuracy",
                                         "val_loss", "val_accuracy")}
    arrays.update({f"grad_norm[{k}]": v for k, v in h.grad_norm.items()})
    return arrays


# --- the loop ---------------------------------------------------------------------------------


def test_fit_is_the_documented_loop():
    """Same batches, same losses, same final weights as the loop in the module docstring."""
    X, y = regression()
    model = Sequential(Dense(3, 4, rng=1), ReLU(), Dense(4, 1, rng=2))
    reference = Sequential(Dense(3, 4, rng=1), ReLU(), Dense(4, 1, rng=2))
    schedule = step_decay(0.05, step_size=7, gamma=0.5)
    history = fit(model, mse, SGD(1.0), X, y, epochs=3, batch_size=16, schedule=schedule, seed=4)

    opt, rng, t, losses = SGD(1.0), np.random.default_rng(4), 0, []
    for _ in range(3):
        for X_b, y_b in minibatches(X, y, 16, rng):
            opt.lr = schedule(t)
            loss, dpred = mse(reference.forward(X_b, training=True), y_b)
            reference.backward(dpred)
            opt.step(reference.params, reference.grads)
            losses.append(loss)
            t += 1
    np.testing.assert_array_equal(history.step_loss, losses)
    for name in reference.params:
        np.testing.assert_array_equal(model.params[name], reference.params[name])
    assert history.steps_per_epoch == math.ceil(len(X) / 16) == len(losses) / 3


def test_fit_learns_digits_and_keeps_every_record_the_right_length():
    model, h = train_digits()
    assert h.train_accuracy[-1] > 0.9 and h.val_accuracy[-1] > 0.9
    assert h.train_loss[-1] < 0.5 * h.train_loss[0]
    assert np.mean(h.step_loss[-10:]) < np.mean(h.step_loss[:10])
    assert h.step_loss.shape == h.step_lr.shape == (3 * h.steps_per_epoch,)
    for values in (h.train_loss, h.train_accuracy, h.val_loss, h.val_accuracy):
        assert values.shape == (4,) and np.all(np.isfinite(values))
    assert not h.diverged and h.seconds > 0


def test_epoch_records_are_evaluation_mode_on_the_whole_sets_and_epoch_0_is_before_training():
    model, h = train_digits(epochs=2)
    assert evaluate(model, softmax_cross_entropy, X_TRAIN, Y_TRAIN) == (
        h.train_loss[-1], h.train_accuracy[-1])
    assert evaluate(model, softmax_cross_entropy, X_VAL, Y_VAL) == (
        h.val_loss[-1], h.val_accuracy[-1])
    untrained = mlp(0, batchnorm=True)
    assert evaluate(untrained, softmax_cross_entropy, X_VAL, Y_VAL) == (
        h.val_loss[0], h.val_accuracy[0])


def test_same_seed_gives_the_same_history_and_weights_bit_for_bit():
    model_a, a = train_digits(seed=0)
    model_b, b = train_digits(seed=0)
    arrays_a, arrays_b = history_arrays(a), history_arrays(b)
    assert arrays_a.keys() == arrays_b.keys()
    for key in arrays_a:
        np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)
    for name in model_a.params:
        np.testing.assert_array_equal(model_a.params[name], model_b.params[name])
    for name in model_a.buffers:
        np.testing.assert_array_equal(model_a.buffers[name], model_b.buffers[name])


class DenseOfMyOwn(Dense):
    """A layer of the learner's own: Sequential keeps its parameters where they are."""


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_flat_buffer_trains_exactly_like_separate_arrays(dtype):
    def build(dense):
        return Sequential(dense(64, 32, rng=0, dtype=dtype), BatchNorm(32, dtype=dtype), ReLU(),
                          dense(32, 10, rng=1, dtype=dtype))

    flat, separate = build(Dense), build(DenseOfMyOwn)
    assert flat.params["0.W"].base is flat.params["3.b"].base is not None
    assert all(p.base is None for p in separate.params.values())
    X = X_TRAIN.astype(dtype)
    opt_flat, opt_separate = Adam(1e-2), Adam(1e-2)
    a = fit(flat, softmax_cross_entropy, opt_flat, X, Y_TRAIN, epochs=2, batch_size=64)
    b = fit(separate, softmax_cross_entropy, opt_separate, X, Y_TRAIN, epochs=2, batch_size=64)
    arrays_a, arrays_b = history_arrays(a), history_arrays(b)
    for key in arrays_a:
        np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)
    for name, p in flat.params.items():
        assert p.dtype == dtype
        np.testing.assert_array_equal(p, separate.params[name], err_msg=name)
        for key, value in opt_separate.state[name].items():
            np.testing.assert_array_equal(opt_flat.state[name][key], value)


def test_another_seed_shuffles_differently():
    _, a = train_digits(seed=0)
    model = mlp(0, batchnorm=True)  # same initial weights, other shuffling seed
    b = fit(model, softmax_cross_entropy, Adam(1e-2), X_TRAIN, Y_TRAIN, epochs=3, batch_size=64,
            seed=1, validation=(X_VAL, Y_VAL))
    assert a.train_loss[0] == b.train_loss[0]  # same model before training
    assert not np.array_equal(a.step_loss, b.step_loss)


def test_float32_end_to_end():
    model = mlp(0, batchnorm=True, dtype=np.float32)
    h = fit(model, softmax_cross_entropy, Adam(1e-2), X_TRAIN.astype(np.float32), Y_TRAIN,
            epochs=2, batch_size=64)
    assert model.params["0.W"].dtype == np.float32
    assert h.train_accuracy[-1] > 0.85


def test_inputs_are_not_modified():
    X, y = X_TRAIN.copy(), Y_TRAIN.copy()
    fit(mlp(), softmax_cross_entropy, SGD(0.1), X, y, epochs=1, batch_size=32)
    np.testing.assert_array_equal(X, X_TRAIN)
    np.testing.assert_array_equal(y, Y_TRAIN)


# --- learning rates ---------------------------------------------------------------------------


def test_schedule_sets_the_learning_rate_of_every_step():
    schedule = cosine_decay(0.1, t_max=50, lr_min=0.001)
    X, y = regression()
    opt = SGD(1.0)
    h = fit(Sequential(Dense(3, 1, rng=0)), mse, opt, X, y, epochs=4, batch_size=10,
            schedule=schedule)
    np.testing.assert_array_equal(h.step_lr, [schedule(t) for t in range(40)])
    assert opt.lr == schedule(39)  # left at the last scheduled rate


def test_per_epoch_schedule_with_the_documented_lambda():
    X, y = regression()
    per_epoch = step_decay(0.1, step_size=1, gamma=0.5)
    steps_per_epoch = math.ceil(len(X) / 30)
    h = fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(1.0), X, y, epochs=3, batch_size=30,
            schedule=lambda t: per_epoch(t // steps_per_epoch))
    np.testing.assert_array_equal(h.step_lr, np.repeat([0.1, 0.05, 0.025], steps_per_epoch))


def test_without_a_schedule_every_step_uses_the_optimizers_rate():
    X, y = regression()
    h = fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(0.03), X, y, epochs=2, batch_size=25)
    np.testing.assert_array_equal(h.step_lr, np.full(8, 0.03))


# --- divergence -------------------------------------------------------------------------------


def test_a_huge_learning_rate_diverges_without_exception_or_warning():
    X, y = regression()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(1e3), X, y, epochs=20, batch_size=10,
                validation=(X, y))
    assert h.diverged
    assert h.train_loss.shape == h.val_loss.shape == (21,)
    assert h.step_loss.shape == h.step_lr.shape == (200,)
    last = np.flatnonzero(~np.isnan(h.step_loss))[-1]
    assert last < 199 and np.all(np.isnan(h.step_loss[last + 1 :]))
    assert np.isnan(h.train_loss[-1]) and np.isnan(h.grad_norm["0.W"][-1])
    assert math.isinf(h.epochs_to("train_loss", 1e-3))


def test_a_non_finite_gradient_stops_training_before_the_update():
    def loss_with_infinite_gradient(pred, target):
        value, dpred = mse(pred, target)
        dpred[0] = np.inf
        return value, dpred

    X, y = regression()
    model = Sequential(Dense(3, 1, rng=0))
    before = model.params["0.W"].copy()
    h = fit(model, loss_with_infinite_gradient, SGD(0.1), X, y, epochs=2, batch_size=10)
    assert h.diverged
    assert np.isfinite(h.step_loss[0]) and np.all(np.isnan(h.step_loss[1:]))
    np.testing.assert_array_equal(model.params["0.W"], before)


def test_gradients_too_large_for_adam_stop_training_as_divergence():
    # In float32 with lr = 1e10 the first step makes the gradients of the second exceed 1e19:
    # their squares overflow, and Adam would silently take steps of 0 while the loss stays
    # finite. The optimizer refuses them instead, and fit records the divergence.
    widths = [64, 32, 32, 10]
    layers = []
    for i in range(3):
        layers += [Dense(widths[i], widths[i + 1], rng=i, dtype=np.float32), ReLU()]
    model = Sequential(*layers[:-1])
    X = X_TRAIN.astype(np.float32)
    h = fit(model, softmax_cross_entropy, Adam(1e10), X, Y_TRAIN, epochs=2, batch_size=64)
    assert h.diverged
    assert np.isfinite(h.step_loss[:2]).all() and np.isnan(h.step_loss[2:]).all()
    assert all(np.isfinite(w).all() for w in model.params.values())
    assert max(np.abs(g).max() for g in model.grads.values()) > 1e19


def test_a_non_finite_loss_stops_training_before_the_backward_pass():
    def loss_that_overflows_at_the_third_batch(pred, target):
        if len(pred) == 10:  # a mini-batch (fit first tries one row, to check the targets)
            calls.append(1)
        value, dpred = mse(pred, target)
        return (math.inf if len(calls) == 3 else value), dpred

    calls = []
    X, y = regression()
    model = Sequential(Dense(3, 1, rng=0))
    h = fit(model, loss_that_overflows_at_the_third_batch, SGD(0.01), X, y, epochs=1,
            batch_size=10, evaluate=False)
    assert h.diverged and len(calls) == 3
    assert h.step_loss[2] == math.inf and np.all(np.isnan(h.step_loss[3:]))


def test_other_optimizer_errors_are_not_mistaken_for_divergence():
    class Broken(SGD):
        def step(self, params, grads):
            raise ValueError("something else is wrong")

    X, y = regression()
    with pytest.raises(ValueError, match="something else"):
        fit(Sequential(Dense(3, 1, rng=0)), mse, Broken(0.1), X, y, epochs=1, batch_size=10)


# --- gradient norms, evaluation, History ------------------------------------------------------


def test_grad_norm_of_one_full_batch_step_is_the_norm_of_that_gradient():
    X, y = regression(n=40)
    h = fit(Sequential(Dense(3, 2, rng=0), ReLU(), Dense(2, 1, rng=1)), mse, SGD(0.1), X, y,
            epochs=1, batch_size=40)
    reference = Sequential(Dense(3, 2, rng=0), ReLU(), Dense(2, 1, rng=1))
    reference.backward(mse(reference.forward(X), y)[1])
    assert list(h.grad_norm) == ["0.W", "0.b", "2.W", "2.b"]
    for name, norms in h.grad_norm.items():
        assert norms.shape == (2,) and np.isnan(norms[0])
        np.testing.assert_allclose(norms[1], np.linalg.norm(reference.grads[name]), rtol=1e-12)


def test_grad_norm_is_the_mean_over_the_epochs_steps():
    X, y = regression(n=40)
    h = fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(0.05), X, y, epochs=1, batch_size=10)
    reference, opt, norms = Sequential(Dense(3, 1, rng=0)), SGD(0.05), []
    for X_b, y_b in minibatches(X, y, 10, np.random.default_rng(0)):
        reference.backward(mse(reference.forward(X_b), y_b)[1])
        norms.append(np.linalg.norm(reference.grads["0.W"]))
        opt.step(reference.params, reference.grads)
    np.testing.assert_allclose(h.grad_norm["0.W"][1], np.mean(norms), rtol=1e-12)


def test_grad_norm_tracking_can_be_switched_off():
    X, y = regression()
    h = fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(0.05), X, y, epochs=1, batch_size=10,
            track_grad_norms=False)
    assert h.grad_norm == {}


def test_regression_has_losses_but_no_accuracy_and_no_validation_means_none():
    X, y = regression()
    h = fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(0.05), X, y, epochs=2, batch_size=10)
    assert h.train_loss.shape == (3,) and h.train_loss[-1] < h.train_loss[0]
    assert h.train_accuracy is None and h.val_loss is None and h.val_accuracy is None
    assert evaluate(Sequential(Dense(3, 1, rng=0)), mse, X, y)[1] is None


def test_evaluate_false_records_only_the_steps():
    X, y = regression()
    h = fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(0.05), X, y, epochs=2, batch_size=10,
            evaluate=False)
    assert h.train_loss is None and h.train_accuracy is None
    assert np.all(np.isfinite(h.step_loss)) and "final" not in repr(h)


def test_evaluate_and_predict_use_evaluation_mode():
    model, _ = train_digits(epochs=1)
    logits = predict(model, X_VAL)
    np.testing.assert_array_equal(logits, model.forward(X_VAL, training=False))
    loss, acc = evaluate(model, softmax_cross_entropy, X_VAL, Y_VAL)
    assert loss == softmax_cross_entropy(logits, Y_VAL)[0]
    assert acc == accuracy(logits, Y_VAL)


def test_epochs_to_finds_the_first_epoch_reaching_the_target():
    _, h = train_digits()
    target = h.val_accuracy[2]
    first = np.flatnonzero(h.val_accuracy >= target)[0]
    assert h.epochs_to("val_accuracy", target) == first
    assert h.epochs_to("val_accuracy", 0.0) == 0
    assert h.epochs_to("train_loss", h.train_loss[0]) == 0
    assert h.epochs_to("train_loss", h.train_loss.min()) == np.argmin(h.train_loss)
    assert h.epochs_to("val_accuracy", 1.01) == math.inf
    with pytest.raises(ValueError, match="metric must be one of"):
        h.epochs_to("accuracy", 0.9)
    X, y = regression()
    reg = fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(0.05), X, y, epochs=1, batch_size=10)
    with pytest.raises(ValueError, match="no val_accuracy"):
        reg.epochs_to("val_accuracy", 0.9)


def test_repr_shows_the_final_numbers_but_not_the_time():
    _, h = train_digits(epochs=1)
    text = repr(h)
    assert f"val_accuracy={h.val_accuracy[-1]:.4g}" in text and "diverged=False" in text
    assert "seconds" not in text


# --- bad input --------------------------------------------------------------------------------


X_OK, Y_OK = regression()
BAD_FIT_CALLS = [
    ({"epochs": 0}, ValueError, "epochs must be >= 1"),
    ({"epochs": 2.5}, TypeError, "epochs must be an integer"),
    ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"X": X_OK[:, 0]}, ValueError, "X must be 2-D"),
    ({"X": np.where(X_OK == X_OK[0, 0], np.nan, X_OK)}, ValueError, "X contains NaN"),
    ({"y": Y_OK[:-1]}, ValueError, "y must have one target per row of X"),
    ({"y": np.full_like(Y_OK, np.inf)}, ValueError, "y contains NaN or infinity"),
    ({"model": object()}, TypeError, "model must be a layer"),
    ({"loss": "mse"}, TypeError, "loss must be a function"),
    ({"optimizer": "sgd"}, TypeError, "optimizer must have step"),
    ({"schedule": 0.1}, TypeError, "schedule must be a callable"),
    ({"validation": X_OK}, TypeError, "validation must be a pair"),
    ({"validation": (X_OK, Y_OK[:3])}, ValueError, "y_val must have one target per row"),
    ({"evaluate": 1}, TypeError, "evaluate must be True or False"),
    ({"validation": (X_OK, Y_OK), "evaluate": False}, ValueError, "validation needs evaluate"),
    ({"track_grad_norms": "no"}, TypeError, "track_grad_norms must be True or False"),
]


@pytest.mark.parametrize(("change", "error", "message"), BAD_FIT_CALLS)
def test_bad_input_is_refused_with_a_message_naming_it(change, error, message):
    args = {"model": Sequential(Dense(3, 1, rng=0)), "loss": mse, "optimizer": SGD(0.1),
            "X": X_OK, "y": Y_OK, "epochs": 1, "batch_size": 10, **change}
    positional = [args.pop(k) for k in ("model", "loss", "optimizer", "X", "y")]
    with pytest.raises(error, match=message):
        fit(*positional, **args)


def test_epochs_and_batch_size_are_required_keywords():
    with pytest.raises(TypeError):
        fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(0.1), X_OK, Y_OK, 1, 10)


# --- refused before the first step ----------------------------------------------------------


def refusals():
    """(name, the fit call's arguments, error, message): each must fail before any update."""
    n = len(X_TRAIN)  # 1347 rows: batch size 2 leaves 1 row, as 1347 = 2·673 + 1
    labels_beyond = np.where(Y_TRAIN == 9, 10, Y_TRAIN)
    saved = History(epochs=1, steps_per_epoch=22, step_loss=np.zeros(22), step_lr=np.zeros(22),
                    rng_state=np.random.default_rng(0).bit_generator.state)
    return [
        ("cosine schedule reaching 0", dict(schedule=cosine_decay(0.1, 21 * 3 - 1)),
         ValueError, r"schedule\(62\) must be > 0"),
        ("schedule turning NaN", dict(schedule=lambda t: 0.1 if t < 30 else math.nan),
         ValueError, r"schedule\(30\) must be finite"),
        ("exponential decay underflowing", dict(schedule=lambda t: 1e-300 * 1e-10**t),
         ValueError, r"schedule\(3\) must be > 0"),
        ("labels beyond the outputs", dict(evaluate=False, validation=None, y=labels_beyond),
         ValueError, "label"),
        ("one-row batch through BatchNorm", dict(batch_size=2, drop_last=False), ValueError,
         "1 row"),
        ("batch size 1 through BatchNorm", dict(batch_size=1), ValueError, "batch_size must be"),
        ("drop_last leaving nothing", dict(batch_size=n + 1, drop_last=True), ValueError,
         "no mini-batch"),
        ("early stopping without validation", dict(validation=None, callbacks=[EarlyStopping()]),
         ValueError, "validation"),
        ("not a callback", dict(callbacks=[print]), TypeError, r"callbacks\[0\]"),
        ("resume of another batch size", dict(batch_size=32, resume=saved), ValueError,
         "steps per epoch"),
        ("AdamW rate times decay reaching 1", dict(
            schedule=lambda t: 0.01 if t < 40 else 20.0), ValueError,
         r"rate at its step \d+, 20, is refused.*lr\*weight_decay"),
    ]


@pytest.mark.parametrize(("change", "error", "message"), [r[1:] for r in refusals()],
                         ids=[r[0] for r in refusals()])
def test_a_refused_fit_raises_before_the_first_step_and_changes_nothing(change, error, message,
                                                                        same_state):
    model, optimizer = mlp(batchnorm=True), AdamW(1e-2, weight_decay=0.1)
    fit(model, softmax_cross_entropy, optimizer, X_TRAIN[:256], Y_TRAIN[:256], epochs=1,
        batch_size=64)  # some state to keep: moments, step counts, running statistics
    before, optimizer_before = model.state_dict(), optimizer.state_dict()
    kwargs = {"epochs": 3, "batch_size": 64, "validation": (X_VAL, Y_VAL), "y": Y_TRAIN, **change}
    y = kwargs.pop("y")
    with pytest.raises(error, match=message):
        fit(model, softmax_cross_entropy, optimizer, X_TRAIN, y, **kwargs)
    same_state(model.state_dict(), before)
    same_state(optimizer.state_dict(), optimizer_before)


# --- the last mini-batch ----------------------------------------------------------------------


def test_a_one_row_remainder_is_dropped_by_default_only_for_batch_norm():
    X, y = X_TRAIN[:129], Y_TRAIN[:129]  # 129 = 2·64 + 1
    with_bn = fit(mlp(batchnorm=True), softmax_cross_entropy, Adam(1e-2), X, y, epochs=2,
                  batch_size=64)
    without_bn = fit(mlp(), softmax_cross_entropy, Adam(1e-2), X, y, epochs=2, batch_size=64)
    assert (with_bn.steps_per_epoch, without_bn.steps_per_epoch) == (2, 3)
    assert np.all(np.isfinite(with_bn.step_loss)) and not with_bn.diverged
    assert steps_per_epoch(mlp(batchnorm=True), 129, 64) == 2
    assert steps_per_epoch(mlp(), 129, 64) == 3
    assert steps_per_epoch(mlp(), 129, 64, drop_last=True) == 2


def test_drop_last_trains_on_the_batches_minibatches_gives_with_drop_last():
    X, y = regression(n=23)
    model = Sequential(Dense(3, 1, rng=0))
    history = fit(model, mse, SGD(0.05), X, y, epochs=2, batch_size=5, drop_last=True, seed=4)
    by_hand = Sequential(Dense(3, 1, rng=0))
    optimizer, rng, losses = SGD(0.05), np.random.default_rng(4), []
    for _ in range(2):
        for X_batch, y_batch in minibatches(X, y, 5, rng, drop_last=True):
            value, dpred = mse(by_hand.forward(X_batch, training=True), y_batch)
            losses.append(value)
            by_hand.backward(dpred)
            optimizer.step(by_hand.params, by_hand.grads)
    assert history.steps_per_epoch == 4
    np.testing.assert_array_equal(history.step_loss, losses)
    np.testing.assert_array_equal(model.params["0.W"], by_hand.params["0.W"])


def test_train_recipe_runs_on_wine_with_a_one_row_remainder():
    wine = load_wine()
    X, _, y, _ = train_test_split(wine.X, wine.y, 0.25, rng=0)
    assert len(X) % 4 == 1
    run = train_recipe(TECHNIQUES, 1e-2, X, y, batch_size=4, epochs=2)
    assert run.history.steps_per_epoch == len(X) // 4
    assert not run.history.diverged and np.all(np.isfinite(run.history.step_loss))
    # the cosine decay is planned over the steps that are taken
    assert run.history.step_lr[-1] == pytest.approx(cosine_decay(1e-2, len(X) // 4 * 2)(
        len(X) // 4 * 2 - 1))


# --- resuming a run ---------------------------------------------------------------------------


def test_a_resumed_run_continues_the_schedule_and_the_shuffling_bit_for_bit(same_state):
    schedule = step_decay(0.05, step_size=40, gamma=0.5)
    whole_model = mlp(batchnorm=True)
    whole = fit(whole_model, softmax_cross_entropy, Adam(1e-2), X_TRAIN, Y_TRAIN, epochs=5,
                batch_size=128, schedule=schedule, seed=3, validation=(X_VAL, Y_VAL))
    model, optimizer = mlp(batchnorm=True), Adam(1e-2)
    first = fit(model, softmax_cross_entropy, optimizer, X_TRAIN, Y_TRAIN, epochs=2,
                batch_size=128, schedule=schedule, seed=3, validation=(X_VAL, Y_VAL))
    second = fit(model, softmax_cross_entropy, optimizer, X_TRAIN, Y_TRAIN, epochs=3,
                 batch_size=128, schedule=schedule, resume=first, validation=(X_VAL, Y_VAL))
    assert second.first_step == 2 * whole.steps_per_epoch
    for name in ("step_loss", "step_lr"):
        glued = np.concatenate([getattr(first, name), getattr(second, name)])
        np.testing.assert_array_equal(glued, getattr(whole, name), err_msg=name)
    for name in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        glued = np.concatenate([getattr(first, name), getattr(second, name)[1:]])
        np.testing.assert_array_equal(glued, getattr(whole, name), err_msg=name)
    same_state(model.state_dict(), whole_model.state_dict())


def test_resume_refuses_a_seed_and_a_diverged_run():
    model = Sequential(Dense(3, 1, rng=0))
    X, y = regression()
    first = fit(model, mse, SGD(0.01), X, y, epochs=1, batch_size=10)
    with pytest.raises(ValueError, match="leave seed out"):
        fit(model, mse, SGD(0.01), X, y, epochs=1, batch_size=10, resume=first, seed=1)
    diverged = fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(1e6), X, y, epochs=3, batch_size=10)
    assert diverged.diverged
    with pytest.raises(ValueError, match="diverged"):
        fit(model, mse, SGD(0.01), X, y, epochs=1, batch_size=10, resume=diverged)
    with pytest.raises(TypeError, match="resume"):
        fit(model, mse, SGD(0.01), X, y, epochs=1, batch_size=10, resume={"t": 3})


# --- progress ---------------------------------------------------------------------------------


def test_verbose_draws_a_progress_bar_with_the_epochs_losses(capsys):
    X, y = regression()
    fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(0.01), X, y, epochs=4, batch_size=10,
        verbose=True)
    err = capsys.readouterr().err
    assert "4/4" in err and "train_loss=" in err
    fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(0.01), X, y, epochs=2, batch_size=10,
        evaluate=False, verbose=True)
    assert "step_loss=" in capsys.readouterr().err
    fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(0.01), X, y, epochs=2, batch_size=10)
    assert capsys.readouterr().err == ""


def test_verbose_without_tqdm_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = regression()
    with pytest.raises(ModuleNotFoundError, match=r"course_lib\[display\]"):
        fit(Sequential(Dense(3, 1, rng=0)), mse, SGD(0.01), X, y, epochs=1, batch_size=10,
            verbose=True)
