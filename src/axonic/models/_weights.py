"""The ``weights=`` argument of the model builders: nothing, a state_dict, or a file."""

from __future__ import annotations

import os
from collections.abc import Mapping


def read_state_dict(path) -> Mapping:
    """A state_dict from a ``.safetensors`` or ``.npz`` file (nothing is unpickled)."""
    import numpy as np

    path = os.fspath(path)
    if path.endswith(".safetensors"):
        from axonic.io.safetensors import load

        return load(path)
    if path.endswith(".npz"):
        if not os.path.exists(path):
            raise FileNotFoundError(f"weights: no such file: {path!r}")
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    raise ValueError(f"weights: expected a .safetensors or .npz file, got {path!r}")


def check_weights(weights, who: str):
    """Fail before building a model whose ``weights`` argument cannot be loaded."""
    if weights is None or isinstance(weights, Mapping):
        return
    if isinstance(weights, (str, os.PathLike)):
        if not os.fspath(weights).endswith((".safetensors", ".npz")):
            raise ValueError(f"{who}: weights: expected a .safetensors or .npz file, got "
                             f"{os.fspath(weights)!r}")
        return
    raise ValueError(f"{who}: weights must be None, a state_dict or the path of a "
                     f".safetensors / .npz file, got {type(weights).__name__}")


def load_weights(model, weights):
    """Load ``weights`` (None, a state_dict or a file path) into ``model``; return it."""
    check_weights(weights, type(model).__name__)
    if weights is None:
        return model
    if not isinstance(weights, Mapping):
        weights = read_state_dict(weights)
    model.load_state_dict(weights)
    return model
