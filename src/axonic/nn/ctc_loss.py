"""Connectionist temporal classification (Graves et al., 2006), PyTorch's ``CTCLoss`` /
``F.ctc_loss``: the negative log-likelihood of a target sequence summed over every
alignment of it (with blanks and repeats) to the ``T`` frames of ``log_probs``.

The forward-backward recursions run in log space over the extended target
``blank, l1, blank, l2, ..., blank``, vectorised over the batch and the target positions,
one step per frame. The gradient with respect to ``log_probs`` is the loss's own
derivative, ``-(posterior of each label at each frame)``. PyTorch's backward returns
``exp(log_probs)`` minus that posterior, the gradient with respect to the logits before a
``log_softmax``; after ``log_softmax`` the two agree (tests/nn/test_ctc_loss.py), and this
one also passes a gradient check with respect to ``log_probs`` themselves.

>>> import axonic
>>> lp = axonic.full((2, 1, 2), 0.5).log()  # 2 frames, blank or "1" at 1/2: p("1") = 3/4
>>> round((-ctc_loss(lp, axonic.tensor([[1]]), [2], [1], reduction="sum")).exp().item(), 4)
0.75
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module, to_numpy
from axonic.nn.loss_base import _Loss, _reduction

_NEG = -np.inf


def _lse(*arrays):
    """Elementwise log(sum(exp)) of several arrays, -inf where all are -inf."""
    top = np.maximum.reduce(arrays)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(sum(np.exp(a - safe) for a in arrays)) + safe


class CTCLossFunction(Function):
    """Per-sample CTC losses ``(N,)`` of ``log_probs (T, N, C)``."""

    double_backward = False

    def forward(self, log_probs, labels, input_lengths, target_lengths, blank, zero_infinity):
        lp = np.asarray(to_numpy(log_probs), dtype=np.float64)
        T, N, C = lp.shape
        S = labels.shape[1]
        ext = np.full((N, 2 * S + 1), blank, dtype=np.int64)
        ext[:, 1::2] = labels
        width = 2 * target_lengths + 1  # valid extended positions per sample
        pos = np.arange(2 * S + 1)
        valid = pos[None, :] < width[:, None]
        # s may also come from s - 2 when it is a label differing from the one before it
        skip = np.zeros_like(valid)
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        rows = np.arange(N)[:, None]
        emit = lambda t: np.where(valid, lp[t][rows, ext], _NEG)  # noqa: E731
        alpha = np.full((T, N, 2 * S + 1), _NEG)
        alpha[0, :, 0] = lp[0, :, blank]
        alpha[0, :, 1] = np.where(target_lengths > 0, lp[0, np.arange(N), ext[:, 1]], _NEG) \
            if S else _NEG
        for t in range(1, T):
            prev = alpha[t - 1]
            one = np.concatenate([np.full((N, 1), _NEG), prev[:, :-1]], 1)
            two = np.where(skip, np.concatenate([np.full((N, 2), _NEG), prev[:, :-2]], 1), _NEG)
            alpha[t] = _lse(prev, one, two) + emit(t)
        beta = np.full((T, N, 2 * S + 1), _NEG)
        last = input_lengths - 1
        n_idx = np.arange(N)
        beta[last, n_idx, width - 1] = lp[last, n_idx, ext[n_idx, width - 1]]
        has_label = target_lengths > 0
        beta[last[has_label], n_idx[has_label], width[has_label] - 2] = lp[
            last[has_label], n_idx[has_label], ext[n_idx[has_label], width[has_label] - 2]]
        # a position two ahead may be reached from s when it (s + 2) is a skippable label
        skip_ahead = np.zeros_like(valid)
        skip_ahead[:, :-2] = skip[:, 2:]
        for t in range(T - 2, -1, -1):
            nxt = beta[t + 1]
            one = np.concatenate([nxt[:, 1:], np.full((N, 1), _NEG)], 1)
            two = np.where(skip_ahead, np.concatenate([nxt[:, 2:], np.full((N, 2), _NEG)], 1),
                           _NEG)
            running = (t < last)[:, None]  # frames beyond a sample's length stay -inf
            beta[t] = np.where(running, _lse(nxt, one, two) + emit(t), beta[t])
        end = alpha[last, n_idx]
        log_p = _lse(end[n_idx, width - 1], np.where(has_label, end[n_idx, np.maximum(
            width - 2, 0)], _NEG))
        loss = -log_p
        infinite = ~np.isfinite(loss)
        # posterior of each extended position at each frame, summed per class
        with np.errstate(invalid="ignore"):
            post = np.exp(alpha + beta - lp[:, rows, ext] - log_p[None, :, None])
        post = np.where(np.isfinite(post), post, 0.0)
        frames = (np.arange(T)[:, None] < input_lengths[None, :])[:, :, None]
        grad = np.zeros((T, N, C))
        for s in range(2 * S + 1):  # add each position's posterior into its class
            np.add.at(grad, (slice(None), n_idx, ext[:, s]), post[:, :, s] * valid[None, :, s])
        self.grad = -grad * frames
        if zero_infinity:
            loss = np.where(infinite, 0.0, loss)
            self.grad[:, infinite] = 0.0
        xp = get_array_module(log_probs)
        self.dtype = log_probs.dtype
        return xp.asarray(loss.astype(log_probs.dtype))

    def backward(self, g):
        xp = get_array_module(g)
        out = xp.asarray(self.grad.astype(self.dtype)) * g[None, :, None]
        return out, None, None, None, None, None


def _lengths(op, name, values, n):
    arr = np.asarray(to_numpy(values._data) if isinstance(values, Tensor) else values)
    if arr.dtype.kind not in "iu" or arr.shape != (n,):
        raise ValueError(f"{op}: {name} must be {n} integers (one per sample), got "
                         f"{arr.tolist()}")
    return arr.astype(np.int64)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False):
    """CTC loss of ``log_probs`` ``(T, N, C)`` (``(T, C)`` unbatched; log-softmax output)
    and ``targets`` ``(N, S)`` padded or 1-d concatenated. ``mean`` divides each sample's
    loss by its target length, then averages."""
    op = "ctc_loss"
    reduction = _reduction(op, reduction)
    if log_probs.ndim not in (2, 3) or log_probs.dtype.kind != "f":
        raise ValueError(f"{op}: expected floating-point log_probs (T, N, C) or (T, C), got "
                         f"shape {tuple(log_probs.shape)}")
    batched = log_probs.ndim == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise ValueError(f"{op}: blank must be a class index in [0, {C}), got {blank}")
    tgt = np.asarray(to_numpy(targets._data) if isinstance(targets, Tensor) else targets)
    if not batched and tgt.ndim == 1:
        tgt = tgt[None]
    lengths_in = _lengths(op, "input_lengths", np.atleast_1d(to_numpy(
        input_lengths._data) if isinstance(input_lengths, Tensor) else input_lengths), N)
    lengths_t = _lengths(op, "target_lengths", np.atleast_1d(to_numpy(
        target_lengths._data) if isinstance(target_lengths, Tensor) else target_lengths), N)
    if np.any(lengths_in < 1) or np.any(lengths_in > T):
        raise ValueError(f"{op}: input_lengths must be in [1, {T}], got {lengths_in.tolist()}")
    if tgt.ndim == 1:  # concatenated targets
        if tgt.size != lengths_t.sum():
            raise ValueError(f"{op}: 1-d targets must hold sum(target_lengths) = "
                             f"{lengths_t.sum()} labels, got {tgt.size}")
        labels = np.zeros((N, max(int(lengths_t.max(initial=0)), 1)), np.int64)
        for n, (a, b) in enumerate(zip(np.cumsum(lengths_t) - lengths_t, np.cumsum(lengths_t))):
            labels[n, : b - a] = tgt[a:b]
    elif tgt.ndim == 2 and tgt.shape[0] == N:
        if np.any(lengths_t > tgt.shape[1]) or np.any(lengths_t < 0):
            raise ValueError(f"{op}: target_lengths must be in [0, {tgt.shape[1]}], got "
                             f"{lengths_t.tolist()}")
        labels = tgt.astype(np.int64) if tgt.shape[1] else np.zeros((N, 1), np.int64)
    else:
        raise ValueError(f"{op}: targets must be (N, S) padded or 1-d concatenated, got shape "
                         f"{tgt.shape}")
    used = np.arange(labels.shape[1])[None, :] < lengths_t[:, None]
    if tgt.dtype.kind not in "iu" or np.any((labels < 0)[used] | (labels >= C)[used]) or \
            np.any((labels == blank)[used]):
        raise ValueError(f"{op}: targets must be class indices in [0, {C}) other than the "
                         f"blank {blank}")
    labels = np.where(used, labels, blank)
    losses = CTCLossFunction.apply(lp, labels, lengths_in, lengths_t, blank, bool(zero_infinity))
    if reduction == "mean":
        return (losses / Tensor(np.maximum(lengths_t, 1).astype(losses.dtype))).mean()
    if reduction == "sum":
        return losses.sum()
    return losses if batched else losses[0]


class CTCLoss(_Loss):
    """``F.ctc_loss`` as a loss module (``blank``, ``reduction``, ``zero_infinity``)."""

    _fn = staticmethod(ctc_loss)

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, bool(zero_infinity)

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return self._call(log_probs, targets, input_lengths, target_lengths, blank=self.blank,
                          reduction=self.reduction, zero_infinity=self.zero_infinity)
