"""Losses written as one op each for numerical stability: cross-entropy through a
stable log-softmax, NLL, BCE with logits through ``log1p(exp(-|x|))``, BCE with its logs
clamped as PyTorch. The public loss functions (``F.cross_entropy``, ...) are in
``axonic.nn.loss``; each op here has a composite float64 reference in its spec.
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module
from axonic.ops._spec import TORCH, OpSpec


def _needs(t) -> bool:
    return isinstance(t, Tensor) and t._rg


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


# --- specs (float64 composite references) ---------------------------------------------------
def _np_log_softmax(a):
    m = a.max(1, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(1, keepdims=True))


def _ce_idx(r):
    return (r.uniform(-3, 3, (5, 4)), np.array([0, 3, 1, 1, 2]))


def _np_ce(a, t):
    return -_np_log_softmax(a)[np.arange(len(t)), t].mean()


def _fn_ce(a, t):
    return CrossEntropy.apply(a, t.data)


def _sp(x):
    return np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))


SPECS = [
    OpSpec("cross_entropy_fused", _fn_ce, _np_ce, [_ce_idx],
           lambda a, t: TORCH.nn.functional.cross_entropy(a, t)),
    OpSpec("bce_with_logits_fused", lambda x, t: BCEWithLogits.apply(x, t),
           lambda x, t: ((1 - t) * x + _sp(x)).mean(),
           [lambda r: (r.uniform(-5, 5, (3, 4)), r.uniform(0, 1, (3, 4)))],
           lambda x, t: TORCH.nn.functional.binary_cross_entropy_with_logits(x, t)),
]
for _spec in SPECS:
    if _spec.name == "bce_with_logits_fused":
        _spec.no_gradgrad = "the fused backward runs on arrays"
