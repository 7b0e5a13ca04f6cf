"""Normalisation ops: layer_norm, batch_norm and normalize (``x / ||x||_p``), each one
fused op with shifted means for precision; behind ``nn.LayerNorm``, ``nn.BatchNorm*``,
``F.layer_norm``, ``F.batch_norm`` and ``F.normalize`` (in ``axonic.nn.normalization``).
"""

from __future__ import annotations

import math

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module, jit
from axonic.backend.sums import mean_last, sum_leading
from axonic.ops._spec import TORCH, OpSpec


def _mean(x, axes):
    """``x.mean(axis=axes, keepdims=True)``; over trailing axes (a LayerNorm's) as one
    matrix-vector product (``backend.sums``)."""
    if axes and axes[0] > 0 and axes == tuple(range(axes[0], x.ndim)):
        return mean_last(x, len(axes))
    return x.mean(axis=axes, keepdims=True)


# --- normalisation ---------------------------------------------------------------------------
def _moments(x, axes):
    """Mean, biased variance and ``x - mean`` over ``axes``. Everything is computed on
    ``d = x - x[first]`` (exact for nearby values), so a large offset (mean 1e4, std 1e-2)
    costs no precision in float32: the centred values never go through the rounded mean."""
    x = get_array_module(x).ascontiguousarray(x)
    idx = tuple(slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))
    ref = x[idx]
    centered = x - ref
    dm = _mean(centered, axes)
    centered -= dm  # in place: the same values as a new array, one allocation fewer
    var = _mean(centered * centered, axes)
    return ref + dm, var, centered


def _norm_backward(g_hat, xhat, rstd, axes):
    """Gradient through ``(x - mean) * rstd`` with batch statistics over ``axes``."""
    m1 = _mean(g_hat, axes)
    m2 = _mean(g_hat * xhat, axes)
    return rstd * (g_hat - m1 - xhat * m2)


def _graph_moments(xp, x, axes, eps):
    """``xhat`` and ``1 / std`` recomputed from x with differentiable ops (create_graph)."""
    centered = x - xp.mean(x, axis=axes, keepdims=True)
    rstd = 1 / xp.sqrt(xp.mean(centered * centered, axis=axes, keepdims=True) + eps)
    return centered * rstd, rstd


def _fused_rows(x, k, *vectors):
    """``(kernels, x as C-contiguous rows of its last k dims, the vectors flat)`` when
    numba's fused kernels (``backend.jit``) can take ``x`` and the affine ``vectors``
    (None: ones for a scale, zeros for a shift), else None."""
    if (type(x) is not np.ndarray or x.dtype not in (np.float32, np.float64) or x.size == 0
            or x.ndim < k):
        return None
    for v in vectors:
        if v is not None and (type(v) is not np.ndarray or v.dtype != x.dtype):
            return None
    kernels = jit.kernels()
    if kernels is None:
        return None
    rows = np.ascontiguousarray(x).reshape(-1, math.prod(x.shape[x.ndim - k:]))
    d = rows.shape[1]
    flat = [np.ascontiguousarray(v).reshape(d) if v is not None else
            (np.ones if i == 0 else np.zeros)(d, x.dtype) for i, v in enumerate(vectors)]
    return kernels, rows, flat


class LayerNorm(Function):
    """Normalise over the last ``k`` dims; optional elementwise affine of those dims.
    Forward and backward are one fused loop per row where numba is installed
    (``backend.jit``), else NumPy passes."""

    def forward(self, x, w=None, b=None, k=1, eps=1e-5):
        axes = tuple(range(x.ndim - k, x.ndim))
        self.axes, self.eps = axes, eps
        fused = _fused_rows(x, k, w, b)
        if fused is not None:
            kernels, rows, (wf, bf) = fused
            out, xhat, rstd = kernels.layer_norm_forward(rows, wf, bf, eps)
            lead = x.shape[:x.ndim - k]
            self.save_for_backward(x, w, xhat.reshape(x.shape), rstd.reshape(lead + (1,) * k))
            return out.reshape(x.shape)
        _, var, centered = _moments(x, axes)
        rstd = 1 / get_array_module(x).sqrt(var + x.dtype.type(eps))
        xhat = centered
        xhat *= rstd  # centered is this op's own array: scaled in place
        self.save_for_backward(x, w, xhat, rstd)
        out = xhat
        if w is not None:
            out = out * w
        if b is not None:
            if out is xhat or out.dtype != b.dtype:
                out = out + b
            else:
                out += b  # out is the product's new array
        return out

    def backward(self, g):
        x, w, xhat, rstd = self.saved_tensors
        if self._graph_mode:
            xhat, rstd = _graph_moments(self.xp, x, self.axes, self.eps)
        nx, *nwb = self.needs_input_grad
        k = len(self.axes)
        fused = None if self._graph_mode or xhat.dtype != g.dtype else _fused_rows(g, k, w)
        if fused is not None:
            kernels, rows, (wf,) = fused
            gx, gw, gb = kernels.layer_norm_backward(rows, xhat.reshape(rows.shape),
                                                     rstd.reshape(-1), wf)
            tail = g.shape[g.ndim - k:]
            return (gx.reshape(g.shape) if nx else None,
                    gw.reshape(tail) if nwb and nwb[0] else None,
                    gb.reshape(tail) if len(nwb) > 1 and nwb[1] else None)
        lead = tuple(range(g.ndim - len(self.axes)))
        gx = gw = gb = None
        if nx:
            g_hat = g * w if w is not None else g
            gx = _norm_backward(g_hat, xhat, rstd, self.axes)
        if nwb and nwb[0]:
            gw = sum_leading(g * xhat, k) if lead else (g * xhat).sum(axis=lead)
        if len(nwb) > 1 and nwb[1]:
            gb = sum_leading(g, k) if lead else g.sum(axis=lead)
        return gx, gw, gb

    def to_onnx(self, g, x, w=None, b=None, k=1, eps=1e-5):
        if w is None:
            w = g.const(np.ones(g.dims(x)[-k:], g.out_dtype))
        return g.op("LayerNormalization", x, w, b, axis=-int(k), epsilon=float(eps))


class BatchNorm(Function):
    """Normalise each channel (dim 1) with the batch's statistics (training) or given
    running statistics (evaluation); optional per-channel affine."""

    def forward(self, x, w=None, b=None, mean=None, var=None, eps=1e-5):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        self.batch_stats = mean is None
        if mean is None:
            bmean, bvar, centered = _moments(x, axes)
            self.stats = (bmean.reshape(-1), bvar.reshape(-1))
        else:
            centered = x - mean.reshape(shape)
            bvar = var.reshape(shape)
        rstd = 1 / get_array_module(x).sqrt(bvar + x.dtype.type(eps))
        xhat = centered * rstd
        self.axes, self.shape, self.eps = axes, shape, eps
        self.save_for_backward(x, w, xhat, rstd, mean)
        out = xhat
        if w is not None:
            out = out * w.reshape(shape)
        if b is not None:
            out = out + b.reshape(shape)
        return out

    def backward(self, g):
        x, w, xhat, rstd, mean = self.saved_tensors
        axes = self.axes
        if self._graph_mode:  # xhat (and the batch's rstd) as differentiable functions of x
            if self.batch_stats:
                xhat, rstd = _graph_moments(self.xp, x, axes, self.eps)
            else:
                xhat = (x - mean.reshape(self.shape)) * rstd
        nx, *nwb = self.needs_input_grad
        gx = gw = gb = None
        if nx:
            g_hat = g * w.reshape(self.shape) if w is not None else g
            if self.batch_stats:
                gx = _norm_backward(g_hat, xhat, rstd, axes)
            else:
                gx = g_hat * rstd
        if nwb and nwb[0]:
            gw = (g * xhat).sum(axis=axes)
        if len(nwb) > 1 and nwb[1]:
            gb = g.sum(axis=axes)
        return gx, gw, gb

    def to_onnx(self, g, x, w=None, b=None, mean=None, var=None, eps=1e-5):
        if mean is None:
            raise g.error("uses the batch's statistics (training mode); export runs the "
                          "model in eval mode, so give the layer running statistics")
        c = g.dims(x)[1]
        w = w or g.const(np.ones(c, g.out_dtype))
        b = b or g.const(np.zeros(c, g.out_dtype))
        return g.op("BatchNormalization", x, w, b, mean, var, epsilon=float(eps))


class Normalize(Function):
    """``x / max(||x||_p, eps)`` along ``axis``; rows with norm below eps are only scaled,
    so zero rows get a zero (not nan) gradient."""

    def forward(self, x, p=2.0, axis=1, eps=1e-12):
        self.p, self.axis, self.eps = p, axis, eps
        norm, denom = self._norm(get_array_module(x), x)
        self.save_for_backward(x, norm, denom)
        return x / denom

    def _norm(self, xp, x):
        p, axis = self.p, self.axis
        if p == 2:
            norm = xp.sqrt((x * x).sum(axis=axis, keepdims=True))
        elif p == 1:
            norm = xp.abs(x).sum(axis=axis, keepdims=True)
        else:
            norm = (xp.abs(x) ** p).sum(axis=axis, keepdims=True) ** (1.0 / p)
        return norm, xp.maximum(norm, self.eps)

    def backward(self, g):
        x, norm, denom = self.saved_tensors
        xp, p = self.xp, self.p
        if self._graph_mode:  # norm and denom are functions of x
            norm, denom = self._norm(xp, x)
        live = norm > self.eps  # where the norm (not eps) divides, it has a gradient too
        dot = (g * x).sum(axis=self.axis, keepdims=True) / (denom * denom)
        safe = xp.where(live, norm, 1)
        if p == 2:
            dn = x / safe
        elif p == 1:
            dn = xp.sign(x)
        else:
            dn = xp.sign(x) * (xp.abs(x) / safe) ** (p - 1)
        return g / denom - xp.where(live, dot, 0) * dn

    def to_onnx(self, g, x, p=2.0, axis=1, eps=1e-12):
        if p not in (1, 2):
            raise g.error(f"p={p}: ONNX has reductions for the 1- and 2-norm only")
        norm = g.reduce("ReduceL2" if p == 2 else "ReduceL1", x, [axis], True)
        return g.op("Div", x, g.op("Max", norm, g.const(eps, g.out_dtype)))


def _np_layer_norm(a, w, b):
    m = a.mean(-1, keepdims=True)
    v = a.var(-1, keepdims=True)
    return (a - m) / np.sqrt(v + 1e-5) * w + b


def _np_batch_norm(a, w, b):
    m = a.mean((0, 2), keepdims=True)
    v = a.var((0, 2), keepdims=True)
    return (a - m) / np.sqrt(v + 1e-5) * w[None, :, None] + b[None, :, None]


SPECS = [
    OpSpec("layer_norm_fused", lambda a, w, b: LayerNorm.apply(a, w, b),
           _np_layer_norm, [((3, 6), (6,), (6,)), ((2, 3, 5), (5,), (5,))],
           lambda a, w, b: TORCH.nn.functional.layer_norm(a, a.shape[-1:], w, b)),
    OpSpec("batch_norm_fused", lambda a, w, b: BatchNorm.apply(a, w, b), _np_batch_norm,
           [((4, 3, 5), (3,), (3,))],
           lambda a, w, b: TORCH.nn.functional.batch_norm(a, None, None, w, b, training=True)),
    OpSpec("normalize_fused", lambda a: Normalize.apply(a),
           lambda a: a / np.maximum(np.sqrt((a * a).sum(1, keepdims=True)), 1e-12),
           [((3, 4),), ((2, 3, 2),)], lambda a: TORCH.nn.functional.normalize(a)),
    OpSpec("normalize_zero_row", lambda a: Normalize.apply(a),
           lambda a: a / np.maximum(np.sqrt((a * a).sum(1, keepdims=True)), 1e-12),
           [lambda r: (np.array([[0.0, 0.0], [3.0, 4.0]]),)],
           lambda a: TORCH.nn.functional.normalize(a), gradcheck=False),
    OpSpec("normalize_p3_dim0", lambda a: Normalize.apply(a, p=3.0, axis=0),
           lambda a: a / (np.abs(a) ** 3).sum(0, keepdims=True) ** (1 / 3), [((3, 4),)],
           lambda a: TORCH.nn.functional.normalize(a, p=3.0, dim=0)),
]
