"""BERT (Devlin et al., 2018) with Hugging Face's class and parameter names
(``embeddings.word_embeddings``, ``encoder.layer.0.attention.self.query``, ``pooler.dense``
...), so a ``config.json`` + ``model.safetensors`` checkpoint loads with
``BertModel.from_pretrained(directory)``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import to_numpy
from axonic.nn import init
from axonic.nn.activation import GELU, ReLU, Tanh
from axonic.nn.attention import scaled_dot_product_attention
from axonic.nn.containers import ModuleList
from axonic.nn.dropout import Dropout
from axonic.nn.embedding import Embedding
from axonic.nn.linear import Linear
from axonic.nn.module import Module
from axonic.nn.normalization import LayerNorm
from axonic.ops.creation import arange

_ACTIVATIONS = {"gelu": lambda: GELU(), "gelu_new": lambda: GELU("tanh"),
                "gelu_pytorch_tanh": lambda: GELU("tanh"), "relu": lambda: ReLU()}


@dataclass
class BertConfig:
    """BERT's sizes, with Hugging Face's names and defaults (BERT-base)."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0

    def __post_init__(self):
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"BertConfig: hidden_size must be divisible by "
                             f"num_attention_heads, got hidden_size={self.hidden_size} and "
                             f"num_attention_heads={self.num_attention_heads}")
        if self.hidden_act not in _ACTIVATIONS:
            raise ValueError(f"BertConfig: hidden_act must be one of {sorted(_ACTIVATIONS)}, "
                             f"got {self.hidden_act!r}")

    @classmethod
    def from_dict(cls, d: dict) -> BertConfig:
        """The config from a ``config.json`` dict; keys BertModel does not use are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def from_json_file(cls, path) -> BertConfig:
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))


class BaseModelOutputWithPooling(NamedTuple):
    """``last_hidden_state`` (B, T, hidden) and ``pooler_output`` (B, hidden) or None."""

    last_hidden_state: Tensor
    pooler_output: Tensor | None


class BertEmbeddings(Module):
    """Word + position + token-type embeddings, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = Embedding(config.vocab_size, config.hidden_size,
                                         padding_idx=config.pad_token_id)
        self.position_embeddings = Embedding(config.max_position_embeddings,
                                             config.hidden_size)
        self.token_type_embeddings = Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor) -> Tensor:
        pos = arange(input_ids.shape[1], dtype=np.int64)
        x = (self.word_embeddings(input_ids) + self.position_embeddings(pos)
             + self.token_type_embeddings(token_type_ids))
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(Module):
    """Scaled dot-product attention over ``num_attention_heads`` heads."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.query = Linear(config.hidden_size, config.hidden_size)
        self.key = Linear(config.hidden_size, config.hidden_size)
        self.value = Linear(config.hidden_size, config.hidden_size)
        self.dropout = Dropout(config.attention_probs_dropout_prob)

    def _heads(self, x: Tensor) -> Tensor:
        B, T, _ = x.shape
        return x.reshape(B, T, self.num_attention_heads, self.attention_head_size).transpose(1, 2)

    def forward(self, hidden: Tensor, keep) -> Tensor:
        q, k, v = self._heads(self.query(hidden)), self._heads(self.key(hidden)), \
            self._heads(self.value(hidden))
        p = self.dropout.p if self.training else 0.0
        y = scaled_dot_product_attention(q, k, v, attn_mask=keep, dropout_p=p)
        B, _, T, _ = y.shape
        return y.transpose(1, 2).reshape(B, T, -1)


class BertSelfOutput(Module):
    """Project the attention output, dropout, then LayerNorm(x + residual)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, hidden: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertAttention(Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, hidden: Tensor, keep) -> Tensor:
        return self.output(self.self(hidden, keep), hidden)


class BertIntermediate(Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = _ACTIVATIONS[config.hidden_act]()

    def forward(self, hidden: Tensor) -> Tensor:
        return self.intermediate_act_fn(self.dense(hidden))


class BertOutput(BertSelfOutput):
    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.dense = Linear(config.intermediate_size, config.hidden_size)


class BertLayer(Module):
    """Post-norm Transformer encoder layer: attention, then the feed-forward block."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, hidden: Tensor, keep) -> Tensor:
        a = self.attention(hidden, keep)
        return self.output(self.intermediate(a), a)


class BertEncoder(Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden: Tensor, keep) -> Tensor:
        for layer in self.layer:
            hidden = layer(hidden, keep)
        return hidden


class BertPooler(Module):
    """tanh(dense(hidden state of the first token, [CLS]))."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.activation = Tanh()

    def forward(self, hidden: Tensor) -> Tensor:
        return self.activation(self.dense(hidden[:, 0]))


class BertModel(Module):
    """The BERT encoder. ``forward(input_ids, attention_mask=None, token_type_ids=None)``
    returns ``BaseModelOutputWithPooling(last_hidden_state, pooler_output)``; the mask is 1
    for real tokens and 0 for padding.

    >>> import axonic
    >>> cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2,
    ...                  num_attention_heads=4, intermediate_size=32)
    >>> out = BertModel(cfg)(axonic.tensor([[2, 7, 9, 0]]),
    ...                      attention_mask=axonic.tensor([[1, 1, 1, 0]]))
    >>> out.last_hidden_state.shape, out.pooler_output.shape
    ((1, 4, 16), (1, 16))
    """

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__()
        if not isinstance(config, BertConfig):
            raise ValueError(f"BertModel: config must be a BertConfig, got "
                             f"{type(config).__name__}")
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self._init_weights()

    def _init_weights(self):
        std = self.config.initializer_range
        for m in self.modules():
            if isinstance(m, (Linear, Embedding)):
                init.normal_(m.weight, std=std)
            if isinstance(m, Linear):
                init.zeros_(m.bias)
        pad = self.config.pad_token_id
        if pad is not None:
            self.embeddings.word_embeddings.weight._data[pad] = 0

    def _ids(self, name, t, shape=None):
        arr = t if isinstance(t, Tensor) else _make(np.asarray(t))
        if arr.ndim != 2 or arr.dtype.kind not in "iub" or (shape and tuple(arr.shape) != shape):
            want = f"{shape}" if shape else "(batch, seq)"
            raise self.input_error(f"expected {name} of integer dtype and shape {want}, got "
                                   f"shape {tuple(arr.shape)} dtype {arr.dtype}")
        return arr

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        input_ids = self._ids("input_ids", input_ids)
        B, T = input_ids.shape
        if T > self.config.max_position_embeddings:
            raise self.input_error(f"input_ids has {T} tokens, more than "
                                   f"max_position_embeddings={self.config.max_position_embeddings}")
        ids = to_numpy(input_ids._data)
        if ids.size and (ids.min() < 0 or ids.max() >= self.config.vocab_size):
            raise self.input_error(f"input_ids must be in [0, {self.config.vocab_size}), got "
                                   f"values in [{ids.min()}, {ids.max()}]")
        if token_type_ids is None:
            token_type_ids = _make(np.zeros((B, T), np.int64))
        token_type_ids = self._ids("token_type_ids", token_type_ids, (B, T))
        keep = None
        if attention_mask is not None:
            m = to_numpy(self._ids("attention_mask", attention_mask, (B, T))._data)
            keep = (m != 0)[:, None, None, :]  # (B, 1, 1, T): True where a key takes part
        hidden = self.encoder(self.embeddings(input_ids, token_type_ids), keep)
        pooled = self.pooler(hidden) if self.pooler is not None else None
        return BaseModelOutputWithPooling(hidden, pooled)

    @classmethod
    def from_pretrained(cls, path, add_pooling_layer: bool = True) -> BertModel:
        """Load a Hugging Face checkpoint directory (``config.json`` and
        ``model.safetensors``). A ``bert.`` key prefix (task models) is removed and the
        ``embeddings.position_ids`` buffer older checkpoints carry is ignored."""
        from axonic.models._weights import read_state_dict

        path = os.fspath(path)
        for name in ("config.json", "model.safetensors"):
            if not os.path.exists(os.path.join(path, name)):
                raise FileNotFoundError(f"BertModel.from_pretrained: no {name} in {path!r}")
        model = cls(BertConfig.from_json_file(os.path.join(path, "config.json")),
                    add_pooling_layer=add_pooling_layer)
        state = read_state_dict(os.path.join(path, "model.safetensors"))
        state = {k.removeprefix("bert."): v for k, v in state.items()
                 if not k.endswith("embeddings.position_ids")}
        if not add_pooling_layer:
            state = {k: v for k, v in state.items() if not k.startswith("pooler.")}
        own = set(model.state_dict())
        model.load_state_dict({k: v for k, v in state.items() if k in own or
                               not k.startswith(("cls.", "classifier."))})
        return model.eval()
