"""Attention maps: the weights of every ``MultiheadAttention`` in a model, captured during
one forward, and attention rollout (Abnar and Zuidema 2020) across the layers."""

from __future__ import annotations

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.explain._common import as_array, as_tuple, fresh, run
from axonic.nn.attention import MultiheadAttention

_POSITIONAL = ("key_padding_mask", "need_weights", "attn_mask", "average_attn_weights",
               "is_causal")


def _capturing(module, store, name):
    original = module.forward

    def forward(*args, **kwargs):
        kwargs.update(zip(_POSITIONAL, args[3:]))
        args = args[:3]
        wanted = kwargs.get("need_weights", True)
        average = kwargs.get("average_attn_weights", True)
        kwargs.update(need_weights=True, average_attn_weights=False)
        out, weights = original(*args, **kwargs)
        w = as_array(weights)
        store[name] = w[None] if w.ndim == 3 else w  # unbatched input: add the batch axis
        if not wanted:
            return out, None
        return out, (weights.mean(axis=-3) if average else weights)

    return forward


def attention_maps(model, inputs, additional_forward_args=None) -> dict:
    """``{layer name: weights of shape (batch, heads, L, S)}`` for every
    ``MultiheadAttention`` in ``model``, from one forward pass on ``inputs`` (in eval mode
    the maps are exactly those the model used; the model's output is unchanged).

    >>> import axonic
    >>> from axonic import nn
    >>> layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    >>> maps = attention_maps(nn.TransformerEncoder(layer, 2), axonic.randn(3, 5, 8))
    >>> {k: v.shape for k, v in maps.items()}
    {'layers.0.self_attn': (3, 2, 5, 5), 'layers.1.self_attn': (3, 2, 5, 5)}
    """
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, MultiheadAttention)]
    if not found:
        raise ValueError(f"attention_maps: {type(model).__name__} has no MultiheadAttention "
                         "layer")
    store: dict = {}
    for name, m in found:
        m.forward = _capturing(m, store, name)
    try:
        with no_grad():
            run(model, as_tuple(inputs, "attention_maps"), additional_forward_args)
    finally:
        for _, m in found:
            del m.forward
    return {name: fresh(store[name]) for name, _ in found if name in store}


def attention_rollout(maps, head_fusion: str = "mean", add_residual: bool = True):
    """Attention rollout: fuse each layer's heads (``mean``, ``max`` or ``min``), add the
    identity for the residual path and renormalise rows, then multiply the layers in order.
    Returns ``(batch, L, L)``: how much each output token draws on each input token.

    >>> import numpy as np
    >>> uniform = np.full((1, 2, 3, 3), 1 / 3)
    >>> rollout = attention_rollout({"a": uniform, "b": uniform}).numpy()
    >>> rollout.shape, bool(np.allclose(rollout.sum(axis=-1), 1.0))
    ((1, 3, 3), True)
    """
    fuse = {"mean": np.mean, "max": np.max, "min": np.min}
    if head_fusion not in fuse:
        raise ValueError(f"attention_rollout: head_fusion must be 'mean', 'max' or 'min', "
                         f"got {head_fusion!r}")
    layers = list(maps.values()) if isinstance(maps, dict) else list(maps)
    if not layers:
        raise ValueError("attention_rollout: no attention maps given")
    result = None
    for w in layers:
        a = fuse[head_fusion](as_array(w), axis=1)
        if a.shape[-1] != a.shape[-2]:
            raise ValueError(f"attention_rollout: needs self-attention maps (L == S), got "
                             f"shape {tuple(as_array(w).shape)}")
        if add_residual:
            a = a + np.eye(a.shape[-1], dtype=a.dtype)
        a = a / a.sum(axis=-1, keepdims=True)
        result = a if result is None else a @ result
    return fresh(result)
