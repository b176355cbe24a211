"""Lesson 07: the batch-norm MLPs, their ReLU inputs, the run grid and the explorer."""

import io

import numpy as np
import pytest
from PIL import Image

from course_lib import widgets
from course_lib.batchnorm_nets import BNRun, bn_mlp, depth_lr_runs, relu_inputs
from course_lib.layers import BatchNorm, Dense, ReLU


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def blobs(n=96, d=6, classes=3, seed=0, dtype=np.float32):
    """Separable classes: a Gaussian blob each, so a little training lowers the loss."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    centres = 2.0 * rng.normal(size=(classes, d))
    X = centres[y] + rng.normal(size=(n, d))
    return X.astype(dtype), y


# --- bn_mlp ----------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_norm", [False, True])
def test_bn_mlp_layout(batch_norm):
    model = bn_mlp(4, batch_norm=batch_norm, width=5, in_features=3, out_features=2, rng=0)
    block = [Dense, BatchNorm, ReLU] if batch_norm else [Dense, ReLU]
    assert [type(layer) for layer in model] == block * 3 + [Dense]
    dense = [layer for layer in model if isinstance(layer, Dense)]
    assert [(d.in_features, d.out_features) for d in dense] == [(3, 5), (5, 5), (5, 5), (5, 2)]
    assert model.forward(np.ones((4, 3))).shape == (4, 2)


def test_the_same_seed_gives_the_same_dense_weights_with_and_without_batch_norm():
    plain = bn_mlp(5, batch_norm=False, rng=7)
    normed = bn_mlp(5, batch_norm=True, rng=7)
    plain_w = [layer.W for layer in plain if isinstance(layer, Dense)]
    normed_w = [layer.W for layer in normed if isinstance(layer, Dense)]
    for a, b in zip(plain_w, normed_w, strict=True):
        np.testing.assert_array_equal(a, b)
    other = bn_mlp(5, batch_norm=False, rng=8)
    assert not np.array_equal(plain[0].W, other[0].W)


def test_depth_one_is_a_linear_model_and_dtype_and_init_are_passed_on():
    model = bn_mlp(1, batch_norm=True, rng=0)
    assert len(model) == 1 and isinstance(model[0], Dense)
    model = bn_mlp(3, batch_norm=True, dtype=np.float32, init=0.01, rng=0)
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert abs(float(model[0].W.std()) - 0.01) < 0.002


@pytest.mark.parametrize("kwargs, error", [
    ({"depth": 0, "batch_norm": True}, ValueError),
    ({"depth": 2.5, "batch_norm": True}, TypeError),
    ({"depth": 3, "batch_norm": 1}, TypeError),
    ({"depth": 3, "batch_norm": True, "width": 0}, ValueError),
])
def test_bn_mlp_rejects_bad_input(kwargs, error):
    depth = kwargs.pop("depth")
    with pytest.raises(error):
        bn_mlp(depth, **kwargs)


# --- relu_inputs -----------------------------------------------------------------------------


def test_relu_inputs_are_what_each_relu_receives():
    model = bn_mlp(4, batch_norm=True, width=5, in_features=3, rng=0)
    X = np.random.default_rng(1).normal(size=(10, 3))
    for _ in range(3):  # running statistics that differ from the start
        model.forward(X * 2 + 1, training=True)
    inputs = relu_inputs(model, X)
    assert list(inputs) == ["layer 1", "layer 2", "layer 3"]
    h = X
    expected = []
    for layer in model:
        if isinstance(layer, ReLU):
            expected.append(h)
        h = layer.forward(h, training=False)
    for got, want in zip(inputs.values(), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_relu_inputs_in_training_mode_are_normalised_and_leave_the_running_statistics():
    model = bn_mlp(4, batch_norm=True, width=6, in_features=3, rng=0)
    X = np.random.default_rng(2).normal(3.0, 5.0, size=(50, 3))
    before = {k: v.copy() for k, v in model.buffers.items()}
    for z in relu_inputs(model, X, training=True).values():
        np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-10)  # gamma = 1, beta = 0
        np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-3)
    for name, value in model.buffers.items():
        np.testing.assert_array_equal(value, before[name])


def test_relu_inputs_of_a_plain_network_are_its_dense_outputs():
    model = bn_mlp(3, batch_norm=False, width=4, in_features=2, rng=0)
    X = np.random.default_rng(3).normal(size=(5, 2))
    first = relu_inputs(model, X)["layer 1"]
    np.testing.assert_allclose(first, X @ model[0].W + model[0].b)
    assert relu_inputs(bn_mlp(1, batch_norm=False, in_features=2, rng=0), X) == {}
    with pytest.raises(TypeError, match="Sequential"):
        relu_inputs(Dense(2, 2), X)


# --- depth_lr_runs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_runs():
    X, y = blobs()
    return depth_lr_runs(X, y, depths=[1, 3], learning_rates=[0.1, 1e4], width=8, epochs=2,
                         batch_size=32, probe_rows=64)


def test_depth_lr_runs_holds_every_setting(small_runs):
    assert set(small_runs) == {(d, lr, bn) for d in (1, 3) for lr in (0.1, 1e4)
                               for bn in (False, True)}
    run = small_runs[3, 0.1, True]
    assert isinstance(run, BNRun)
    assert run.step_loss.shape == (2 * 3,)  # 96 rows in batches of 32, two epochs
    assert run.histograms.shape == (2, 40) and run.stds.shape == (2,)
    np.testing.assert_allclose(run.histograms.sum(axis=1), 1.0, atol=0.02)  # few outside ±4
    assert small_runs[1, 0.1, False].histograms.shape == (0, 40)


def test_a_small_learning_rate_trains_and_batch_norm_inputs_have_unit_spread(small_runs):
    for batch_norm in (False, True):
        run = small_runs[3, 0.1, batch_norm]
        assert not run.diverged
        assert run.final_loss < run.step_loss[0]
    # probed in training mode: each batch-norm output has std gamma, close to 1 after 6 steps
    np.testing.assert_allclose(small_runs[3, 0.1, True].stds, 1.0, atol=0.1)


def test_a_huge_learning_rate_is_recorded_as_diverged(small_runs):
    run = small_runs[3, 1e4, False]
    assert run.diverged and np.isnan(run.final_loss)
    assert np.isnan(run.stds).all() and not run.histograms.any()


def test_depth_lr_runs_rejects_a_last_batch_of_one_and_bad_input():
    X, y = blobs(n=65)
    with pytest.raises(ValueError, match="last batch of one row"):
        depth_lr_runs(X, y, [2], [0.1], batch_size=32)
    with pytest.raises(ValueError, match="at least one value"):
        depth_lr_runs(X[:64], y[:64], [], [0.1], batch_size=32)
    with pytest.raises(ValueError, match="integer class label"):
        depth_lr_runs(X[:64], y[:64].astype(float), [2], [0.1], batch_size=32)
    with pytest.raises(TypeError, match="2-D float"):
        depth_lr_runs(X[:64].astype(int), y[:64], [2], [0.1], batch_size=32)
    with pytest.raises(ValueError, match="edges"):
        depth_lr_runs(X[:64], y[:64], [2], [0.1], batch_size=32, edges=[1.0, 0.0])


# --- the explorer ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid():
    X, y = blobs(n=128, d=8, classes=4)
    return depth_lr_runs(X, y, depths=[2, 4], learning_rates=[0.03, 0.3, 1e4], width=8,
                         epochs=2, batch_size=32, probe_rows=64)


def test_the_explorer_redraws_on_every_control(grid):
    explorer = widgets.batch_norm_explorer(grid)
    assert explorer.values == {"depth": 4, "lr": 0.3, "batch_norm": True}
    seen = [explorer.image.value]
    for values in [{"depth": 2}, {"lr": 0.03}, {"batch_norm": False}, {"lr": 1e4}]:
        explorer.set(**values)
        seen.append(explorer.image.value)
    assert len(set(seen)) == len(seen)
    assert len(explorer.redraw_ms) == len(seen)


def test_blitted_redraws_equal_a_full_render(grid):
    explorer = widgets.batch_norm_explorer(grid, depth=2, lr=0.03, batch_norm=False)
    explorer.set(depth=4, lr=0.3, batch_norm=True)  # rows appear: still only moving artists
    explorer.set(lr=1e4, batch_norm=False)  # a diverged run: empty rows, "diverged" titles
    blitted = pixels(explorer.png())
    explorer._render_all()
    np.testing.assert_array_equal(blitted, pixels(explorer.png()))


def test_going_back_gives_the_same_picture(grid):
    explorer = widgets.batch_norm_explorer(grid, depth=4, lr=0.3)
    explorer.set(lr=0.03)
    explorer.set(lr=0.3)
    first = pixels(explorer.png())
    explorer.set(depth=2, lr=0.03, batch_norm=False)
    explorer.set(depth=4, lr=0.3, batch_norm=True)
    np.testing.assert_array_equal(first, pixels(explorer.png()))


def test_the_hidden_rows_follow_the_depth(grid):
    explorer = widgets.batch_norm_explorer(grid, depth=2)
    ax_hist = explorer.figure.axes[0]
    ridges = [p for p in ax_hist.patches]
    assert [r.get_visible() for r in ridges] == [True, False, False]
    explorer.set(depth=4)
    assert [r.get_visible() for r in ridges] == [True, True, True]
    assert "diverged" not in ax_hist.get_title()
    explorer.set(lr=1e4, batch_norm=False)
    assert "diverged" in ax_hist.get_title()


def test_the_explorer_rejects_an_incomplete_grid_or_values_outside_it(grid):
    partial = dict(grid)
    del partial[2, 0.3, True]
    with pytest.raises(ValueError, match="every"):
        widgets.batch_norm_explorer(partial)
    with pytest.raises(ValueError, match="in the grid"):
        widgets.batch_norm_explorer(grid, depth=3)
    with pytest.raises(TypeError, match="dict"):
        widgets.batch_norm_explorer([1, 2])
