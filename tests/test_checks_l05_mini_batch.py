"""Checkers of lesson 05: a correct solution passes, each typical mistake fails with a reason."""

from itertools import combinations

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks import core
from course_lib.checks.l05_mini_batch import _reference_batch_gradient_variance


def epoch_batches(n_samples, batch_size, rng):
    order = rng.permutation(n_samples)
    return [order[k:k + batch_size] for k in range(0, n_samples, batch_size)]


def batch_gradient_variance(per_example_grads, batch_size):
    G = np.asarray(per_example_grads)
    n = len(G)
    sigma2 = np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1))
    return sigma2 / batch_size * (n - batch_size) / (n - 1)


# --- epoch_batches ----------------------------------------------------------------------------


def test_a_correct_epoch_passes_every_case(capsys):
    assert checks.check_epoch_batches(epoch_batches) is True
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "epoch_batches: all 6 of 6 cases passed"


def test_other_correct_ways_pass_too(capsys):
    def shuffled_in_place(n, b, rng):  # other argument names, a generator of batches
        order = np.arange(n)
        rng.shuffle(order)
        return (order[k:k + b] for k in range(0, n, b))

    def split(n_samples, batch_size, rng):
        return np.array_split(rng.permutation(n_samples), range(batch_size, n_samples, batch_size))

    assert checks.check_epoch_batches(shuffled_in_place) is True
    assert checks.check_epoch_batches(split) is True


def test_an_endless_generator_is_cut_off_one_batch_past_the_epoch(capsys, monkeypatch):
    monkeypatch.setattr(core, "TIME_LIMIT", 60.0)  # what stops it is the count, not the clock
    drawn = []

    def endless(n_samples, batch_size, rng):
        drawn.append(0)
        order = rng.permutation(n_samples)
        while drawn[-1] < 10_000:  # a guard for this test: the checker should stop far sooner
            drawn[-1] += 1
            yield order[:batch_size]
        raise AssertionError("the checker kept reading an endless generator")

    assert checks.check_epoch_batches(endless) is False
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "epoch_batches case 1: FAIL, raised ValueError: expected ceil(10/3) = 4 batches, the "
        "last one with what is left over (1 of 3; it is not dropped), got more than 4 (does your "
        "generator ever stop?)  [n_samples=10, batch_size=3, rng_seed=511]")
    assert drawn[0] == 5 and max(drawn) <= 101  # at most one batch past the epoch's


def test_sampling_with_replacement_is_caught(capsys):
    def with_replacement(n_samples, batch_size, rng):
        order = rng.integers(0, n_samples, n_samples)
        return [order[k:k + batch_size] for k in range(0, n_samples, batch_size)]

    assert checks.check_epoch_batches(with_replacement) is False
    out = capsys.readouterr().out
    assert "exactly once per epoch" in out and "with replacement?" in out


def test_dropping_the_last_partial_batch_is_caught(capsys):
    def drop_last(n_samples, batch_size, rng):
        order = rng.permutation(n_samples)
        return [order[k:k + batch_size] for k in range(0, n_samples - batch_size + 1, batch_size)]

    assert checks.check_epoch_batches(drop_last) is False
    out = capsys.readouterr().out
    assert "expected ceil(10/3) = 4 batches" in out and "not dropped" in out and "got 3" in out


def test_an_unshuffled_epoch_is_caught(capsys):
    def in_order(n_samples, batch_size, rng):
        order = np.arange(n_samples)
        return [order[k:k + batch_size] for k in range(0, n_samples, batch_size)]

    assert checks.check_epoch_batches(in_order) is False
    assert "shuffle them with rng" in capsys.readouterr().out


def test_a_generator_seeded_inside_gives_every_epoch_the_same_order(capsys):
    def reseeded(n_samples, batch_size, rng):
        return epoch_batches(n_samples, batch_size, np.random.default_rng(0))

    assert checks.check_epoch_batches(reseeded) is False
    assert "same order" in capsys.readouterr().out


def test_numpys_global_generator_is_not_reproducible(capsys):
    def global_state(n_samples, batch_size, rng):
        return epoch_batches(n_samples, batch_size, np.random.default_rng())

    assert checks.check_epoch_batches(global_state) is False
    assert "draw every random number from rng" in capsys.readouterr().out


def test_wrong_batch_sizes_and_types_are_reported(capsys):
    def uneven(n_samples, batch_size, rng):
        order = rng.permutation(n_samples)
        return np.array_split(order, -(-n_samples // batch_size))  # right count, wrong sizes

    def floats(n_samples, batch_size, rng):
        return [b.astype(float) for b in epoch_batches(n_samples, batch_size, rng)]

    def out_of_range(n_samples, batch_size, rng):
        return [b + 1 for b in epoch_batches(n_samples, batch_size, rng)]

    assert checks.check_epoch_batches(uneven) is False
    assert "must hold 3 samples, got 2" in capsys.readouterr().out
    assert checks.check_epoch_batches(floats) is False
    assert "1-D array of integer sample indices" in capsys.readouterr().out
    assert checks.check_epoch_batches(out_of_range) is False
    assert "is not a sample" in capsys.readouterr().out


# --- batch_gradient_variance ------------------------------------------------------------------


def test_a_correct_variance_passes_every_case(capsys):
    assert checks.check_batch_gradient_variance(batch_gradient_variance) is True
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "batch_gradient_variance: all 6 of 6 cases passed"


def test_the_reference_is_the_average_over_every_possible_batch():
    # Enumerate all C(6, B) batches of a small gradient matrix: the exact expectation.
    rng = np.random.default_rng(3)
    G = rng.normal(size=(6, 2)) + 4.0
    full = G.mean(axis=0)
    for batch_size in range(1, 7):
        distances = [np.sum((G[list(rows)].mean(axis=0) - full) ** 2)
                     for rows in combinations(range(6), batch_size)]
        assert batch_gradient_variance(G, batch_size) == pytest.approx(np.mean(distances))
        assert _reference_batch_gradient_variance(G, batch_size) == pytest.approx(
            np.mean(distances), abs=1e-12)


def test_forgetting_the_finite_population_correction_fails(capsys):
    def no_correction(per_example_grads, batch_size):
        G = np.asarray(per_example_grads)
        return np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1)) / batch_size

    assert checks.check_batch_gradient_variance(no_correction) is False
    out = capsys.readouterr().out
    assert "expected 0.0" in out  # the whole set as a batch has no noise


def test_the_correction_with_n_instead_of_n_minus_1_fails(capsys):
    def wrong_denominator(per_example_grads, batch_size):
        G = np.asarray(per_example_grads)
        n = len(G)
        sigma2 = np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1))
        return sigma2 / batch_size * (n - batch_size) / n

    assert checks.check_batch_gradient_variance(wrong_denominator) is False


def test_forgetting_to_subtract_the_mean_gradient_fails(capsys):
    def raw_second_moment(per_example_grads, batch_size):
        G = np.asarray(per_example_grads)
        n = len(G)
        return np.mean(np.sum(G**2, axis=1)) / batch_size * (n - batch_size) / (n - 1)

    assert checks.check_batch_gradient_variance(raw_second_moment) is False


def test_the_variance_learner_may_use_any_argument_names_but_not_change_its_input(capsys):
    def renamed(G, B):
        return batch_gradient_variance(G, B)

    def centres_in_place(G, B):
        value = batch_gradient_variance(G, B)
        G -= G.mean(axis=0)
        return value

    assert checks.check_batch_gradient_variance(renamed) is True
    assert checks.check_batch_gradient_variance(centres_in_place) is False
    assert "changed its input 'per_example_grads'" in capsys.readouterr().out

