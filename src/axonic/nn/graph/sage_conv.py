"""``SAGEConv``: GraphSAGE (Hamilton et al.), ``W_l agg_j x_j + W_r x_i``, with PyTorch
Geometric's names and ``state_dict`` (``lin_l.weight``, ``lin_l.bias``, ``lin_r.weight``)."""

from __future__ import annotations

from axonic.nn.graph._init import check_channels
from axonic.nn.graph.message_passing import MessagePassing
from axonic.nn.linear import Linear
from axonic.nn.normalization import normalize as l2_normalize


class SAGEConv(MessagePassing):
    """GraphSAGE layer; ``aggr`` is ``"mean"`` (default), ``"max"``, ``"min"`` or
    ``"sum"``/``"add"``; ``normalize=True`` L2-normalises the output rows. ``x`` may be a
    pair ``(x_source, x_target)`` for bipartite graphs.

    >>> import axonic
    >>> conv = SAGEConv(3, 2, aggr="max")
    >>> conv(axonic.ones(4, 3), axonic.tensor([[0, 1, 2], [1, 2, 3]])).shape
    (4, 2)
    """

    def __init__(self, in_channels, out_channels: int, aggr: str = "mean",
                 normalize: bool = False, root_weight: bool = True, project: bool = False,
                 bias: bool = True, **kwargs):
        if not isinstance(aggr, str):
            raise NotImplementedError(f"SAGEConv: aggr must be a string (mean, max, min, "
                                      f"sum), got {aggr!r}")
        super().__init__(aggr=aggr, **kwargs)
        if project:
            raise NotImplementedError("SAGEConv: project=True is not supported")
        src, dst = in_channels if isinstance(in_channels, tuple) else (in_channels,) * 2
        check_channels("SAGEConv", in_channels=src, out_channels=out_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.normalize, self.root_weight = normalize, root_weight
        self.lin_l = Linear(src, out_channels, bias=bias)
        if root_weight:
            self.lin_r = Linear(dst, out_channels, bias=False)

    def forward(self, x, edge_index, size=None):
        pair = x if isinstance(x, tuple) else (x, x)
        out = self.lin_l(self.propagate(edge_index, x=pair, size=size))
        if self.root_weight and pair[1] is not None:
            out = out + self.lin_r(pair[1])
        return l2_normalize(out, p=2.0, dim=-1) if self.normalize else out

    def message(self, x_j):
        return x_j

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, aggr={self.aggr}"
