"""``Embedding``: a lookup table of learned vectors, indexed by integers."""

from __future__ import annotations

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module, resolve_dtype
from axonic.nn import init
from axonic.nn.module import Module
from axonic.nn.parameter import Parameter
from axonic.ops import embedding as _fused


def _check_indices(op, input, num):
    if not isinstance(input, Tensor) or input.dtype.kind not in "iu":
        got = input.dtype.name if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{op}: expected an integer tensor of indices, got {got}")
    idx = input._data
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= num:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{op}: index {bad} is out of range for {num} embeddings "
                             f"(expected indices in [0, {num - 1}])")


def _renorm_(weight, idx, max_norm, norm_type):
    # rows looked up are scaled in place so their norm is at most max_norm (as PyTorch)
    xp = get_array_module(weight._data)
    xp_rows = xp.unique(xp.asarray(idx).reshape(-1)) if hasattr(idx, "reshape") else idx
    with no_grad():
        w = weight._data
        rows = w[xp_rows]
        norms = (xp.abs(rows) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
        w[xp_rows] = rows * scale[:, None]
        weight._vc[0] += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """Rows of ``weight`` at the integer ``input``; output shape ``input.shape + (dim,)``.

    >>> import axonic
    >>> embedding(axonic.tensor([[0, 2]]), axonic.eye(3)).shape
    (1, 2, 3)
    """
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-d (num_embeddings, embedding_dim), "
                         f"got shape {tuple(weight.shape)}")
    num = weight.shape[0]
    _check_indices("embedding", input, num)
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for "
                             f"{num} embeddings")
        padding_idx = padding_idx % num
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    if max_norm is not None:
        _renorm_(weight, input._data, max_norm, norm_type)
    return _fused.Embedding.apply(weight, input._data, padding_idx=padding_idx)


def _init_table(module, layer: str, num_embeddings, embedding_dim, padding_idx, max_norm,
                norm_type, scale_grad_by_freq, sparse, _weight, _freeze, device, dtype):
    """Check the arguments of an embedding table and make its weight (``Embedding`` and
    ``EmbeddingBag`` share them)."""
    for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
            raise ValueError(f"{layer}: {name} must be a non-negative integer, got {v!r}")
    if padding_idx is not None:
        if isinstance(padding_idx, bool) or not isinstance(padding_idx, int | np.integer) \
                or not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"{layer}: padding_idx must be an int in "
                             f"[{-num_embeddings}, {num_embeddings - 1}], got {padding_idx!r}")
        padding_idx = int(padding_idx) % num_embeddings
    if max_norm is not None and not max_norm > 0:
        raise ValueError(f"{layer}: max_norm must be positive, got {max_norm!r}")
    if not norm_type > 0:
        raise ValueError(f"{layer}: norm_type must be positive, got {norm_type!r}")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError(f"{layer}: scale_grad_by_freq and sparse are not "
                                  "supported")
    module.num_embeddings, module.embedding_dim = int(num_embeddings), int(embedding_dim)
    module.padding_idx, module.max_norm, module.norm_type = padding_idx, max_norm, norm_type
    module.scale_grad_by_freq, module.sparse = scale_grad_by_freq, sparse
    if _weight is None:
        from axonic.ops.creation import empty

        module.weight = Parameter(empty(num_embeddings, embedding_dim,
                                        dtype=resolve_dtype(dtype), device=device),
                                  requires_grad=not _freeze)
        module.reset_parameters()
    else:
        if tuple(_weight.shape) != (num_embeddings, embedding_dim):
            raise ValueError(f"{layer}: _weight must have shape ({num_embeddings}, "
                             f"{embedding_dim}), got {tuple(_weight.shape)}")
        module.weight = Parameter(_weight, requires_grad=not _freeze)


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, initialised
    N(0, 1) with the ``padding_idx`` row zero (and kept out of the gradient).

    >>> import axonic
    >>> from axonic import nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(axonic.tensor([[0, 4]])).shape, emb.weight[0].abs().sum().item()
    ((1, 2, 3), 0.0)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        _init_table(self, "Embedding", num_embeddings, embedding_dim, padding_idx, max_norm,
                    norm_type, scale_grad_by_freq, sparse, _weight, _freeze, device, dtype)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight._data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False):
        """An Embedding holding a copy of the 2-d ``embeddings`` (frozen by default)."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-d, got shape "
                             f"{tuple(embeddings.shape)}")
        from axonic.ops.convert import clone

        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=clone(embeddings).detach(), _freeze=freeze)

    def forward(self, input: Tensor) -> Tensor:
        try:
            _check_indices("embedding", input, self.num_embeddings)
        except ValueError as e:
            raise self.input_error(str(e).split(": ", 1)[1]) from None
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s
