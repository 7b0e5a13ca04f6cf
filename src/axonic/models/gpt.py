"""A GPT (Radford et al., 2018/2019): token and position embeddings, causal pre-norm
Transformer blocks and a language-model head tied to the token embedding. Module names
follow GPT-2 as written in nanoGPT (``transformer.wte``, ``transformer.h.0.attn.c_attn``,
``lm_head`` ...)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import to_numpy
from axonic.backend.random import default_generator
from axonic.nn import init
from axonic.nn.activation import GELU
from axonic.nn.attention import scaled_dot_product_attention
from axonic.nn.containers import ModuleDict, ModuleList
from axonic.nn.dropout import Dropout
from axonic.nn.embedding import Embedding
from axonic.nn.linear import Linear
from axonic.nn.loss import cross_entropy
from axonic.nn.module import Module
from axonic.nn.normalization import LayerNorm
from axonic.ops.creation import arange


@dataclass
class GPTConfig:
    """The GPT's sizes; the defaults are GPT-2 small's (124M parameters)."""

    block_size: int = 1024
    vocab_size: int = 50257
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True

    def __post_init__(self):
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"GPTConfig: {name} must be a positive int, got {v!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd must be divisible by n_head, got "
                             f"n_embd={self.n_embd} and n_head={self.n_head}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"GPTConfig: dropout must be in [0, 1), got {self.dropout!r}")


class CausalSelfAttention(Module):
    """Multi-head self-attention in which position t sees positions 0..t only."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_attn = Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = Dropout(config.dropout)
        self.resid_dropout = Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        h = self.n_head
        qkv = self.c_attn(x)
        q, k, v = (qkv[..., i * C:(i + 1) * C].reshape(B, T, h, C // h).transpose(1, 2)
                   for i in range(3))
        y = scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training
                                         else 0.0, is_causal=True)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(Module):
    """Position-wise feed-forward: Linear to 4 x n_embd, GELU, Linear back, dropout."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = GELU()
        self.c_proj = Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(Module):
    """Pre-norm block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(Module):
    """A decoder-only Transformer language model. ``forward(idx, targets=None)`` returns
    ``(logits, loss)``: logits ``(B, T, vocab_size)`` and, given targets, the mean
    cross-entropy of predicting each next token (``loss`` is None otherwise).

    >>> import axonic
    >>> axonic.manual_seed(0)  # doctest: +ELLIPSIS
    <...>
    >>> gpt = GPT(GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8))
    >>> logits, loss = gpt(axonic.tensor([[1, 2, 3]]), targets=axonic.tensor([[2, 3, 4]]))
    >>> logits.shape, round(loss.item(), 1)
    ((1, 3, 11), 2.4)
    >>> gpt.generate(axonic.tensor([[1, 2]]), max_new_tokens=4, top_k=1).shape
    (1, 6)
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise ValueError(f"GPT: config must be a GPTConfig, got {type(config).__name__}")
        self.config = config
        self.transformer = ModuleDict(dict(
            wte=Embedding(config.vocab_size, config.n_embd),
            wpe=Embedding(config.block_size, config.n_embd),
            drop=Dropout(config.dropout),
            h=ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias)))
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying (Press & Wolf, 2017)
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, (Linear, Embedding)):
                init.normal_(m.weight, mean=0.0, std=0.02)
                if isinstance(m, Linear) and m.bias is not None:
                    init.zeros_(m.bias)
        for name, p in self.named_parameters():  # scaled residual projections (GPT-2)
            if name.endswith("c_proj.weight"):
                init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * self.config.n_layer))

    def _check_idx(self, idx):
        if not isinstance(idx, Tensor) or idx.ndim != 2 or idx.dtype.kind not in "iu":
            got = (f"shape {tuple(idx.shape)} dtype {idx.dtype}" if isinstance(idx, Tensor)
                   else type(idx).__name__)
            raise self.input_error(f"expected integer token ids of shape (B, T), got {got}")

    def forward(self, idx: Tensor, targets: Tensor | None = None):
        self._check_idx(idx)
        T = idx.shape[1]
        if T > self.config.block_size:
            raise self.input_error(f"cannot forward a sequence of length {T}: block_size is "
                                   f"{self.config.block_size}")
        pos = arange(T, dtype=np.int64)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None
        if targets is not None:
            loss = cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                 ignore_index=-1)
        return logits, loss

    def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, generator=None) -> Tensor:
        """Append ``max_new_tokens`` tokens to ``idx`` (B, T), each drawn from the softmax
        of the last logits divided by ``temperature``, restricted to the ``top_k`` most
        likely tokens when given (``top_k=1`` is greedy decoding). The context is cropped
        to the last ``block_size`` tokens. Draws use ``generator`` (default: axonic's)."""
        self._check_idx(idx)
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) \
                or max_new_tokens < 0:
            raise ValueError(f"GPT.generate: max_new_tokens must be a non-negative int, got "
                             f"{max_new_tokens!r}")
        if not temperature > 0:
            raise ValueError(f"GPT.generate: temperature must be > 0, got {temperature!r}")
        if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
            raise ValueError(f"GPT.generate: top_k must be None or a positive int, got "
                             f"{top_k!r}")
        gen = default_generator if generator is None else generator
        out = to_numpy(idx._data).astype(np.int64)
        with no_grad():
            for _ in range(max_new_tokens):
                ctx = _make(out[:, -self.config.block_size:])
                logits, _ = self(ctx)
                nxt = _sample(to_numpy(logits._data[:, -1, :]).astype(np.float64),
                              temperature, top_k, gen)
                out = np.concatenate([out, nxt[:, None]], axis=1)
        return _make(out)


def _sample(logits: np.ndarray, temperature: float, top_k: int | None, gen) -> np.ndarray:
    """One token per row from softmax(logits / temperature), top-k filtered."""
    logits = logits / temperature
    if top_k is not None:
        k = min(top_k, logits.shape[-1])
        kth = np.sort(logits, axis=-1)[:, -k][:, None]
        logits = np.where(logits < kth, -np.inf, logits)
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    cdf = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    u = gen.uniform(0.0, 1.0, (logits.shape[0], 1), dtype=np.float64)
    return np.minimum((cdf < u).sum(axis=-1), logits.shape[-1] - 1)
