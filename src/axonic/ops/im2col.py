"""The GEMM kernels behind the convolutions: im2col + GEMM and GEMM + col2im.

Layout: inputs are made channels-last (N, H, W, C) once, zero-padded; the windows of
that array are a strided view whose copy is the im2col matrix (N*OH*OW, KH*KW*C), with
each window's C values contiguous. Groups are a leading batch axis of every GEMM.

The batch is processed a few samples at a time, so each chunk's im2col matrix stays
in cache between its copy and its GEMM, and no full-size matrix is ever kept:
backward rebuilds a chunk's columns when the weight gradient needs them.

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> buf = to_padded_nhwc(x, ((0, 0), (0, 0)))
>>> im2col(buf, (2, 2), (3, 3), (1, 1), (1, 1), 1)[0, 0].tolist()
[0.0, 1.0, 2.0, 4.0, 5.0, 6.0, 8.0, 9.0, 10.0]
"""

from __future__ import annotations

from axonic.backend import blas, get_array_module, threads

# bytes of im2col matrix per chunk, about a core's L2: measured fastest of 0.5 to 16 MiB
# (bench/conv_layers.py); a chunk is at least one sample
CHUNK_BYTES = 1 << 20
# On a GPU a chunk is not about cache: one large GEMM beats a kernel launch per sample. The
# bound only caps a chunk's im2col matrix in device memory (not measured yet: bench/gpu.py's
# CNN is where to tune it; see docs/GPU.md).
GPU_CHUNK_BYTES = 1 << 28


def to_padded_nhwc(x, pads, shape=None):
    """(N, C, H, W) -> zero-padded channels-last (N, Hp, Wp, C); ``shape`` may enlarge it.
    The samples are split across the intra-op threads."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    (pt, pb), (pl, pr) = pads
    full = shape or (n, h + pt + pb, w + pl + pr, c)
    if full == (n, h, w, c) and x.transpose(0, 2, 3, 1).flags.c_contiguous:
        return x.transpose(0, 2, 3, 1)
    buf = xp.empty(full, x.dtype)
    padded = full != (n, h, w, c)

    def rows(a, b):
        if padded:
            buf[a:b].fill(0)
        buf[a:b, pt:pt + h, pl:pl + w, :] = x[a:b].transpose(0, 2, 3, 1)

    threads.parallel_for(rows, buf)
    return buf


def im2col(buf, out_hw, kernel, stride, dilation, groups, out=None):
    """Windows of channels-last ``buf`` as (G, N*OH*OW, KH*KW*Cg), one row per output pixel;
    copied into the C-contiguous ``out`` when given, the samples split across the intra-op
    threads."""
    n, _, _, c = buf.shape
    oh, ow = out_hw
    kh, kw = kernel
    cg = c // groups
    sn, sh, sw, sc = buf.strides
    win = get_array_module(buf).lib.stride_tricks.as_strided(
        buf, (groups, n, oh, ow, kh, kw, cg),
        (cg * sc, sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc))
    if out is None:
        return win.reshape(groups, n * oh * ow, kh * kw * cg)
    dst = out.reshape(win.shape)

    def rows(a, b):
        dst[:, a:b] = win[:, a:b]

    threads.parallel_for(rows, dst.swapaxes(0, 1))
    return out


def col2im_add(out, dcols, out_hw, kernel, stride, dilation, groups):
    """Adjoint of ``im2col``: add each window's row of ``dcols`` into channels-last ``out``.

    One strided add per kernel offset (KH*KW of them), never a loop over pixels.
    """
    n, hp, wp, c = out.shape
    oh, ow = out_hw
    kh, kw = kernel
    cg = c // groups
    view = out.reshape(n, hp, wp, groups, cg)
    d = dcols.reshape(groups, n, oh, ow, kh, kw, cg).transpose(1, 2, 3, 0, 4, 5, 6)
    for i in range(kh):
        h0 = i * dilation[0]
        hs = slice(h0, h0 + stride[0] * (oh - 1) + 1, stride[0])
        for j in range(kw):
            w0 = j * dilation[1]
            view[:, hs, w0:w0 + stride[1] * (ow - 1) + 1:stride[1]] += d[..., i, j, :]
    return out


def weight_matrix(w, groups):
    """(OC, Cg, KH, KW) -> (G, KH*KW*Cg, OCg), the GEMM's right-hand side."""
    oc, cg, kh, kw = w.shape
    return w.reshape(groups, oc // groups, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(
        groups, kh * kw * cg, oc // groups)


def weight_from_matrix(m, shape):
    """Inverse of ``weight_matrix`` for a gradient (G, OCg, KH*KW*Cg) -> (OC, Cg, KH, KW)."""
    oc, cg, kh, kw = shape
    return m.reshape(oc, kh, kw, cg).transpose(0, 3, 1, 2).copy()


def gemm(a, b, out=None):
    """(G, M, K) @ (G, K, P) -> (G, M, P); G == 1 as one plain 2-d GEMM."""
    xp = get_array_module(a)
    if a.shape[0] == 1:
        return blas.matmul(a[0], b[0], out=None if out is None else out[0])[None]
    return xp.matmul(a, b, out=out)


def grouped_rows(x, groups):
    """(N, C, H, W) -> (N*H*W, G, Cg) channels-last rows (a copy unless already NHWC)."""
    n, c, h, w = x.shape
    return x.transpose(0, 2, 3, 1).reshape(n * h * w, groups, c // groups)


def rows_to_nchw(rows, n, h, w):
    """(N*H*W, G, Cg) rows -> (N, C, H, W), a view of the channels-last memory."""
    return rows.reshape(n, h, w, rows.shape[1] * rows.shape[2]).transpose(0, 3, 1, 2)


def _chunks(n, per_sample_bytes, xp):
    budget = CHUNK_BYTES if xp.__name__ == "numpy" else GPU_CHUNK_BYTES
    step = max(1, budget // max(per_sample_bytes, 1))
    return [(a, min(a + step, n)) for a in range(0, n, step)]


def _cols_space(chunks, m, wm_shape, dtype, xp):
    """Memory for the largest chunk's im2col matrix, reused by every chunk (``_cols_of``)."""
    groups, kc, _ = wm_shape
    return xp.empty(groups * (chunks[0][1] if chunks else 0) * m * kc, dtype)


def _cols_of(space, rows, wm_shape):
    """The C-contiguous (G, rows, KH*KW*Cg) matrix at the start of ``space``."""
    groups, kc, _ = wm_shape
    return space[:groups * rows * kc].reshape(groups, rows, kc)


def conv_rows(buf, wm, out_hw, kernel, stride, dilation):
    """Convolution of channels-last ``buf`` with ``wm``: (N*OH*OW, G, OCg) output rows."""
    xp = get_array_module(buf)
    groups, kc, ocg = wm.shape
    n, m = buf.shape[0], out_hw[0] * out_hw[1]
    out = xp.empty((n * m, groups, ocg), buf.dtype)
    chunks = _chunks(n, m * kc * groups * buf.itemsize, xp)
    space = _cols_space(chunks, m, wm.shape, buf.dtype, xp)
    for a, b in chunks:
        cols = im2col(buf[a:b], out_hw, kernel, stride, dilation, groups,
                      _cols_of(space, (b - a) * m, wm.shape))
        if groups == 1:
            gemm(cols, wm, out=out[a * m:b * m].transpose(1, 0, 2))
        else:
            out[a * m:b * m] = gemm(cols, wm).transpose(1, 0, 2)
    return out


def conv_input_grad(rows, wm, buf_shape, out_hw, kernel, stride, dilation):
    """Gradient of ``conv_rows`` w.r.t. its channels-last input: GEMM then col2im.

    Without groups, one GEMM per kernel offset writes that offset's (rows, C) block
    contiguously, which its strided add then reads in order: faster than one wide GEMM
    whose blocks are interleaved (measured: bench/conv_layers.py).
    """
    xp = get_array_module(rows)
    groups, kc, ocg = wm.shape
    n, m = buf_shape[0], out_hw[0] * out_hw[1]
    out = xp.zeros(buf_shape, rows.dtype)
    chunks = _chunks(n, m * kc * groups * rows.itemsize, xp)
    if groups > 1:
        wt = wm.transpose(0, 2, 1)
        for a, b in chunks:
            dcols = gemm(rows[a * m:b * m].transpose(1, 0, 2), wt)
            col2im_add(out[a:b], dcols, out_hw, kernel, stride, dilation, groups)
        return out
    kh, kw = kernel
    c = kc // (kh * kw)
    w_offsets = xp.ascontiguousarray(wm[0].reshape(kh * kw, c, ocg).transpose(0, 2, 1))
    step = chunks[0][1] if chunks else 1
    block = xp.empty((step * m, c), rows.dtype)
    flat = rows.reshape(n * m, ocg)
    for a, b in chunks:
        blk = block[:(b - a) * m]
        for i in range(kh):
            hs = _window_slice(i, dilation[0], stride[0], out_hw[0])
            for j in range(kw):
                blas.matmul(flat[a * m:b * m], w_offsets[i * kw + j], out=blk)
                out[a:b, hs, _window_slice(j, dilation[1], stride[1], out_hw[1])] += \
                    blk.reshape(b - a, out_hw[0], out_hw[1], c)
    return out


def _window_slice(k, dilation, stride, out):
    """The input positions kernel offset ``k`` reads for the ``out`` windows of one axis."""
    start = k * dilation
    return slice(start, start + stride * (out - 1) + 1, stride)


def conv_weight_grad(rows, buf, wm_shape, out_hw, kernel, stride, dilation):
    """Gradient of ``conv_rows`` w.r.t. ``wm``, as (G, OCg, KH*KW*Cg): rows.T @ columns."""
    xp = get_array_module(rows)
    groups, kc, ocg = wm_shape
    n, m = buf.shape[0], out_hw[0] * out_hw[1]
    grad = xp.zeros((groups, ocg, kc), rows.dtype)
    chunks = _chunks(n, m * kc * groups * rows.itemsize, xp)
    space = _cols_space(chunks, m, wm_shape, buf.dtype, xp)
    for a, b in chunks:
        cols = im2col(buf[a:b], out_hw, kernel, stride, dilation, groups,
                      _cols_of(space, (b - a) * m, wm_shape))
        grad += gemm(rows[a * m:b * m].transpose(1, 2, 0), cols)
    return grad
