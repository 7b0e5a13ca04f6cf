"""Nested state (an optimizer's ``state_dict``, RNG states, a scheduler) as a JSON-able
skeleton plus a flat dict of arrays, and back: how a checkpoint stores state that holds
arrays (the arrays go to safetensors, the rest to JSON)."""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.backend import to_numpy

_ARRAY = "__array__"


def _to_numpy(x):
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()  # device arrays go to the host first
    if hasattr(x, "__cuda_array_interface__"):  # a CuPy array, without importing CuPy
        return to_numpy(x)
    return x


def split_arrays(obj, prefix: str = "") -> tuple[object, dict[str, np.ndarray]]:
    """Replace every array/tensor in nested dicts/lists by ``{"__array__": key}``.

    Returns the JSON-able skeleton and the arrays by dotted key, so an optimizer's
    ``state_dict`` becomes one safetensors file plus a little JSON.

    >>> skel, arrays = split_arrays({"state": {0: {"step": 2, "m": np.zeros(3)}}})
    >>> skel["state"], list(arrays)
    ({'0': {'step': 2, 'm': {'__array__': 'state.0.m'}}, '__int_keys__': ['0']}, ['state.0.m'])
    >>> join_arrays(skel, arrays)["state"][0]["step"]
    2
    """
    arrays: dict[str, np.ndarray] = {}

    def walk(x, key):
        x = _to_numpy(x)
        if isinstance(x, np.ndarray):
            arrays[key] = x if x.flags.c_contiguous else x.copy(order="C")
            return {_ARRAY: key}
        if isinstance(x, dict):
            out = {}
            for k, v in x.items():
                out[str(k)] = walk(v, f"{key}.{k}" if key else str(k))
            if any(not isinstance(k, str) for k in x):  # remember int keys (optimizer state)
                out["__int_keys__"] = [str(k) for k in x if isinstance(k, int)]
            return out
        if isinstance(x, list | tuple):
            items = [walk(v, f"{key}.{i}" if key else str(i)) for i, v in enumerate(x)]
            return {"__tuple__": items} if isinstance(x, tuple) else items
        if isinstance(x, np.generic):
            return x.item()
        return x

    return walk(obj, prefix), arrays


def join_arrays(skeleton, arrays: dict[str, np.ndarray]):
    """Undo ``split_arrays``: put the arrays back and restore integer dict keys."""
    if isinstance(skeleton, dict):
        if set(skeleton) == {_ARRAY}:
            return arrays[skeleton[_ARRAY]]
        if set(skeleton) == {"__tuple__"}:  # JSON has no tuples (Adam's betas are one)
            return tuple(join_arrays(v, arrays) for v in skeleton["__tuple__"])
        ints = set(skeleton.get("__int_keys__", ()))
        return {(int(k) if k in ints else k): join_arrays(v, arrays)
                for k, v in skeleton.items() if k != "__int_keys__"}
    if isinstance(skeleton, list):
        return [join_arrays(v, arrays) for v in skeleton]
    return skeleton
