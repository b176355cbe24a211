"""The training epoch of ``bench_training.py`` written out by hand in numpy: a floor for numpy.

The same network and the same arithmetic as ``fit`` with ``course_lib``'s layers, loss and
Adam, but as one function per step with every trick numpy allows and nothing a library must
do:

* no checks of any argument, no gradient check before the Adam step, no method calls between
  the layers, no dictionaries of named arrays;
* every activation and gradient written into an array allocated once per batch size
  (``out=``), ReLU applied in place;
* the sums and means over the batch as matrix-vector products with a vector of ones or of
  1/N (one BLAS call each);
* Adam's bias corrections folded into the step size and eps, the form Kingma and Ba give at
  the end of their section 2 (the same update, one pass over the parameters fewer).

``bench_training.py`` times it beside ``fit``: no numpy implementation that applies one
operation at a time to whole arrays can expect to be much faster than this, so the ratios
PyTorch / hand-written are about the most a numpy library can reach on the machine it runs
on. ``tests/test_benchmarks.py`` checks that it does the same work as ``fit``.
"""

from __future__ import annotations

import math

import numpy as np

EPS_BN, MOMENTUM_BN = 1e-5, 0.1
BETA1, BETA2, EPS_ADAM = 0.9, 0.999, 1e-8


class HandWrittenTraining:
    """Dense-BatchNorm-ReLU x 2 + Dense, cross-entropy and Adam(lr), started from ``weights``.

    ``weights`` is the list ``[W1, b1, W2, b2, W3, b3]`` (``Dense`` layout: ``x @ W + b``);
    the BatchNorm layers start at gamma = 1, beta = 0, as ``course_lib.layers.BatchNorm``.
    """

    def __init__(self, weights: list[np.ndarray], lr: float) -> None:
        (W1, b1, W2, b2, W3, b3), self.lr, self.t = weights, lr, 0
        self.dtype = W1.dtype
        widths = [W1.shape[1], W2.shape[1]]
        shapes = [W1.shape, b1.shape, (widths[0],), (widths[0],), W2.shape, b2.shape,
                  (widths[1],), (widths[1],), W3.shape, b3.shape]
        # every parameter a view into one flat array, every gradient likewise (as Sequential)
        self.w = np.empty(sum(math.prod(s) for s in shapes), self.dtype)
        self.g, self.m, self.v = (np.zeros_like(self.w) for _ in range(3))
        self.scratch = np.empty_like(self.w)
        self.params, self.grads, start = [], [], 0
        for shape in shapes:
            size = math.prod(shape)
            self.params.append(self.w[start : start + size].reshape(shape))
            self.grads.append(self.g[start : start + size].reshape(shape))
            start += size
        for p, value in zip(self.params, [W1, b1, 1, 0, W2, b2, 1, 0, W3, b3], strict=True):
            p[...] = value
        self.running = [[np.zeros(n, self.dtype), np.ones(n, self.dtype)] for n in widths]
        self.buffers: dict[int, dict[str, np.ndarray]] = {}

    def _buffers(self, n: int) -> dict[str, np.ndarray]:
        if n not in self.buffers:
            (w1, w2), c = (p.shape[1] for p in self.params[0:5:4]), self.params[8].shape[1]
            shapes = {"h1": (n, w1), "a1": (n, w1), "h2": (n, w2), "a2": (n, w2),
                      "z": (n, c), "d1": (n, w1), "e1": (n, w1), "d2": (n, w2), "e2": (n, w2)}
            self.buffers[n] = {k: np.empty(s, self.dtype) for k, s in shapes.items()}
            self.buffers[n]["mean"] = np.full(n, 1 / n, self.dtype)  # mean @ h: batch mean
            self.buffers[n]["sum"] = np.ones(n, self.dtype)  # sum @ h: batch sum
            self.buffers[n]["ones"] = np.ones(c, self.dtype)  # z @ ones: row sums
        return self.buffers[n]

    def _batchnorm(self, h, gamma, beta, running, out, mean):
        """h becomes xhat in place; out = gamma * xhat + beta. Returns 1 / sqrt(var + eps)."""
        n = h.shape[0]
        mu = mean @ h
        h -= mu
        var = mean @ np.square(h, out=out)
        inv_std = var + EPS_BN
        np.sqrt(inv_std, out=inv_std)
        np.divide(1, inv_std, out=inv_std)
        h *= inv_std
        running[0] *= 1 - MOMENTUM_BN
        running[0] += MOMENTUM_BN * mu
        running[1] *= 1 - MOMENTUM_BN
        running[1] += (MOMENTUM_BN * n / (n - 1)) * var
        np.multiply(h, gamma, out=out)
        out += beta
        return inv_std

    @staticmethod
    def _batchnorm_backward(dy, xhat, gamma, inv_std, dgamma, dbeta, out, total):
        """dgamma, dbeta; out = gamma / sqrt(var + eps) * (dy - mean dy - xhat * mean(dy xhat))."""
        n = dy.shape[0]
        np.matmul(total, dy, out=dbeta)
        np.einsum("ij,ij->j", dy, xhat, out=dgamma)
        np.multiply(xhat, dgamma / n, out=out)
        out += dbeta / n
        np.subtract(dy, out, out=out)
        out *= gamma * inv_std
        return out

    def step(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Forward, loss, backward and Adam on one batch; returns the loss."""
        W1, b1, g1, be1, W2, b2, g2, be2, W3, b3 = self.params
        dW1, db1, dg1, dbe1, dW2, db2, dg2, dbe2, dW3, db3 = self.grads
        n = x.shape[0]
        buf = self._buffers(n)
        mean, total = buf["mean"], buf["sum"]
        h1, a1, h2, a2, z = (buf[k] for k in ("h1", "a1", "h2", "a2", "z"))
        # forward
        np.matmul(x, W1, out=h1)
        h1 += b1
        inv1 = self._batchnorm(h1, g1, be1, self.running[0], a1, mean)
        np.maximum(a1, 0, out=a1)
        np.matmul(a1, W2, out=h2)
        h2 += b2
        inv2 = self._batchnorm(h2, g2, be2, self.running[1], a2, mean)
        np.maximum(a2, 0, out=a2)
        np.matmul(a2, W3, out=z)
        z += b3
        # softmax cross-entropy: z becomes dL/dz in place
        rows = np.arange(n)
        z -= z[rows, np.argmax(z, axis=1)][:, None]
        picked = z[rows, labels]  # a copy: z is overwritten next
        np.exp(z, out=z)
        sum_exp = z @ buf["ones"]
        loss = float(np.add.reduce(np.log(sum_exp) - picked) / n)
        z /= (n * sum_exp)[:, None]
        z[rows, labels] -= 1 / n
        # backward
        np.matmul(a2.T, z, out=dW3)
        np.matmul(total, z, out=db3)
        d2 = np.matmul(z, W3.T, out=buf["d2"])
        d2 *= a2 > 0
        e2 = self._batchnorm_backward(d2, h2, g2, inv2, dg2, dbe2, buf["e2"], total)
        np.matmul(a1.T, e2, out=dW2)
        np.matmul(total, e2, out=db2)
        d1 = np.matmul(e2, W2.T, out=buf["d1"])
        d1 *= a1 > 0
        e1 = self._batchnorm_backward(d1, h1, g1, inv1, dg1, dbe1, buf["e1"], total)
        np.matmul(x.T, e1, out=dW1)
        np.matmul(total, e1, out=db1)
        # Adam, bias corrections folded: w -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps')
        self.t += 1
        m, v, g, tmp = self.m, self.v, self.g, self.scratch
        m *= BETA1
        m += np.multiply(1 - BETA1, g, out=tmp)
        v *= BETA2
        v += np.multiply(1 - BETA2, np.square(g, out=tmp), out=tmp)
        root_correction = math.sqrt(1 - BETA2**self.t)
        np.sqrt(v, out=tmp)
        tmp += EPS_ADAM * root_correction
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr * root_correction / (1 - BETA1**self.t)
        self.w -= tmp
        return loss

    def epoch(self, X: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> np.ndarray:
        """One epoch in the order ``fit(seed=seed)`` uses; returns the per-step losses."""
        order = np.random.default_rng(seed).permutation(len(X))
        X_epoch, y_epoch = X[order], y[order]
        return np.array([self.step(X_epoch[s : s + batch_size], y_epoch[s : s + batch_size])
                         for s in range(0, len(X), batch_size)])
