"""Save and restore a training run in one ``.npz`` file, without pickle.

    from course_lib import io
    io.save("run.npz", model=model.state_dict(), optimizer=opt.state_dict(),
            scaler=scaler.state_dict())
    saved = io.load("run.npz")
    model.load_state_dict(saved["model"])     # a model built the same way
    opt.load_state_dict(saved["optimizer"])

Each keyword of ``save`` is a state: a dict (of dicts) whose leaves are numpy arrays or plain
numbers (``int``, ``float``, ``bool``), as every ``state_dict()`` in ``course_lib`` returns.
The file stores each leaf under its path of keys joined by ``/`` (``"optimizer/state/0.W/m"``)
and ``load`` rebuilds the same dicts: arrays come back as arrays, numbers as Python numbers.
Only numbers are stored, so a file can be loaded without trusting who wrote it
(``np.load(..., allow_pickle=False)``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

__all__ = ["load", "save"]

_NUMBER_TYPES = (bool, int, float, np.bool_, np.integer, np.floating)


def save(path: str | os.PathLike, **states: Mapping) -> None:
    """Write the ``states`` (``name=state_dict``) to the ``.npz`` file ``path``."""
    if not states:
        raise ValueError("save needs at least one state, e.g. save(path, model=model.state_dict())")
    leaves: dict[str, np.ndarray] = {}
    for name, state in states.items():
        _flatten(name, state, leaves)
    with open(path, "wb") as file:  # np.savez would append ".npz" to a path without it
        np.savez(file, **leaves)


def load(path: str | os.PathLike) -> dict[str, dict]:
    """Read a file written by ``save``: ``{name: state_dict}``."""
    states: dict[str, dict] = {}
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            *parents, leaf = key.split("/")
            node = states
            for part in parents:
                node = node.setdefault(part, {})
            if not leaf:  # the marker of an empty dict
                continue
            value = data[key]
            node[leaf] = value.item() if value.ndim == 0 else value
    return states


def _flatten(path: str, value: object, leaves: dict[str, np.ndarray]) -> None:
    if isinstance(value, Mapping):
        if not value:
            leaves[path + "/"] = np.zeros(0)  # an empty dict (an optimizer with no state yet)
        for key, item in value.items():
            if not isinstance(key, str) or "/" in key or not key:
                raise ValueError(f"{path}: keys must be non-empty strings without '/', "
                                 f"got {key!r}")
            _flatten(f"{path}/{key}", item, leaves)
    elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        leaves[path] = value
    elif isinstance(value, _NUMBER_TYPES):
        leaves[path] = np.asarray(value)
    else:
        raise TypeError(f"{path}: only numeric arrays, numbers and dicts of them can be saved, "
                        f"got {type(value).__name__}")
