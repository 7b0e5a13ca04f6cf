"""Few-shot learning: prototypical networks (Snell et al. 2017), where a class is the
mean embedding of its few examples and a query is classified by its distance to them.

>>> import axonic
>>> support = axonic.tensor([[0.0, 0.0], [0.0, 2.0], [4.0, 4.0], [6.0, 4.0]])
>>> protos = prototypes(support, n_way=2, k_shot=2)
>>> protos
tensor([[0., 1.],
        [5., 4.]])
>>> prototypical_logits(axonic.tensor([[5.0, 5.0]]), protos).argmax(1)
tensor([1])
"""

from __future__ import annotations

from axonic.nn.module import Module


def prototypes(support, n_way: int, k_shot: int):
    """Mean embedding per class of support rows laid out class-major (n_way * k_shot, D)."""
    if support.ndim != 2 or support.shape[0] != n_way * k_shot:
        raise ValueError(f"prototypes: support must have shape (n_way * k_shot, features) = "
                         f"({n_way * k_shot}, D), got {tuple(support.shape)}")
    return support.reshape(n_way, k_shot, support.shape[1]).mean(1)


def prototypical_logits(query, protos):
    """Negative squared Euclidean distance of each query row to each prototype."""
    if query.ndim != 2 or protos.ndim != 2 or query.shape[1] != protos.shape[1]:
        raise ValueError(f"prototypical_logits: query {tuple(query.shape)} and prototypes "
                         f"{tuple(protos.shape)} must be 2-d with the same feature size")
    diff = query.unsqueeze(1) - protos.unsqueeze(0)
    return -(diff * diff).sum(-1)


class PrototypicalNetwork(Module):
    """``encoder`` embeds support and query; logits are ``-||f(q) - c_k||^2`` for the
    class prototypes ``c_k``; train with cross-entropy on the query labels.

    >>> import axonic
    >>> from axonic import nn
    >>> net = PrototypicalNetwork(nn.Linear(4, 3))
    >>> net(axonic.ones(6, 4), axonic.ones(5, 4), n_way=3, k_shot=2).shape
    (5, 3)
    """

    def __init__(self, encoder: Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, support, query, n_way: int, k_shot: int):
        protos = prototypes(self.encoder(support), n_way, k_shot)
        return prototypical_logits(self.encoder(query), protos)
