"""Lesson 09's explorer: switch the techniques of the recipe on and off."""

import io

import numpy as np
import pytest
from PIL import Image

from course_lib import widgets
from course_lib.training import History

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
    explorer.render()
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
