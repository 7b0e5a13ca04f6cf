"""Shape ops: reshape view flatten squeeze unsqueeze transpose permute expand T mT contiguous,
and tril triu flip repeat. Views share their base's version counter."""

from __future__ import annotations

import math

import numpy as np

from axonic.autograd.function import Function, sum_to
from axonic.backend import get_array_module
from axonic.ops._registry import method, op
from axonic.ops._spec import OpSpec
from axonic.ops._util import norm_dim


class Reshape(Function):
    onnx_sized = ("shape", 1)  # to_onnx builds the target shape with dynamic dims
    is_view = True

    def forward(self, x, shape):
        self.in_shape = x.shape
        out = x.reshape(shape)
        if not x.flags.c_contiguous and not get_array_module(x).may_share_memory(out, x):
            self.is_view = False  # a copy (as PyTorch's reshape): its own versions
        return out

    def backward(self, g):
        return g.reshape(self.in_shape)

    def to_onnx(self, g, x, shape):
        return g.op("Reshape", x, g.shape_tensor(g.out_dims, like=g.dims(x)))


class Permute(Function):
    is_view = True

    def forward(self, x, dims):
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, g):
        return self.xp.transpose(g, self.inverse)

    def to_onnx(self, g, x, dims):
        return g.op("Transpose", x, perm=[int(d) % len(dims) for d in dims])


class Expand(Function):
    onnx_sized = ("shape", 1)  # to_onnx builds the target shape with dynamic dims
    is_view = True

    def forward(self, x, shape):
        self.in_shape = x.shape
        return get_array_module(x).broadcast_to(x, shape)

    def backward(self, g):
        return sum_to(g, self.in_shape)

    def to_onnx(self, g, x, shape):
        out, have = g.out_dims, g.dims(x)
        lead = len(out) - len(have)  # a dim the input already has stays (1: broadcast)
        target = [1 if i >= lead and have[i - lead] == d else d for i, d in enumerate(out)]
        return g.op("Expand", x, g.shape_tensor(target))


class Contiguous(Function):
    onnx_op = "Identity"

    def forward(self, x):
        return get_array_module(x).ascontiguousarray(x)

    def backward(self, g):
        return g


class Flip(Function):

    def forward(self, x, axes):
        self.axes = axes
        return get_array_module(x).flip(x, axes)

    def backward(self, g):
        return self.xp.flip(g, self.axes)

    def to_onnx(self, g, x, axes):
        axes = [int(a) for a in np.atleast_1d(axes)]
        n = len(axes)
        return g.op("Slice", x, g.ints([-1] * n), g.ints([np.iinfo(np.int64).min] * n),
                    g.ints(axes), g.ints([-1] * n))


class Roll(Function):

    def forward(self, x, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return get_array_module(x).roll(x, shifts, axes)

    def backward(self, g):
        return self.xp.roll(g, tuple(-s for s in self.shifts), self.axes)


def _sizes(args, name):
    if len(args) == 1 and isinstance(args[0], tuple | list):
        args = tuple(args[0])
    for s in args:
        if not isinstance(s, int | np.integer):
            raise TypeError(f"{name}: sizes must be ints, got {args!r}")
    return tuple(int(s) for s in args)


@op("reshape", "view", methods=("reshape", "view"))
def reshape(input, *shape):
    """The same elements in a new shape; one dimension may be -1 (inferred).

    >>> import axonic
    >>> axonic.arange(6).reshape(2, -1)
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    shape = _sizes(shape, "reshape")
    if shape == input.shape:
        return input
    n = input._data.size
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or any(s < -1 for s in shape) or (
            -1 not in shape and known != n) or (-1 in shape and (known == 0 or n % known)):
        raise ValueError(
            f"reshape: shape {shape} is invalid for input of shape {tuple(input.shape)} "
            f"({n} elements)"
        )
    return Reshape.apply(input, shape=shape)


view = reshape


@op(methods=("flatten",))
def flatten(input, start_dim=0, end_dim=-1):
    nd = input.ndim
    if nd == 0:
        return reshape(input, 1)
    s, e = norm_dim((start_dim, end_dim), nd, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shp = input.shape
    return reshape(input, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])


@op(methods=("unflatten",))
def unflatten(input, dim, sizes):
    (d,) = norm_dim(dim, input.ndim, "unflatten")
    sizes = tuple(sizes)
    known = math.prod(s for s in sizes if s != -1)
    n = input.shape[d]
    if (n % known if known else True) if -1 in sizes else known != n:
        raise ValueError(f"unflatten: sizes {sizes} do not multiply to the size {n} of dim {dim}")
    return reshape(input, input.shape[:d] + tuple(sizes) + input.shape[d + 1:])


@op(methods=("squeeze",))
def squeeze(input, dim=None):
    """Remove size-1 dims (all of them, or those in ``dim``)."""
    if dim is None:
        shape = tuple(s for s in input.shape if s != 1)
    else:
        axes = norm_dim(dim, input.ndim, "squeeze")
        shape = tuple(s for i, s in enumerate(input.shape) if not (i in axes and s == 1))
    return reshape(input, shape)


@op(methods=("unsqueeze",))
def unsqueeze(input, dim):
    (d,) = norm_dim(dim, input.ndim + 1, "unsqueeze")
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


@op(methods=("permute",))
def permute(input, *dims):
    dims = _sizes(dims, "permute")
    if len(dims) != input.ndim:
        raise ValueError(
            f"permute: got {len(dims)} dims {dims} for a tensor with {input.ndim} dimensions"
        )
    axes = norm_dim(dims, input.ndim, "permute")
    if sorted(axes) != list(range(input.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of 0..{input.ndim - 1}")
    return Permute.apply(input, dims=axes)


@op(methods=("transpose", "swapaxes"))
def transpose(input, dim0, dim1):
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    a, b = norm_dim((dim0, dim1), input.ndim, "transpose")
    dims = list(range(input.ndim))
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, dims=tuple(dims))


swapaxes = transpose


@op(methods=("t",))
def t(input):
    """Transpose of a tensor with at most 2 dimensions."""
    if input.ndim > 2:
        raise ValueError(f"t(): expects a tensor with <= 2 dimensions, got {input.ndim}")
    return transpose(input, 0, -1)


def T(input):
    return permute(input, tuple(reversed(range(input.ndim)))) if input.ndim > 1 else input


def mT(input):
    if input.ndim < 2:
        raise ValueError(f"mT: expects a tensor with at least 2 dimensions, got {input.ndim}")
    return transpose(input, -2, -1)


method("T", property(T))
method("mT", property(mT))


@op(export=False, methods=("view_as", "reshape_as"))
def view_as(input, other):
    """``input`` in the shape of ``other``."""
    return reshape(input, other.shape)


@op(methods=("expand",))
def expand(input, *sizes):
    """Broadcast to a larger shape without copying; -1 keeps a dimension's size.

    >>> import axonic
    >>> axonic.tensor([[1.0], [2.0]]).expand(-1, 3)
    tensor([[1., 1., 1.],
            [2., 2., 2.]])
    """
    sizes = _sizes(sizes, "expand")
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise ValueError(
            f"expand: the number of sizes ({len(sizes)}) must be at least the number of "
            f"dimensions of the tensor ({input.ndim})"
        )
    shape = tuple(input.shape[i - lead] if s == -1 and i >= lead else s
                  for i, s in enumerate(sizes))
    if any(s < 0 for s in shape):
        raise ValueError(
            f"expand: sizes {sizes} for shape {tuple(input.shape)}: -1 keeps an existing dim's "
            "size and can't be used for a new leading dim; other sizes must be non-negative"
        )
    for i, (s, d) in enumerate(zip(shape[lead:], input.shape)):
        if d != 1 and s != d:
            raise ValueError(
                f"expand: size {s} at dim {i + lead} does not match the tensor's size {d} "
                f"(shape {tuple(input.shape)} to {sizes}); only size-1 dims can be expanded"
            )
    if shape == input.shape:
        return input
    return Expand.apply(input, shape=shape)


@op(export=False, methods=("expand_as",))
def expand_as(input, other):
    return expand(input, other.shape)


@op(methods=("broadcast_to",))
def broadcast_to(input, shape):
    return expand(input, tuple(shape))


@op(methods=("contiguous",))
def contiguous(input):
    return input if input._data.flags.c_contiguous else Contiguous.apply(input)


@op(methods=("flip",))
def flip(input, dims):
    return Flip.apply(input, axes=norm_dim(dims, input.ndim, "flip"))


@op(methods=("repeat",))
def repeat(input, *sizes):
    """Tile the tensor ``sizes[i]`` times along each dim (PyTorch's ``Tensor.repeat``)."""
    sizes = _sizes(sizes, "repeat")
    if len(sizes) < input.ndim:
        raise ValueError(
            f"repeat: number of repeats ({len(sizes)}) must be >= the number of "
            f"dimensions ({input.ndim})"
        )
    x = reshape(input, (1,) * (len(sizes) - input.ndim) + input.shape)
    inter = []
    for s in x.shape:
        inter += [1, s]
    x = reshape(x, tuple(inter))
    target = []
    for r, s in zip(sizes, x.shape[1::2]):
        target += [r, s]
    return reshape(expand(x, tuple(target)), tuple(r * s for r, s in zip(sizes, x.shape[1::2])))


@op(methods=("roll",))
def roll(input, shifts, dims=None):
    """Shift elements along ``dims`` (the flattened tensor when None), wrapping around.

    >>> import axonic
    >>> axonic.arange(5).roll(2)
    tensor([3, 4, 0, 1, 2])
    """
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: without dims, shifts must be one int, got {shifts}")
        return reshape(roll(flatten(input), shifts, 0), input.shape)
    axes = norm_dim(dims, input.ndim, "roll")
    if len(axes) != len(shifts):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} dims; they must match")
    return Roll.apply(input, shifts=shifts, axes=axes)


@op("movedim", "moveaxis", methods=("movedim", "moveaxis"))
def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination``, the others keeping their order."""
    src = norm_dim(source, input.ndim, "movedim")
    dst = norm_dim(destination, input.ndim, "movedim")
    if len(src) != len(dst):
        raise ValueError(f"movedim: {len(src)} source dims but {len(dst)} destinations")
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


@op(methods=("tile",))
def tile(input, dims):
    """Repeat the tensor along each dim; ``dims`` shorter than ``ndim`` is padded with 1s."""
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


SPECS = [
    OpSpec("roll", lambda a: roll(a, (1, -2), (0, 1)), lambda a: np.roll(a, (1, -2), (0, 1)),
           [((3, 4),)], lambda a: a.roll((1, -2), (0, 1))),
    OpSpec("roll_flat", lambda a: roll(a, 3), lambda a: np.roll(a, 3), [((2, 3),)],
           lambda a: a.roll(3)),
    OpSpec("movedim", lambda a: movedim(a, 0, -1), lambda a: np.moveaxis(a, 0, -1),
           [((2, 3, 4),)], lambda a: a.movedim(0, -1)),
    OpSpec("tile", lambda a: tile(a, (2, 1)), lambda a: np.tile(a, (2, 1)), [((2, 3),), ((3,),)],
           lambda a: a.tile((2, 1))),
    OpSpec("reshape", lambda a: reshape(a, 4, 3), lambda a: a.reshape(4, 3), [((3, 4),)],
           lambda a: a.reshape(4, 3)),
    OpSpec("reshape_infer", lambda a: reshape(a, -1), lambda a: a.reshape(-1), [((2, 3, 2),),
           ((),)], lambda a: a.reshape(-1)),
    OpSpec("flatten", lambda a: flatten(a, 1), lambda a: a.reshape(a.shape[0], -1),
           [((2, 3, 4),)], lambda a: a.flatten(1)),
    OpSpec("squeeze", squeeze, np.squeeze, [((1, 3, 1, 2),)], lambda a: a.squeeze()),
    OpSpec("unsqueeze", lambda a: unsqueeze(a, 1), lambda a: np.expand_dims(a, 1), [((3, 4),)],
           lambda a: a.unsqueeze(1)),
    OpSpec("transpose", lambda a: transpose(a, 0, 2), lambda a: a.swapaxes(0, 2), [((2, 3, 4),)],
           lambda a: a.transpose(0, 2)),
    OpSpec("permute", lambda a: permute(a, 2, 0, 1), lambda a: a.transpose(2, 0, 1),
           [((2, 3, 4),)], lambda a: a.permute(2, 0, 1)),
    OpSpec("T", T, lambda a: a.T, [((3, 4),)], lambda a: a.T),
    OpSpec("mT", mT, lambda a: a.swapaxes(-1, -2), [((2, 3, 4),)], lambda a: a.mT),
    OpSpec("expand", lambda a: expand(a, 2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)),
           [((3, 1),), ((4,),)], lambda a: a.expand(2, 3, 4)),
    OpSpec("flip", lambda a: flip(a, (0, 1)), lambda a: np.flip(a, (0, 1)), [((3, 4),)],
           lambda a: a.flip((0, 1))),
    OpSpec("repeat", lambda a: repeat(a, 2, 1, 3), lambda a: np.tile(a, (2, 1, 3)),
           [((3, 2),)], lambda a: a.repeat(2, 1, 3)),
    OpSpec("contiguous_of_transpose", lambda a: contiguous(transpose(a, 0, 1)),
           lambda a: np.ascontiguousarray(a.T), [((3, 4),)], lambda a: a.t().contiguous()),
]
