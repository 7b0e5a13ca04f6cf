"""Weight initialisers with PyTorch's names and distributions (``nn.init``).

Each fills a tensor in place, without recording a gradient, and returns it.
Draws come from ``axonic``'s default generator (or the ``generator`` given), so
``axonic.manual_seed`` makes them reproducible.
"""

from __future__ import annotations

import math

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.backend import get_array_module
from axonic.backend.random import default_generator

_GAINS = {"linear": 1.0, "identity": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0,
          "conv_transpose1d": 1.0, "conv_transpose2d": 1.0, "conv_transpose3d": 1.0,
          "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for a nonlinearity (``relu`` -> sqrt(2), ``tanh`` -> 5/3, ...)."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if not isinstance(slope, int | float) or isinstance(slope, bool):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity not in _GAINS:
        raise ValueError(
            f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
            f"{sorted(_GAINS) + ['leaky_relu']}")
    return _GAINS[nonlinearity]


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError(
            f"fan in and fan out need a tensor with at least 2 dimensions, got shape "
            f"{tuple(tensor.shape)}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, array):
    with no_grad():  # a host array (eye_, orthogonal_) is copied to the tensor's device
        tensor._data[...] = get_array_module(tensor._data).asarray(array)
        tensor._vc[0] += 1
    return tensor


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    g = generator or default_generator
    return _fill(tensor, g.uniform(a, b, tensor.shape, tensor.dtype, tensor.device))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    g = generator or default_generator
    return _fill(tensor, g.normal(mean, std, tensor.shape, tensor.dtype, tensor.device))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal values redrawn until they fall in ``[a, b]``."""
    g = generator or default_generator
    out = g.normal(mean, std, tensor.shape, np.float64)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = g.normal(mean, std, (int(bad.sum()),), np.float64)
        bad = (out < a) | (out > b)
    return _fill(tensor, out.astype(tensor.dtype))


def constant_(tensor, val: float):
    return _fill(tensor, val)


def ones_(tensor):
    return _fill(tensor, 1)


def zeros_(tensor):
    return _fill(tensor, 0)


def eye_(tensor):
    if tensor.ndim != 2:
        raise ValueError(f"eye_: expects a 2-d tensor, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape, dtype=tensor.dtype))


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """Glorot normal: N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None):
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan)."""
    if 0 in tensor.shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None):
    """He normal: N(0, std²) with std = gain / sqrt(fan)."""
    if 0 in tensor.shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """A (semi-)orthogonal matrix, from the QR decomposition of a normal matrix."""
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_: expects at least 2 dimensions, got shape {tuple(tensor.shape)}")
    if tensor._data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor._data.size // rows
    g = generator or default_generator
    flat = g.normal(0.0, 1.0, (rows, cols), np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape).astype(tensor.dtype))


def default_bound(fan_in: int) -> float:
    """PyTorch's default bias bound for Linear and Conv: 1 / sqrt(fan_in)."""
    return 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
