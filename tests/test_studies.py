"""``course_lib.studies``: the lessons' experiment drivers, each run on a small grid."""

import math

import numpy as np
import pytest

from course_lib.data import digits_subset, load_digits
from course_lib.experiments import Results
from course_lib.losses import softmax_cross_entropy
from course_lib.networks import MLPConfig, mlp, weight_names
from course_lib.optimizers import SGD, Adam
from course_lib.probes import gradient_norms
from course_lib.scaling import ZScoreScaler
from course_lib.schedules import cosine_decay
from course_lib.studies import (
    RESIDUAL_INITS,
    TECHNIQUES,
    BNRun,
    ResidualRun,
    batch_norm_runs,
    mini_batch_run,
    mini_batch_runs,
    recipe_runs,
    residual_runs,
    train_recipe,
    tune_lr,
)
from course_lib.training import evaluate, fit


def blobs(n=96, d=6, classes=3, seed=0, dtype=np.float32):
    """Separable classes: a Gaussian blob each, so a little training lowers the loss."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    centres = 2.0 * rng.normal(size=(classes, d))
    X = centres[y] + rng.normal(size=(n, d))
    return X.astype(dtype), y


# --- 05: mini_batch_run, mini_batch_runs ------------------------------------------------------


def test_a_mini_batch_run_is_lesson_05s_network_trained_by_sgd():
    X, y = digits_subset(200, 1)
    validation = digits_subset(50, 2)
    history = mini_batch_run(X, y, 32, 0.1, 3, epochs=2, validation=validation)
    model = mlp("l05_mini_batch", rng=3)
    expected = fit(model, softmax_cross_entropy, SGD(0.1), X, y, epochs=2, batch_size=32,
                   seed=3, validation=validation, track_grad_norms=False)
    np.testing.assert_array_equal(history.step_loss, expected.step_loss)
    np.testing.assert_array_equal(history.val_accuracy, expected.val_accuracy)
    assert history.steps_per_epoch == 7 and history.grad_norm == {}


def test_mini_batch_runs_cover_the_grid_from_one_start():
    grid = mini_batch_runs(batch_sizes=(256, 1024), lrs=(0.1, 1.0), epochs=2)
    assert sorted(grid) == [(256, 0.1), (256, 1.0), (1024, 0.1), (1024, 1.0)]
    starts = {round(float(h.train_loss[0]), 12) for h in grid.values()}
    assert len(starts) == 1  # one initial model for every run
    assert grid[256, 0.1].steps_per_epoch == 4 and grid[1024, 0.1].steps_per_epoch == 1
    assert all(h.train_loss[-1] < h.train_loss[0] for h in grid.values())
    # the default data: 1024 digits drawn with the seed
    X, y = digits_subset(1024, 0)
    again = mini_batch_run(X, y, 256, 1.0, 0, epochs=2)
    np.testing.assert_array_equal(grid[256, 1.0].step_loss, again.step_loss)


# --- 07: batch_norm_runs ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_runs():
    X, y = blobs()
    return batch_norm_runs(X, y, depths=[0, 1], lrs=[0.1, 1e4], width=8, epochs=2,
                           batch_size=32, probe_rows=64)


def test_batch_norm_runs_hold_every_setting(small_runs):
    assert set(small_runs) == {(d, lr, bn) for d in (0, 1) for lr in (0.1, 1e4)
                               for bn in (False, True)}
    run = small_runs[1, 0.1, True]
    assert isinstance(run, BNRun)
    assert run.step_loss.shape == (2 * 3,)  # 96 rows in batches of 32, two epochs
    assert run.histograms.shape == (2, 40) and run.stds.shape == (2,)  # depth + 1 ReLUs
    np.testing.assert_allclose(run.histograms.sum(axis=1), 1.0, atol=0.02)  # few outside ±4
    assert small_runs[0, 0.1, False].histograms.shape == (1, 40)


def test_a_batch_norm_run_is_the_network_of_its_setting_trained_by_sgd(small_runs):
    X, y = blobs()
    model = mlp("l07_batch_normalization", in_features=6, out_features=3, depth=1, width=8,
                dtype=np.float32, rng=0)
    history = fit(model, softmax_cross_entropy, SGD(0.1), X, y, epochs=2, batch_size=32,
                  seed=0, evaluate=False, track_grad_norms=False)
    run = small_runs[1, 0.1, True]
    np.testing.assert_array_equal(run.step_loss, history.step_loss)
    assert run.final_loss == evaluate(model, softmax_cross_entropy, X, y)[0]


def test_a_small_learning_rate_trains_and_batch_norm_inputs_have_unit_spread(small_runs):
    for batch_norm in (False, True):
        run = small_runs[1, 0.1, batch_norm]
        assert not run.diverged
        assert run.final_loss < run.step_loss[0]
    # probed in training mode: each batch-norm output has std gamma, close to 1 after 6 steps
    np.testing.assert_allclose(small_runs[1, 0.1, True].stds, 1.0, atol=0.1)


def test_a_huge_learning_rate_is_recorded_as_diverged(small_runs):
    run = small_runs[1, 1e4, False]
    assert run.diverged and np.isnan(run.final_loss)
    assert np.isnan(run.stds).all() and not run.histograms.any()


def test_batch_norm_runs_reject_a_last_batch_of_one_and_bad_input():
    X, y = blobs(n=65)
    with pytest.raises(ValueError, match="last batch of one row"):
        batch_norm_runs(X, y, depths=[2], lrs=[0.1], batch_size=32)
    with pytest.raises(ValueError, match="at least one value"):
        batch_norm_runs(X[:64], y[:64], depths=[], lrs=[0.1], batch_size=32)
    with pytest.raises(ValueError, match="depths must be >= 0"):
        batch_norm_runs(X[:64], y[:64], depths=[-1], lrs=[0.1], batch_size=32)
    with pytest.raises(ValueError, match="lrs must be > 0"):
        batch_norm_runs(X[:64], y[:64], depths=[1], lrs=[0.0], batch_size=32)
    with pytest.raises(ValueError, match="integer class label"):
        batch_norm_runs(X[:64], y[:64].astype(float), depths=[2], lrs=[0.1], batch_size=32)
    with pytest.raises(TypeError, match="2-D float"):
        batch_norm_runs(X[:64].astype(int), y[:64], depths=[2], lrs=[0.1], batch_size=32)
    with pytest.raises(ValueError, match="edges"):
        batch_norm_runs(X[:64], y[:64], depths=[2], lrs=[0.1], batch_size=32,
                        edges=[1.0, 0.0])


# --- 08: residual_runs ------------------------------------------------------------------------


def test_residual_runs_record_every_layer_at_init_and_per_epoch(residual_grid):
    # residual_grid (conftest.py): 64 digits, depths 2 and 4, 2 epochs of batches of 32
    assert list(residual_grid) == [(init, kind, depth) for init in RESIDUAL_INITS
                                   for kind in ("plain", "residual") for depth in (2, 4)]
    for (_, _, depth), run in residual_grid.items():
        assert isinstance(run, ResidualRun)
        assert run.norms.shape == (3, depth + 2)
        assert run.step_loss.shape == (4,)  # 2 epochs of 2 steps
        np.testing.assert_array_equal(run.norms[1:, 0], run.history.grad_norm["0.W"][1:])
    # the small init starves the plain network's first layer as it gets deeper
    # (two more layers, each multiplying it by about 0.1 * sqrt(32 / 2) = 0.4)
    plain = {depth: residual_grid["std 0.1", "plain", depth].norms[0, 0] for depth in (2, 4)}
    assert plain[4] / plain[2] < 0.3


def test_the_at_init_row_is_one_backward_pass_over_all_the_rows():
    X, y = digits_subset(40, 0, scale_on="all")
    runs = residual_runs(X, y, depths=(2,), inits={"He": "he"}, epochs=1, batch_size=40)
    model = mlp(depth=2, residual=True, rng=0)
    model.backward(softmax_cross_entropy(model.forward(X), y)[1])
    norms = gradient_norms(model)
    expected = [norms[name] for name in weight_names(model)]
    np.testing.assert_allclose(runs["He", "residual", 2].norms[0], expected, rtol=1e-10)


def test_residual_runs_default_to_256_digits_scaled_over_all_of_them():
    runs = residual_runs(depths=(2,), inits={"He": "he"}, epochs=1, batch_size=256)
    X, y = digits_subset(256, 0, dtype=np.float32, scale_on="all")
    again = residual_runs(X, y, depths=(2,), inits={"He": "he"}, epochs=1, batch_size=256)
    np.testing.assert_array_equal(runs["He", "plain", 2].norms, again["He", "plain", 2].norms)
    assert runs["He", "plain", 2].history.step_loss.dtype == np.float64  # recorded in float64


# --- 09: train_recipe, recipe_runs ------------------------------------------------------------


# --- train_recipe -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_small():
    digits = load_digits()
    rows = np.random.default_rng(0).permutation(len(digits.X))[:300]
    X, y = digits.X[rows], digits.y[rows]
    return X[:200], y[:200], X[200:250], y[200:250], X[250:], y[250:]


def by_hand(used, lr, data, *, epochs, batch_size, width, depth, seed):
    """The recipe written out from the lessons' parts, to compare with train_recipe."""
    X_train, y_train, X_val, y_val, X_test, y_test = data
    if "z-score" in used:
        scaler = ZScoreScaler().fit(X_train)
        X_train, X_val, X_test = (scaler.transform(X) for X in (X_train, X_val, X_test))
    rows = batch_size if "mini-batch" in used else len(X_train)
    steps = epochs * math.ceil(len(X_train) / rows)
    model = mlp(MLPConfig(depth=depth, width=width, batch_norm="batch norm" in used,
                          residual="residual" in used), rng=seed)
    history = fit(model, softmax_cross_entropy, Adam(lr) if "Adam" in used else SGD(lr),
                  X_train, y_train, epochs=epochs, batch_size=rows,
                  schedule=cosine_decay(lr, steps) if "lr decay" in used else None, seed=seed,
                  validation=(X_val, y_val), track_grad_norms=False)
    return history, evaluate(model, softmax_cross_entropy, X_test, y_test)[1]


@pytest.mark.parametrize("used", [
    TECHNIQUES,
    (),
    ("mini-batch", "Adam", "batch norm"),
    ("z-score", "lr decay", "residual", "mini-batch"),
])
def test_train_recipe_is_the_recipe_written_out(digits_small, used):
    X_train, y_train, X_val, y_val, X_test, y_test = digits_small
    settings = {"epochs": 2, "batch_size": 32, "width": 16, "depth": 2, "seed": 3}
    lr = 0.01
    run = train_recipe(used, lr, X_train, y_train, validation=(X_val, y_val),
                       test=(X_test, y_test), **settings)
    history, test_accuracy = by_hand(set(used), lr, digits_small, **settings)
    np.testing.assert_array_equal(run.history.step_loss, history.step_loss)
    np.testing.assert_array_equal(run.history.step_lr, history.step_lr)
    np.testing.assert_array_equal(run.history.val_accuracy, history.val_accuracy)
    assert run.test_accuracy == test_accuracy


def test_the_switches_show_in_the_history(digits_small):
    X_train, y_train = digits_small[:2]
    full = train_recipe(TECHNIQUES, 0.01, X_train, y_train, epochs=3, batch_size=64,
                        width=8, depth=2).history
    plain = train_recipe((), 0.01, X_train, y_train, epochs=3, width=8, depth=2).history
    assert full.steps_per_epoch == 4 and plain.steps_per_epoch == 1  # ceil(200 / 64), full
    np.testing.assert_allclose(full.step_lr, [cosine_decay(0.01, 12)(t) for t in range(12)])
    assert np.all(plain.step_lr == 0.01)
    assert full.val_accuracy is None and plain.grad_norm == {}


def test_the_scaler_is_fitted_on_the_training_rows_only(digits_small):
    X_train, y_train, X_val, y_val = digits_small[:4]
    run = train_recipe({"z-score"}, 0.01, X_train, y_train, validation=(X_val, y_val),
                       epochs=1, width=8, depth=0)
    np.testing.assert_allclose(run.scaler.mean_, X_train.mean(axis=0))
    assert run.test_accuracy is None
    assert train_recipe((), 0.01, X_train, y_train, epochs=1, width=8).scaler is None
    assert run.model.forward(np.zeros((2, 64)), training=False).shape == (2, 10)


def test_the_classes_are_counted_over_every_split():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), np.repeat([0, 1], 10)
    run = train_recipe((), 0.01, X, y, validation=(X[:4], np.array([0, 1, 2, 3])), epochs=1,
                       width=4, depth=0)
    assert run.model.layers[-1].out_features == 4


def test_train_recipe_refuses_bad_arguments(digits_small):
    X, y = digits_small[:2]
    with pytest.raises(TypeError, match="not the string"):
        train_recipe("Adam", 0.01, X, y)
    with pytest.raises(ValueError, match="unknown techniques \\['dropout'\\]"):
        train_recipe({"Adam", "dropout"}, 0.01, X, y)
    with pytest.raises(TypeError, match="collection of names"):
        train_recipe(3, 0.01, X, y)
    with pytest.raises(ValueError, match="lr"):
        train_recipe((), 0.0, X, y)
    with pytest.raises(ValueError, match="integer class labels"):
        train_recipe((), 0.01, X, y.astype(float))
    with pytest.raises(TypeError, match="validation must be a pair"):
        train_recipe((), 0.01, X, y, validation=X)
    with pytest.raises(ValueError, match="X_train"):
        train_recipe((), 0.01, X[:, 0], y)


def test_recipe_runs_run_every_configuration_and_seed(digits_small):
    X_train, y_train, X_val, y_val, X_test, y_test = digits_small
    configs = {"full": TECHNIQUES, "none": ()}
    results, histories = recipe_runs(configs, {"full": 0.01, "none": 0.1}, X_train, y_train,
                                     validation=(X_val, y_val), test=(X_test, y_test),
                                     seeds=[0, 1], epochs=2, target=0.5)
    assert isinstance(results, Results) and len(results) == 4
    assert results.metrics == ("test_accuracy", "epochs_to_target")
    assert sorted(histories) == [("full", 0), ("full", 1), ("none", 0), ("none", 1)]
    run = train_recipe((), 0.1, X_train, y_train, validation=(X_val, y_val),
                       test=(X_test, y_test), epochs=2, seed=1)
    assert results.where("test_accuracy", config="none")[1] == run.test_accuracy
    np.testing.assert_array_equal(histories["none", 1].val_accuracy, run.history.val_accuracy)
    reached = results.where("epochs_to_target", config="full")
    assert all(r == histories["full", s].epochs_to("val_accuracy", 0.5)
               for s, r in enumerate(reached))


@pytest.mark.parametrize("driver", [
    lambda X, y: mini_batch_run(X, y, 16, 0.1, 0, epochs=1),
    lambda X, y: mini_batch_runs(X, y, batch_sizes=(16,), lrs=(0.1,), epochs=1),
    lambda X, y: residual_runs(X, y, depths=(2,), epochs=1),
    lambda X, y: batch_norm_runs(X, y, depths=(0,), lrs=(0.1,), epochs=1),
])
def test_the_drivers_name_bad_data(driver):
    X, y = blobs(n=64)
    with pytest.raises(TypeError, match="X must be a 2-D float32 or float64 array"):
        driver(X.astype(np.int64), y)
    with pytest.raises(TypeError, match="X must be"):
        driver(X[:, 0], y)
    with pytest.raises(ValueError, match="y must hold one integer class label per row of X"):
        driver(X, y[:-1])
    with pytest.raises(ValueError, match="y must hold one integer class label"):
        driver(X, y.astype(float))



# --- 09: tune_lr ---------------------------------------------------------------------------------


def test_tune_lr_widens_the_grid_until_the_choice_is_interior():
    calls = []

    def score(lr):  # a peak at lr = 1, far above the starting grid
        calls.append(lr)
        return -abs(math.log10(lr))

    lr, scores = tune_lr(score, [1e-3, 1e-2, 1e-1], tolerance=1e-9)
    assert lr == pytest.approx(1.0)
    assert list(scores) == pytest.approx([1e-3, 1e-2, 1e-1, 1.0, 10.0])
    assert len(calls) == len(set(calls)) == 5  # each rate scored once
    lr, scores = tune_lr(lambda lr: -abs(math.log10(lr) + 5), [1e-3, 1e-2, 1e-1])
    assert lr == pytest.approx(1e-5) and min(scores) == pytest.approx(1e-6)


def test_tune_lr_takes_the_smallest_rate_within_tolerance_and_scores_nan_as_zero():
    table = {0.01: 0.5, 0.1: 0.9, 1.0: 0.897, 10.0: float("nan")}
    lr, scores = tune_lr(table.__getitem__, [0.1, 1.0, 10.0], tolerance=0.005)
    assert lr == 0.1 and scores == {0.01: 0.5, 0.1: 0.9, 1.0: 0.897, 10.0: 0.0}
    assert tune_lr(table.__getitem__, [0.1, 1.0, 10.0], max_widenings=0)[0] == 0.1


def test_tune_lr_stops_after_max_widenings():
    lr, scores = tune_lr(lambda lr: lr, [1.0, 2.0, 4.0], max_widenings=2)
    assert lr == 16.0 and list(scores) == [1.0, 2.0, 4.0, 8.0, 16.0]


@pytest.mark.parametrize("grid, match", [
    ([0.1, 1.0], "at least three"),
    ([0.1, 1.0, 3.0], "constant ratio"),
    ([1.0, 0.1, 0.01], "constant ratio"),
    ([0.0, 1.0, 2.0], "grid must be > 0"),
])
def test_tune_lr_rejects_bad_grids(grid, match):
    with pytest.raises(ValueError, match=match):
        tune_lr(lambda lr: 0.0, grid)
