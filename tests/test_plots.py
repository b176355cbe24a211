"""The shared figures of ``course_lib.plots``: what each function draws, read off its artists.

Figures come from ``plots.new_figure`` (no pyplot) and are rendered with the Agg canvas.
"""

import ipywidgets
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb

from course_lib import plots, schedules
from course_lib.layers import Dense
from course_lib.losses import mse, softmax_cross_entropy
from course_lib.optimizers import SGD
from course_lib.problems import Quadratic
from course_lib.stats import mean_and_band
from course_lib.training import fit
from course_lib.widgets import Explorer


def render(figure) -> None:
    FigureCanvasAgg(figure).draw()


def band_limits(band, x) -> np.ndarray:
    """For each position in ``x``: the lowest and highest y of the band's outline there."""
    vertices = np.vstack([path.vertices for path in band.get_paths()])
    limits = []
    for xi in x:
        ys = vertices[vertices[:, 0] == xi, 1]
        limits.append([ys.min(), ys.max()] if ys.size else [np.nan, np.nan])
    return np.array(limits)


# --- loss_band ---------------------------------------------------------------------------------


def test_loss_band_draws_the_mean_and_shades_mean_plus_minus_std(noisy_curves):
    figure, (ax,) = plots.new_figure()
    curves = noisy_curves()
    line, band = plots.loss_band(ax, curves, label="adam", color="C2")
    assert list(ax.get_lines()) == [line] and line.get_label() == "adam"
    mean, std = curves.mean(axis=0), curves.std(axis=0, ddof=1)
    np.testing.assert_allclose(line.get_ydata(), mean, rtol=1e-12)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(30))
    np.testing.assert_allclose(band_limits(band, np.arange(30)),
                               np.column_stack([mean - std, mean + std]), rtol=1e-12)
    assert ax.get_yscale() == "log"
    assert to_rgb(band.get_facecolor()[0]) == to_rgb(line.get_color()) == to_rgb("C2")
    render(figure)


def test_loss_band_positions_and_linear_axis(noisy_curves):
    figure, (ax,) = plots.new_figure()
    x = np.linspace(0, 3, 30)
    line, band = plots.loss_band(ax, noisy_curves(), x=x, log=False, band="ci")
    np.testing.assert_array_equal(line.get_xdata(), x)
    assert ax.get_yscale() == "linear"
    with pytest.raises(ValueError, match="one value per step"):
        plots.loss_band(ax, noisy_curves(), x=x[:-1])


def test_loss_band_skips_the_steps_where_every_run_diverged(noisy_curves):
    figure, (ax,) = plots.new_figure()
    curves = noisy_curves(steps=10)
    curves[:, 6] = np.nan
    line, band = plots.loss_band(ax, curves)
    assert np.isnan(line.get_ydata()[6]) and np.isfinite(np.delete(line.get_ydata(), 6)).all()
    assert len(band.get_paths()) == 2  # the shading stops at step 6 and starts again after it
    assert np.isnan(band_limits(band, [6])).all()
    render(figure)


def test_loss_band_artists_update_in_place(noisy_curves):
    figure, (ax,) = plots.new_figure()
    x = np.arange(30)
    line, band = plots.loss_band(ax, noisy_curves(seed=0))
    mean, low, high = mean_and_band(noisy_curves(seed=7))
    line.set_ydata(mean)
    band.set_data(x, low, high)
    np.testing.assert_allclose(band_limits(band, x), np.column_stack([low, high]))


def test_an_explorer_can_blit_a_loss_band(noisy_curves):
    figure, (ax,) = plots.new_figure()
    x = np.arange(30)
    line, band = plots.loss_band(ax, noisy_curves())
    ax.set_ylim(1e-3, 10)

    def draw(scale):
        mean, low, high = mean_and_band(scale * noisy_curves())
        line.set_ydata(mean)
        band.set_data(x, low, high)
        return [line, band]

    explorer = Explorer(figure, {"scale": ipywidgets.FloatSlider(1.0, min=0.1, max=2)}, draw)
    explorer.set(scale=0.5)
    explorer.set(scale=1.5)  # blitted
    blitted = explorer.png()
    explorer.render()
    assert blitted == explorer.png()


# --- schedule_curves -----------------------------------------------------------------------


def test_schedule_curves_draws_lr_against_step_for_each_schedule():
    figure, (ax,) = plots.new_figure()
    lines = plots.schedule_curves(ax, {
        "exponential": schedules.exponential_decay(0.1, 0.9),
        "step": schedules.step_decay(0.1, step_size=5, gamma=0.5),
    }, steps=20)
    t = np.arange(20)
    assert list(lines) == ["exponential", "step"] and list(ax.get_lines()) == list(lines.values())
    np.testing.assert_array_equal(lines["step"].get_xdata(), t)
    np.testing.assert_allclose(lines["exponential"].get_ydata(), 0.1 * 0.9**t, rtol=1e-12)
    np.testing.assert_allclose(lines["step"].get_ydata(), 0.1 * 0.5 ** (t // 5), rtol=1e-12)
    assert lines["step"].get_drawstyle() == "steps-post"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["exponential", "step"]
    assert ax.get_yscale() == "linear" and ax.get_ylabel() == "learning rate"
    render(figure)


def test_schedule_curves_log_axis_and_bad_input():
    figure, (ax,) = plots.new_figure()
    plots.schedule_curves(ax, {"c": schedules.constant(0.1)}, 5, log=True)
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="non-empty dict"):
        plots.schedule_curves(ax, {}, 5)
    with pytest.raises(TypeError, match="callable"):
        plots.schedule_curves(ax, {"c": 0.1}, 5)
    with pytest.raises(ValueError, match="steps"):
        plots.schedule_curves(ax, {"c": schedules.constant(0.1)}, 0)


# --- layer_histograms -------------------------------------------------------------------


def activations(seed=0) -> dict:
    rng = np.random.default_rng(seed)
    return {"0:Dense": rng.normal(0, 3, (200, 8)), "1:BatchNorm": rng.normal(0, 1, (200, 8)),
            "2:ReLU": np.maximum(rng.normal(0, 1, (200, 8)), 0)}


def test_small_multiples_one_histogram_per_layer_with_fractions_per_bin():
    figure, axes = plots.new_figure(3)
    values = activations()
    patches = plots.layer_histograms(axes, values, bins=20, value_range=(-4, 4))
    edges = np.linspace(-4, 4, 21)
    assert list(patches) == list(values)
    for ax, (name, v) in zip(axes, values.items(), strict=True):
        assert list(ax.patches) == [patches[name]] and ax.get_title() == name
        heights, patch_edges = patches[name].get_data()[:2]
        np.testing.assert_allclose(patch_edges, edges)
        np.testing.assert_allclose(heights, np.histogram(v, edges)[0] / v.size)
    render(figure)


def test_default_bins_cover_every_layer_so_each_histogram_sums_to_one():
    figure, (ax,) = plots.new_figure()
    values = activations()
    values["0:Dense"][0, 0] = np.nan  # left out
    patches = plots.layer_histograms(ax, values, bins=15)
    everything = np.concatenate([v.ravel() for v in values.values()])
    for patch in patches.values():
        heights, edges = patch.get_data()[:2]
        assert heights.sum() == pytest.approx(1.0)
        assert (edges[0], edges[-1]) == (np.nanmin(everything), np.nanmax(everything))
    assert list(ax.patches) == list(patches.values())  # overlaid on the one axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(values)
    render(figure)


def test_histogram_of_constant_activations():
    figure, (ax,) = plots.new_figure()
    (patch,) = plots.layer_histograms(ax, {"zeros": np.zeros(10)}, bins=4).values()
    heights, edges = patch.get_data()[:2]
    assert edges[0] < 0 < edges[-1] and heights.sum() == pytest.approx(1.0)


def test_layer_histograms_rejects_bad_input():
    figure, axes = plots.new_figure(2)
    with pytest.raises(ValueError, match="3 Axes"):
        plots.layer_histograms(axes, activations())
    with pytest.raises(ValueError, match="non-empty"):
        plots.layer_histograms(axes[0], {})
    with pytest.raises(ValueError, match="bins"):
        plots.layer_histograms(axes[0], activations(), bins=0)


# --- grad_norm_bars -------------------------------------------------------------------------


def test_grad_norm_bars_one_bar_per_parameter_on_a_log_axis():
    figure, (ax,) = plots.new_figure()
    norms = {"0.W": 3.0, "0.b": 0.02, "2.W": 1e-4}
    bars = plots.grad_norm_bars(ax, norms, label="plain")
    assert [bar.get_height() for bar in bars] == list(norms.values())
    assert [bar.get_x() + bar.get_width() / 2 for bar in bars] == pytest.approx([0, 1, 2])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(norms)
    assert ax.get_yscale() == "log"
    render(figure)


def test_grad_norm_bars_reads_a_history_at_an_epoch_and_shifts_by_offset():
    figure, (ax,) = plots.new_figure()
    per_epoch = {"0.W": np.array([np.nan, 2.0, 1.0]), "1.W": np.array([np.nan, 0.5, 0.25])}
    bars = plots.grad_norm_bars(ax, per_epoch, epoch=1, width=0.4, offset=0.2)
    assert [bar.get_height() for bar in bars] == [2.0, 0.5]
    assert [bar.get_x() + bar.get_width() / 2 for bar in bars] == pytest.approx([0.2, 1.2])
    last = plots.grad_norm_bars(ax, per_epoch, epoch=-1)
    assert [bar.get_height() for bar in last] == [1.0, 0.25]


@pytest.mark.parametrize(
    "norms, epoch, match",
    [
        ({}, None, "non-empty"),
        ({"0.W": np.ones(3)}, None, "pass epoch"),
        ({"0.W": 1.0}, 1, "1-D per-epoch"),
        ({"0.W": np.ones(3)}, 3, "epoch must index"),
    ],
)
def test_grad_norm_bars_rejects_bad_input(norms, epoch, match):
    figure, (ax,) = plots.new_figure()
    with pytest.raises(ValueError, match=match):
        plots.grad_norm_bars(ax, norms, epoch=epoch)


# --- history_curves ------------------------------------------------------------------------


def train(seed, lr=0.05, labels=False, validation=False, epochs=4):
    rng = np.random.default_rng(100 + seed)
    X = rng.normal(size=(32, 3))
    if labels:
        y = (X[:, 0] > 0).astype(np.int64)
        model, loss = Dense(3, 2, rng=seed), softmax_cross_entropy
    else:
        y = X @ np.array([[1.0], [-2.0], [0.5]])
        model, loss = Dense(3, 1, rng=seed), mse
    return fit(model, loss, SGD(lr), X, y, epochs=epochs, batch_size=8, seed=seed,
               validation=(X, y) if validation else None)


def test_history_curves_of_several_seeds_is_their_mean_and_std():
    figure, (ax,) = plots.new_figure()
    histories = [train(seed) for seed in range(3)]
    line, band = plots.history_curves(ax, histories, "train_loss", label="sgd")
    curves = np.array([h.train_loss for h in histories])
    mean, std = curves.mean(axis=0), curves.std(axis=0, ddof=1)
    np.testing.assert_allclose(line.get_ydata(), mean, rtol=1e-12)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(5))  # epochs 0 … 4
    np.testing.assert_allclose(band_limits(band, np.arange(5)),
                               np.column_stack([mean - std, mean + std]), rtol=1e-12)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_yscale()) == ("epoch", "train loss", "log")
    render(figure)


def test_history_curves_of_one_history_has_no_band():
    figure, (ax,) = plots.new_figure()
    history = train(0, labels=True, validation=True)
    line, band = plots.history_curves(ax, history, "val_accuracy")
    np.testing.assert_array_equal(line.get_ydata(), history.val_accuracy)
    assert band.get_paths() == [] and ax.get_yscale() == "linear"
    line, _ = plots.history_curves(ax, (history,), "step_loss")
    np.testing.assert_array_equal(line.get_ydata(), history.step_loss)
    assert ax.get_xlabel() == "step"


def test_history_curves_leaves_a_diverged_run_out_of_the_mean():
    figure, (ax,) = plots.new_figure()
    histories = [train(0), train(1), train(2, lr=1e30)]
    assert histories[2].diverged and np.isnan(histories[2].train_loss[-1])
    line, _ = plots.history_curves(ax, histories)
    finished = np.array([histories[0].train_loss, histories[1].train_loss])
    assert line.get_ydata()[-1] == pytest.approx(finished[:, -1].mean(), rel=1e-12)


def test_overlaid_train_and_validation_curves_label_the_axis_by_what_they_share():
    figure, (ax,) = plots.new_figure()
    history = train(0, labels=True, validation=True)
    plots.history_curves(ax, history, "train_loss", label="train")
    plots.history_curves(ax, history, "val_loss", label="validation")
    assert ax.get_ylabel() == "loss"
    plots.history_curves(ax, history, "val_accuracy")
    assert ax.get_ylabel() == "loss, val accuracy"


def test_a_run_that_blew_up_to_finite_huge_values_still_renders_on_a_log_axis():
    figure, (ax,) = plots.new_figure()
    history = train(0)
    history.train_loss[2:] = [1e270, 1e280, 1e290]  # finite, far beyond any loss worth plotting
    line, _ = plots.history_curves(ax, [history, train(1)], "train_loss")
    assert np.isnan(line.get_ydata()[2:]).all() and np.isfinite(line.get_ydata()[:2]).all()
    render(figure)  # matplotlib's log ticks overflowed here before the ceiling


def test_history_curves_rejects_bad_input():
    figure, (ax,) = plots.new_figure()
    history = train(0)
    with pytest.raises(ValueError, match="metric must be one of"):
        plots.history_curves(ax, history, "loss")
    with pytest.raises(ValueError, match="has no val_loss"):
        plots.history_curves(ax, [history], "val_loss")
    with pytest.raises(ValueError, match="same length"):
        plots.history_curves(ax, [history, train(1, epochs=3)], "step_lr")
    with pytest.raises(ValueError, match="one or more"):
        plots.history_curves(ax, [], "train_loss")


# --- contours ---------------------------------------------------------------------------------


def test_contours_draw_the_star_only_when_asked():
    figure, (ax,) = plots.new_figure()
    plots.contours(ax, Quadratic(kappa=5), (-1, 1), (-1, 1))
    assert len(ax.lines) == 1
    plots.contours(ax, Quadratic(kappa=5), (-1, 1), (-1, 1), star=False)
    assert len(ax.lines) == 1

