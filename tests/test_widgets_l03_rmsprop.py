"""Lesson 03's additions: ``Rescaled`` and ``rmsprop_explorer``."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from course_lib import widgets
from course_lib.optimizers import RMSProp
from course_lib.problems import (
    Quadratic,
    Rescaled,
    Rosenbrock,
    run_optimizer,
)


def numerical_grad(problem, z, h=1e-6):
    grad = np.zeros(2)
    for i in range(2):
        step = np.zeros(2)
        step[i] = h
        grad[i] = (problem.loss(z + step) - problem.loss(z - step)) / (2 * h)
    return grad


# --- Rescaled ---------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [Quadratic(kappa=7, L=2.0, angle=25, minimiser=(0.5, -1.0)),
                                  Rosenbrock()])
@pytest.mark.parametrize("scales", [(1.0, 10.0), (0.5, 3.0), (2.0, 0.1)])
def test_rescaled_is_the_problem_in_new_units(base, scales):
    problem = Rescaled(base, scales)
    rng = np.random.default_rng(0)
    for _ in range(5):
        z = rng.uniform(-1.5, 1.5, size=2)
        assert problem.loss(z) == pytest.approx(base.loss(z * np.array(scales)), rel=1e-14)
        numeric = numerical_grad(problem, z)
        assert np.allclose(problem.grad(z), numeric, rtol=1e-6, atol=1e-6 * np.abs(numeric).max())
    # the minimiser moves to x*/s, with the same minimum value and a zero gradient there
    assert np.allclose(problem.minimiser * scales, base.minimiser)
    assert problem.loss(problem.minimiser) == pytest.approx(base.min_value, abs=1e-20)
    assert np.allclose(problem.grad(problem.minimiser), 0.0, atol=1e-12)
    assert problem.min_value == base.min_value


def test_rescaled_loss_takes_a_grid_of_points():
    problem = Rescaled(Quadratic(kappa=3), (1, 1000))
    grid = np.random.default_rng(1).uniform(-1, 1, size=(4, 5, 2))
    assert problem.loss(grid).shape == (4, 5)


def test_an_axis_aligned_centred_bowl_scales_each_gradient_by_s_squared():
    bowl = Quadratic(kappa=5, L=1.0, angle=0)
    problem = Rescaled(bowl, (3.0, 1000.0))
    for z in np.random.default_rng(2).uniform(-2, 2, size=(5, 2)):
        assert np.allclose(problem.grad(z), np.array([9.0, 1e6]) * bowl.grad(z), rtol=1e-14)


@settings(max_examples=25, deadline=None)
@given(
    log_scale=st.floats(min_value=-3, max_value=3),
    lr=st.floats(min_value=1e-3, max_value=0.5),
    beta=st.floats(min_value=0.0, max_value=0.99),
)
def test_rmsprop_takes_the_same_path_whatever_the_scale_of_a_gradient(log_scale, lr, beta):
    # ∇g = s² ∘ ∇f at every point: RMSProp (eps = 0) divides the constant out
    bowl = Quadratic(kappa=5, L=1.0, angle=0)
    scaled = Rescaled(bowl, (1.0, 10.0**log_scale))
    x0 = np.array([-2.5, 2.0])
    a = run_optimizer(RMSProp(lr, beta=beta, eps=0.0), bowl, x0, 60)
    b = run_optimizer(RMSProp(lr, beta=beta, eps=0.0), scaled, x0, 60)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    "scales, error, match",
    [
        ((1.0, 2.0, 3.0), ValueError, "scales"),
        ((1.0, 0.0), ValueError, "scales"),
        ((-1.0, 2.0), ValueError, "scales"),
        ((1.0, np.nan), ValueError, "scales"),
        (("a", "b"), TypeError, "scales"),
    ],
)
def test_rescaled_rejects_bad_scales(scales, error, match):
    with pytest.raises(error, match=match):
        Rescaled(Quadratic(), scales)


def test_rescaled_rejects_something_that_is_not_a_problem():
    with pytest.raises(TypeError, match="problem must have"):
        Rescaled(object(), (1, 2))


def test_rescaled_repr_names_the_problem_and_the_scales():
    assert repr(Rescaled(Quadratic(kappa=5), (1, 1000))) == (
        "Rescaled(Quadratic(kappa=5, L=1, angle=0), scales=(1, 1000))"
    )


# --- the explorer -------------------------------------------------------------------------------


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_every_control_redraws_the_image():
    explorer = widgets.rmsprop_explorer()
    for name, value in [("lr", 0.2), ("beta", 0.5), ("eps", 0.1), ("problem", "Rosenbrock")]:
        before = explorer.image.value
        explorer.controls[name].value = value
        assert explorer.image.value != before, name


def test_a_blitted_redraw_equals_a_full_render():
    explorer = widgets.rmsprop_explorer()
    explorer.set(lr=0.01)
    explorer.set(lr=0.2, beta=0.99)  # fast path: only the moving artists are redrawn
    blitted = pixels(explorer.png())
    explorer.render()
    np.testing.assert_array_equal(blitted, pixels(explorer.png()))


def test_switching_problems_and_back_gives_the_same_picture():
    explorer = widgets.rmsprop_explorer()
    explorer.set(lr=0.05)
    first = pixels(explorer.png())
    explorer.set(problem="bowl, rotated 30°")
    assert (pixels(explorer.png()) != first).any()
    explorer.set(problem="bowl, axes aligned")
    np.testing.assert_array_equal(first, pixels(explorer.png()))


def test_the_floor_line_shows_only_on_the_axis_aligned_bowl():
    explorer = widgets.rmsprop_explorer(lr=0.1)
    floor = next(line for line in explorer.figure.axes[1].lines
                 if "floor" in line.get_label())
    bowl = Quadratic(kappa=50, L=1.0, angle=0)
    assert floor.get_visible()
    assert floor.get_ydata()[0] == pytest.approx((bowl.L + bowl.mu) * 0.1**2 / 8)
    explorer.set(problem="Rosenbrock")
    assert not floor.get_visible()


def test_the_explorer_rejects_an_unknown_problem():
    with pytest.raises(ValueError, match="problem must be one of"):
        widgets.rmsprop_explorer(problem="Himmelblau")
