"""``GATConv``: graph attention (Velickovic et al.), multi-head, PyTorch Geometric's
names and ``state_dict`` (``lin.weight``, ``att_src``, ``att_dst``, ``bias``)."""

from __future__ import annotations

from axonic.nn import init
from axonic.nn.dropout import dropout
from axonic.nn.graph._init import check_channels, check_features, glorot_, parameter
from axonic.nn.graph.message_passing import MessagePassing
from axonic.nn.graph.utils import add_self_loops, as_edge_index, remove_self_loops
from axonic.nn.linear import Linear
from axonic.ops.activations import leaky_relu
from axonic.ops.segment import gather_index, scatter_softmax


class GATConv(MessagePassing):
    """Attention over each node's incoming edges: per head ``h``,
    ``alpha_ij = softmax_j(leaky_relu(a_src . W x_j + a_dst . W x_i))`` and
    ``x_i' = sum_j alpha_ij W x_j``; heads are concatenated (``concat=True``) or averaged.

    ``conv(x, edge_index, return_attention_weights=True)`` also returns
    ``(edge_index, alpha)`` with ``alpha`` of shape (num_edges, heads).

    >>> import axonic
    >>> conv = GATConv(3, 4, heads=2)
    >>> conv(axonic.ones(5, 3), axonic.tensor([[0, 1, 2], [1, 2, 3]])).shape
    (5, 8)
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1,
                 concat: bool = True, negative_slope: float = 0.2, dropout: float = 0.0,
                 add_self_loops: bool = True, edge_dim=None, fill_value="mean",
                 bias: bool = True, residual: bool = False, **kwargs):
        super().__init__(aggr=kwargs.pop("aggr", "add"), node_dim=0, **kwargs)
        check_channels("GATConv", in_channels=in_channels, out_channels=out_channels,
                       heads=heads)
        if edge_dim is not None or residual:
            raise NotImplementedError("GATConv: edge_dim and residual are not supported; "
                                      "leave them at None and False")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"GATConv: dropout must be in [0, 1), got {dropout!r}")
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.add_self_loops = add_self_loops
        self.att_src = parameter(1, heads, out_channels)
        self.att_dst = parameter(1, heads, out_channels)
        if bias:
            self.bias = parameter(heads * out_channels if concat else out_channels)
        else:
            self.register_parameter("bias", None)
        self.lin = Linear(in_channels, heads * out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self):
        glorot_(self.lin.weight)
        glorot_(self.att_src)
        glorot_(self.att_dst)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x, edge_index, return_attention_weights=None):
        check_features("GATConv", x, self.in_channels)
        h, c = self.heads, self.out_channels
        n = x.shape[0]
        e = as_edge_index(edge_index, n, "GATConv")
        if self.add_self_loops:
            e, _ = add_self_loops(remove_self_loops(e)[0], num_nodes=n)
        xw = self.lin(x).reshape(n, h, c)
        alpha_src = (xw * self.att_src).sum(-1)  # (N, H)
        alpha_dst = (xw * self.att_dst).sum(-1)
        scores = leaky_relu(gather_index(alpha_src, e[0]) + gather_index(alpha_dst, e[1]),
                            self.negative_slope)
        alpha = scatter_softmax(scores, e[1], dim=0, dim_size=n)
        attention = alpha
        if self.dropout and self.training:
            alpha = dropout(alpha, self.dropout, training=True)
        out = self.propagate(e, x=xw, alpha=alpha)  # (N, H, C)
        out = out.reshape(n, h * c) if self.concat else out.mean(1)
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, (e, attention)
        return out

    def message(self, x_j, alpha):
        return x_j * alpha.unsqueeze(-1)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}"
