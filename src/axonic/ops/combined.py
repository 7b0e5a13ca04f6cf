"""Ops PyTorch has that axonic composes from its primitives (no backward of their own):
``addcmul``, ``addcdiv``, ``addmm``, ``baddbmm``, ``take_along_dim``, ``select``, ``diff``,
``nansum``, ``nanmean``, ``hstack``/``vstack``/``dstack``, ``atleast_1d``/``2d``/``3d``,
``ravel``, ``repeat_interleave``, ``xlogy``, ``hypot``, ``sinc``, ``exp2``, ``kron``,
``meshgrid``, and the index helpers ``searchsorted``, ``bucketize``, ``isin``,
``bincount``, ``tril_indices``, ``triu_indices`` (not differentiable).

>>> import axonic
>>> axonic.addcmul(axonic.ones(2), axonic.tensor([1.0, 2.0]), axonic.tensor([3.0, 4.0]),
...                value=0.5).tolist()
[2.5, 5.0]
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, to_numpy
from axonic.ops._registry import op


def _t(x):
    from axonic.autograd.tensor import tensor

    return x if isinstance(x, Tensor) else tensor(x)


@op(methods=("addcmul",))
def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``."""
    return input + value * (tensor1 * tensor2)


@op(methods=("addcdiv",))
def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``."""
    return input + value * (tensor1 / tensor2)


@op(methods=("addmm",))
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    prod = mat1 @ mat2
    return (input if beta == 1 else beta * input) + (prod if alpha == 1 else alpha * prod)


@op(methods=("baddbmm",))
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    prod = batch1 @ batch2
    return (input if beta == 1 else beta * input) + (prod if alpha == 1 else alpha * prod)


@op(methods=("take_along_dim",))
def take_along_dim(input, indices, dim=None):
    """Values of ``input`` at ``indices`` along ``dim`` (the flattened input when None),
    broadcasting the other dims as ``np.take_along_axis``."""
    if dim is None:
        return input.reshape(-1)[indices.reshape(-1)]
    dim = dim % input.ndim
    shape = list(np.broadcast_shapes(
        tuple(s for i, s in enumerate(input.shape) if i != dim),
        tuple(s for i, s in enumerate(indices.shape) if i != dim)))
    in_shape = shape[:dim] + [input.shape[dim]] + shape[dim:]
    idx_shape = shape[:dim] + [indices.shape[dim]] + shape[dim:]
    return input.expand(*in_shape).gather(dim, indices.expand(*idx_shape))


@op(methods=("select",))
def select(input, dim, index):
    """``input`` indexed by ``index`` along ``dim`` (that dim removed)."""
    dim = dim % input.ndim
    return input[(slice(None),) * dim + (index,)]


@op(methods=("diff",))
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``."""
    from axonic.ops.join import cat

    if prepend is not None or append is not None:
        parts = [p for p in (prepend, input, append) if p is not None]
        input = cat([_t(p) for p in parts], dim)
    dim = dim % input.ndim
    for _ in range(n):
        size = input.shape[dim]
        input = input.narrow(dim, 1, size - 1) - input.narrow(dim, 0, size - 1)
    return input


@op(methods=("nansum",))
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum treating nan as zero."""
    clean = input.masked_fill(input.isnan(), 0)
    return clean.sum(dim=dim, keepdim=keepdim) if dtype is None else \
        clean.sum(dim=dim, keepdim=keepdim, dtype=dtype)


@op(methods=("nanmean",))
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-nan elements."""
    count = (~input.isnan()).sum(dim=dim, keepdim=keepdim)
    return nansum(input, dim, keepdim) / count


@op()
def atleast_1d(*tensors):
    out = [t.reshape(1) if t.ndim == 0 else t for t in map(_t, _flat(tensors))]
    return out[0] if len(out) == 1 else tuple(out)


@op()
def atleast_2d(*tensors):
    out = [t.reshape(1, -1) if t.ndim < 2 else t for t in map(_t, _flat(tensors))]
    return out[0] if len(out) == 1 else tuple(out)


@op()
def atleast_3d(*tensors):
    def lift(t):
        return t.reshape(1, -1, 1) if t.ndim < 2 else t.unsqueeze(-1) if t.ndim == 2 else t

    out = [lift(t) for t in map(_t, _flat(tensors))]
    return out[0] if len(out) == 1 else tuple(out)


def _flat(tensors):
    return list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], list | tuple) \
        else list(tensors)


@op()
def hstack(tensors):
    from axonic.ops.join import cat

    ts = [atleast_1d(t) for t in tensors]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


@op()
def vstack(tensors):
    from axonic.ops.join import cat

    return cat([atleast_2d(t) for t in tensors], 0)


@op()
def dstack(tensors):
    from axonic.ops.join import cat

    return cat([atleast_3d(t) for t in tensors], 2)


@op()
def column_stack(tensors):
    from axonic.ops.join import cat

    return cat([t.reshape(-1, 1) if t.ndim < 2 else t for t in map(_t, tensors)], 1)


@op(methods=("ravel",))
def ravel(input):
    """``input`` flattened to one dimension."""
    return input.reshape(-1)


@op(methods=("repeat_interleave",))
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times in a row;
    ``repeat_interleave(counts)`` of a 1-d int tensor gives ``[0]*c0 + [1]*c1 + ...``."""
    if repeats is None:  # torch.repeat_interleave(counts)
        counts = to_numpy(input._data)
        return _make(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    if dim is None:
        input, dim = input.reshape(-1), 0
    reps = to_numpy(repeats._data) if isinstance(repeats, Tensor) else repeats
    index = np.repeat(np.arange(input.shape[dim]), reps)
    xp = get_array_module(input._data)
    return input.index_select(dim, _make(xp.asarray(index)))


@op(methods=("xlogy",))
def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0 (nan where ``other`` is nan)."""
    other = _t(other) if not isinstance(other, int | float) else other
    safe = input * (other if isinstance(other, Tensor) else _t(float(other))).log()
    zero = (input == 0) & ~(other.isnan() if isinstance(other, Tensor) else _t(False))
    return safe.masked_fill(zero, 0)


@op(methods=("hypot",))
def hypot(input, other):
    """``sqrt(input**2 + other**2)``."""
    return (input * input + other * other).sqrt()


@op(methods=("sinc",))
def sinc(input):
    """``sin(pi x) / (pi x)``, 1 at 0."""
    px = input * np.pi
    is_zero = input == 0
    return (px.sin() / px.masked_fill(is_zero, 1)).masked_fill(is_zero, 1)


@op(methods=("exp2",))
def exp2(input):
    """``2 ** input``."""
    return (input * np.log(2.0)).exp()


@op(methods=("kron",))
def kron(input, other):
    """The Kronecker product of two tensors of the same number of dims."""
    a, b = input, other
    n = a.ndim
    ab = a.reshape(*[s for d in a.shape for s in (d, 1)]) * \
        b.reshape(*[s for d in b.shape for s in (1, d)])
    return ab.reshape(*[a.shape[i] * b.shape[i] for i in range(n)])


@op()
def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-d tensors (``indexing`` "ij" or "xy", as PyTorch's)."""
    ts = [_t(t) for t in _flat(tensors)]
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    shape = [t.numel() for t in ts]
    grids = [t.reshape(*[-1 if i == k else 1 for i in range(len(ts))]).expand(*shape)
             for k, t in enumerate(ts)]
    if indexing == "xy" and len(ts) >= 2:  # "xy" is "ij" with the first two axes swapped
        grids = [g.transpose(0, 1) for g in grids]
    return tuple(grids)


# --- index helpers (not differentiable) ---------------------------------------------------
@op()
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where ``input``'s values would go in the sorted last dim of ``sorted_sequence``."""
    side = side or ("right" if right else "left")
    seq = to_numpy(sorted_sequence._data)
    vals = to_numpy(_t(input)._data)
    if seq.ndim == 1:
        out = np.searchsorted(seq, vals, side=side)
    else:
        out = np.stack([np.searchsorted(s, v, side=side) for s, v in
                        zip(seq.reshape(-1, seq.shape[-1]),
                            vals.reshape(-1, vals.shape[-1]))]).reshape(vals.shape)
    return _make(np.asarray(out, dtype=np.int32 if out_int32 else np.int64))


@op()
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value among the 1-d ``boundaries`` (PyTorch's ``right``: a value
    equal to a boundary goes left unless ``right``)."""
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


@op()
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is in ``test_elements``."""
    test = to_numpy(test_elements._data) if isinstance(test_elements, Tensor) else \
        np.asarray(test_elements)
    return _make(np.isin(to_numpy(_t(elements)._data), test, invert=invert))


@op(methods=("bincount",))
def bincount(input, weights=None, minlength=0):
    """Counts of each value of a 1-d non-negative int tensor (or the sums of ``weights``)."""
    w = None if weights is None else to_numpy(weights._data)
    out = np.bincount(to_numpy(input._data), weights=w, minlength=minlength)
    return _make(out if w is not None else out.astype(np.int64))


@op()
def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, n) coordinates of the lower triangle of a ``row`` x ``col`` matrix."""
    return _make(np.stack(np.tril_indices(row, offset, col)).astype(np.int64))


@op()
def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, n) coordinates of the upper triangle of a ``row`` x ``col`` matrix."""
    return _make(np.stack(np.triu_indices(row, offset, col)).astype(np.int64))
