"""``GINConv``: the graph isomorphism network layer (Xu et al.),
``nn((1 + eps) x_i + sum_j x_j)``, with PyTorch Geometric's names (``nn.*``, ``eps``)."""

from __future__ import annotations

from axonic.autograd.tensor import tensor
from axonic.nn.graph.message_passing import MessagePassing
from axonic.nn.module import Module
from axonic.nn.parameter import Parameter


class GINConv(MessagePassing):
    """``eps`` is a buffer, or a learnable parameter with ``train_eps=True``.

    >>> import axonic
    >>> from axonic import nn
    >>> conv = GINConv(nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 8)))
    >>> conv(axonic.ones(4, 3), axonic.tensor([[0, 1, 2], [1, 2, 3]])).shape
    (4, 8)
    """

    def __init__(self, nn: Module, eps: float = 0.0, train_eps: bool = False, **kwargs):
        super().__init__(aggr=kwargs.pop("aggr", "add"), **kwargs)
        if not callable(nn):
            raise TypeError(f"GINConv: nn must be a Module (or callable), got "
                            f"{type(nn).__name__}")
        self.nn = nn
        self.initial_eps = float(eps)
        if train_eps:
            self.eps = Parameter(tensor([float(eps)]))
        else:
            self.register_buffer("eps", tensor([float(eps)]))

    def forward(self, x, edge_index, size=None):
        pair = x if isinstance(x, tuple) else (x, x)
        out = self.propagate(edge_index, x=pair, size=size)
        if pair[1] is not None:
            out = out + (1 + self.eps) * pair[1]
        return self.nn(out)

    def message(self, x_j):
        return x_j

    def extra_repr(self):
        return f"nn={self.nn.__class__.__name__}"
