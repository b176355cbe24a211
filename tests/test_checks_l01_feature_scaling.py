"""Tests of the lesson 01 checkers in course_lib.checks: right answers pass, wrong ones fail."""

from __future__ import annotations

import numpy as np

from course_lib import checks


def good_zscore(X_train, X_test):
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    scale = np.where(std == 0, 1.0, std)
    return mean, scale, (X_train - mean) / scale, (X_test - mean) / scale


def good_mean_normalize(X_train, X_test):
    mean = X_train.mean(axis=0)
    spread = X_train.max(axis=0) - X_train.min(axis=0)
    spread = np.where(spread == 0, 1.0, spread)
    return mean, spread, (X_train - mean) / spread, (X_test - mean) / spread


def good_condition_number(X):
    design = np.column_stack([X, np.ones(len(X))])
    eigenvalues = np.linalg.eigvalsh(design.T @ design / len(X))
    return eigenvalues[-1] / eigenvalues[0]


def last_line(capsys) -> str:
    return capsys.readouterr().out.splitlines()[-1]


def test_correct_solutions_pass_every_case(capsys):
    assert checks.check_zscore(good_zscore) is True
    assert last_line(capsys) == "zscore: all 6 of 6 cases passed"
    assert checks.check_mean_normalize(good_mean_normalize) is True
    assert last_line(capsys) == "mean_normalize: all 6 of 6 cases passed"
    assert checks.check_condition_number(good_condition_number) is True
    assert last_line(capsys) == "condition_number: all 6 of 6 cases passed"


def test_other_seeds_pass_too(capsys):
    for seed in (1, 2, 3):
        assert checks.check_zscore(good_zscore, seed=seed)
        assert checks.check_mean_normalize(good_mean_normalize, seed=seed)
        assert checks.check_condition_number(good_condition_number, seed=seed)


def test_np_linalg_cond_is_accepted(capsys):
    def via_cond(X):
        design = np.column_stack([X, np.ones(len(X))])
        return np.linalg.cond(design.T @ design / len(X))

    assert checks.check_condition_number(via_cond) is True


def test_the_sample_standard_deviation_fails(capsys):
    def sample_std(X_train, X_test):
        mean = X_train.mean(axis=0)
        std = X_train.std(axis=0, ddof=1) if len(X_train) > 1 else np.zeros(X_train.shape[1])
        scale = np.where(std == 0, 1.0, std)
        return mean, scale, (X_train - mean) / scale, (X_test - mean) / scale

    assert checks.check_zscore(sample_std) is False
    out = capsys.readouterr().out
    assert "FAIL, item 1: expected" in out  # the scale is reported first


def test_dividing_a_constant_column_by_zero_fails(capsys):
    def no_constant_rule(X_train, X_test):
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return mean, std, (X_train - mean) / std, (X_test - mean) / std

    assert checks.check_zscore(no_constant_rule) is False
    out = capsys.readouterr().out
    assert "pass" in out and "FAIL" in out  # only the cases with a constant column fail
    assert "item 1: expected 1.0" in out and "got 0.0" in out  # scale 1, not 0


def test_fitting_on_train_and_test_together_fails(capsys):
    def leaky(X_train, X_test):
        both = np.vstack([X_train, X_test])
        mean, std = both.mean(axis=0), both.std(axis=0)
        scale = np.where(std == 0, 1.0, std)
        return mean, scale, (X_train - mean) / scale, (X_test - mean) / scale

    assert checks.check_zscore(leaky) is False
    assert "item 0: expected" in capsys.readouterr().out


def test_scaling_by_the_standard_deviation_is_not_mean_normalization(capsys):
    assert checks.check_mean_normalize(good_zscore) is False
    assert "FAIL" in capsys.readouterr().out


def test_forgetting_the_bias_column_fails(capsys):
    def no_bias(X):
        eigenvalues = np.linalg.eigvalsh(X.T @ X / len(X))
        return eigenvalues[-1] / eigenvalues[0]

    assert checks.check_condition_number(no_bias) is False
    assert "condition_number case 1: FAIL, expected" in capsys.readouterr().out


def test_scaling_in_place_is_reported(capsys):
    def in_place(X_train, X_test):
        result = good_zscore(X_train.copy(), X_test.copy())
        X_train -= result[0]
        return result

    assert checks.check_zscore(in_place) is False
    assert "changed its input 'X_train'" in capsys.readouterr().out


def test_an_unfinished_stub_says_so(capsys):
    def stub(X_train, X_test):
        raise NotImplementedError

    assert checks.check_mean_normalize(stub) is False
    assert "not implemented yet" in capsys.readouterr().out


def test_a_wrong_number_of_results_is_reported(capsys):
    def three(X_train, X_test):
        return good_zscore(X_train, X_test)[:3]

    assert checks.check_zscore(three) is False
    assert "expected a tuple of 4 values" in capsys.readouterr().out
