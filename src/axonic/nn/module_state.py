"""Loading a ``Module``'s state: ``load_state_dict`` checks every key and shape first, then
writes (a failed load leaves the model unchanged)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module, to_device

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def load_state_dict(module, state_dict, strict: bool = True, assign: bool = False):
    """Copy ``state_dict``'s values into ``module``'s parameters and buffers (see
    ``Module.load_state_dict``); returns the missing and unexpected keys.

    >>> from axonic import nn
    >>> layer = nn.Linear(2, 1)
    >>> load_state_dict(layer, {"weight": [[1.0, 2.0]]}, strict=False)
    IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])
    >>> layer.weight.tolist()
    [[1.0, 2.0]]
    """
    own = module.state_dict(keep_vars=True)
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    conflicts, staged = [], []
    for k, t in own.items():
        if k not in state_dict:
            continue
        arr = _as_array(state_dict[k])
        if tuple(arr.shape) != tuple(t.shape):
            conflicts.append(f"{k}: checkpoint shape {tuple(arr.shape)}, "
                             f"model shape {tuple(t.shape)}")
            continue
        staged.append((t, arr))
    problems = []
    if strict and missing:
        problems.append("missing keys: " + ", ".join(missing))
    if strict and unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    if conflicts:
        problems.append("shape conflicts: " + "; ".join(conflicts))
    if problems:
        raise RuntimeError(
            f"Error(s) in loading state_dict for {type(module).__name__}:\n  "
            + "\n  ".join(problems))
    with no_grad():
        for t, arr in staged:
            xp = get_array_module(t._data)
            src = xp.asarray(to_device(arr, t.device) if xp is not np else np.asarray(arr))
            if assign:
                t._data = src.astype(t._data.dtype, copy=True)
            else:
                t._data[...] = src
            t._vc[0] += 1
    return IncompatibleKeys(missing, unexpected)


def _as_array(v):
    """An axonic tensor, another framework's tensor, an array or a nested list as an array."""
    arr = v._data if isinstance(v, Tensor) else v
    if hasattr(arr, "detach") and hasattr(arr, "numpy") and not isinstance(arr, np.ndarray):
        arr = arr.detach().cpu().numpy()  # a tensor of another framework
    return arr if hasattr(arr, "shape") and hasattr(arr, "dtype") else np.asarray(arr)
