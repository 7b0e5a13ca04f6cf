"""Losses written as one op each for numerical stability: cross-entropy through a
stable log-softmax, NLL, BCE with logits through ``log1p(exp(-|x|))``, BCE with its logs
clamped as PyTorch. The public loss functions (``F.cross_entropy``, ...) are in
``axonic.nn.loss``; each op here has a composite float64 reference in its spec.
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function, sum_to
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module
from axonic.backend.sums import sum_last
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops.indexing import IndexAdd


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
            total = sum_last(e, keepdims=False)  # as a matrix-vector product
            per = xp.log(total) - shifted[rows, target]
            e /= total[:, None]
            # a private copy of the target: the caller's tensor may change before backward
            self.fast, self.reduction, self.denom = (rows, target.copy()), reduction, n
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
            coef = t * weight[None, :] if weight is not None else t.copy()  # t: the caller's
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
                onehot._data[self.fast] = 1
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

    def forward(self, x, target, weight=None, ignore_index=-100, reduction="mean"):
        n = x.shape[0]
        xp = get_array_module(x)
        keep = target != ignore_index
        safe = xp.where(keep, target, 0)
        wy = (weight[safe] if weight is not None else xp.ones(n, x.dtype)) * keep
        wy = wy.astype(x.dtype, copy=False)
        self.picked = (xp.arange(n), safe)
        per = -x[self.picked] * wy
        self.shape, self.reduction, self.denom = x.shape, reduction, wy.sum()
        self.save_for_backward(wy)
        return _reduce(per, reduction, self.denom)

    def backward(self, g):
        (wy,) = self.saved_tensors
        vals = -wy * (g / self.denom if self.reduction == "mean" else g)
        if self._graph_mode:  # the scatter as its own op, whose gradient picks again
            return IndexAdd.apply(vals, shape=self.shape, index=self.picked, basic=False)
        gx = get_array_module(vals).zeros(self.shape, vals.dtype)
        gx[self.picked] = vals
        return gx, None, None


# --- binary cross-entropy --------------------------------------------------------------------
def _softplus_neg(xp, x):
    """``softplus(-x) = -log sigmoid(x)``, finite for any x."""
    return xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class BCEWithLogits(Function):
    """``(1 - t) x + (1 + (pw - 1) t) softplus(-x)``, weighted; softplus as
    ``max(-x, 0) + log1p(exp(-|x|))`` so it is finite for any x."""

    def forward(self, x, t, weight=None, pos_weight=None, reduction="mean"):
        sp = _softplus_neg(get_array_module(x), x)
        if pos_weight is not None:
            loss = (1 - t) * x + (1 + (pos_weight - 1) * t) * sp
        else:
            loss = (1 - t) * x + sp
        if weight is not None:
            loss = loss * weight
        self.reduction, self.denom = reduction, loss.size
        self.save_for_backward(x, t, weight, pos_weight, sp)
        return _reduce(loss, reduction, loss.size)

    def backward(self, g):
        x, t, w, pw, sp = self.saved_tensors
        xp = self.xp
        if self._graph_mode:  # sp is a function of x
            sp = _softplus_neg(xp, x)
        if self.reduction == "mean":
            g = g / self.denom
        sig = xp.exp(-sp)  # sigmoid(x); so 1 - sigmoid(x) = sigmoid(-x)
        nx, nt = self.needs_input_grad[:2]
        gx = gt = None
        if nx:
            d = (1 - t) - (1 + (pw - 1) * t) * (1 - sig) if pw is not None else sig - t
            gx = sum_to(g * d if w is None else g * d * w, x.shape)
        if nt:
            d = -x if pw is None else -x + (pw - 1) * sp
            gt = sum_to(g * d if w is None else g * d * w, t.shape)
        return gx, gt, None, None


def _clamped_logs(xp, p):
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 as PyTorch
        return xp.maximum(xp.log(p), -100), xp.maximum(xp.log1p(-p), -100)


class BCE(Function):
    """``-w (t log p + (1 - t) log(1 - p))`` with the logs clamped at -100, as PyTorch."""

    def forward(self, p, t, weight=None, reduction="mean"):
        logp, log1mp = _clamped_logs(get_array_module(p), p)
        loss = -(t * logp + (1 - t) * log1mp)
        if weight is not None:
            loss = loss * weight
        self.reduction, self.denom = reduction, loss.size
        self.save_for_backward(p, t, weight)
        return _reduce(loss, reduction, loss.size)

    def backward(self, g):
        p, t, w = self.saved_tensors
        xp = self.xp
        if self.reduction == "mean":
            g = g / self.denom
        np_, nt = self.needs_input_grad[:2]
        gp = gt = None
        if np_:
            d = (p - t) / xp.maximum((1 - p) * p, 1e-12)
            gp = sum_to(g * d if w is None else g * d * w, p.shape)
        if nt:
            logp, log1mp = _clamped_logs(xp, p)
            gt = g * (log1mp - logp)
            gt = sum_to(gt if w is None else gt * w, t.shape)
        return gp, gt, None




# --- specs (float64 composite references) ---------------------------------------------------
def _np_log_softmax(a):
    m = a.max(1, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(1, keepdims=True))


def _ce_idx(r):
    return (r.uniform(-3, 3, (5, 4)), np.array([0, 3, 1, 1, 2]))


def _np_ce(a, t):
    return -_np_log_softmax(a)[np.arange(len(t)), t].mean()


def _fn_ce(a, t):
    return CrossEntropy.apply(a, t._data)


def _sp(x):
    return np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))


def _np_nll(a, t):
    return -a[np.arange(len(t)), t].mean()


def _np_bce(p, t):
    return -(t * np.log(p) + (1 - t) * np.log1p(-p)).mean()


def _probs(r):
    return (r.uniform(0.05, 0.95, (3, 4)), r.uniform(0, 1, (3, 4)))


_PW = np.array([0.5, 1.0, 1.5, 3.0])  # pos_weight, one per class

SPECS = [
    OpSpec("nll_fused", lambda a, t: NLL.apply(a, t._data), _np_nll, [_ce_idx],
           lambda a, t: TORCH.nn.functional.nll_loss(a, t)),
    OpSpec("nll_sum_fused", lambda a, t: NLL.apply(a, t._data, reduction="sum"),
           lambda a, t: -a[np.arange(len(t)), t].sum(), [_ce_idx],
           lambda a, t: TORCH.nn.functional.nll_loss(a, t, reduction="sum")),
    OpSpec("bce_fused", lambda p, t: BCE.apply(p, t), _np_bce, [_probs],
           lambda p, t: TORCH.nn.functional.binary_cross_entropy(p, t)),
    OpSpec("bce_with_logits_pos_weight_fused",
           lambda x, t: BCEWithLogits.apply(x, t, None, _PW.astype(x._data.dtype)),
           lambda x, t: ((1 - t) * x + (1 + (_PW - 1) * t) * _sp(x)).mean(),
           [lambda r: (r.uniform(-4, 4, (3, 4)), r.uniform(0, 1, (3, 4)))],
           lambda x, t: TORCH.nn.functional.binary_cross_entropy_with_logits(
               x, t, pos_weight=TORCH.tensor(_PW.astype(np.float32)))),
    OpSpec("cross_entropy_fused", _fn_ce, _np_ce, [_ce_idx],
           lambda a, t: TORCH.nn.functional.cross_entropy(a, t)),
    OpSpec("bce_with_logits_fused", lambda x, t: BCEWithLogits.apply(x, t),
           lambda x, t: ((1 - t) * x + _sp(x)).mean(),
           [lambda r: (r.uniform(-5, 5, (3, 4)), r.uniform(0, 1, (3, 4)))],
           lambda x, t: TORCH.nn.functional.binary_cross_entropy_with_logits(x, t)),
]
