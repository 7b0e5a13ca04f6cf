"""``fuse_modules``: merge Conv2d+BatchNorm2d(+ReLU), Conv2d+ReLU, Linear+ReLU and
Linear+BatchNorm1d into one module before quantisation, so that the pair is quantised
once (no int8 round trip between them) and batch norm costs nothing at inference.

>>> import axonic
>>> from axonic import nn
>>> m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU()).eval()
>>> fused = fuse_modules(m, [["0", "1", "2"]])
>>> [type(c).__name__ for c in fused.children()]
['ConvReLU2d', 'Identity', 'Identity']
"""

from __future__ import annotations

import copy

import numpy as np

from axonic.nn.activation import ReLU
from axonic.nn.containers import Sequential
from axonic.nn.conv import Conv2d
from axonic.nn.linear import Identity, Linear
from axonic.nn.normalization import BatchNorm1d, BatchNorm2d
from axonic.nn.parameter import Parameter


class LinearReLU(Sequential):
    """``relu(linear(x))`` as one module (``[0]`` the Linear, ``[1]`` the ReLU)."""

    fused_relu = True


class ConvReLU2d(Sequential):
    """``relu(conv(x))`` as one module (``[0]`` the Conv2d, ``[1]`` the ReLU)."""

    fused_relu = True


FUSED = (LinearReLU, ConvReLU2d)


def fold_batch_norm(layer, bn):
    """A copy of Conv2d/Linear ``layer`` whose weight and bias include eval-mode ``bn``:
    ``w' = w * g / sqrt(v + eps)``, ``b' = (b - m) * g / sqrt(v + eps) + beta``."""
    from axonic.autograd.tensor import tensor

    out = copy.deepcopy(layer)
    f32 = np.float32  # in float32, as PyTorch folds, so that both give the same weights
    w = layer.weight._data.astype(f32)
    b = layer.bias._data.astype(f32) if layer.bias is not None else np.zeros(w.shape[0], f32)
    inv = f32(1) / np.sqrt(bn.running_var._data.astype(f32) + f32(bn.eps))
    gamma = bn.weight._data.astype(f32) if bn.weight is not None else f32(1)
    beta = bn.bias._data.astype(f32) if bn.bias is not None else f32(0)
    factor = gamma * inv
    dtype = layer.weight.dtype
    shape = (-1,) + (1,) * (w.ndim - 1)
    out.weight = Parameter(tensor((w * factor.reshape(shape)).astype(dtype)))
    out.bias = Parameter(tensor(((b - bn.running_mean._data) * inv * gamma + beta).astype(dtype)))
    return out


def _fuse(mods, names):
    kinds = tuple(type(m) for m in mods)
    if kinds in ((Conv2d, BatchNorm2d), (Conv2d, BatchNorm2d, ReLU), (Linear, BatchNorm1d)):
        if mods[1].training:
            raise ValueError(f"fuse_modules: folding {names[1]} ({kinds[1].__name__}) into "
                             f"{names[0]} needs the model in eval mode (model.eval()); "
                             "quantisation-aware training fuses after training")
        folded = fold_batch_norm(mods[0], mods[1])
        return ConvReLU2d(folded, mods[2]) if len(mods) == 3 else folded
    if kinds == (Conv2d, ReLU):
        return ConvReLU2d(mods[0], mods[1])
    if kinds == (Linear, ReLU):
        return LinearReLU(mods[0], mods[1])
    got = " + ".join(f"{n} ({k.__name__})" for n, k in zip(names, kinds))
    raise ValueError(f"fuse_modules: cannot fuse {got}; supported: Conv2d+BatchNorm2d, "
                     "Conv2d+BatchNorm2d+ReLU, Conv2d+ReLU, Linear+ReLU, Linear+BatchNorm1d")


def _set(model, name, module):
    parent, _, leaf = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, module)


def fuse_modules(model, modules_to_fuse, inplace: bool = False):
    """Fuse each list of submodule names in ``modules_to_fuse`` (one list, or a list of
    lists): the first becomes the fused module, the others ``Identity``. PyTorch's
    ``torch.ao.quantization.fuse_modules``."""
    if not inplace:
        model = copy.deepcopy(model)
    groups = modules_to_fuse
    if groups and all(isinstance(n, str) for n in groups):
        groups = [groups]
    for names in groups:
        mods = []
        for n in names:
            try:
                mods.append(model.get_submodule(n))
            except AttributeError:
                raise ValueError(f"fuse_modules: the model has no submodule {n!r}") from None
        fused = _fuse(mods, names)
        _set(model, names[0], fused)
        for n in names[1:]:
            _set(model, n, Identity())
    return model
