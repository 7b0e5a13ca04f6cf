"""Distances between batches of vectors: ``CosineSimilarity`` and ``PairwiseDistance``."""

from __future__ import annotations

from axonic.nn.module import Module
from axonic.nn.normalization import normalize


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """``x1 . x2 / (|x1| |x2|)`` along ``dim`` (each norm at least ``eps``).

    >>> import axonic
    >>> cosine_similarity(axonic.tensor([[1.0, 0.0]]), axonic.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    return (normalize(x1, dim=dim, eps=eps) * normalize(x2, dim=dim, eps=eps)).sum(dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """``||x1 - x2 + eps||_p`` over the last dim (eps keeps the gradient finite at 0).

    >>> import axonic
    >>> pairwise_distance(axonic.tensor([[3.0, 4.0]]), axonic.zeros(1, 2), eps=0.0)
    tensor([5.])
    """
    if not p > 0:
        raise ValueError(f"pairwise_distance: p must be positive, got {p!r}")
    d = (x1 - x2 + eps).abs()
    if p == 2:
        return (d * d).sum(-1, keepdim=keepdim).sqrt()
    if p == 1:
        return d.sum(-1, keepdim=keepdim)
    return (d ** p).sum(-1, keepdim=keepdim) ** (1.0 / p)


class CosineSimilarity(Module):
    """Cosine similarity of two inputs along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm distance of two inputs over their last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        if not p > 0:
            raise ValueError(f"PairwiseDistance: p must be positive, got {p!r}")
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
