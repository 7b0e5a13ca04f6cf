"""Fused Functions behind the core layers and losses, written as one op each for speed
(``linear``: one GEMM forward, two backward) or numerical stability (cross-entropy through
log-softmax, BCE with logits through ``log1p(exp(-|x|))``, normalisation with shifted
means). Each has a composite float64 reference in its spec.
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module
from axonic.ops._spec import TORCH, OpSpec


def _needs(t) -> bool:
    return isinstance(t, Tensor) and t._rg


# --- linear ----------------------------------------------------------------------------------
class Linear(Function):
    """``x @ W.T + b`` for x of shape (*, in_features)."""

    def forward(self, x, w, b=None):
        self.save_for_backward(x, w)
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        out = x2 @ w.T
        if b is not None:
            out += b
        return out.reshape(x.shape[:-1] + (w.shape[0],)) if x.ndim != 2 else out

    def backward(self, g):
        x, w = self.saved_tensors
        nx, nw, *nb = self.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        gx = gw = gb = None
        if nx:
            gx = g2 @ w
            if x.ndim != 2:
                gx = gx.reshape(x.shape)
        if nw:
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = g2.T @ x2
        if nb and nb[0]:
            gb = g2.sum(axis=0)
        return gx, gw, gb


# --- cross-entropy and NLL -----------------------------------------------------------------
def _log_softmax_rows(x):
    xp = get_array_module(x)
    m = x.max(axis=1, keepdims=True)
    shifted = x - m
    lse = xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    shifted -= lse
    return shifted


def _reduce(per_sample, reduction, denom):
    if reduction == "none":
        return per_sample
    xp = get_array_module(per_sample)
    total = per_sample.sum()
    if reduction == "sum":
        return xp.asarray(total, dtype=per_sample.dtype)
    return xp.asarray(total / denom, dtype=per_sample.dtype)


class CrossEntropy(Function):
    """Cross-entropy of rows of logits (N, C) against class indices (N,) or class
    probabilities (N, C), through a stable log-softmax; the gradient is
    ``softmax * sum(A) - A`` for the per-class coefficients ``A`` of the loss."""

    def forward(self, x, target, weight=None, ignore_index=-100, label_smoothing=0.0,
                reduction="mean"):
        n, c = x.shape
        xp = get_array_module(x)
        self.fast = None
        if (target.dtype.kind in "iu" and weight is None and not label_smoothing
                and not (target == ignore_index).any()):
            # the common case: one coefficient per row; keep softmax itself for backward
            rows = xp.arange(n)
            shifted = x - x.max(axis=1, keepdims=True)
            e = xp.exp(shifted)
            total = e.sum(axis=1)
            per = xp.log(total) - shifted[rows, target]
            e /= total[:, None]
            self.fast, self.reduction, self.denom = (rows, target), reduction, n
            self.save_for_backward(x, e)
            return _reduce(per, reduction, n)
        logp = _log_softmax_rows(x)
        dt = x.dtype
        if target.dtype.kind in "iu":
            keep = target != ignore_index
            safe = xp.where(keep, target, 0)
            wy = weight[safe] if weight is not None else xp.ones(n, dt)
            wy = wy * keep
            coef = xp.zeros((n, c), dt)
            coef[xp.arange(n), safe] = (1 - label_smoothing) * wy
            if label_smoothing:
                wc = weight if weight is not None else xp.ones(c, dt)
                coef += (label_smoothing / c) * (keep[:, None] * wc[None, :]).astype(dt)
            denom = wy.sum()
        else:
            t = target
            if label_smoothing:
                t = t * (1 - label_smoothing) + label_smoothing / c
            coef = t * weight[None, :] if weight is not None else t
            denom = n
        per = -(coef * logp).sum(axis=1)
        self.reduction, self.denom = reduction, denom
        self.save_for_backward(x, logp, coef)
        return _reduce(per, reduction, denom)

    def backward(self, g):
        x, probs, *coef = self.saved_tensors
        scale = g[:, None] if self.reduction == "none" else (
            g / self.denom if self.reduction == "mean" else g)
        if self._graph_mode:  # the same gradient composed of differentiable ops
            from axonic.ops.softmax import softmax

            if self.fast is not None:
                onehot = self.xp.zeros(x.shape, dtype=x.dtype)
                onehot.data[self.fast] = 1
                coef = [onehot]
            return (softmax(x, 1) * coef[0].sum(axis=1, keepdims=True) - coef[0]) * scale
        if self.fast is not None:
            gx = probs.copy()
            gx[self.fast] -= 1
        else:
            coef = coef[0]  # and probs holds log-probabilities here
            gx = get_array_module(probs).exp(probs) * coef.sum(axis=1, keepdims=True) - coef
        gx *= scale
        return gx, None, None


class NLL(Function):
    """Negative log-likelihood of rows of log-probabilities (N, C) at class indices (N,)."""

    # fused backward on arrays; no second derivative yet
    double_backward = False
    saves_inputs = False

    def forward(self, x, target, weight=None, ignore_index=-100, reduction="mean"):
        n = x.shape[0]
        xp = get_array_module(x)
        keep = target != ignore_index
        safe = xp.where(keep, target, 0)
        wy = (weight[safe] if weight is not None else xp.ones(n, x.dtype)) * keep
        wy = wy.astype(x.dtype, copy=False)
        per = -x[xp.arange(n), safe] * wy
        self.safe, self.wy, self.shape = safe, wy, x.shape
        self.reduction, self.denom = reduction, wy.sum()
        return _reduce(per, reduction, self.denom)

    def backward(self, g):
        xp = get_array_module(self.wy)
        n = self.shape[0]
        if self.reduction == "none":
            vals = -self.wy * g
        elif self.reduction == "mean":
            vals = -self.wy * (g / self.denom)
        else:
            vals = -self.wy * g
        gx = xp.zeros(self.shape, self.wy.dtype)
        gx[xp.arange(n), self.safe] = vals
        return gx, None, None


# --- binary cross-entropy --------------------------------------------------------------------
class BCEWithLogits(Function):
    """``(1 - t) x + (1 + (pw - 1) t) softplus(-x)``, weighted; softplus as
    ``max(-x, 0) + log1p(exp(-|x|))`` so it is finite for any x."""

    # fused backward on arrays; no second derivative yet
    double_backward = False

    def forward(self, x, t, weight=None, pos_weight=None, reduction="mean"):
        self.x, self.t, self.weight, self.pos_weight = x, t, weight, pos_weight
        sp = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))  # softplus(-x) = -log sigmoid(x)
        self.sp = sp
        if pos_weight is not None:
            lw = 1 + (pos_weight - 1) * t
            loss = (1 - t) * x + lw * sp
        else:
            loss = (1 - t) * x + sp
        if weight is not None:
            loss = loss * weight
        self.reduction, self.denom = reduction, loss.size
        return _reduce(loss, reduction, loss.size)

    def backward(self, g):
        x, t = self.x, self.t
        if self.reduction == "mean":
            g = g / self.denom
        sig_neg = np.exp(-self.sp)  # sigmoid(x); so 1 - sigmoid(x) = sigmoid(-x)
        one_minus = 1 - sig_neg
        w = self.weight
        tx, tt = self.inputs[:2]
        gx = gt = None
        if _needs(tx):
            if self.pos_weight is not None:
                lw = 1 + (self.pos_weight - 1) * t
                d = (1 - t) - lw * one_minus
            else:
                d = sig_neg - t
            gx = g * d if w is None else g * d * w
            gx = _sum_to(gx, x.shape)
        if _needs(tt):
            d = -x if self.pos_weight is None else -x + (self.pos_weight - 1) * self.sp
            gt = g * d if w is None else g * d * w
            gt = _sum_to(gt, t.shape)
        return gx, gt, None, None


class BCE(Function):
    """``-w (t log p + (1 - t) log(1 - p))`` with the logs clamped at -100, as PyTorch."""

    # fused backward on arrays; no second derivative yet
    double_backward = False

    def forward(self, p, t, weight=None, reduction="mean"):
        self.p, self.t, self.weight = p, t, weight
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 below
            logp = np.maximum(np.log(p), -100)
            log1mp = np.maximum(np.log1p(-p), -100)
        loss = -(t * logp + (1 - t) * log1mp)
        if weight is not None:
            loss = loss * weight
        self.reduction, self.denom = reduction, loss.size
        return _reduce(loss, reduction, loss.size)

    def backward(self, g):
        p, t = self.p, self.t
        if self.reduction == "mean":
            g = g / self.denom
        d = (p - t) / np.maximum((1 - p) * p, p.dtype.type(1e-12))
        gp = g * d if self.weight is None else g * d * self.weight
        gt = None
        if _needs(self.inputs[1]):
            with np.errstate(divide="ignore"):
                logp = np.maximum(np.log(p), -100)
                log1mp = np.maximum(np.log1p(-p), -100)
            gt = g * (log1mp - logp)
            if self.weight is not None:
                gt = gt * self.weight
            gt = _sum_to(gt, t.shape)
        return _sum_to(gp, p.shape), gt, None


def _sum_to(g, shape):
    from axonic.autograd.function import sum_to

    return sum_to(g, shape)


# --- normalisation ---------------------------------------------------------------------------
def _moments(x, axes):
    """Mean, biased variance and ``x - mean`` over ``axes``. Everything is computed on
    ``d = x - x[first]`` (exact for nearby values), so a large offset (mean 1e4, std 1e-2)
    costs no precision in float32: the centred values never go through the rounded mean."""
    idx = tuple(slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))
    ref = x[idx]
    d = x - ref
    dm = d.mean(axis=axes, keepdims=True)
    centered = d - dm
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return ref + dm, var, centered


def _norm_backward(g_hat, xhat, rstd, axes):
    """Gradient through ``(x - mean) * rstd`` with batch statistics over ``axes``."""
    m1 = g_hat.mean(axis=axes, keepdims=True)
    m2 = (g_hat * xhat).mean(axis=axes, keepdims=True)
    return rstd * (g_hat - m1 - xhat * m2)


def _graph_moments(xp, x, axes, eps):
    """``xhat`` and ``1 / std`` recomputed from x with differentiable ops (create_graph)."""
    centered = x - xp.mean(x, axis=axes, keepdims=True)
    rstd = 1 / xp.sqrt(xp.mean(centered * centered, axis=axes, keepdims=True) + eps)
    return centered * rstd, rstd


class LayerNorm(Function):
    """Normalise over the last ``k`` dims; optional elementwise affine of those dims."""

    def forward(self, x, w=None, b=None, k=1, eps=1e-5):
        axes = tuple(range(x.ndim - k, x.ndim))
        _, var, centered = _moments(x, axes)
        rstd = 1 / get_array_module(x).sqrt(var + x.dtype.type(eps))
        xhat = centered * rstd
        self.axes, self.eps = axes, eps
        self.save_for_backward(x, w, xhat, rstd)
        out = xhat
        if w is not None:
            out = out * w
        if b is not None:
            out = out + b
        return out

    def backward(self, g):
        x, w, xhat, rstd = self.saved_tensors
        if self._graph_mode:
            xhat, rstd = _graph_moments(self.xp, x, self.axes, self.eps)
        nx, *nwb = self.needs_input_grad
        lead = tuple(range(g.ndim - len(self.axes)))
        gx = gw = gb = None
        if nx:
            g_hat = g * w if w is not None else g
            gx = _norm_backward(g_hat, xhat, rstd, self.axes)
        if nwb and nwb[0]:
            gw = (g * xhat).sum(axis=lead)
        if len(nwb) > 1 and nwb[1]:
            gb = g.sum(axis=lead)
        return gx, gw, gb


class BatchNorm(Function):
    """Normalise each channel (dim 1) with the batch's statistics (training) or given
    running statistics (evaluation); optional per-channel affine."""

    # fused backward on arrays; no second derivative yet
    double_backward = False
    saves_inputs = False

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
        rstd = 1 / np.sqrt(bvar + x.dtype.type(eps))
        xhat = centered * rstd
        self.xhat, self.rstd, self.axes, self.shape = xhat, rstd, axes, shape
        self.w = w
        out = xhat
        if w is not None:
            out = out * w.reshape(shape)
        if b is not None:
            out = out + b.reshape(shape)
        return out

    def backward(self, g):
        xhat, axes = self.xhat, self.axes
        tx, *wb = self.inputs
        gx = gw = gb = None
        if tx._rg:
            g_hat = g * self.w.reshape(self.shape) if self.w is not None else g
            if self.batch_stats:
                gx = _norm_backward(g_hat, xhat, self.rstd, axes)
            else:
                gx = g_hat * self.rstd
        if wb and _needs(wb[0]):
            gw = (g * xhat).sum(axis=axes)
        if len(wb) > 1 and _needs(wb[1]):
            gb = g.sum(axis=axes)
        return gx, gw, gb


class Normalize(Function):
    """``x / max(||x||_p, eps)`` along ``axis``; rows with norm below eps are only scaled,
    so zero rows get a zero (not nan) gradient."""

    # fused backward on arrays; no second derivative yet
    double_backward = False
    saves_inputs = False

    def forward(self, x, p=2.0, axis=1, eps=1e-12):
        ax = np.abs(x)
        if p == 2:
            norm = np.sqrt((x * x).sum(axis=axis, keepdims=True))
        elif p == 1:
            norm = ax.sum(axis=axis, keepdims=True)
        else:
            norm = (ax ** p).sum(axis=axis, keepdims=True) ** (1.0 / p)
        denom = np.maximum(norm, x.dtype.type(eps))
        self.x, self.p, self.axis, self.norm, self.denom = x, p, axis, norm, denom
        self.eps = eps
        return x / denom

    def backward(self, g):
        x, p, norm, denom = self.x, self.p, self.norm, self.denom
        gx = g / denom
        live = norm > self.eps  # where the norm (not eps) divides, it has a gradient too
        dot = (g * x).sum(axis=self.axis, keepdims=True) / (denom * denom)
        safe = np.where(live, norm, 1)
        if p == 2:
            dn = x / safe
        elif p == 1:
            dn = np.sign(x)
        else:
            dn = np.sign(x) * (np.abs(x) / safe) ** (p - 1)
        gx -= np.where(live, dot, 0) * dn
        return gx


# --- embedding -------------------------------------------------------------------------------
class Embedding(Function):
    """Rows of ``weight`` at integer ``indices``; the gradient adds back into those rows
    (never into ``padding_idx``)."""

    # fused backward on arrays; no second derivative yet
    double_backward = False
    saves_inputs = False

    def forward(self, w, indices, padding_idx=None):
        self.indices, self.wshape, self.padding_idx = indices, w.shape, padding_idx
        return w[indices]

    def backward(self, g):
        xp = get_array_module(g)
        idx = self.indices.reshape(-1)
        rows = g.reshape(-1, self.wshape[1])
        gw = xp.zeros(self.wshape, g.dtype)
        dim = self.wshape[1]
        # np.add.at on flat element indices takes NumPy's fast 1-d path (~7x faster than
        # scattering whole rows)
        flat = (idx[:, None] * dim + xp.arange(dim)).reshape(-1)
        xp.add.at(gw.reshape(-1), flat, rows.reshape(-1))
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw, None


# --- specs (float64 composite references) ---------------------------------------------------
def _np_log_softmax(a):
    m = a.max(1, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(1, keepdims=True))


def _ce_idx(r):
    return (r.uniform(-3, 3, (5, 4)), np.array([0, 3, 1, 1, 2]))


def _np_ce(a, t):
    return -_np_log_softmax(a)[np.arange(len(t)), t].mean()


def _np_layer_norm(a, w, b):
    m = a.mean(-1, keepdims=True)
    v = a.var(-1, keepdims=True)
    return (a - m) / np.sqrt(v + 1e-5) * w + b


def _np_batch_norm(a, w, b):
    m = a.mean((0, 2), keepdims=True)
    v = a.var((0, 2), keepdims=True)
    return (a - m) / np.sqrt(v + 1e-5) * w[None, :, None] + b[None, :, None]


def _fn_ce(a, t):
    return CrossEntropy.apply(a, t.data)


def _sp(x):
    return np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))


SPECS = [
    OpSpec("linear", lambda x, w, b: Linear.apply(x, w, b), lambda x, w, b: x @ w.T + b,
           [((4, 3), (5, 3), (5,)), ((2, 4, 3), (5, 3), (5,))],
           lambda x, w, b: TORCH.nn.functional.linear(x, w, b)),
    OpSpec("linear_nobias", lambda x, w: Linear.apply(x, w), lambda x, w: x @ w.T,
           [((4, 3), (2, 3)), ((0, 3), (2, 3))], lambda x, w: TORCH.nn.functional.linear(x, w)),
    OpSpec("cross_entropy_fused", _fn_ce, _np_ce, [_ce_idx],
           lambda a, t: TORCH.nn.functional.cross_entropy(a, t)),
    OpSpec("bce_with_logits_fused", lambda x, t: BCEWithLogits.apply(x, t),
           lambda x, t: ((1 - t) * x + _sp(x)).mean(),
           [lambda r: (r.uniform(-5, 5, (3, 4)), r.uniform(0, 1, (3, 4)))],
           lambda x, t: TORCH.nn.functional.binary_cross_entropy_with_logits(x, t)),
    OpSpec("layer_norm_fused", lambda a, w, b: LayerNorm.apply(a, w, b),
           _np_layer_norm, [((3, 6), (6,), (6,)), ((2, 3, 5), (5,), (5,))],
           lambda a, w, b: TORCH.nn.functional.layer_norm(a, a.shape[-1:], w, b)),
    OpSpec("batch_norm_fused", lambda a, w, b: BatchNorm.apply(a, w, b), _np_batch_norm,
           [((4, 3, 5), (3,), (3,))],
           lambda a, w, b: TORCH.nn.functional.batch_norm(a, None, None, w, b, training=True)),
    OpSpec("normalize_fused", lambda a: Normalize.apply(a),
           lambda a: a / np.maximum(np.sqrt((a * a).sum(1, keepdims=True)), 1e-12),
           [((3, 4),), ((2, 3, 2),)], lambda a: TORCH.nn.functional.normalize(a)),
    # a zero row sits on the kink of max(norm, eps): parity with torch (g / eps), no gradcheck
    OpSpec("normalize_zero_row", lambda a: Normalize.apply(a),
           lambda a: a / np.maximum(np.sqrt((a * a).sum(1, keepdims=True)), 1e-12),
           [lambda r: (np.array([[0.0, 0.0], [3.0, 4.0]]),)],
           lambda a: TORCH.nn.functional.normalize(a), gradcheck=False),
    OpSpec("normalize_p3_dim0", lambda a: Normalize.apply(a, p=3.0, axis=0),
           lambda a: a / (np.abs(a) ** 3).sum(0, keepdims=True) ** (1 / 3), [((3, 4),)],
           lambda a: TORCH.nn.functional.normalize(a, p=3.0, dim=0)),
    OpSpec("embedding_fused", lambda w, i: Embedding.apply(w, i.data), lambda w, i: w[i],
           [lambda r: (r.uniform(-1, 1, (6, 3)), np.array([[0, 5, 2], [5, 5, 1]]))],
           lambda w, i: TORCH.nn.functional.embedding(i, w)),
]
_FUSED_ONLY = ("bce_with_logits_fused", "batch_norm_fused", "normalize_fused", "normalize_zero_row",
               "normalize_p3_dim0", "embedding_fused")
for _spec in SPECS:
    if _spec.name in _FUSED_ONLY:
        _spec.no_gradgrad = "the fused backward runs on arrays"
