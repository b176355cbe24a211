"""The hand-written epoch that ``benchmarks/bench_training.py`` times as numpy's floor must do
the same work as ``fit``, or the ratios the README quotes against it mean nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_training  # noqa: E402  (benchmarks/ is not a package)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return bench_training.load_data()


def test_handwritten_epoch_follows_fit_step_for_step(digits):
    X, y = digits
    model = bench_training.make_course_lib_model(seed=3)
    handwritten = bench_training.make_handwritten(model)
    theirs = np.concatenate([handwritten.epoch(X, y, bench_training.BATCH_SIZE, seed=s)
                             for s in (0, 1)])
    ours = np.concatenate([
        bench_training.course_lib_epoch(model, optimizer, X, y, seed=s)
        for optimizer in [bench_training.Adam(bench_training.LR)] for s in (0, 1)
    ])
    assert ours.shape == theirs.shape == (2 * 29,)
    # float32 rounding apart (sums in another order, Adam's corrections folded into eps)
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=5e-4)
    assert ours[-5:].mean() < 0.5 * ours[:5].mean()  # both trained, not both stuck
    # the same weights, BatchNorm parameters and running statistics at the end
    for i, (layer, name) in enumerate([(0, "W"), (0, "b"), (1, "gamma"), (1, "beta"),
                                       (3, "W"), (3, "b"), (4, "gamma"), (4, "beta"),
                                       (6, "W"), (6, "b")]):
        np.testing.assert_allclose(handwritten.params[i], model[layer].params[name],
                                   rtol=0, atol=5e-3, err_msg=f"{layer}.{name}")
    for k, layer in enumerate((1, 4)):
        np.testing.assert_allclose(handwritten.running[k][0], model[layer].running_mean,
                                   rtol=0, atol=5e-3)
        np.testing.assert_allclose(handwritten.running[k][1], model[layer].running_var,
                                   rtol=1e-2)
