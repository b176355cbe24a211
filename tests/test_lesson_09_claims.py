"""Lesson 09's regression constants: the numbers the lesson's prose relies on, pinned here
rather than asserted in the lesson (the lesson asserts its claims with margins)."""

import math

import numpy as np
import pytest

from course_lib.data import load_digits, train_test_split
from course_lib.studies import TECHNIQUES, train_recipe, tune_lr


@pytest.fixture(scope="module")
def splits():
    digits = load_digits()
    X_rest, X_test, y_rest, y_test = train_test_split(digits.X, digits.y, 0.2, rng=0,
                                                      stratify=True)
    X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, 0.25, rng=0,
                                                      stratify=True)
    return (X_train, y_train), (X_val, y_val), (X_test, y_test)


def test_the_split_has_1076_training_362_validation_and_359_test_rows(splits):
    assert [len(y) for _, y in splits] == [1076, 362, 359]


def test_the_recipe_makes_17_updates_an_epoch_and_170_in_the_budget(splits):
    (X_train, y_train), validation, _ = splits
    history = train_recipe(TECHNIQUES, 0.01, X_train, y_train, validation=validation,
                           epochs=10, seed=0).history
    assert history.steps_per_epoch == math.ceil(1076 / 64) == 17
    assert history.step_loss.size == 170


def test_the_full_recipes_rate_is_chosen_inside_a_grid_widened_once(splits):
    (X_train, y_train), validation, _ = splits

    def score(lr):
        return train_recipe(TECHNIQUES, lr, X_train, y_train, validation=validation,
                            epochs=10, seed=100).history.val_accuracy[-1]

    lr, scores = tune_lr(score, 10.0 ** np.array([-2.5, -2.0, -1.5]))
    assert lr == pytest.approx(10 ** -1.5)
    assert list(scores) == pytest.approx(list(10.0 ** np.array([-2.5, -2.0, -1.5, -1.0])))
