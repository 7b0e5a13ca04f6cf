"""ONNX Conv and ConvTranspose on axonic's convolutions (1-D and 2-D on the native
kernels, other ranks of Conv by windows and einsum)."""

from __future__ import annotations

import numpy as np

import axonic
import axonic.nn.functional as F
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, to_value
from axonic.onnx.ops._windows import pad_spatial, window_pads, windows

_CONV = {1: F.conv1d, 2: F.conv2d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d}


def _generic_conv(x, w, strides, dilations, groups):
    n, c = x.shape[:2]
    d = x.ndim - 2
    win = windows(x, list(w.shape[2:]), strides, dilations)  # (N, C, *out, *k)
    out_sp = win.shape[2:2 + d]
    m = w.shape[0]
    win = win.reshape(n, groups, c // groups, *out_sp, -1)
    wg = w.reshape(groups, m // groups, c // groups, -1)
    letters = "xyzuvw"[:d]  # not n, g, c, m, k: those name the other axes
    y = axonic.einsum(f"ngc{letters}k,gmck->ngm{letters}", win, wg)
    return y.reshape(n, m, *out_sp)


def _dilate(x, axis, stride):
    """Insert ``stride - 1`` zeros between the elements of ``x`` along ``axis``."""
    if stride == 1:
        return x
    n = x.shape[axis]
    y = x.unsqueeze(axis + 1)
    flat = [0, 0] * (y.ndim - axis - 2) + [0, stride - 1]
    y = F.pad(y, tuple(flat))
    y = y.reshape(*x.shape[:axis], n * stride, *x.shape[axis + 1:])
    return y[(slice(None),) * axis + (slice(0, (n - 1) * stride + 1),)]


def _generic_conv_transpose(x, w, strides, dilations, groups):
    """A transposed convolution as the convolution of the zero-dilated, padded input with
    the flipped, transposed kernel (any rank)."""
    d = x.ndim - 2
    k = w.shape[2:]
    for i in range(d):
        x = _dilate(x, 2 + i, strides[i])
    pad = [(k[i] - 1) * dilations[i] for i in range(d)]
    x = pad_spatial(x, pad, pad)
    c_in, c_out_g = w.shape[:2]
    wt = w.reshape(groups, c_in // groups, c_out_g, *k).movedim(1, 2)
    wt = axonic.flip(wt.reshape(groups * c_out_g, c_in // groups, *k),
                     tuple(range(2, 2 + d)))
    return _generic_conv(x, wt, [1] * d, dilations, groups)


@onnx_op("Conv")
def conv(inputs, attrs, ctx):
    x, w, b = (list(inputs) + [None])[:3]
    d = x.ndim - 2
    kernel = attrs.get("kernel_shape") or list(w.shape[2:])
    strides = attrs.get("strides") or [1] * d
    dil = attrs.get("dilations") or [1] * d
    groups = attrs.get("group", 1)
    begin, end, _ = window_pads(x.shape[2:], kernel, strides, dil, attrs)
    if d in _CONV:
        if begin == end:
            y = _CONV[d](x, w, None, tuple(strides), tuple(begin), tuple(dil), groups)
        else:
            y = _CONV[d](pad_spatial(x, begin, end), w, None, tuple(strides), 0, tuple(dil),
                         groups)
    else:
        y = _generic_conv(pad_spatial(x, begin, end), w, strides, dil, groups)
    if b is not None:
        y = y + b.reshape(1, -1, *[1] * d)
    return y


@onnx_op("ConvTranspose")
def conv_transpose(inputs, attrs, ctx):
    x, w, b = (list(inputs) + [None])[:3]
    d = x.ndim - 2
    kernel = attrs.get("kernel_shape") or list(w.shape[2:])
    strides = attrs.get("strides") or [1] * d
    dil = attrs.get("dilations") or [1] * d
    groups = attrs.get("group", 1)
    out_pad = list(attrs.get("output_padding") or [0] * d)
    pads = attrs.get("pads") or [0] * (2 * d)
    begin, end = list(pads[:d]), list(pads[d:])
    full = [strides[i] * (x.shape[2 + i] - 1) + out_pad[i] + (kernel[i] - 1) * dil[i] + 1
            for i in range(d)]
    auto = attrs.get("auto_pad", "NOTSET")
    if "output_shape" in attrs or auto in ("SAME_UPPER", "SAME_LOWER"):
        target = attrs.get("output_shape") or [x.shape[2 + i] * strides[i] for i in range(d)]
        target = list(target)[-d:]
        for i in range(d):
            total = full[i] - target[i]
            if total < 0:  # the requested shape is larger: zeros (and bias) at the end
                out_pad[i] -= total
                full[i] -= total
                total = 0
            if auto == "SAME_UPPER":
                begin[i], end[i] = total // 2, total - total // 2
            else:
                begin[i], end[i] = total - total // 2, total // 2
    if d in _CONV_T:
        y = _CONV_T[d](x, w, None, tuple(strides), 0, 0, groups, tuple(dil))
    else:
        y = _generic_conv_transpose(x, w, strides, dil, groups)
    y = pad_spatial(y, [0] * d, out_pad)
    index = (slice(None), slice(None)) + tuple(
        slice(begin[i], full[i] - end[i]) for i in range(d))
    y = y[index]
    if b is not None:
        y = y + b.reshape(1, -1, *[1] * d)
    return y


@onnx_op("Col2Im", since=18)
def col2im(inputs, attrs, ctx):
    """Sum sliding blocks back into an image (the adjoint of im2col); computed in NumPy."""
    cols, image, block = arr(inputs[0]), [int(s) for s in arr(inputs[1])], \
        [int(s) for s in arr(inputs[2])]
    d = len(image)
    strides = attrs.get("strides") or [1] * d
    dil = attrs.get("dilations") or [1] * d
    pads = attrs.get("pads") or [0] * (2 * d)
    padded = [image[i] + pads[i] + pads[d + i] for i in range(d)]
    n = cols.shape[0]
    c = cols.shape[1] // int(np.prod(block))
    out = np.zeros((n, c, *padded), dtype=cols.dtype)
    counts = [(padded[i] - dil[i] * (block[i] - 1) - 1) // strides[i] + 1 for i in range(d)]
    cols = cols.reshape(n, c, *block, *counts)
    for k in np.ndindex(*block):
        for o in np.ndindex(*counts):
            at = tuple(o[i] * strides[i] + k[i] * dil[i] for i in range(d))
            out[(slice(None), slice(None)) + at] += cols[(slice(None), slice(None)) + k + o]
    crop = tuple(slice(pads[i], pads[i] + image[i]) for i in range(d))
    return to_value(out[(slice(None), slice(None)) + crop])
