"""Attention: ``scaled_dot_product_attention``, ``multi_head_attention_forward`` and the
``MultiheadAttention`` layer, with PyTorch's parameter names, mask conventions and shapes.

Masks, as in PyTorch:
- ``scaled_dot_product_attention``: a bool ``attn_mask`` is True where a position TAKES
  PART; a float mask is added to the scores.
- ``MultiheadAttention`` / ``multi_head_attention_forward``: bool masks are True where a
  position is MASKED OUT (``attn_mask`` and ``key_padding_mask``); float masks are added.

Attention is batched matmuls and one stable softmax (the max is subtracted first).
"""

from __future__ import annotations

import math

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module
from axonic.nn import init
from axonic.nn.dropout import dropout as _dropout
from axonic.nn.linear import Linear, linear
from axonic.nn.module import Module
from axonic.nn.parameter import Parameter
from axonic.ops.creation import empty
from axonic.ops.indexing import masked_fill
from axonic.ops.linalg import matmul
from axonic.ops.softmax import softmax


def _shape(t):
    return tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__


def _mask_array(mask):
    return mask._data if isinstance(mask, Tensor) else np.asarray(mask)


def _additive(mask, masked_out_when_true, dtype, name, error):
    """A mask as something to add to the scores: a float Tensor (kept in the graph) or an
    array with -inf where a bool mask excludes a position."""
    if mask is None:
        return None
    if isinstance(mask, Tensor) and mask.dtype.kind == "f":
        return mask if mask.dtype == dtype else mask.to(dtype)
    m = _mask_array(mask)
    if m.dtype.kind == "b":
        xp = get_array_module(m)
        excluded = m if masked_out_when_true else ~m
        return xp.where(excluded, dtype.type(-np.inf), dtype.type(0))
    if m.dtype.kind == "f":
        return m.astype(dtype, copy=False)
    raise error(f"{name} must be a bool or floating mask, got dtype {m.dtype}")


def _combine(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return (a if isinstance(a, Tensor) else _make(a)) + (b if isinstance(b, Tensor)
                                                              else _make(b))
    return a + b


def causal_mask(L, S, xp=np):
    """Bool (L, S), True on and below the diagonal: the positions a causal query may see."""
    return xp.tril(xp.ones((L, S), dtype=bool))


def _attend(q, k, v, bias, dropout_p, scale, need_weights=False, zero_dead_rows=True):
    """softmax(q k^T * scale + bias) [dropout] @ v; also returns the weights if asked.

    A query whose mask excludes every key gets zero weights (PyTorch's SDPA) with
    ``zero_dead_rows``, else NaN (PyTorch's MultiheadAttention with need_weights=True)."""
    scores = matmul(q * scale, k.transpose(-2, -1))
    keep = None
    if bias is not None:
        b = bias._data if isinstance(bias, Tensor) else bias
        xp = get_array_module(b)
        dead = xp.isneginf(b).all(axis=-1, keepdims=True) if zero_dead_rows else None
        if dead is not None and dead.any():
            full = xp.broadcast_to(dead, b.shape)
            bias = (masked_fill(bias, full, 0.0) if isinstance(bias, Tensor)
                    else xp.where(full, b.dtype.type(0), b))
            keep = _make((~dead).astype(b.dtype))
        scores = scores + (bias if isinstance(bias, Tensor) else _make(bias))
    weights = softmax(scores, -1)
    if keep is not None:
        weights = weights * keep
    if dropout_p > 0:
        weights = _dropout(weights, dropout_p, training=True)
    return matmul(weights, v), (weights if need_weights else None)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(Q K^T * scale + mask) V`` over the last two dims, PyTorch's semantics:
    a bool ``attn_mask`` is True where a position takes part, a float one is added;
    ``is_causal`` masks the upper triangle; ``scale`` defaults to ``1 / sqrt(E)``.

    >>> import axonic
    >>> q = axonic.randn(2, 4, 5, 8)  # (batch, heads, L, E)
    >>> scaled_dot_product_attention(q, q, q, is_causal=True).shape
    (2, 4, 5, 8)
    """
    def error(msg):
        return ValueError(f"scaled_dot_product_attention: {msg}")

    if enable_gqa:
        raise error("enable_gqa=True is not supported")
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise error(f"{name} must be a tensor with at least 2 dims, got {_shape(t)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise error(f"expected query (..., L, E), key (..., S, E), value (..., S, Ev); got "
                    f"{_shape(query)}, {_shape(key)}, {_shape(value)}")
    if not 0 <= dropout_p < 1:
        raise error(f"dropout_p must be in [0, 1), got {dropout_p!r}")
    L, S = query.shape[-2], key.shape[-2]
    if is_causal and attn_mask is not None:
        raise error("pass either attn_mask or is_causal=True, not both")
    if is_causal:
        attn_mask = causal_mask(L, S, get_array_module(query._data))
    bias = _additive(attn_mask, False, query.dtype, "attn_mask", error)
    if bias is not None:
        bshape = tuple(bias.shape)
        try:
            np.broadcast_shapes(bshape, tuple(query.shape[:-2]) + (L, S))
        except ValueError:
            raise error(f"attn_mask of shape {bshape} cannot broadcast to the scores' shape "
                        f"{tuple(query.shape[:-2]) + (L, S)}") from None
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    out, _ = _attend(query, key, value, bias, dropout_p, scale)
    return out


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention on sequence-first inputs ``(L, N, E)`` (or unbatched ``(L, E)``),
    PyTorch's functional signature. Returns ``(output, weights or None)``.

    >>> import axonic
    >>> E, H = 8, 2
    >>> x = axonic.randn(5, 3, E)
    >>> out, w = multi_head_attention_forward(
    ...     x, x, x, E, H, axonic.randn(3 * E, E), axonic.zeros(3 * E), None, None, False,
    ...     0.0, axonic.randn(E, E), axonic.zeros(E))
    >>> out.shape, w.shape
    ((5, 3, 8), (3, 5, 5))
    """
    return _mha(lambda m: ValueError(f"multi_head_attention_forward: {m}"), query, key, value,
                embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
                add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
                key_padding_mask, need_weights, attn_mask, use_separate_proj_weight,
                q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v,
                average_attn_weights, is_causal)


def _mha(error, query, key, value, embed_dim, num_heads, in_proj_weight, in_proj_bias,
         bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
         key_padding_mask, need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
         k_proj_weight, v_proj_weight, static_k, static_v, average_attn_weights, is_causal):
    if bias_k is not None or bias_v is not None or add_zero_attn:
        raise error("bias_k / bias_v (add_bias_kv) and add_zero_attn are not supported")
    if static_k is not None or static_v is not None:
        raise error("static_k / static_v are not supported")
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise error(f"{name} must be a Tensor, got {type(t).__name__}")
    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise error(f"expected query, key, value all of shape (L, N, E) or all unbatched "
                    f"(L, E), got {_shape(query)}, {_shape(key)}, {_shape(value)}")
    if query.shape[-1] != embed_dim:
        raise error(f"expected query with embed_dim {embed_dim} as its last dim, "
                    f"got shape {_shape(query)}")
    if key.shape[0] != value.shape[0] or (batched and not (
            query.shape[1] == key.shape[1] == value.shape[1])):
        raise error(f"key and value must have the same sequence length, and all three the "
                    f"same batch size; got query {_shape(query)}, key {_shape(key)}, "
                    f"value {_shape(value)}")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
    L, N, E = query.shape
    S = key.shape[0]
    H = num_heads
    hd = E // H
    if hd * H != E:
        raise error(f"embed_dim {E} is not divisible by num_heads {H}")

    # input projections
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:]
    if use_separate_proj_weight:
        for name, w, d in (("k_proj_weight", k_proj_weight, key.shape[-1]),
                           ("v_proj_weight", v_proj_weight, value.shape[-1])):
            if w is None or tuple(w.shape) != (E, d):
                raise error(f"expected {name} of shape {(E, d)} for an input with last dim "
                            f"{d}, got {_shape(w) if w is not None else None}")
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)
    else:
        if key.shape[-1] != E or value.shape[-1] != E:
            raise error(f"expected key and value with last dim {E}, got {_shape(key)} and "
                        f"{_shape(value)}")
        if query is key and key is value:  # self-attention: one GEMM for q, k and v
            qkv = linear(query, in_proj_weight, in_proj_bias)
            q, k, v = qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
        else:
            q = linear(query, in_proj_weight[:E], b_q)
            k = linear(key, in_proj_weight[E:2 * E], b_k)
            v = linear(value, in_proj_weight[2 * E:], b_v)
    # (len, N, E) -> (N, H, len, hd)
    q = q.reshape(L, N, H, hd).permute(1, 2, 0, 3)
    k = k.reshape(S, N, H, hd).permute(1, 2, 0, 3)
    v = v.reshape(S, N, H, hd).permute(1, 2, 0, 3)

    # masks, as additive biases broadcastable to (N, H, L, S)
    if is_causal and attn_mask is None:
        attn_mask = ~causal_mask(L, S, get_array_module(query._data))
    bias = _additive(attn_mask, True, query.dtype, "attn_mask", error)
    if bias is not None:
        if bias.ndim == 2 and tuple(bias.shape) == (L, S):
            pass
        elif bias.ndim == 3 and tuple(bias.shape) == (N * H, L, S):
            bias = bias.reshape(N, H, L, S)
        elif not batched and bias.ndim == 3 and tuple(bias.shape) == (H, L, S):
            pass
        else:
            raise error(f"expected attn_mask of shape {(L, S)} or {(N * H, L, S)}, got "
                        f"{tuple(bias.shape)}")
    kpm = _additive(key_padding_mask, True, query.dtype, "key_padding_mask", error)
    if kpm is not None:
        want = (N, S) if batched else (S,)
        if tuple(kpm.shape) != want:
            raise error(f"expected key_padding_mask of shape {want}, got {tuple(kpm.shape)}")
        bias = _combine(bias, kpm.reshape(N, 1, 1, S))
    p = dropout_p if training else 0.0
    # need_weights=False takes PyTorch's SDPA path, need_weights=True its softmax path
    out, weights = _attend(q, k, v, bias, p, 1 / math.sqrt(hd), need_weights,
                           zero_dead_rows=not need_weights)
    out = out.permute(2, 0, 1, 3).reshape(L, N, E)
    out = linear(out, out_proj_weight, out_proj_bias)
    if weights is not None and average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights


class MultiheadAttention(Module):
    """Multi-head attention, ``softmax(Q K^T / sqrt(d)) V`` per head with input and output
    projections; parameters named as in PyTorch (``in_proj_weight``, ``in_proj_bias``,
    ``out_proj``; ``q_proj_weight`` ... when ``kdim`` / ``vdim`` differ from ``embed_dim``).

    >>> import axonic
    >>> mha = MultiheadAttention(16, 4, batch_first=True)
    >>> x = axonic.randn(2, 5, 16)
    >>> out, w = mha(x, x, x)
    >>> out.shape, w.shape
    ((2, 5, 16), (2, 5, 5))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        for name, v in (("embed_dim", embed_dim), ("num_heads", num_heads),
                        ("kdim", kdim if kdim is not None else 1),
                        ("vdim", vdim if vdim is not None else 1)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"MultiheadAttention: {name} must be a positive integer, "
                                 f"got {v!r}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, "
                             f"got embed_dim={embed_dim} and num_heads={num_heads}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout < 1:
            raise ValueError(f"MultiheadAttention: dropout must be a number in [0, 1), "
                             f"got {dropout!r}")
        if add_bias_kv or add_zero_attn:
            raise ValueError("MultiheadAttention: add_bias_kv=True and add_zero_attn=True are "
                             f"not supported, got add_bias_kv={add_bias_kv!r}, "
                             f"add_zero_attn={add_zero_attn!r}")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self.head_dim = embed_dim // num_heads
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * E, E, dtype=dtype, device=device))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty(E, E, dtype=dtype, device=device))
            self.k_proj_weight = Parameter(empty(E, self.kdim, dtype=dtype, device=device))
            self.v_proj_weight = Parameter(empty(E, self.vdim, dtype=dtype, device=device))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * E, dtype=dtype, device=device))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, device=device, dtype=dtype)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        for name, t, d in (("query", query, self.embed_dim), ("key", key, self.kdim),
                           ("value", value, self.vdim)):
            if not isinstance(t, Tensor) or t.ndim not in (2, 3) or t.shape[-1] != d:
                layout = "(batch, seq, {})" if self.batch_first else "(seq, batch, {})"
                raise self.input_error(
                    f"expected {name} of shape {layout.format(d)} or unbatched (seq, {d}), "
                    f"got {_shape(t)}")
        if self.batch_first and query.ndim == 3:  # keep self-attention's `q is k is v`
            same_k, same_v = key is query, value is key
            query = query.transpose(0, 1)
            key = query if same_k else key.transpose(0, 1)
            value = key if same_v else value.transpose(0, 1)
        sep = not self._qkv_same_embed_dim
        out, weights = _mha(
            self.input_error, query, key, value, self.embed_dim, self.num_heads,
            self.in_proj_weight, self.in_proj_bias, None, None, False, self.dropout,
            self.out_proj.weight, self.out_proj.bias, self.training, key_padding_mask,
            need_weights, attn_mask, sep, self.q_proj_weight, self.k_proj_weight,
            self.v_proj_weight, None, None, average_attn_weights, is_causal)
        if self.batch_first and query.ndim == 3:
            out = out.transpose(0, 1)
        return out, weights
