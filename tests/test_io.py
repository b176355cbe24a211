"""Save and restore: state_dict / load_state_dict of layers, optimizers and scalers, and io."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import io
from course_lib.data import load_digits
from course_lib.layers import BatchNorm, Dense, ReLU, Residual, Sequential
from course_lib.losses import softmax_cross_entropy
from course_lib.networks import mlp
from course_lib.optimizers import SGD, Adam, AdamW, Momentum, RMSProp
from course_lib.scaling import MeanNormalizer, ZScoreScaler
from course_lib.training import fit


def digits(n=200):
    data = load_digits()
    return ZScoreScaler().fit_transform(data.X[:n]), data.y[:n]


def trained(seed=0, epochs=2):
    X, y = digits()
    model = mlp("l09_putting_it_together", rng=seed)
    optimizer = Adam(0.01)
    fit(model, softmax_cross_entropy, optimizer, X, y, epochs=epochs, batch_size=32, seed=seed)
    return model, optimizer


def test_a_saved_model_loaded_into_a_fresh_one_predicts_bit_for_bit(tmp_path):
    model, optimizer = trained()
    X, _ = digits()
    io.save(tmp_path / "run.npz", model=model.state_dict(), optimizer=optimizer.state_dict())
    fresh = mlp("l09_putting_it_together", rng=123)  # other weights until loaded
    assert not np.array_equal(fresh.forward(X, training=False), model.forward(X, training=False))
    saved = io.load(tmp_path / "run.npz")
    fresh.load_state_dict(saved["model"])
    np.testing.assert_array_equal(fresh.forward(X, training=False),
                                  model.forward(X, training=False))
    assert any("running_var" in name for name in saved["model"])  # buffers travel too


def test_training_resumed_from_a_file_continues_exactly_as_without_it(tmp_path):
    X, y = digits()
    model, optimizer = trained(epochs=1)
    io.save(tmp_path / "run", model=model.state_dict(), optimizer=optimizer.state_dict())
    fit(model, softmax_cross_entropy, optimizer, X, y, epochs=1, batch_size=32, seed=7)

    again, again_optimizer = mlp("l09_putting_it_together", rng=5), Adam(0.5)
    saved = io.load(tmp_path / "run")  # no ".npz" added to the name
    again.load_state_dict(saved["model"])
    again_optimizer.load_state_dict(saved["optimizer"])
    assert again_optimizer.lr == 0.01 and isinstance(again_optimizer.state["0.W"]["t"], int)
    fit(again, softmax_cross_entropy, again_optimizer, X, y, epochs=1, batch_size=32, seed=7)
    for name, w in model.params.items():
        np.testing.assert_array_equal(again.params[name], w)


def test_state_dicts_are_copies():
    model = Sequential(Dense(3, 2, rng=0), BatchNorm(2))
    state = model.state_dict()
    state["0.W"][...] = 0.0
    state["1.running_mean"][...] = 5.0
    assert np.all(model.params["0.W"] != 0.0) and np.all(model.buffers["1.running_mean"] == 0.0)


@pytest.mark.parametrize("change, error, message", [
    (lambda s: s.pop("0.W"), ValueError, r"missing \['0.W'\]"),
    (lambda s: s.update(extra=np.zeros(2)), ValueError, r"extra \['extra'\]"),
    (lambda s: s.update({"0.b": np.zeros(3)}), ValueError, r"state\['0.b'\] has shape \(3,\)"),
])
def test_a_refused_load_leaves_the_model_as_it_was(change, error, message, same_state):
    model = Sequential(Dense(3, 2, rng=0), ReLU(), Residual(Sequential(Dense(2, 2, rng=1),
                                                                       BatchNorm(2))))
    other = Sequential(Dense(3, 2, rng=9), ReLU(), Residual(Sequential(Dense(2, 2, rng=8),
                                                                       BatchNorm(2))))
    state = other.state_dict()
    state["2.1.running_var"][...] = 3.0
    before = model.state_dict()
    change(state)
    with pytest.raises(error, match=message):
        model.load_state_dict(state)
    same_state(model.state_dict(), before)


def test_a_partial_load_takes_the_names_both_have():
    model = Sequential(Dense(3, 2, rng=0), Dense(2, 2, rng=1))
    donor = Sequential(Dense(3, 2, rng=5))
    model.load_state_dict(donor.state_dict(), strict=False)
    np.testing.assert_array_equal(model.params["0.W"], donor.params["0.W"])
    with pytest.raises(TypeError, match="strict"):
        model.load_state_dict(donor.state_dict(), strict="no")


@pytest.mark.parametrize("make", [lambda: SGD(0.1, weight_decay=0.01), lambda: Momentum(0.1),
                                  lambda: RMSProp(0.01), lambda: Adam(0.01),
                                  lambda: AdamW(0.01)], ids=lambda make: type(make()).__name__)
def test_an_optimizer_restored_takes_the_same_next_step(make, tmp_path):
    rng = np.random.default_rng(0)
    params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    grads = [{name: rng.normal(size=w.shape) for name, w in params.items()} for _ in range(3)]
    optimizer = make()
    for g in grads[:2]:
        optimizer.step(params, g)
    io.save(tmp_path / "opt.npz", optimizer=optimizer.state_dict())
    copy = {name: w.copy() for name, w in params.items()}
    restored = type(optimizer)(0.5)
    restored.load_state_dict(io.load(tmp_path / "opt.npz")["optimizer"])
    assert repr(restored) == repr(optimizer)
    optimizer.step(params, grads[2])
    restored.step(copy, grads[2])
    for name in params:
        np.testing.assert_array_equal(copy[name], params[name])


def test_an_optimizer_refuses_a_state_of_another_kind_and_stays_as_it_was():
    adam, momentum = Adam(0.01), Momentum(0.3)
    momentum.step({"w": np.ones(2)}, {"w": np.ones(2)})
    with pytest.raises(ValueError, match="hyperparameters of a Adam"):
        adam.load_state_dict(momentum.state_dict())
    state = Adam(0.02).state_dict()
    state["state"] = {"w": {"m": np.zeros(2), "v": np.zeros(2)}}  # no step count
    with pytest.raises(ValueError, match=r"state\['w'\] must have the keys"):
        adam.load_state_dict(state)
    bad = Adam(0.02).state_dict()
    bad["hyperparameters"]["beta1"] = 1.0
    with pytest.raises(ValueError, match="beta1"):
        adam.load_state_dict(bad)
    assert adam.hyperparameters == Adam(0.01).hyperparameters and adam.state == {}


@pytest.mark.parametrize("scaler", [ZScoreScaler, MeanNormalizer])
def test_a_scaler_restored_transforms_the_same(scaler, tmp_path):
    X, _ = digits()
    fitted = scaler().fit(X * 3 + 1)
    io.save(tmp_path / "scaler.npz", scaler=fitted.state_dict())
    restored = scaler()
    restored.load_state_dict(io.load(tmp_path / "scaler.npz")["scaler"])
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    assert restored.n_features_in_ == 64 and type(restored.n_samples_seen_) is int
    with pytest.raises(ValueError, match="keys"):
        scaler().load_state_dict({"mean_": np.zeros(64)})


def test_io_refuses_what_it_cannot_store_without_pickle(tmp_path):
    with pytest.raises(TypeError, match="only numeric arrays"):
        io.save(tmp_path / "x.npz", note={"text": "hello"})
    with pytest.raises(ValueError, match="without '/'"):
        io.save(tmp_path / "x.npz", model={"a/b": np.zeros(1)})
    with pytest.raises(ValueError, match="at least one state"):
        io.save(tmp_path / "x.npz")
    io.save(tmp_path / "empty.npz", optimizer=Adam(0.01).state_dict())
    assert io.load(tmp_path / "empty.npz")["optimizer"]["state"] == {}
