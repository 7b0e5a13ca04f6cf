"""Transformer blocks with PyTorch's names, state_dict keys and semantics:
``TransformerEncoderLayer``, ``TransformerDecoderLayer``, ``TransformerEncoder``,
``TransformerDecoder``, ``Transformer`` and ``generate_square_subsequent_mask``.

The stacks hold copies of the layer they are given, made from its constructor arguments
and its state_dict (no pickling), so ``layers.0.self_attn.in_proj_weight`` ... load
straight from a PyTorch checkpoint.
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, tensor
from axonic.nn import init
from axonic.nn.attention import MultiheadAttention
from axonic.nn.containers import ModuleList
from axonic.nn.dropout import Dropout
from axonic.nn.linear import Linear
from axonic.nn.module import Module
from axonic.nn.normalization import LayerNorm
from axonic.ops.activations import gelu, relu

_ACTIVATIONS = {"relu": relu, "gelu": gelu}


def generate_square_subsequent_mask(sz, device=None, dtype=None):
    """The float causal mask of size ``(sz, sz)``: ``-inf`` above the diagonal, 0 elsewhere.

    >>> generate_square_subsequent_mask(3)
    tensor([[  0., -inf, -inf],
            [  0.,   0., -inf],
            [  0.,   0.,   0.]])
    """
    m = np.triu(np.full((sz, sz), -np.inf, dtype=np.float32), 1)
    return tensor(m, dtype=dtype if dtype is not None else np.float32, device=device)


def _check_layer_args(name, d_model, nhead, dim_feedforward, dropout, activation):
    for key, v in (("d_model", d_model), ("nhead", nhead), ("dim_feedforward", dim_feedforward)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name}: {key} must be a positive integer, got {v!r}")
    if d_model % nhead:
        raise ValueError(f"{name}: d_model must be divisible by nhead, got d_model={d_model} "
                         f"and nhead={nhead}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
            or not 0 <= dropout < 1:
        raise ValueError(f"{name}: dropout must be a number in [0, 1), got {dropout!r}")
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"{name}: activation must be 'relu', 'gelu' or a callable, "
                             f"got {activation!r}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise ValueError(f"{name}: activation must be 'relu', 'gelu' or a callable, "
                         f"got {activation!r}")
    return activation


def _check_input(layer, x, what):
    if not isinstance(x, Tensor) or x.ndim not in (2, 3) or x.shape[-1] != layer.d_model:
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        layout = "(batch, seq, {})" if layer.batch_first else "(seq, batch, {})"
        raise layer.input_error(f"expected {what} of shape {layout.format(layer.d_model)} "
                                f"or unbatched (seq, {layer.d_model}), got {got}")


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and
    LayerNorm (after the residual, or before the block with ``norm_first=True``).

    >>> import axonic
    >>> layer = TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32)
    >>> layer(axonic.randn(5, 2, 16)).shape
    (5, 2, 16)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        act = _check_layer_args("TransformerEncoderLayer", d_model, nhead, dim_feedforward,
                                dropout, activation)
        self._init_args = dict(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward,
                               dropout=dropout, activation=activation,
                               layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                               norm_first=norm_first, bias=bias)
        self.d_model = d_model
        self.batch_first = bool(batch_first)
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = act

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        _check_input(self, src, "src")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=bool(is_causal))[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's ``memory``, and a feed-forward block,
    each with a residual connection and LayerNorm (post- or pre-norm).

    >>> import axonic
    >>> layer = TransformerDecoderLayer(d_model=16, nhead=4, dim_feedforward=32)
    >>> layer(axonic.randn(4, 2, 16), axonic.randn(6, 2, 16)).shape
    (4, 2, 16)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        act = _check_layer_args("TransformerDecoderLayer", d_model, nhead, dim_feedforward,
                                dropout, activation)
        self._init_args = dict(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward,
                               dropout=dropout, activation=activation,
                               layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                               norm_first=norm_first, bias=bias)
        self.d_model = d_model
        self.batch_first = bool(batch_first)
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = act

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        _check_input(self, tgt, "tgt")
        _check_input(self, memory, "memory")
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask,
                                               memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=bool(is_causal))[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, need_weights=False,
                                is_causal=bool(is_causal))[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


def _clone(stack_name, layer):
    """A copy of ``layer``: built from its recorded constructor arguments, then given its
    parameter values (copied), dtype, device and training mode."""
    args = getattr(layer, "_init_args", None)
    if not isinstance(layer, Module) or args is None:
        raise TypeError(
            f"{stack_name}: cannot copy a {type(layer).__name__}: the layer must be a Module "
            "that records its constructor arguments in `_init_args` (as "
            "TransformerEncoderLayer and TransformerDecoderLayer do)")
    act = args.get("activation")
    if isinstance(act, Module) and next(act.parameters(), None) is not None:
        raise TypeError(
            f"{stack_name}: cannot copy a layer whose activation module has parameters "
            f"({type(act).__name__}): the copies would share them; pass a function or a "
            "parameter-free module")
    new = type(layer)(**args)
    first = next(layer.parameters(), None)
    if first is not None:
        new.to(first.device, first.dtype)
    new.load_state_dict({k: v._data.copy() for k, v in layer.state_dict().items()})
    return new.train(layer.training)


def _check_stack_args(name, layer, num_layers, kind):
    if not isinstance(layer, Module):
        raise TypeError(f"{name}: {kind} must be a Module, got {type(layer).__name__}")
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers <= 0:
        raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` in sequence, then the optional ``norm``.

    >>> import axonic
    >>> layer = TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
    >>> enc = TransformerEncoder(layer, num_layers=2)
    >>> enc(axonic.randn(2, 5, 16)).shape
    (2, 5, 16)
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        _check_stack_args("TransformerEncoder", encoder_layer, num_layers, "encoder_layer")
        self.layers = ModuleList([_clone("TransformerEncoder", encoder_layer)
                                  for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` in sequence, then the optional ``norm``.

    >>> import axonic
    >>> layer = TransformerDecoderLayer(16, 4, dim_feedforward=32)
    >>> dec = TransformerDecoder(layer, num_layers=2)
    >>> dec(axonic.randn(4, 2, 16), axonic.randn(6, 2, 16)).shape
    (4, 2, 16)
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        _check_stack_args("TransformerDecoder", decoder_layer, num_layers, "decoder_layer")
        self.layers = ModuleList([_clone("TransformerDecoder", decoder_layer)
                                  for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need", PyTorch's layout:
    ``encoder`` and ``decoder`` stacks, each ending in a LayerNorm; every weight matrix
    starts xavier-uniform.

    >>> import axonic
    >>> model = Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
    ...                     dim_feedforward=32)
    >>> src, tgt = axonic.randn(6, 2, 16), axonic.randn(4, 2, 16)
    >>> model(src, tgt, tgt_mask=Transformer.generate_square_subsequent_mask(4)).shape
    (4, 2, 16)
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                  layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                  norm_first=norm_first, bias=bias, device=device, dtype=dtype)
        norm_kw = dict(eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(TransformerEncoderLayer(d_model, nhead, **kw),
                                              num_encoder_layers, LayerNorm(d_model, **norm_kw))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(TransformerDecoderLayer(d_model, nhead, **kw),
                                              num_decoder_layers, LayerNorm(d_model, **norm_kw))
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = bool(batch_first)
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        for what, t in (("src", src), ("tgt", tgt)):
            if not isinstance(t, Tensor) or t.ndim not in (2, 3) or t.shape[-1] != self.d_model:
                got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
                raise self.input_error(
                    f"expected {what} with last dimension d_model={self.d_model}, got {got}")
        if src.ndim == 3 and src.shape[0 if self.batch_first else 1] != \
                tgt.shape[0 if self.batch_first else 1]:
            raise self.input_error(f"the batch size of src and tgt must be equal, got shapes "
                                   f"{tuple(src.shape)} and {tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
