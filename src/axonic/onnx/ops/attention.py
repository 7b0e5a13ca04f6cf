"""ONNX Attention (opsets 23-25): scaled dot-product attention over 4-D (batch, heads, seq,
dim) or 3-D inputs, with grouped key/value heads, a key/value cache (past and present),
causal, explicit, sliding-window and padding masks, softcap and the ``qk_matmul_output``
modes. Gradients flow to Q, K, V and the caches; masks are constants."""

from __future__ import annotations

import numpy as np

import axonic
import axonic.nn.functional as F
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, onnx_dtype, to_value


def _heads(t, n):
    return t.reshape(t.shape[0], t.shape[1], n, -1).permute(0, 2, 1, 3)


def _bias(q_len, kv_len, dtype, mask, causal, past, nonpad, b, left, right):
    """The additive mask (0 or -inf, or the given float mask) as a NumPy array."""
    bias = np.zeros((q_len, kv_len), dtype=dtype)
    if mask is not None:
        pad = kv_len - mask.shape[-1]
        if pad > 0:
            mask = np.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, pad)],
                          constant_values=False if mask.dtype == bool else -np.inf)
        if mask.dtype == bool:
            mask = np.where(mask, 0, -np.inf).astype(dtype)
    if nonpad is not None and past == 0:
        offset = (nonpad.reshape(-1) - q_len).reshape(-1, 1, 1, 1)
    else:
        offset = past
    i = np.arange(q_len)[:, None]
    j = np.arange(kv_len)[None, :]
    if causal:
        bias = (mask if mask is not None else bias) + np.where(j <= i + offset, 0, -np.inf)
    elif mask is not None:
        bias = bias + mask
    if left >= 0 or right >= 0:
        diff = (i + offset) - j
        ok = np.ones(np.shape(diff), bool)
        if left >= 0:
            ok &= diff <= left
        if right >= 0:
            ok &= -diff <= right
        bias = bias + np.where(ok, 0, -np.inf)
    if nonpad is not None:
        keep = np.arange(kv_len) < nonpad.reshape(-1, 1)
        bias = bias + np.where(keep, 0, -np.inf).reshape(b, 1, 1, kv_len)
    return np.asarray(bias, dtype=dtype)


@onnx_op("Attention", since=23)
def attention(inputs, attrs, ctx):
    opt = list(inputs) + [None] * (7 - len(inputs))
    q, k, v, mask, past_k, past_v, nonpad = opt[:7]
    dtype = arr(q).dtype
    three_d = q.ndim == 3
    if three_d:
        q = _heads(q, attrs["q_num_heads"])
        k = _heads(k, attrs["kv_num_heads"])
        v = _heads(v, attrs["kv_num_heads"])
    scale = attrs.get("scale") or 1 / np.sqrt(q.shape[-1])
    root = float(np.asarray(np.sqrt(scale), dtype=dtype))
    present_k = axonic.cat([past_k, k], 2) if past_k is not None else k
    present_v = axonic.cat([past_v, v], 2) if past_v is not None else v
    bias = _bias(q.shape[2], present_k.shape[2], dtype,
                 None if mask is None else arr(mask), attrs.get("is_causal", 0),
                 0 if past_k is None else past_k.shape[2],
                 None if nonpad is None else arr(nonpad).astype(np.int64), q.shape[0],
                 attrs.get("left_window_size", -1), attrs.get("right_window_size", -1))
    k_all, v_all = present_k, present_v
    groups = q.shape[1] // k_all.shape[1]
    if groups > 1:  # grouped-query attention: each key/value head serves `groups` heads
        b, h, s, d = k_all.shape
        k_all = k_all.unsqueeze(2).expand(b, h, groups, s, d).reshape(b, h * groups, s, d)
        dv = v_all.shape[-1]
        v_all = v_all.unsqueeze(2).expand(b, h, groups, s, dv).reshape(b, h * groups, s, dv)
    qk = axonic.matmul(q * root, (k_all * root).transpose(-1, -2))
    cap = attrs.get("softcap", 0.0)
    if cap > 0:
        qk = axonic.tanh(qk / cap) * cap
    masked_rows = np.isneginf(np.max(bias, axis=-1, keepdims=True))
    scores = qk + to_value(bias)
    mode = attrs.get("qk_matmul_output_mode", 0)
    if "softmax_precision" in attrs:
        scores = scores.to(onnx_dtype(attrs["softmax_precision"]))
    safe = to_value(np.where(masked_rows, 0, bias).astype(arr(scores).dtype))
    probs = F.softmax(scores - to_value(bias.astype(arr(scores).dtype)) + safe, -1) \
        if masked_rows.any() else F.softmax(scores, -1)
    if masked_rows.any():  # fully masked rows attend to nothing
        probs = probs * to_value((~masked_rows).astype(arr(probs).dtype))
    probs = probs.to(dtype)
    y = axonic.matmul(probs, v_all)
    if three_d:
        y = y.permute(0, 2, 1, 3).reshape(y.shape[0], y.shape[2], -1)
    extra = {0: qk, 1: qk, 2: qk + to_value(bias), 3: probs}[mode]
    outs = (y, present_k, present_v, extra.to(dtype))
    return outs[:max(len(ctx.outputs), 1)] if len(ctx.outputs) > 1 else y


@onnx_op("RotaryEmbedding", since=23)
def rotary_embedding(inputs, attrs, ctx):
    opt = list(inputs) + [None] * (4 - len(inputs))
    x, cos, sin, pos = opt[:4]
    four_d = x.ndim == 4
    if four_d:  # (batch, heads, seq, dim) -> (batch, seq, heads, dim)
        x = x.permute(0, 2, 1, 3)
    else:
        x = x.reshape(x.shape[0], x.shape[1], attrs["num_heads"], -1)
    dim = attrs.get("rotary_embedding_dim", 0) or x.shape[-1]
    if pos is not None:
        index = arr(pos).astype(np.int64)
        cos, sin = cos[index], sin[index]
    cos, sin = cos.unsqueeze(2), sin.unsqueeze(2)
    rot, rest = x[..., :dim], x[..., dim:]
    if attrs.get("interleaved", 0):
        x1, x2 = rot[..., 0::2], rot[..., 1::2]
    else:
        x1, x2 = rot[..., :dim // 2], rot[..., dim // 2:]
    real, imag = cos * x1 - sin * x2, sin * x1 + cos * x2
    if attrs.get("interleaved", 0):
        rot = axonic.stack([real, imag], -1).reshape(*rot.shape)
    else:
        rot = axonic.cat([real, imag], -1)
    y = axonic.cat([rot, rest], -1)
    if four_d:
        return y.permute(0, 2, 1, 3)
    return y.reshape(y.shape[0], y.shape[1], -1)
