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

    # backward is im2col GEMMs on arrays; no second derivative yet
    double_backward = False

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
        self.buf, self.wm = buf, wm
        self.geom = (x.shape, w.shape, out_hw, kernel, stride, pads, dilation, groups)
        return out

    def backward(self, g):
        x_shape, w_shape, out_hw, kernel, stride, pads, dilation, groups = self.geom
        tx, tw, tb = self.inputs
        rows = grouped_rows(g, groups)
        dx = dw = db = None
        if isinstance(tx, Tensor) and tx._rg:
            dbuf = conv_input_grad(rows, self.wm, self.buf.shape, out_hw, kernel, stride,
                                   dilation)
            (pt, _), (pl, _) = pads
            dx = dbuf[:, pt:pt + x_shape[2], pl:pl + x_shape[3], :].transpose(0, 3, 1, 2)
        if isinstance(tw, Tensor) and tw._rg:
            dw = weight_from_matrix(conv_weight_grad(rows, self.buf, self.wm.shape, out_hw,
                                                     kernel, stride, dilation), w_shape)
        if isinstance(tb, Tensor) and tb._rg:
            db = g.sum(axis=(2, 3)).sum(axis=0)  # two short float32 chains, not one long one
        return dx, dw, db


class ConvTranspose2dFunction(Function):
    """The input gradient of a convolution whose weight is ``w`` (Cin, Cout/groups, KH, KW)."""

    # backward is im2col GEMMs on arrays; no second derivative yet
    double_backward = False

    def forward(self, x, w, b, stride, padding, output_padding, dilation, groups, out_hw):
        n, _, h, wd = x.shape
        kernel = w.shape[2:]
        cout = w.shape[1] * groups
        full = [(s - 1) * st + d * (k - 1) + 1
                for s, st, d, k in zip((h, wd), stride, dilation, kernel)]
        # output_padding may reach past the full size: the buffer covers both
        buf_shape = (n, max(full[0], padding[0] + out_hw[0]),
                     max(full[1], padding[1] + out_hw[1]), cout)
        wm = weight_matrix(w, groups)  # as a convolution from Cout to Cin channels
        xrows = grouped_rows(x, groups)
        buf = conv_input_grad(xrows, wm, buf_shape, (h, wd), kernel, stride, dilation)
        p0, p1 = padding
        out = buf[:, p0:p0 + out_hw[0], p1:p1 + out_hw[1], :].transpose(0, 3, 1, 2)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        self.wm, self.xrows = wm, xrows
        self.geom = (x.shape, w.shape, buf_shape, kernel, stride, padding, dilation, groups)
        return out

    def backward(self, g):
        x_shape, w_shape, buf_shape, kernel, stride, padding, dilation, groups = self.geom
        tx, tw, tb = self.inputs
        gbuf = to_padded_nhwc(g, ((padding[0], 0), (padding[1], 0)), buf_shape)
        in_hw = x_shape[2:]
        dx = dw = db = None
        if isinstance(tx, Tensor) and tx._rg:
            rows = conv_rows(gbuf, self.wm, in_hw, kernel, stride, dilation)
            dx = rows_to_nchw(rows, x_shape[0], *in_hw)
        if isinstance(tw, Tensor) and tw._rg:
            dw = weight_from_matrix(conv_weight_grad(self.xrows, gbuf, self.wm.shape, in_hw,
                                                     kernel, stride, dilation), w_shape)
        if isinstance(tb, Tensor) and tb._rg:
            db = g.sum(axis=(2, 3)).sum(axis=0)  # two short float32 chains, not one long one
        return dx, dw, db


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


def conv_transpose_out_size(spatial, kernel, stride, padding, output_padding, dilation,
                            op: str) -> tuple:
    """Output size of a transposed convolution; raises when output_padding is too large."""
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= max(s, d):
            raise ValueError(
                f"{op}: output_padding {tuple(output_padding)} must be smaller than either "
                f"stride {tuple(stride)} or dilation {tuple(dilation)}")
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + op_ + 1 for n, k, s, p, op_, d in
                zip(spatial, kernel, stride, padding, output_padding, dilation))
    if any(o < 1 for o in out):
        raise ValueError(f"{op}: input size {tuple(spatial)} with padding {tuple(padding)} "
                         f"gives a non-positive output size {out}")
    return out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-d transposed convolution (the adjoint of ``conv2d``), as ``F.conv_transpose2d``.

    ``weight`` is (C, OC/groups, KH, KW).

    >>> import axonic
    >>> conv_transpose2d(axonic.ones(1, 1, 2, 2), axonic.ones(1, 1, 2, 2), stride=2).shape
    (1, 1, 4, 4)
    """
    op = "conv_transpose2d"
    _check_input(op, input, weight, bias, groups, 2, True)
    stride = ntuple(stride, 2, "stride", op)
    dilation = ntuple(dilation, 2, "dilation", op)
    padding = ntuple(padding, 2, "padding", op, minimum=0)
    output_padding = ntuple(output_padding, 2, "output_padding", op, minimum=0)
    out_hw = conv_transpose_out_size(input.shape[2:], weight.shape[2:], stride, padding,
                                     output_padding, dilation, op)
    return ConvTranspose2dFunction.apply(input, weight, bias, stride=stride, padding=padding,
                                         output_padding=output_padding, dilation=dilation,
                                         groups=int(groups), out_hw=out_hw)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-d transposed convolution of (N, C, L) with (C, OC/groups, K)."""
    op = "conv_transpose1d"
    _check_input(op, input, weight, bias, groups, 1, True)
    stride = (1,) + ntuple(stride, 1, "stride", op)
    dilation = (1,) + ntuple(dilation, 1, "dilation", op)
    padding = (0,) + ntuple(padding, 1, "padding", op, minimum=0)
    output_padding = (0,) + ntuple(output_padding, 1, "output_padding", op, minimum=0)
    out_hw = conv_transpose_out_size((1,) + tuple(input.shape[2:]), (1, weight.shape[2]),
                                     stride, padding, output_padding, dilation, op)
    out = ConvTranspose2dFunction.apply(input.unsqueeze(2), weight.unsqueeze(2), bias,
                                        stride=stride, padding=padding,
                                        output_padding=output_padding, dilation=dilation,
                                        groups=int(groups), out_hw=out_hw)
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


def np_conv_transpose2d(x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                        dilation=(1, 1), groups=1):
    """Direct transposed convolution: scatter each input pixel times the kernel."""
    n, c, h, wd = x.shape
    _, ocg, kh, kw = w.shape
    cg = c // groups
    oh = (h - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0]
    ow = (wd - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1]
    full = np.zeros((n, ocg * groups, oh, ow))
    for gi in range(groups):
        xs = x[:, gi * cg:(gi + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                contrib = np.einsum("nchw,co->nohw", xs, w[gi * cg:(gi + 1) * cg, :, i, j])
                hs = slice(i * dilation[0], i * dilation[0] + stride[0] * (h - 1) + 1, stride[0])
                ws = slice(j * dilation[1], j * dilation[1] + stride[1] * (wd - 1) + 1, stride[1])
                full[:, gi * ocg:(gi + 1) * ocg, hs, ws] += contrib
    out = full[:, :, padding[0]:oh - padding[0], padding[1]:ow - padding[1]]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
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
    OpSpec("conv_transpose2d",
           lambda x, w, b: conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
           lambda x, w, b: np_conv_transpose2d(x, w, b, (2, 2), (1, 1), (1, 1)),
           [((2, 3, 4, 3), (3, 2, 3, 3), (2,))],
           lambda x, w, b: _tnn().conv_transpose2d(x, w, b, stride=2, padding=1,
                                                   output_padding=1)),
    OpSpec("conv_transpose2d_groups_dilation",
           lambda x, w: conv_transpose2d(x, w, stride=(1, 2), groups=2, dilation=(2, 1)),
           lambda x, w: np_conv_transpose2d(x, w, None, (1, 2), (0, 0), (0, 0), (2, 1), 2),
           [((1, 4, 3, 4), (4, 3, 2, 3))],
           lambda x, w: _tnn().conv_transpose2d(x, w, stride=(1, 2), groups=2,
                                                dilation=(2, 1))),
]
for _spec in SPECS:
    _spec.no_gradgrad = "conv's backward is im2col GEMMs on arrays"
