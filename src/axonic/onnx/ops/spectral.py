"""ONNX DFT (opsets 17 and 20) and STFT as products with cosine and sine matrices, so
gradients flow through them (complex values are a trailing axis of size 2)."""

from __future__ import annotations

import numpy as np

import axonic
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, scalar, to_value


def _fit(t, n):
    """Zero-pad or truncate the last axis of ``t`` to ``n``."""
    size = t.shape[-1]
    if size > n:
        return t[..., :n]
    if size < n:
        return axonic.cat([t, to_value(np.zeros(t.shape[:-1] + (n - size,), arr(t).dtype))], -1)
    return t


def _dft_last(re, im, n, inverse, onesided):
    """The transform of the last axis: returns (real, imag)."""
    dtype = arr(re).dtype
    if inverse and onesided:  # Hermitian half spectrum -> real signal (NumPy's irfft)
        half = n // 2 + 1
        re, im = _fit(re, half), (_fit(im, half) if im is not None else None)
        k = np.arange(half)
        w = np.where((k == 0) | ((n % 2 == 0) & (k == n // 2)), 1.0, 2.0) / n
        angle = 2 * np.pi * np.outer(k, np.arange(n)) / n
        cos = to_value((w[:, None] * np.cos(angle)).astype(dtype))
        sin = to_value((w[:, None] * np.sin(angle)).astype(dtype))
        out = axonic.matmul(re, cos)
        if im is not None:
            out = out - axonic.matmul(im, sin)
        return out, None
    re = _fit(re, n)
    im = _fit(im, n) if im is not None else None
    rows = n // 2 + 1 if onesided and not inverse else n
    angle = 2 * np.pi * np.outer(np.arange(n), np.arange(rows)) / n
    scale = 1.0 / n if inverse else 1.0
    sign = 1.0 if inverse else -1.0
    cos = to_value((scale * np.cos(angle)).astype(dtype))
    sin = to_value((sign * scale * np.sin(angle)).astype(dtype))
    out_re = axonic.matmul(re, cos)
    out_im = axonic.matmul(re, sin)
    if im is not None:
        out_re = out_re - axonic.matmul(im, sin)
        out_im = out_im + axonic.matmul(im, cos)
    return out_re, out_im


def _dft(x, n, axis, inverse, onesided):
    axis = axis % x.ndim
    x = x.movedim(axis, -2)  # (..., signal, 1 or 2)
    re = x[..., 0]
    im = x[..., 1] if x.shape[-1] == 2 else None
    n = n or (2 * (re.shape[-1] - 1) if inverse and onesided else re.shape[-1])
    out_re, out_im = _dft_last(re, im, n, inverse, onesided)
    out = out_re.unsqueeze(-1) if out_im is None else axonic.stack([out_re, out_im], -1)
    return out.movedim(-2, axis)


def _opt_int(inputs, k):
    if len(inputs) > k and inputs[k] is not None and arr(inputs[k]).size:
        return int(scalar(inputs[k]))
    return None


@onnx_op("DFT", since=17, until=19)
def dft17(inputs, attrs, ctx):
    return _dft(inputs[0], _opt_int(inputs, 1), attrs.get("axis", 1),
                attrs.get("inverse", 0), attrs.get("onesided", 0))


@onnx_op("DFT", since=20)
def dft(inputs, attrs, ctx):
    axis = _opt_int(inputs, 2)
    return _dft(inputs[0], _opt_int(inputs, 1), -2 if axis is None else axis,
                attrs.get("inverse", 0), attrs.get("onesided", 0))


@onnx_op("STFT", since=17)
def stft(inputs, attrs, ctx):
    opt = list(inputs) + [None] * (4 - len(inputs))
    signal, step, window = opt[0], int(scalar(opt[1])), opt[2]
    length = _opt_int(opt, 3) or (window.shape[0] if window is not None else None)
    frames = (signal.shape[1] - length) // step + 1
    starts = np.arange(frames)[:, None] * step + np.arange(length)[None, :]
    framed = signal[:, starts]  # (batch, frames, length, 1 or 2)
    if window is not None:
        framed = framed * window.reshape(1, 1, -1, 1)
    return _dft(framed, length, 2, False, attrs.get("onesided", 1))
