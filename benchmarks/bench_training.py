"""How fast does course_lib train a small network, compared with PyTorch on the CPU?

Run from the repository root:

    python benchmarks/bench_training.py

The work timed is one epoch over the 8x8 digits (1797 images, z-scored, float32) through

    Dense(64, 256) - BatchNorm - ReLU - Dense(256, 256) - BatchNorm - ReLU - Dense(256, 10)

with softmax cross-entropy and Adam (lr = 1e-3), in shuffled mini-batches of 64 (28 batches
of 64 and one of 5).

* course_lib: one call of the public training loop, exactly as a learner writes it::

      fit(model, softmax_cross_entropy, Adam(1e-3), X, y, epochs=1, batch_size=64,
          seed=k, evaluate=False, track_grad_norms=False)

  ``evaluate=False`` and ``track_grad_norms=False`` switch off the per-epoch evaluation and
  the gradient-norm record, which PyTorch would not do either. What remains is timed whole:
  the checks of the data, the shuffle, and per batch forward, loss, backward, Adam step and
  the recorded loss.
* PyTorch: the same network (``nn.Linear``, ``nn.BatchNorm1d``, ``nn.ReLU``) with the same
  initial weights (copied from the course_lib model); per epoch it gathers the rows in the same
  shuffled order (the same permutation, drawn from ``np.random.default_rng(k)`` as ``fit``
  does), and per batch runs forward, ``F.cross_entropy``, ``zero_grad``, ``backward``,
  ``step`` and ``loss.item()`` (the loss that ``fit`` records). It is timed twice: with
  ``torch.optim.Adam(params, lr)`` as written in PyTorch's tutorials (on the CPU that is the
  loop over the parameters, one tensor at a time), and with ``fused=True``, PyTorch's fastest
  Adam on the CPU (one kernel for all parameters).
* matmul floor: the matrix products of one course_lib epoch alone, with the same shapes and
  transposes (per batch three forward, three weight gradients ``x.T @ dy`` and three input
  gradients ``dy @ W.T``), written into preallocated arrays. No implementation of this network
  can take much less time than its matrix products; the ratio epoch / matmuls says how much of
  the epoch is everything else (elementwise work and Python overhead). One of the nine products
  is not needed for training: the gradient with respect to the input images, which ``fit``
  skips (``model.backward(dpred, input_grad=False)``) as PyTorch does (about 1/8 of the
  flops), so the floor counts a product course_lib's epoch does not compute.
* where the time goes (one thread only): every part of one step timed on its own, on one
  batch, after an epoch of training: the matrix products inside the Dense layers, the rest of
  the Dense layers (bias, its gradient, the checks of the input), BatchNorm, ReLU, the loss and
  the Adam step, each as a share of a step of the fastest epoch. What the parts leave over is
  the loop itself and the colder caches the same work meets inside an epoch.

The cases are timed alternately, round after round (the order inside a round alternates
too), and the table gives medians over the rounds and the median of the per-round ratios, all
measured in this one run; on a busy machine the ratio of the fastest rounds (in brackets) is
the steadier of the two, as other programs can only add time.

Before timing, one epoch from identical weights checks that both libraries do the same work:
the per-step losses must agree to float32 rounding (the printed weight difference is at most a
few Adam steps of size lr, on weights whose gradient is nearly zero, where float32 rounding
decides the sign of the step).

Threads: if threadpoolctl is installed (it comes with scikit-learn), everything is timed
twice, first with one thread for numpy's BLAS and for PyTorch, then with the default threads
of numpy's BLAS and the same number for PyTorch (``torch.set_num_threads``). Without it only
the default threads are timed, and PyTorch gets as many threads as the CPUs this process may
use (OpenBLAS's default). PyTorch is not a course dependency: without it (``pip install
torch``) the script times course_lib against the matmul floor alone.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import statistics
import sys
import time
import timeit
from pathlib import Path

import numpy as np

try:
    import course_lib  # noqa: F401
except ImportError:  # not installed: use the copy in this repository
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handwritten_epoch import HandWrittenTraining  # benchmarks/, next to this script

from course_lib.data import load_digits
from course_lib.layers import BatchNorm, Dense, ReLU, Sequential
from course_lib.losses import softmax_cross_entropy
from course_lib.optimizers import Adam
from course_lib.scaling import ZScoreScaler
from course_lib.training import fit

try:
    import torch
except ImportError:
    torch = None

try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None

BATCH_SIZE = 64
LR = 1e-3
DTYPE = np.float32
ROUNDS = 31  # timed rounds; each round times every case once
WARMUP = 3  # untimed rounds first (caches, thread pools, lazy initialisation)


def load_data() -> tuple[np.ndarray, np.ndarray]:
    digits = load_digits()
    X = ZScoreScaler().fit_transform(digits.X).astype(DTYPE)
    return X, digits.y


def make_course_lib_model(seed: int = 0) -> Sequential:
    return Sequential(
        Dense(64, 256, rng=seed, dtype=DTYPE),
        BatchNorm(256, dtype=DTYPE),
        ReLU(),
        Dense(256, 256, rng=seed + 1, dtype=DTYPE),
        BatchNorm(256, dtype=DTYPE),
        ReLU(),
        Dense(256, 10, rng=seed + 2, dtype=DTYPE),
    )


def course_lib_epoch(model: Sequential, optimizer: Adam, X, y, seed: int) -> np.ndarray:
    """One epoch with the public training loop; returns the per-step losses."""
    history = fit(
        model, softmax_cross_entropy, optimizer, X, y, epochs=1, batch_size=BATCH_SIZE,
        seed=seed, evaluate=False, track_grad_norms=False,
    )
    return history.step_loss


def make_torch_model(model: Sequential):
    """The same network in PyTorch, starting from ``model``'s weights."""
    nn = torch.nn
    net = nn.Sequential(
        nn.Linear(64, 256), nn.BatchNorm1d(256), nn.ReLU(),
        nn.Linear(256, 256), nn.BatchNorm1d(256), nn.ReLU(),
        nn.Linear(256, 10),
    )
    with torch.no_grad():
        for i in (0, 3, 6):
            net[i].weight.copy_(torch.from_numpy(model[i].params["W"].T.copy()))
            net[i].bias.copy_(torch.from_numpy(model[i].params["b"]))
    return net


def torch_epoch(net, optimizer, X, y, seed: int) -> list[float]:
    """One epoch in PyTorch, in the order ``fit(seed=seed)`` uses; returns the per-step losses."""
    cross_entropy = torch.nn.functional.cross_entropy
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(X)))
    X_epoch, y_epoch = X[order], y[order]
    losses = []
    for start in range(0, len(X), BATCH_SIZE):
        X_batch = X_epoch[start : start + BATCH_SIZE]
        y_batch = y_epoch[start : start + BATCH_SIZE]
        loss = cross_entropy(net(X_batch), y_batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def matmul_epoch_factory(model: Sequential, n_samples: int):
    """The matrix products of one course_lib epoch, into preallocated arrays."""
    rng = np.random.default_rng(0)
    dense = [model[i] for i in (0, 3, 6)]
    batch_sizes = [min(BATCH_SIZE, n_samples - s) for s in range(0, n_samples, BATCH_SIZE)]
    work = []
    for n in sorted(set(batch_sizes)):
        products = []
        for layer in dense:
            W = layer.params["W"]
            x = rng.normal(size=(n, layer.in_features)).astype(DTYPE)
            dy = rng.normal(size=(n, layer.out_features)).astype(DTYPE)
            products += [
                (x, W, np.empty((n, layer.out_features), DTYPE)),  # forward  y = x @ W
                (x.T, dy, np.empty_like(W)),  # weight gradient  dW = x.T @ dy
                (dy, W.T, np.empty_like(x)),  # input gradient  dx = dy @ W.T
            ]
        work += [products] * batch_sizes.count(n)

    def epoch():
        for products in work:
            for a, b, out in products:
                np.matmul(a, b, out=out)

    return epoch


TORCH_ADAMS = {"PyTorch": {}, "PyTorch fused": {"fused": True}}  # case -> Adam options


def torch_adams() -> dict[str, dict]:
    """The PyTorch Adam variants this torch has (``fused=True`` on the CPU needs torch >= 2.4)."""
    variants = {}
    for name, options in TORCH_ADAMS.items():
        try:
            torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=LR, **options)
        except (RuntimeError, TypeError, ValueError):
            continue
        variants[name] = options
    return variants


def make_handwritten(model: Sequential) -> HandWrittenTraining:
    """The hand-written numpy epoch, starting from ``model``'s weights."""
    weights = [model[i].params[name].copy() for i in (0, 3, 6) for name in ("W", "b")]
    return HandWrittenTraining(weights, LR)


def check_same_work(X, y) -> list[str]:
    """Train one epoch from identical weights in every case; describe how close they end."""
    model = make_course_lib_model()
    start = make_torch_model(model) if torch is not None else None  # before model trains
    handwritten = make_handwritten(model)
    ours = course_lib_epoch(model, Adam(LR), X, y, seed=0)
    theirs = handwritten.epoch(X, y, BATCH_SIZE, seed=0)
    loss_diff = np.max(np.abs(ours - theirs))
    lines = [
        f"same work, course_lib vs hand-written numpy ({'OK' if loss_diff < 1e-3 else 'MISMATCH'}"
        f"): mean step loss {ours.mean():.5f} vs {theirs.mean():.5f}; largest difference "
        f"{loss_diff:.1e} in a step loss"
    ]
    if torch is None:
        return lines
    for name, options in torch_adams().items():
        net = copy.deepcopy(start)
        optimizer = torch.optim.Adam(net.parameters(), lr=LR, **options)
        theirs = np.array(
            torch_epoch(net, optimizer, torch.from_numpy(X), torch.from_numpy(y), seed=0)
        )
        loss_diff = np.max(np.abs(ours - theirs))
        weight_diff = max(
            np.max(np.abs(model[i].params["W"] - net[i].weight.detach().numpy().T))
            for i in (0, 3, 6)
        )
        lines.append(
            f"same work, course_lib vs {name} ({'OK' if loss_diff < 1e-3 else 'MISMATCH'}): "
            f"one epoch from identical weights, mean step loss {ours.mean():.5f} vs "
            f"{theirs.mean():.5f}, last {ours[-1]:.5f} vs {theirs[-1]:.5f}; largest difference "
            f"{loss_diff:.1e} in a step loss, {weight_diff:.1e} in a trained weight"
        )
    return lines


def measure(X, y) -> dict[str, list[float]]:
    """case -> seconds per epoch in every timed round."""
    model = make_course_lib_model()
    optimizer = Adam(LR)
    cases = {"course_lib": lambda seed: course_lib_epoch(model, optimizer, X, y, seed)}
    if torch is not None:
        X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
        for name, options in torch_adams().items():
            net = make_torch_model(model)
            torch_optimizer = torch.optim.Adam(net.parameters(), lr=LR, **options)
            cases[name] = functools.partial(torch_epoch, net, torch_optimizer, X_t, y_t)
    handwritten = make_handwritten(model)
    cases["hand-written"] = functools.partial(handwritten.epoch, X, y, BATCH_SIZE)
    matmuls = matmul_epoch_factory(model, len(X))
    cases["matmuls"] = lambda seed: matmuls()

    names = list(cases)
    times: dict[str, list[float]] = {name: [] for name in names}
    for k in range(WARMUP + ROUNDS):
        for name in names if k % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            cases[name](seed=k)
            if k >= WARMUP:
                times[name].append(time.perf_counter() - start)
    return times


def ratios(a: list[float], b: list[float]) -> str:
    """a / b as the median of the per-round ratios, and as the ratio of the fastest rounds."""
    median = statistics.median(x / y for x, y in zip(a, b, strict=True))
    return f"{median:5.2f}  (fastest: {min(a) / min(b):4.2f})"


def report(title: str, times: dict[str, list[float]], steps: int) -> None:
    print(f"\n{title}")
    for name, values in times.items():
        epoch, fastest = statistics.median(values), min(values)
        print(
            f"  {name:14} {epoch * 1e3:7.2f} ms per epoch {epoch / steps * 1e6:7.0f} us per step"
            f"   (fastest epoch {fastest * 1e3:6.2f} ms)"
        )
    ours = times["course_lib"]
    for name in TORCH_ADAMS:
        if name in times:
            print(
                f"  {name + ' / course_lib':26} = {ratios(times[name], ours)}   "
                "how many times faster course_lib is"
            )
    print(
        f"  {'course_lib / matmuls':26} = {ratios(ours, times['matmuls'])}   "
        "epoch time over the time of its matrix products alone"
    )
    print(
        f"  {'course_lib / hand-written':26} = {ratios(ours, times['hand-written'])}   "
        "what the library costs over the same arithmetic written out by hand"
    )
    for name in TORCH_ADAMS:
        if name in times:
            print(
                f"  {name + ' / hand-written':26} = {ratios(times[name], times['hand-written'])}"
                "   about the most a numpy library can reach here"
            )


def seconds_per_call(fn, number: int = 20, repeat: int = 15) -> float:
    """The fastest of ``repeat`` timings of ``number`` calls of ``fn()``, per call."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def breakdown(X, y) -> dict[str, float]:
    """Where one training step's time goes: part -> seconds, each part timed on its own.

    On one batch, after an epoch of training (the optimizer's state exists): every layer's
    forward and backward (the first layer without the input gradient, as in ``fit``), the
    matrix products inside the Dense layers, the loss and the Adam step. Timed on their own,
    the parts run with warm caches; in the epoch the same work meets colder caches and the
    loop's own overhead, which is why the parts add up to less than a step.
    """
    model, optimizer = make_course_lib_model(), Adam(LR)
    course_lib_epoch(model, optimizer, X, y, seed=0)
    X_batch, y_batch = X[:BATCH_SIZE], y[:BATCH_SIZE]
    inputs = [X_batch]  # inputs[i] is the input of layer i, inputs[-1] the logits
    for layer in model:
        inputs.append(layer.forward(inputs[-1], training=True))
    out_grads = [softmax_cross_entropy(inputs[-1], y_batch)[1]]  # dL/d(output of layer i)
    for layer in reversed(model.layers[1:]):
        out_grads.insert(0, layer.backward(out_grads[0]))

    parts = dict.fromkeys(
        ["matrix products", "Dense: bias, its gradient, checks", "BatchNorm", "ReLU",
         "softmax cross-entropy", "Adam step"], 0.0)
    for i, layer in enumerate(model):
        x, dy = inputs[i], out_grads[i]
        options = {"input_grad": False} if i == 0 else {}
        total = seconds_per_call(functools.partial(layer.forward, x))
        total += seconds_per_call(functools.partial(layer.backward, dy, **options))
        if isinstance(layer, Dense):
            W, dW = layer.params["W"], np.empty_like(layer.params["W"])
            products = [functools.partial(np.matmul, x, W),
                        functools.partial(np.matmul, x.T, dy, out=dW)]
            if i > 0:  # the input gradient
                products.append(functools.partial(np.matmul, dy, W.T))
            matmuls = sum(seconds_per_call(product) for product in products)
            parts["matrix products"] += matmuls
            parts["Dense: bias, its gradient, checks"] += total - matmuls
        else:
            parts[type(layer).__name__] += total
    parts["softmax cross-entropy"] = seconds_per_call(
        lambda: softmax_cross_entropy(inputs[-1], y_batch))
    parts["Adam step"] = seconds_per_call(lambda: optimizer.step(model.params, model.grads))
    return parts


def report_breakdown(parts: dict[str, float], step: float) -> None:
    n_params = sum(p.size for p in make_course_lib_model().params.values())
    print(f"\nwhere one step goes (1 thread; each part timed on its own, on one batch of "
          f"{BATCH_SIZE}; Adam updates {n_params:,} numbers)")
    for name, seconds in parts.items():
        print(f"  {name:36} {seconds * 1e6:6.0f} us  {seconds / step:4.0%}")
    rest = step - sum(parts.values())
    print(f"  {'the rest: loop, colder caches':36} {rest * 1e6:6.0f} us  {rest / step:4.0%}"
          + ("   (below 0: other programs slowed the parts down; rerun on a quiet machine)"
             if rest < 0 else ""))
    print(f"  {'one step of fit (fastest epoch / steps)':36} {step * 1e6:6.0f} us")


def blas_info() -> str:
    if threadpoolctl is None:
        return "BLAS: unknown (pip install threadpoolctl to see which library and kernel)"
    infos = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    infos = [i for i in infos if "numpy" in i["filepath"]] or infos
    return "numpy's BLAS: " + "; ".join(
        f"{i['internal_api']} {i.get('version')}, kernel {i.get('architecture')}, "
        f"{i['num_threads']} threads by default"
        for i in infos
    )


def default_blas_threads() -> int:
    if threadpoolctl is not None:
        counts = [i["num_threads"] for i in threadpoolctl.threadpool_info()
                  if i["user_api"] == "blas" and "numpy" in i["filepath"]]
        if counts:
            return counts[0]
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def main() -> None:
    X, y = load_data()
    print(
        f"one training epoch on the digits: {X.shape[0]} x {X.shape[1]} {X.dtype}, batch "
        f"{BATCH_SIZE}, Dense-BatchNorm-ReLU x 2 + Dense(256, 10), Adam, cross-entropy"
    )
    print(f"numpy {np.__version__}; {blas_info()}")
    openblas_env = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}
    if openblas_env:
        print(f"environment: {openblas_env} (these can select a slower OpenBLAS kernel)")
    if torch is None:
        print("PyTorch is not installed, so course_lib is timed alone; to compare with it:\n"
              "    pip install torch")
    else:
        print(f"torch {torch.__version__}")
    print("\n".join(check_same_work(X, y)))
    print(
        f"medians of {ROUNDS} interleaved rounds after {WARMUP} warm-up rounds; the ratios are "
        "medians of the per-round ratios (in brackets: the ratio of the fastest rounds)"
    )

    settings = [default_blas_threads()]
    if threadpoolctl is not None and settings[0] != 1:
        settings.insert(0, 1)
    for threads in settings:
        limit = (
            threadpoolctl.threadpool_limits(limits=threads, user_api="blas")
            if threadpoolctl is not None
            else contextlib.nullcontext()
        )
        with limit:
            if torch is not None:
                torch.set_num_threads(threads)
            times = measure(X, y)
            parts = breakdown(X, y) if threads == 1 else None
        note = "numpy's BLAS" + (" and PyTorch" if torch is not None else "")
        steps = -(-len(X) // BATCH_SIZE)
        report(f"{threads} thread{'s' if threads > 1 else ''} ({note})", times, steps)
        if parts is not None:
            report_breakdown(parts, min(times["course_lib"]) / steps)


if __name__ == "__main__":
    main()
