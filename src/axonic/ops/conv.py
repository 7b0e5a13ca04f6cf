"""Convolutions: ``conv1d``, ``conv2d``, ``conv_transpose1d``, ``conv_transpose2d``.

Each is a GEMM over an im2col matrix (``axonic.ops.im2col``): the padded input is laid
out channels-last (N, H, W, C), its windows are a strided view, and copying that view
gives the (N*OH*OW, KH*KW*C) matrix, built and multiplied a few samples at a time.
Groups are a leading batch axis of the GEMM. Backward is two GEMMs: weight gradient
``g.T @ cols`` and input gradient ``g @ W`` followed by col2im, which adds each kernel
offset's strided slice back (a loop over KH*KW offsets, never over pixels). A transposed
convolution is the input gradient of a convolution, so it reuses the same two halves the
other way round.

Outputs are (N, C, H, W) views of channels-last memory: the next layer reads them
without a copy.

>>> import axonic
>>> x = axonic.randn(2, 3, 8, 8)
>>> w = axonic.randn(4, 3, 3, 3)
>>> conv2d(x, w, padding=1).shape
(2, 4, 8, 8)
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor
from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops.im2col import (
    conv_input_grad,
    conv_rows,
    conv_weight_grad,
    grouped_rows,
    rows_to_nchw,
    to_padded_nhwc,
    weight_from_matrix,
    weight_matrix,
)

# --- argument normalisation (shared with the pooling ops and the layers) ----------------


def ntuple(value, n: int, name: str, op: str, minimum: int = 1) -> tuple:
    """``value`` (an int or a sequence of ``n`` ints) as an ``n``-tuple, each >= minimum."""
    vals = (value,) * n if isinstance(value, int | np.integer) else tuple(value)
    if len(vals) != n or not all(isinstance(v, int | np.integer) and not isinstance(v, bool)
                                 for v in vals):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in vals):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return tuple(int(v) for v in vals)


def conv_padding(padding, kernel, stride, dilation, op: str) -> tuple:
    """Padding (int, tuple, 'valid' or 'same') as ((before, after), ...) per spatial dim.

    'same' pads ``dilation * (kernel - 1)`` in total, the smaller half first, as PyTorch does.
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions "
                    f"(stride {stride}); use an int or tuple padding")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', "
                         f"got {padding!r}")
    return tuple((p, p) for p in ntuple(padding, n, "padding", op, minimum=0))


def conv_size_problem(spatial, pads, kernel, dilation) -> str | None:
    """Why a convolution cannot run on this spatial size (None when it can)."""
    padded = tuple(s + a + b for s, (a, b) in zip(spatial, pads))
    effective = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < e for p, e in zip(padded, effective)):
        return (f"the padded input size {padded} (input {tuple(spatial)} plus padding "
                f"{tuple(pads)}) is smaller than the kernel {tuple(kernel)} (effective size "
                f"{effective} with dilation {tuple(dilation)})")
    return None


def _out_size(size, pads, k, s, d):
    return (size + pads[0] + pads[1] - d * (k - 1) - 1) // s + 1


# --- the Functions ---------------------------------------------------------------------


class Conv2dFunction(Function):
    """Cross-correlation of (N, C, H, W) with (OC, C/groups, KH, KW), plus bias."""

    def forward(self, x, w, b, stride, pads, dilation, groups):
        n, _, h, wd = x.shape
        kernel = w.shape[2:]
        out_hw = (_out_size(h, pads[0], kernel[0], stride[0], dilation[0]),
                  _out_size(wd, pads[1], kernel[1], stride[1], dilation[1]))
        buf = to_padded_nhwc(x, pads)
        wm = weight_matrix(w, groups)
        out = rows_to_nchw(conv_rows(buf, wm, out_hw, kernel, stride, dilation), n, *out_hw)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        nx, nw = self.needs_input_grad[:2]
        # buf feeds W's gradient, wm x's; x and W themselves are read under create_graph
        self.save_for_backward(buf if nw else None, wm if nx else None, x, w)
        self.geom = (x.shape, w.shape, out_hw, kernel, stride, pads, dilation, groups)
        self.gemm_shapes = (buf.shape, wm.shape)
        return out

    def backward(self, g):
        x_shape, w_shape, out_hw, kernel, stride, pads, dilation, groups = self.geom
        buf, wm, x, w = self.saved_tensors
        if self._graph_mode:
            return self._graph_backward(g, x, w)
        nx, nw, nb = self.needs_input_grad[:3]
        rows = grouped_rows(g, groups)
        buf_shape, wm_shape = self.gemm_shapes
        dx = dw = db = None
        if nx:
            dbuf = conv_input_grad(rows, wm, buf_shape, out_hw, kernel, stride, dilation)
            (pt, _), (pl, _) = pads
            dx = dbuf[:, pt:pt + x_shape[2], pl:pl + x_shape[3], :].transpose(0, 3, 1, 2)
        if nw:
            dw = weight_from_matrix(conv_weight_grad(rows, buf, wm_shape, out_hw,
                                                     kernel, stride, dilation), w_shape)
        if nb:
            db = g.sum(axis=(2, 3)).sum(axis=0)  # two short float32 chains, not one long one
        return dx, dw, db


    def _graph_backward(self, g, x, w):
        """The same gradients composed of differentiable ops (create_graph): the windows of
        the padded input gathered by indexing, one einsum per gradient, and the input's
        gradient scattered back into the windows (indexing's own gradient)."""
        from axonic.ops.indexing import IndexAdd
        from axonic.ops.join import pad

        x_shape, w_shape, (oh, ow), (kh, kw), stride, pads, dilation, groups = self.geom
        n, c, h, wd = x_shape
        oc = w_shape[0]
        (pt, pb), (pl, pr) = pads
        nx, nw, nb = self.needs_input_grad[:3]
        xpad = pad(x, (pl, pr, pt, pb))
        rows = np.arange(oh)[:, None] * stride[0] + np.arange(kh)[None, :] * dilation[0]
        cols = np.arange(ow)[:, None] * stride[1] + np.arange(kw)[None, :] * dilation[1]
        where = (slice(None), slice(None), rows[:, None, :, None], cols[None, :, None, :])
        gg = g.reshape(n, groups, oc // groups, oh, ow)
        wg = w.reshape(groups, oc // groups, c // groups, kh, kw)
        dx = dw = db = None
        if nx:
            dwin = self.xp.einsum("ngoxy,gockl->ngcxykl", gg, wg).reshape(n, c, oh, ow, kh, kw)
            dpad = IndexAdd.apply(dwin, shape=xpad.shape, index=where, basic=False)
            dx = dpad[:, :, pt:pt + h, pl:pl + wd]
        if nw:
            win = xpad[where].reshape(n, groups, c // groups, oh, ow, kh, kw)
            dw = self.xp.einsum("ngoxy,ngcxykl->gockl", gg, win).reshape(w_shape)
        if nb:
            db = g.sum(axis=(0, 2, 3))
        return dx, dw, db

    def to_onnx(self, g, x, w, b, stride, pads, dilation, groups):
        (top, bottom), (left, right) = pads
        return g.op("Conv", x, w, b, strides=list(stride), pads=[top, left, bottom, right],
                    dilations=list(dilation), group=int(groups))


# --- the functions -------------------------------------------------------------------


def _check_input(op, input, weight, bias, groups, spatial, transposed):
    nd = spatial + 2
    names = "(N, C, L)" if spatial == 1 else "(N, C, H, W)"
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if input.ndim != nd:
        raise ValueError(f"{op}: expected a {nd}-d input {names}, got shape {tuple(input.shape)}")
    if weight.ndim != nd:
        raise ValueError(f"{op}: expected a {nd}-d weight, got shape {tuple(weight.shape)}")
    if input.dtype != weight.dtype:
        raise ValueError(f"{op}: input dtype {input.dtype} differs from weight dtype "
                         f"{weight.dtype}; convert one with .to()")
    if not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c = input.shape[1]
    if transposed:
        if c != weight.shape[0] or c % groups:
            raise ValueError(
                f"{op}: expected {weight.shape[0]} input channels (weight shape "
                f"{tuple(weight.shape)}, divisible by groups={groups}), got input shape "
                f"{tuple(input.shape)}")
        out_c = weight.shape[1] * groups
    else:
        if c != weight.shape[1] * groups:
            raise ValueError(
                f"{op}: expected {weight.shape[1] * groups} input channels (weight shape "
                f"{tuple(weight.shape)} with groups={groups}), got input shape "
                f"{tuple(input.shape)}")
        if weight.shape[0] % groups:
            raise ValueError(f"{op}: weight's {weight.shape[0]} output channels are not "
                             f"divisible by groups={groups}")
        out_c = weight.shape[0]
    if bias is not None and tuple(bias.shape) != (out_c,):
        raise ValueError(f"{op}: expected a bias of shape ({out_c},), got "
                         f"{tuple(bias.shape)}")


@op()
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation, as ``torch.nn.functional.conv2d``.

    ``input`` (N, C, H, W), ``weight`` (OC, C/groups, KH, KW), ``padding`` an int, a pair,
    'valid' or 'same'.

    >>> import axonic
    >>> conv2d(axonic.ones(1, 1, 4, 4), axonic.ones(1, 1, 3, 3)).tolist()
    [[[[9.0, 9.0], [9.0, 9.0]]]]
    """
    _check_input("conv2d", input, weight, bias, groups, 2, False)
    stride = ntuple(stride, 2, "stride", "conv2d")
    dilation = ntuple(dilation, 2, "dilation", "conv2d")
    kernel = tuple(weight.shape[2:])
    pads = conv_padding(padding, kernel, stride, dilation, "conv2d")
    problem = conv_size_problem(input.shape[2:], pads, kernel, dilation)
    if problem:
        raise ValueError(f"conv2d: {problem}")
    return Conv2dFunction.apply(input, weight, bias, stride=stride, pads=pads,
                                dilation=dilation, groups=int(groups))


@op()
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation of (N, C, L) with (OC, C/groups, K), as ``F.conv1d``.

    >>> import axonic
    >>> conv1d(axonic.ones(1, 1, 5), axonic.ones(1, 1, 2), padding="same").tolist()
    [[[2.0, 2.0, 2.0, 2.0, 1.0]]]
    """
    _check_input("conv1d", input, weight, bias, groups, 1, False)
    stride = (1,) + ntuple(stride, 1, "stride", "conv1d")
    dilation = (1,) + ntuple(dilation, 1, "dilation", "conv1d")
    kernel = (1, weight.shape[2])
    pads = ((0, 0),) + conv_padding(padding, kernel[1:], stride[1:], dilation[1:], "conv1d")
    problem = conv_size_problem(input.shape[2:], pads[1:], kernel[1:], dilation[1:])
    if problem:
        raise ValueError(f"conv1d: {problem}")
    out = Conv2dFunction.apply(input.unsqueeze(2), weight.unsqueeze(2), bias, stride=stride,
                               pads=pads, dilation=dilation, groups=int(groups))
    return out.squeeze(2)


# --- float64 NumPy references for the op harness: direct sums over kernel offsets -------


def np_conv2d(x, w, b=None, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """Direct convolution: for each kernel offset, a strided slice times the weight."""
    x = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    n, c, h, wd = x.shape
    oc, cg, kh, kw = w.shape
    oh = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, oc, oh, ow))
    ocg = oc // groups
    for gi in range(groups):
        xs = x[:, gi * cg:(gi + 1) * cg]
        ws = w[gi * ocg:(gi + 1) * ocg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dilation[0]:i * dilation[0] + stride[0] * (oh - 1) + 1:
                           stride[0], j * dilation[1]:j * dilation[1] + stride[1] * (ow - 1) + 1:
                           stride[1]]
                out[:, gi * ocg:(gi + 1) * ocg] += np.einsum("nchw,oc->nohw", patch,
                                                             ws[:, :, i, j])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def _tnn():
    return TORCH.nn.functional


SPECS = [
    OpSpec("conv2d", lambda x, w, b: conv2d(x, w, b, padding=1),
           lambda x, w, b: np_conv2d(x, w, b, pads=((1, 1), (1, 1))),
           [((2, 3, 5, 6), (4, 3, 3, 3), (4,))],
           lambda x, w, b: _tnn().conv2d(x, w, b, padding=1)),
    OpSpec("conv2d_stride_dilation_groups",
           lambda x, w: conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
           lambda x, w: np_conv2d(x, w, None, (2, 1), ((1, 1), (2, 2)), (1, 2), 2),
           [((2, 4, 7, 6), (6, 2, 3, 2))],
           lambda x, w: _tnn().conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                      groups=2)),
    OpSpec("conv2d_same_even_kernel", lambda x, w: conv2d(x, w, padding="same"),
           lambda x, w: np_conv2d(x, w, None, pads=((1, 2), (0, 1))),
           [((1, 2, 5, 4), (3, 2, 4, 2))],
           lambda x, w: _tnn().conv2d(x, w, padding="same")),
    OpSpec("conv1d", lambda x, w, b: conv1d(x, w, b, stride=2, padding=1),
           lambda x, w, b: np_conv2d(x[:, :, None], w[:, :, None], b, (1, 2),
                                     ((0, 0), (1, 1)))[:, :, 0],
           [((2, 3, 9), (4, 3, 3), (4,))],
           lambda x, w, b: _tnn().conv1d(x, w, b, stride=2, padding=1)),
]
