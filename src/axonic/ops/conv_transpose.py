"""Transposed convolutions (``conv_transpose1d``, ``conv_transpose2d``): the input gradient
of a convolution as an op of its own, with the same im2col kernels (``im2col.py``).
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.ops._registry import op
from axonic.ops._spec import OpSpec
from axonic.ops.conv import _check_input, _tnn, ntuple
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


class ConvTranspose2dFunction(Function):
    """The input gradient of a convolution whose weight is ``w`` (Cin, Cout/groups, KH, KW)."""
    onnx_sized = ("out_hw",)  # follows the input size; ONNX derives it

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
        nx, nw = self.needs_input_grad[:2]
        # x and W themselves, not wm and xrows (which may be views of them): changing either
        # in place is then caught at backward instead of silently changing the gradients
        self.save_for_backward(x if nw else None, w if nx else None)
        self.geom = (x.shape, w.shape, buf_shape, kernel, stride, padding, dilation, groups)
        return out

    def backward(self, g):
        x_shape, w_shape, buf_shape, kernel, stride, padding, dilation, groups = self.geom
        x, w = self.saved_tensors
        nx, nw, nb = self.needs_input_grad[:3]
        gbuf = to_padded_nhwc(g, ((padding[0], 0), (padding[1], 0)), buf_shape)
        in_hw = x_shape[2:]
        dx = dw = db = None
        if nx:
            rows = conv_rows(gbuf, weight_matrix(w, groups), in_hw, kernel, stride, dilation)
            dx = rows_to_nchw(rows, x_shape[0], *in_hw)
        if nw:
            cin, cout_g, kh, kw = w_shape
            wm_shape = (groups, kh * kw * cout_g, cin // groups)
            dw = weight_from_matrix(conv_weight_grad(grouped_rows(x, groups), gbuf, wm_shape,
                                                     in_hw, kernel, stride, dilation), w_shape)
        if nb:
            db = g.sum(axis=(2, 3)).sum(axis=0)  # two short float32 chains, not one long one
        return dx, dw, db

    def to_onnx(self, g, x, w, b, stride, padding, output_padding, dilation, groups, out_hw):
        return g.op("ConvTranspose", x, w, b, strides=list(stride), pads=list(padding) * 2,
                    output_padding=list(output_padding), dilations=list(dilation),
                    group=int(groups))


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


@op()
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


@op()
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


SPECS = [
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
    _spec.no_gradgrad = "the transposed convolution's backward is im2col GEMMs on arrays"
