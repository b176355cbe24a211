"""Loss functions that return ``(loss, dL/dpred)``: softmax cross-entropy and mean squared error.

Each loss returns the value as a Python float and the gradient with respect
to the prediction as an array of the prediction's shape and dtype, ready to
be passed to ``model.backward``::

    loss, dlogits = softmax_cross_entropy(model.forward(x, training=True), y)
    model.backward(dlogits)

Non-finite predictions are not rejected: a diverging run gives a ``nan`` loss
that the training loop can see.
"""

from __future__ import annotations

import numpy as np

from course_lib.validation import check_array

__all__ = ["softmax_cross_entropy", "mse", "accuracy"]


def _check_logits_labels(logits: object, labels: object) -> tuple[np.ndarray, np.ndarray]:
    # A float array, as in every training step, needs only its shape checked; check_array
    # handles (and converts) everything else.
    if not (isinstance(logits, np.ndarray) and logits.dtype.kind == "f"):
        logits = check_array("logits", logits, ndim=2, finite=False)
    elif logits.ndim != 2:
        raise ValueError(f"logits must be 2-D, got shape {logits.shape}")
    n, c = logits.shape
    if n < 1 or c < 1:
        raise ValueError(f"logits must have shape (N, C) with N, C >= 1, got {logits.shape}")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":  # signed or unsigned integers (not bool: kind "b")
        raise TypeError(
            f"labels must be integer class indices, got dtype {labels.dtype}; "
            "convert with labels.astype(int) if they hold whole numbers"
        )
    if labels.shape != (n,):
        raise ValueError(
            f"labels must have shape (N,) = ({n},) to match logits {logits.shape}, "
            f"got {labels.shape}"
        )
    lo, hi = labels.min(), labels.max()
    if lo < 0 or hi >= c:
        raise ValueError(
            f"labels must be class indices in [0, {c - 1}] for {c} logit columns, "
            f"got values from {lo} to {hi}"
        )
    return logits, labels


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    For logits ``z`` of shape ``(N, C)`` and labels ``y`` in ``{0, ..., C-1}``::

        p[n, k] = exp(z[n, k]) / sum_j exp(z[n, j])                 (softmax)
        L       = -(1/N) sum_n log p[n, y[n]]
                =  (1/N) sum_n (logsumexp(z[n]) - z[n, y[n]])
        dL/dz   =  (p - onehot(y)) / N

    Numerically stable: the row maximum ``m`` is subtracted first,
    ``logsumexp(z) = m + log sum_j exp(z_j - m)``, so logits of size 1e3 do
    not overflow. Same as ``torch.nn.functional.cross_entropy`` (mean
    reduction).

    Returns ``(loss, dlogits)``: a Python float and an array shaped and typed
    like ``logits``.
    """
    logits, labels = _check_logits_labels(logits, labels)
    n = logits.shape[0]
    rows = np.arange(n)
    # shifted = z - max_j z_j  (every row's largest entry becomes 0: exp cannot overflow);
    # picking the entry at argmax is quicker than np.max along the short rows
    shifted = logits - logits[rows, np.argmax(logits, axis=1)][:, None]
    p = np.exp(shifted)
    sum_exp = p @ np.ones(p.shape[1], p.dtype)  # row sums; quicker than np.sum(p, axis=1)
    # L = mean_n (log sum_j exp(shifted) - shifted[n, y[n]])
    loss = float(np.add.reduce(np.log(sum_exp) - shifted[rows, labels]) / n)
    # dL/dz = (softmax(z) - onehot(y)) / N = p / (N sum_j p) - onehot(y) / N
    p /= (n * sum_exp)[:, None]
    p[rows, labels] -= 1 / n
    return loss, p


def mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over all elements, and its gradient.

    For ``pred`` and ``target`` of the same shape with ``M`` elements in all::

        L        = (1/M) sum_i (pred_i - target_i)**2
        dL/dpred = (2/M) (pred - target)

    Same as ``torch.nn.functional.mse_loss`` (mean reduction). Shapes must
    match exactly (no broadcasting: ``(N, 1)`` against ``(N,)`` is an error,
    not an ``(N, N)`` matrix), and so must the dtypes.

    Returns ``(loss, dpred)``: a Python float and an array shaped and typed
    like ``pred``.
    """
    pred = check_array("pred", pred, finite=False)
    target = check_array("target", target, finite=False)
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got {pred.shape} and {target.shape}; "
            "reshape one of them (for example target.reshape(pred.shape))"
        )
    if pred.dtype != target.dtype:
        raise TypeError(
            f"pred and target must have the same dtype, got {pred.dtype} and {target.dtype}; "
            f"cast with target.astype(np.{pred.dtype})"
        )
    if pred.size < 1:
        raise ValueError(f"pred must have at least one element, got shape {pred.shape}")
    # diff = pred - target ;  L = mean(diff^2) ;  dL/dpred = 2 diff / M
    diff = pred - target
    loss = float(np.mean(diff * diff))
    diff *= 2 / diff.size
    return loss, diff


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose largest logit is at the true label.

    ``accuracy = (1/N) sum_n [argmax_k z[n, k] == y[n]]`` (ties go to the
    first largest logit, as ``np.argmax``).
    """
    logits, labels = _check_logits_labels(logits, labels)
    return float(np.mean(logits.argmax(axis=1) == labels))
