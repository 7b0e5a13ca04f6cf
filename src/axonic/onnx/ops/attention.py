"""ONNX Attention (opset 23): scaled dot-product attention over 4-D (batch, heads, seq, dim)
or 3-D inputs, with grouped key/value heads, causal and explicit masks."""

from __future__ import annotations

import numpy as np

import axonic
import axonic.nn.functional as F
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, tensor_of, to_value


@onnx_op("Attention", since=23)
def attention(inputs, attrs, ctx):
    """Scaled dot-product attention; past/present key-value caches, softcap and the
    qk_matmul output are not supported."""
    opt = list(inputs) + [None] * (6 - len(inputs))
    q, k, v, mask = opt[:4]
    if opt[4] is not None or opt[5] is not None or attrs.get("softcap", 0.0) \
            or len(ctx.outputs) > 1:
        raise NotImplementedError(f"ONNX import: {ctx}: Attention with a key-value cache, "
                                  "softcap or extra outputs is not supported")
    three_d = q.ndim == 3
    if three_d:
        hq, hkv = attrs["q_num_heads"], attrs["kv_num_heads"]
        q = q.reshape(q.shape[0], q.shape[1], hq, -1).permute(0, 2, 1, 3)
        k = k.reshape(k.shape[0], k.shape[1], hkv, -1).permute(0, 2, 1, 3)
        v = v.reshape(v.shape[0], v.shape[1], hkv, -1).permute(0, 2, 1, 3)
    groups = q.shape[1] // k.shape[1]
    if groups > 1:
        k = axonic.repeat_interleave(k, groups, 1) if hasattr(axonic, "repeat_interleave") \
            else k.unsqueeze(2).expand(k.shape[0], k.shape[1], groups, *k.shape[2:]).reshape(
                k.shape[0], -1, *k.shape[2:])
        v = v.unsqueeze(2).expand(v.shape[0], v.shape[1], groups, *v.shape[2:]).reshape(
            v.shape[0], -1, *v.shape[2:])
    scale = attrs.get("scale") or 1.0 / np.sqrt(q.shape[-1])
    scores = axonic.matmul(q, k.transpose(-1, -2)) * scale
    L, S = scores.shape[-2:]
    if attrs.get("is_causal", 0):
        causal = np.triu(np.ones((L, S), bool), 1)
        scores = axonic.where(to_value(causal), tensor_of(-np.inf, scores), scores)
    if mask is not None:
        m = arr(mask)
        if m.dtype == bool:
            scores = axonic.where(to_value(~m), tensor_of(-np.inf, scores), scores)
        else:
            scores = scores + mask
    y = axonic.matmul(F.softmax(scores, -1), v)
    if three_d:
        y = y.permute(0, 2, 1, 3).reshape(y.shape[0], y.shape[2], -1)
    return y
