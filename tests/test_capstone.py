"""Lesson 09's library additions: the recipe (``course_lib.recipe``) and its explorer."""

import io
import math

import numpy as np
import pytest
from PIL import Image

from course_lib import widgets
from course_lib.data import load_digits
from course_lib.layers import BatchNorm, Dense, Residual
from course_lib.losses import softmax_cross_entropy
from course_lib.optimizers import SGD, Adam
from course_lib.recipe import TECHNIQUES as RECIPE_TECHNIQUES
from course_lib.recipe import build_network, train_recipe
from course_lib.scaling import ZScoreScaler
from course_lib.schedules import cosine_decay
from course_lib.training import History, evaluate, fit

# --- build_network ----------------------------------------------------------------------------


def layers_of(model, kind):
    found = []

    def walk(layer):
        if isinstance(layer, kind):
            found.append(layer)
        for child in getattr(layer, "layers", ()):
            walk(child)
        if getattr(layer, "block", None) is not None:
            walk(layer.block)

    walk(model)
    return found


@pytest.mark.parametrize("blocks", [0, 1, 3])
@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("residual", [False, True])
def test_the_network_has_a_stem_two_layers_a_block_and_a_head(blocks, batch_norm, residual):
    model = build_network(5, 3, batch_norm=batch_norm, residual=residual, width=8,
                          blocks=blocks, rng=0)
    dense = layers_of(model, Dense)
    assert len(dense) == 2 + 2 * blocks
    assert (dense[0].in_features, dense[0].out_features) == (5, 8)
    assert (dense[-1].in_features, dense[-1].out_features) == (8, 3)
    assert len(layers_of(model, BatchNorm)) == (1 + 2 * blocks if batch_norm else 0)
    assert len(layers_of(model, Residual)) == (blocks if residual else 0)
    out = model.forward(np.ones((4, 5)))
    assert out.shape == (4, 3) and out.dtype == np.float64  # float64 by default
    single = build_network(5, 3, batch_norm=batch_norm, residual=residual, width=8,
                           blocks=blocks, rng=0, dtype=np.float32)
    assert single.forward(np.ones((4, 5), np.float32)).dtype == np.float32


def test_one_seed_gives_the_same_weights_with_or_without_batch_norm_and_skips():
    weights = []
    for batch_norm in (False, True):
        for residual in (False, True):
            model = build_network(6, 4, batch_norm=batch_norm, residual=residual, width=8,
                                  rng=7, dtype=np.float64)
            weights.append([layer.W for layer in layers_of(model, Dense)])
    for other in weights[1:]:
        for a, b in zip(weights[0], other, strict=True):
            np.testing.assert_array_equal(a, b)
    again = build_network(6, 4, width=8, rng=np.random.default_rng(7), dtype=np.float64)
    np.testing.assert_array_equal(layers_of(again, Dense)[2].W, weights[0][2])


def test_a_residual_block_whose_branch_outputs_zero_passes_its_input_through():
    # y = x + BN(W2 relu(BN(W1 x + b1)) + b2): with gamma = beta = 0 in the second batch norm
    # the branch is 0, so the network is the stem and the head alone
    model = build_network(6, 3, width=8, blocks=2, rng=1, dtype=np.float64)
    for block in layers_of(model, Residual):
        second_bn = block.block.layers[4]
        second_bn.params["gamma"][:] = 0
    x = np.random.default_rng(2).normal(size=(10, 6))
    stem = model.layers[:3]
    h = x
    for layer in stem:
        h = layer.forward(h)
    expected = model.layers[-1].forward(h)
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-12)


def test_build_network_refuses_bad_arguments():
    with pytest.raises(ValueError, match="blocks must be an integer >= 0"):
        build_network(4, 2, blocks=-1)
    with pytest.raises(ValueError, match="blocks must be an integer >= 0"):
        build_network(4, 2, blocks=True)
    with pytest.raises(TypeError, match="batch_norm must be True or False"):
        build_network(4, 2, batch_norm=1)
    with pytest.raises(ValueError, match="width"):
        build_network(4, 2, width=0)


# --- train_recipe -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_small():
    digits = load_digits()
    rows = np.random.default_rng(0).permutation(len(digits.X))[:300]
    X, y = digits.X[rows], digits.y[rows]
    return X[:200], y[:200], X[200:250], y[200:250], X[250:], y[250:]


def by_hand(used, lr, data, *, epochs, batch_size, width, blocks, seed):
    """The recipe written out from the lessons' parts, to compare with train_recipe."""
    X_train, y_train, X_val, y_val, X_test, y_test = data
    if "z-score" in used:
        scaler = ZScoreScaler().fit(X_train)
        X_train, X_val, X_test = (scaler.transform(X) for X in (X_train, X_val, X_test))
    rows = batch_size if "mini-batch" in used else len(X_train)
    steps = epochs * math.ceil(len(X_train) / rows)
    model = build_network(64, 10, batch_norm="batch norm" in used, residual="residual" in used,
                          width=width, blocks=blocks, rng=seed)
    history = fit(model, softmax_cross_entropy, Adam(lr) if "Adam" in used else SGD(lr),
                  X_train, y_train, epochs=epochs, batch_size=rows,
                  schedule=cosine_decay(lr, steps) if "lr decay" in used else None, seed=seed,
                  validation=(X_val, y_val), track_grad_norms=False)
    return history, evaluate(model, softmax_cross_entropy, X_test, y_test)[1]


@pytest.mark.parametrize("used", [
    RECIPE_TECHNIQUES,
    (),
    ("mini-batch", "Adam", "batch norm"),
    ("z-score", "lr decay", "residual", "mini-batch"),
])
def test_train_recipe_is_the_recipe_written_out(digits_small, used):
    X_train, y_train, X_val, y_val, X_test, y_test = digits_small
    settings = {"epochs": 2, "batch_size": 32, "width": 16, "blocks": 1, "seed": 3}
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
    full = train_recipe(RECIPE_TECHNIQUES, 0.01, X_train, y_train, epochs=3, batch_size=64,
                        width=8, blocks=1).history
    plain = train_recipe((), 0.01, X_train, y_train, epochs=3, width=8, blocks=1).history
    assert full.steps_per_epoch == 4 and plain.steps_per_epoch == 1  # ceil(200 / 64), full
    np.testing.assert_allclose(full.step_lr, [cosine_decay(0.01, 12)(t) for t in range(12)])
    assert np.all(plain.step_lr == 0.01)
    assert full.val_accuracy is None and plain.grad_norm == {}


def test_the_scaler_is_fitted_on_the_training_rows_only(digits_small):
    X_train, y_train, X_val, y_val = digits_small[:4]
    run = train_recipe({"z-score"}, 0.01, X_train, y_train, validation=(X_val, y_val),
                       epochs=1, width=8, blocks=0)
    np.testing.assert_allclose(run.scaler.mean_, X_train.mean(axis=0))
    assert run.test_accuracy is None
    assert train_recipe((), 0.01, X_train, y_train, epochs=1, width=8).scaler is None
    assert run.model.forward(np.zeros((2, 64)), training=False).shape == (2, 10)


def test_the_classes_are_counted_over_every_split():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), np.repeat([0, 1], 10)
    run = train_recipe((), 0.01, X, y, validation=(X[:4], np.array([0, 1, 2, 3])), epochs=1,
                       width=4, blocks=0)
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


# --- recipe_explorer --------------------------------------------------------------------------

TECHNIQUES = ("z-score", "mini-batch", "batch norm")
EPOCHS = 4


def history(val_accuracy, train_loss) -> History:
    return History(epochs=EPOCHS, steps_per_epoch=2, step_loss=np.zeros(2 * EPOCHS),
                   step_lr=np.zeros(2 * EPOCHS), train_loss=np.asarray(train_loss, float),
                   val_accuracy=np.asarray(val_accuracy, float))


def seeds(final: float, reach_at: int | None, n: int = 3) -> list[History]:
    """``n`` histories whose accuracy rises to about ``final``; ``>= 0.95`` from ``reach_at``."""
    runs = []
    for s in range(n):
        acc = np.linspace(0.1, final, EPOCHS + 1) + 0.001 * s
        if reach_at is not None:
            acc[reach_at:] = np.maximum(acc[reach_at:], 0.95)
            acc[:reach_at] = np.minimum(acc[:reach_at], 0.9)
        runs.append(history(acc, np.geomspace(2.0, 0.01 * (1 - final + 0.01), EPOCHS + 1)))
    return runs


@pytest.fixture
def runs():
    full = frozenset(TECHNIQUES)
    out = {full: seeds(0.98, 2), frozenset(): seeds(0.6, None)}
    for name in TECHNIQUES:
        out[full - {name}] = seeds(0.97 if name != "mini-batch" else 0.9,
                                   3 if name != "mini-batch" else None)
    return out


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def chosen_lines(explorer):
    ax_acc, ax_loss = explorer.figure.axes
    return ax_acc.get_lines()[2], ax_loss.get_lines()[2]  # after the two references


def test_one_checkbox_per_technique_named_like_python_names(runs):
    explorer = widgets.recipe_explorer(runs, TECHNIQUES)
    assert list(explorer.controls) == ["z_score", "mini_batch", "batch_norm"]
    assert [c.description for c in explorer.controls.values()] == list(TECHNIQUES)
    assert all(c.value for c in explorer.controls.values())


def test_every_checkbox_redraws_the_image(runs):
    explorer = widgets.recipe_explorer(runs, TECHNIQUES)
    for name in explorer.controls:
        before = explorer.image.value
        explorer.set(**{name: False})
        assert explorer.image.value != before, name
        explorer.set(**{name: True})


def test_the_chosen_curves_are_the_means_over_seeds(runs):
    explorer = widgets.recipe_explorer(runs, TECHNIQUES)
    explorer.set(batch_norm=False)
    chosen = runs[frozenset({"z-score", "mini-batch"})]
    acc, loss = chosen_lines(explorer)
    np.testing.assert_allclose(acc.get_ydata(), np.mean([h.val_accuracy for h in chosen], 0))
    np.testing.assert_allclose(loss.get_ydata(), np.mean([h.train_loss for h in chosen], 0))


def test_the_titles_name_what_is_left_out_and_summarise_it(runs):
    explorer = widgets.recipe_explorer(runs, TECHNIQUES)
    ax_acc, ax_loss = explorer.figure.axes
    assert ax_acc.get_title() == "full recipe"
    finals = [h.val_accuracy[-1] for h in runs[frozenset(TECHNIQUES)]]
    assert ax_loss.get_title() == (f"final {np.mean(finals):.3f} ± {np.std(finals, ddof=1):.3f}"
                                   "; ≥ 0.95 after 2.0 epochs (3/3 seeds)")
    explorer.set(mini_batch=False)
    assert ax_acc.get_title() == "without mini-batch"
    assert ax_loss.get_title().endswith("never ≥ 0.95")
    explorer.set(z_score=False, batch_norm=False)
    assert ax_acc.get_title() == "baseline (none)"


def test_the_target_line_moves_with_target(runs):
    explorer = widgets.recipe_explorer(runs, TECHNIQUES, target=0.9)
    ax_acc, ax_loss = explorer.figure.axes
    assert "≥ 0.9 after" in ax_loss.get_title()
    assert any(line.get_ydata()[0] == 0.9 and line.get_label() == "target 0.9"
               for line in ax_acc.get_lines())


def test_a_combination_not_run_shows_nothing(runs):
    explorer = widgets.recipe_explorer(runs, TECHNIQUES)
    explorer.set(z_score=False, mini_batch=False)
    acc, loss = chosen_lines(explorer)
    assert np.isnan(acc.get_ydata()).all() and np.isnan(loss.get_ydata()).all()
    assert explorer.figure.axes[1].get_title() == "not run (pass run=... to train it)"


def test_run_trains_a_missing_combination_once(runs):
    calls = []

    def run(used):
        calls.append(used)
        return seeds(0.5, None)

    explorer = widgets.recipe_explorer(runs, TECHNIQUES, run=run)
    for _ in range(2):
        explorer.set(z_score=False, mini_batch=False)
        explorer.set(z_score=True, mini_batch=True)
    assert calls == [frozenset({"batch norm"})]
    explorer.set(z_score=False, mini_batch=False)
    np.testing.assert_allclose(chosen_lines(explorer)[0].get_ydata()[-1], 0.501)


def test_the_explorer_can_start_elsewhere_and_keys_may_be_any_iterable(runs):
    as_tuples = {tuple(sorted(key)): value for key, value in runs.items()}
    explorer = widgets.recipe_explorer(as_tuples, TECHNIQUES, used={"z-score", "batch norm"})
    assert explorer.values == {"z_score": True, "mini_batch": False, "batch_norm": True}
    assert explorer.figure.axes[0].get_title() == "without mini-batch"


def test_a_blitted_redraw_equals_a_full_render(runs):
    explorer = widgets.recipe_explorer(runs, TECHNIQUES)
    explorer.set(batch_norm=False)
    explorer.set(batch_norm=True, mini_batch=False)  # fast path
    blitted = pixels(explorer.png())
    explorer._render_all()
    np.testing.assert_array_equal(blitted, pixels(explorer.png()))


def test_the_axes_stay_fixed(runs):
    explorer = widgets.recipe_explorer(runs, TECHNIQUES)
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in explorer.figure.axes]
    explorer.set(mini_batch=False, z_score=False)
    assert limits == [(ax.get_xlim(), ax.get_ylim()) for ax in explorer.figure.axes]


def test_bad_input_is_refused_with_a_clear_message(runs):
    with pytest.raises(TypeError, match="runs must be a non-empty dict"):
        widgets.recipe_explorer([], TECHNIQUES)
    with pytest.raises(ValueError, match="not among techniques"):
        widgets.recipe_explorer({frozenset({"dropout"}): seeds(0.9, 1)}, TECHNIQUES)
    with pytest.raises(ValueError, match="same number of epochs"):
        short = History(epochs=2, steps_per_epoch=1, step_loss=np.zeros(2),
                        step_lr=np.zeros(2), train_loss=np.ones(3), val_accuracy=np.ones(3))
        widgets.recipe_explorer({**runs, frozenset({"z-score"}): [short]}, TECHNIQUES)
    with pytest.raises(ValueError, match="validation set"):
        no_val = History(epochs=EPOCHS, steps_per_epoch=1, step_loss=np.zeros(EPOCHS),
                         step_lr=np.zeros(EPOCHS), train_loss=np.ones(EPOCHS + 1))
        widgets.recipe_explorer({frozenset(): [no_val]}, TECHNIQUES)
    with pytest.raises(ValueError, match="holds no History"):
        widgets.recipe_explorer({frozenset(): []}, TECHNIQUES)
    with pytest.raises(ValueError, match="techniques must be different"):
        widgets.recipe_explorer(runs, ("z-score", "z-score"))
    with pytest.raises(ValueError, match="stay different"):
        widgets.recipe_explorer({frozenset(): seeds(0.9, 1)}, ("a b", "a-b"))
    with pytest.raises(TypeError, match="run must be a function"):
        widgets.recipe_explorer(runs, TECHNIQUES, run="train")
    with pytest.raises(ValueError, match="used must name techniques"):
        widgets.recipe_explorer(runs, TECHNIQUES, used={"dropout"})
