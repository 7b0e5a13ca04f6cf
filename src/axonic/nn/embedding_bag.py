"""``EmbeddingBag``, PyTorch's: the sum, mean or max of the embeddings of each bag of
indices, without the ``(bags, bag length, dim)`` intermediate of ``Embedding`` followed by a
reduction. Bags are the rows of a 2-d input, or runs of a 1-d input starting at
``offsets``; ``per_sample_weights`` scale each looked-up row (``mode="sum"``);
``padding_idx`` entries are left out of their bag; an empty bag gives zeros.

>>> import axonic
>>> w = axonic.tensor([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]])
>>> embedding_bag(axonic.tensor([0, 1, 2, 2]), w, axonic.tensor([0, 2]), mode="sum").tolist()
[[1.0, 2.0], [8.0, 8.0]]
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.backend import to_numpy
from axonic.nn.embedding import Embedding, _check_indices, _init_table, _renorm_, embedding
from axonic.nn.module import Module
from axonic.ops.segment import scatter

_MODES = ("sum", "mean", "max")


def _bags(op: str, idx: np.ndarray, offsets, include_last_offset: bool):
    """The bag of each index and the number of bags."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None for a 2-d input (each row is a bag)")
        return np.repeat(np.arange(idx.shape[0]), idx.shape[1]), idx.shape[0]
    if idx.ndim != 1 or offsets is None:
        raise ValueError(f"{op}: expected a 2-d input (bags, indices) or a 1-d input with "
                         f"offsets, got shape {idx.shape} and offsets={offsets!r}")
    off = np.asarray(to_numpy(offsets._data) if isinstance(offsets, Tensor) else offsets)
    if off.ndim != 1 or off.dtype.kind not in "iu" or (off.size and (
            off[0] != 0 or np.any(np.diff(off) < 0) or off[-1] > idx.size)):
        raise ValueError(f"{op}: offsets must be a 1-d integer tensor starting at 0, "
                         f"non-decreasing and at most the input's length {idx.size}, got "
                         f"{off.tolist()}")
    bounds = off if include_last_offset else np.append(off, idx.size)
    return np.repeat(np.arange(len(bounds) - 1), np.diff(bounds)), len(bounds) - 1


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx=None):
    """``(bags, dim)``: each bag's ``mode`` of the rows of ``weight`` at its indices."""
    op = "embedding_bag"
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError(f"{op}: scale_grad_by_freq and sparse are not supported")
    _check_indices(op, input, weight.shape[0])
    idx = to_numpy(input._data).astype(np.int64)
    bag, count = _bags(op, idx, offsets, include_last_offset)
    flat = idx.reshape(-1)
    keep = np.ones(flat.size, bool) if padding_idx is None else flat != padding_idx % len(weight)
    if max_norm is not None:
        _renorm_(weight, flat[keep], max_norm, norm_type)
    rows = embedding(Tensor(flat[keep]), weight)
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(f"{op}: per_sample_weights work only with mode='sum', got "
                             f"mode={mode!r}")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"{op}: per_sample_weights must have the input's shape "
                             f"{tuple(input.shape)}, got {tuple(per_sample_weights.shape)}")
        rows = rows * per_sample_weights.reshape(-1)[keep].unsqueeze(1)
    return scatter(rows, bag[keep], 0, count, reduce=mode)


class EmbeddingBag(Module):
    """A table of ``num_embeddings`` vectors (N(0, 1)) reduced per bag by ``mode``."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx=None, device=None, dtype=None):
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        self.mode, self.include_last_offset = mode, bool(include_last_offset)
        _init_table(self, "EmbeddingBag", num_embeddings, embedding_dim, padding_idx, max_norm,
                    norm_type, scale_grad_by_freq, sparse, _weight, False, device, dtype)

    reset_parameters = Embedding.reset_parameters  # N(0, 1), the padding row zero

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx=None):
        """An EmbeddingBag holding a copy of the 2-d ``embeddings`` (frozen by default)."""
        if embeddings.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-d, got shape "
                             f"{tuple(embeddings.shape)}")
        bag = cls(*embeddings.shape, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  embeddings.detach().clone(), include_last_offset, padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag

    def forward(self, input, offsets=None, per_sample_weights=None):
        try:
            return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                                 False, self.mode, False, per_sample_weights,
                                 self.include_last_offset, self.padding_idx)
        except ValueError as e:
            raise self.input_error(str(e).split(": ", 1)[-1]) from None

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        s += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
