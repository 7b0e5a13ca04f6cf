"""Integer GEMMs on NumPy, exact, on the float BLAS.

int8 x int8 (or uint8) products summed in int32 are what quantised kernels compute.
NumPy's integer matmul has no BLAS and is slow, so the integers are multiplied as
floats: a float32 GEMM is exact while every partial sum is an integer of magnitude
<= 2**24, whatever order the BLAS adds in. With |x| <= bx and |w| <= bw that holds for
K <= 2**24 / (bx * bw) terms (1032 for 7-bit activations and int8 weights, 514 for
8-bit); longer sums are split into blocks of that length, each exact in float32 and
added in float64 (exact to 2**53). bench/quantization.py measured the options (int32
matmul, float64 GEMM, float32 GEMM, float32 in blocks): float32 (blocked if needed) was
the fastest exact one.

>>> import numpy as np
>>> x = np.full((1, 3000), 255.0, np.float32); w = np.full((3000, 1), -128.0, np.float32)
>>> int(exact_matmul(x, w, 255, 128)[0, 0]) == 3000 * 255 * -128
True
"""

from __future__ import annotations

import numpy as np

from axonic.ops.im2col import conv_rows, rows_to_nchw, to_padded_nhwc, weight_matrix

EXACT_FLOAT32 = 2 ** 24


def exact_block(x_bound: int, w_bound: int) -> int:
    """How many int products of these bounds a float32 sum holds exactly."""
    return max(1, EXACT_FLOAT32 // max(1, int(x_bound) * int(w_bound)))


def exact_matmul(x, w, x_bound: int, w_bound: int):
    """``x @ w`` of integer-valued float32 arrays (M, K) and (K, N), exactly: float32 when
    K fits ``exact_block``, else float32 blocks of K summed in float64."""
    k = x.shape[-1]
    block = exact_block(x_bound, w_bound)
    if k <= block:
        return x @ w
    out = np.zeros(x.shape[:-1] + w.shape[-1:], np.float64)
    for a in range(0, k, block):
        out += x[..., a:a + block] @ w[a:a + block]
    return out


def centred(q: np.ndarray, zero_point) -> np.ndarray:
    """``q - zero_point`` as float32 (exact: both are small integers)."""
    return np.subtract(q, np.float32(zero_point), dtype=np.float32)


def int_bound(dtype, zero_point: int) -> int:
    """The largest |q - zero_point| values of ``dtype`` can have."""
    return max(zero_point - dtype.quant_min, dtype.quant_max - zero_point)


def requantize(y, scale, zero_point, dtype) -> np.ndarray:
    """Float results to ``dtype`` integers with the output's scale and zero point."""
    q = np.multiply(y, np.float32(1) / np.float32(scale), dtype=np.float32)
    np.rint(q, out=q)
    q += np.float32(zero_point)
    np.clip(q, dtype.quant_min, dtype.quant_max, out=q)
    return q.astype(dtype.storage)


def qlinear_acc(xq, x_zp, x_bound, w_t, w_bound):
    """The int32 accumulators of a quantised linear map, exact, as floats: (N.., out)."""
    x = centred(xq, x_zp)
    lead = x.shape[:-1]
    acc = exact_matmul(x.reshape(-1, x.shape[-1]), w_t, x_bound, w_bound)
    return acc.reshape(*lead, w_t.shape[1])


def conv_weight_rows(w_int: np.ndarray, groups: int) -> np.ndarray:
    """Centred integer conv weights (OC, Cg, KH, KW) as the GEMM's (G, KH*KW*Cg, OCg)."""
    return np.ascontiguousarray(weight_matrix(w_int.astype(np.float32), groups))


def qconv_acc(xq, x_zp, x_bound, wm, w_bound, kernel, stride, pads, dilation):
    """The accumulators of a quantised 2-d convolution, exact: (N, OC, OH, OW) floats.

    Zero padding is padding with real zero, i.e. with the zero point: the input is centred
    first, so it is 0. A float64 GEMM takes over when a window is too long for float32."""
    n, _, h, w = xq.shape
    k = wm.shape[1]
    dtype = np.float32 if k <= exact_block(x_bound, w_bound) else np.float64
    buf = to_padded_nhwc(centred(xq, x_zp).astype(dtype, copy=False), pads)
    oh = (h + sum(pads[0]) - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (w + sum(pads[1]) - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    rows = conv_rows(buf, wm.astype(dtype, copy=False), (oh, ow), kernel, stride, dilation)
    return rows_to_nchw(rows, n, oh, ow)
