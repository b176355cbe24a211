"""Lesson 09's explorer: switch the techniques of the recipe on and off.

The runs are made up (``recipe_grid`` in ``conftest.py``): three seeds of 4-epoch histories for
the full recipe, none of it, and each technique left out.
"""

import numpy as np
import pytest

from course_lib import widgets
from course_lib.training import History


def chosen_lines(explorer):
    ax_acc, ax_loss = explorer.figure.axes
    return ax_acc.get_lines()[2], ax_loss.get_lines()[2]  # after the two references


def test_one_checkbox_per_technique_named_like_python_names(recipe_grid, recipe_techniques):
    explorer = widgets.recipe_explorer(recipe_grid, recipe_techniques)
    assert list(explorer.controls) == ["z_score", "mini_batch", "batch_norm"]
    assert [c.description for c in explorer.controls.values()] == list(recipe_techniques)
    assert all(c.value for c in explorer.controls.values())


def test_the_chosen_curves_are_the_means_over_seeds(recipe_grid, recipe_techniques):
    explorer = widgets.recipe_explorer(recipe_grid, recipe_techniques)
    explorer.set(batch_norm=False)
    chosen = recipe_grid[frozenset({"z-score", "mini-batch"})]
    acc, loss = chosen_lines(explorer)
    np.testing.assert_allclose(acc.get_ydata(), np.mean([h.val_accuracy for h in chosen], 0))
    np.testing.assert_allclose(loss.get_ydata(), np.mean([h.train_loss for h in chosen], 0))


def test_the_titles_name_what_is_left_out_and_summarise_it(recipe_grid, recipe_techniques):
    explorer = widgets.recipe_explorer(recipe_grid, recipe_techniques)
    ax_acc, ax_loss = explorer.figure.axes
    assert ax_acc.get_title() == "full recipe"
    finals = [h.val_accuracy[-1] for h in recipe_grid[frozenset(recipe_techniques)]]
    assert ax_loss.get_title() == (f"final {np.mean(finals):.3f} ± {np.std(finals, ddof=1):.3f}"
                                   "; ≥ 0.95 after 2.0 epochs (3/3 seeds)")
    explorer.set(mini_batch=False)
    assert ax_acc.get_title() == "without mini-batch"
    assert ax_loss.get_title().endswith("never ≥ 0.95")
    explorer.set(z_score=False, batch_norm=False)
    assert ax_acc.get_title() == "baseline (none)"


def test_the_target_line_moves_with_target(recipe_grid, recipe_techniques):
    explorer = widgets.recipe_explorer(recipe_grid, recipe_techniques, target=0.9)
    ax_acc, ax_loss = explorer.figure.axes
    assert "≥ 0.9 after" in ax_loss.get_title()
    assert any(line.get_ydata()[0] == 0.9 and line.get_label() == "target 0.9"
               for line in ax_acc.get_lines())


def test_a_combination_not_run_shows_nothing(recipe_grid, recipe_techniques):
    explorer = widgets.recipe_explorer(recipe_grid, recipe_techniques)
    explorer.set(z_score=False, mini_batch=False)
    acc, loss = chosen_lines(explorer)
    assert np.isnan(acc.get_ydata()).all() and np.isnan(loss.get_ydata()).all()
    assert explorer.figure.axes[1].get_title() == "not run (pass run=... to train it)"


def test_run_trains_a_missing_combination_once(recipe_grid, recipe_techniques, make_recipe_seeds):
    calls = []

    def run(used):
        calls.append(used)
        return make_recipe_seeds(0.5, None)

    explorer = widgets.recipe_explorer(recipe_grid, recipe_techniques, run=run)
    for _ in range(2):
        explorer.set(z_score=False, mini_batch=False)
        explorer.set(z_score=True, mini_batch=True)
    assert calls == [frozenset({"batch norm"})]
    explorer.set(z_score=False, mini_batch=False)
    np.testing.assert_allclose(chosen_lines(explorer)[0].get_ydata()[-1], 0.501)


def test_the_explorer_can_start_elsewhere_and_keys_may_be_any_iterable(recipe_grid,
                                                                      recipe_techniques):
    as_tuples = {tuple(sorted(key)): value for key, value in recipe_grid.items()}
    explorer = widgets.recipe_explorer(as_tuples, recipe_techniques, used={"z-score", "batch norm"})
    assert explorer.values == {"z_score": True, "mini_batch": False, "batch_norm": True}
    assert explorer.figure.axes[0].get_title() == "without mini-batch"


def test_the_axes_stay_fixed(recipe_grid, recipe_techniques):
    explorer = widgets.recipe_explorer(recipe_grid, recipe_techniques)
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in explorer.figure.axes]
    explorer.set(mini_batch=False, z_score=False)
    assert limits == [(ax.get_xlim(), ax.get_ylim()) for ax in explorer.figure.axes]


def test_bad_input_is_refused_with_a_clear_message(recipe_grid, recipe_techniques,
                                                  make_recipe_seeds):
    with pytest.raises(TypeError, match="runs must be a non-empty dict"):
        widgets.recipe_explorer([], recipe_techniques)
    with pytest.raises(ValueError, match="not among techniques"):
        widgets.recipe_explorer({frozenset({"dropout"}): make_recipe_seeds(0.9, 1)},
                                recipe_techniques)
    with pytest.raises(ValueError, match="same number of epochs"):
        short = History(epochs=2, steps_per_epoch=1, step_loss=np.zeros(2),
                        step_lr=np.zeros(2), train_loss=np.ones(3), val_accuracy=np.ones(3))
        widgets.recipe_explorer({**recipe_grid, frozenset({"z-score"}): [short]}, recipe_techniques)
    epochs = recipe_grid[frozenset()][0].epochs
    with pytest.raises(ValueError, match="validation set"):
        no_val = History(epochs=epochs, steps_per_epoch=1, step_loss=np.zeros(epochs),
                         step_lr=np.zeros(epochs), train_loss=np.ones(epochs + 1))
        widgets.recipe_explorer({frozenset(): [no_val]}, recipe_techniques)
    with pytest.raises(ValueError, match="holds no History"):
        widgets.recipe_explorer({frozenset(): []}, recipe_techniques)
    with pytest.raises(ValueError, match="techniques must be different"):
        widgets.recipe_explorer(recipe_grid, ("z-score", "z-score"))
    with pytest.raises(ValueError, match="stay different"):
        widgets.recipe_explorer({frozenset(): make_recipe_seeds(0.9, 1)}, ("a b", "a-b"))
    with pytest.raises(TypeError, match="run must be a function"):
        widgets.recipe_explorer(recipe_grid, recipe_techniques, run="train")
    with pytest.raises(ValueError, match="used must name techniques"):
        widgets.recipe_explorer(recipe_grid, recipe_techniques, used={"dropout"})

