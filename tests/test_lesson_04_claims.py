"""Exact numbers behind lesson 04's prose (the lesson asserts the claims with margins)."""

import numpy as np

from course_lib.data import load_digits, train_test_split


def step_ratio(t, beta1=0.9, beta2=0.999):
    """Uncorrected over corrected Adam step, (1 − β1^t) / √(1 − β2^t)."""
    t = np.asarray(t, dtype=np.float64)
    return (1 - beta1**t) / np.sqrt(1 - beta2**t)


def test_step_ratio_peaks_at_step_12():
    t = np.arange(1, 20_001)
    assert int(t[np.argmax(step_ratio(t))]) == 12


def test_step_ratio_crosses_one_at_step_11_for_slow_first_moment():
    t = np.arange(1, 1001)
    assert int(t[np.argmax(step_ratio(t, 0.99, 0.999) > 1)]) == 11


def test_first_steps_with_beta_power_below_one_percent():
    t = np.arange(1, 10_001)
    first = {beta: int(t[np.argmax(beta**t < 0.01)]) for beta in (0.9, 0.999)}
    assert first == {0.9: 44, 0.999: 4603}


def test_digits_training_split_has_1346_images():
    digits = load_digits()
    X_train, _, _, _ = train_test_split(digits.X, digits.y, test_fraction=0.25, rng=0,
                                        stratify=True)
    assert len(X_train) == 1346
