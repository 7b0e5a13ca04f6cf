"""``rms_norm``: root-mean-square normalisation over the trailing dims (Zhang & Sennrich,
2019), as ``torch.rms_norm``: ``x / sqrt(mean(x^2) + eps) * weight``, composed of
differentiable ops (its gradients and second derivatives are theirs).

>>> import axonic
>>> [round(v, 4) for v in rms_norm(axonic.tensor([3.0, 4.0]), 2, eps=0.0).tolist()]
[0.8485, 1.1314]
"""

from __future__ import annotations

import numpy as np

from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec


@op()
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Divide by the root mean square over the trailing dims ``normalized_shape`` (plus
    ``eps``, by default the machine epsilon of the input's dtype, as PyTorch), then scale
    by ``weight``."""
    shape = ((normalized_shape,) if isinstance(normalized_shape, int | np.integer)
             else tuple(normalized_shape))
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise ValueError(f"rms_norm: expected input with trailing dimensions {shape}, got "
                         f"shape {tuple(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise ValueError(f"rms_norm: weight must have shape {shape}, got "
                         f"{tuple(weight.shape)}")
    if input._data.dtype.kind != "f":
        raise TypeError(f"rms_norm: expected a floating-point input, got "
                        f"{input._data.dtype.name}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    elif isinstance(eps, bool) or not isinstance(eps, int | float) or eps < 0:
        raise ValueError(f"rms_norm: eps must be a number >= 0 or None, got {eps!r}")
    dims = tuple(range(input.ndim - k, input.ndim))
    y = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * weight


def np_rms_norm(x, k, w=None, eps=0.0):
    axes = tuple(range(x.ndim - k, x.ndim))
    y = x / np.sqrt(np.mean(x ** 2, axis=axes, keepdims=True) + eps)
    return y if w is None else y * w


SPECS = [
    OpSpec("rms_norm", lambda x, w: rms_norm(x, (3, 4), w, eps=1e-6),
           lambda x, w: np_rms_norm(x, 2, w, 1e-6), [((2, 3, 4), (3, 4))],
           lambda x, w: TORCH.rms_norm(x, (3, 4), w, eps=1e-6)),
    OpSpec("rms_norm_default_eps", lambda x: rms_norm(x, 5),
           lambda x: np_rms_norm(x, 1, eps=np.finfo(np.float64).eps), [((4, 5),)],
           lambda x: TORCH.rms_norm(x, (5,))),
]
