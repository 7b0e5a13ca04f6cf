"""``GCNConv``: Kipf and Welling's graph convolution, ``D^-1/2 (A + I) D^-1/2 X W + b``."""

from __future__ import annotations

import numpy as np

from axonic.autograd.grad_mode import is_grad_enabled
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module
from axonic.nn import init
from axonic.nn.graph._init import check_channels, check_features, glorot_, parameter
from axonic.nn.graph.message_passing import MessagePassing
from axonic.nn.graph.utils import add_remaining_self_loops, as_edge_index
from axonic.nn.linear import Linear


def gcn_norm(edge_index, edge_weight=None, num_nodes=None, improved=False,
             add_self_loops=True, flow="source_to_target", dtype=np.float32):
    """Symmetric normalisation: returns ``(edge_index, weight)`` with the self-loops added
    (weight 2 if ``improved``) and ``weight = w / sqrt(deg(source) * deg(target))``.

    >>> e, w = gcn_norm(np.array([[0, 1], [1, 0]]), num_nodes=2)
    >>> w.round(4)
    array([0.5, 0.5, 0.5, 0.5], dtype=float32)
    """
    e = as_edge_index(edge_index, num_nodes, "gcn_norm")
    n = int(e.max()) + 1 if num_nodes is None and e.size else num_nodes or 0
    if isinstance(edge_weight, Tensor) and edge_weight.requires_grad and is_grad_enabled():
        return _gcn_norm_graph(e, edge_weight, n, 2.0 if improved else 1.0, add_self_loops,
                               flow)
    xp = get_array_module(e)
    w = (xp.ones(e.shape[1], dtype) if edge_weight is None else
         xp.asarray(edge_weight._data if isinstance(edge_weight, Tensor) else edge_weight,
                    dtype))
    if add_self_loops:
        e, w = add_remaining_self_loops(e, w, 2.0 if improved else 1.0, n)
    target = e[1] if flow == "source_to_target" else e[0]
    deg = xp.bincount(target, weights=w, minlength=n).astype(dtype)
    with np.errstate(divide="ignore"):
        inv_sqrt = xp.where(deg > 0, deg ** -0.5, 0).astype(dtype)
    return e, inv_sqrt[e[0]] * w * inv_sqrt[e[1]]


def _gcn_norm_graph(e, w, n, fill, add_self_loops, flow):
    """``gcn_norm`` on a weight tensor that requires grad: the same numbers, built from
    differentiable ops, so the edge weights get a gradient (as in PyTorch Geometric)."""
    import axonic
    from axonic.ops.segment import scatter

    xp = get_array_module(e)
    if add_self_loops:
        keep = e[0] != e[1]
        loops = xp.arange(n, dtype=e.dtype)
        # each node's existing loop edge (the last one, as add_remaining_self_loops)
        edge_of = xp.zeros(n, e.dtype)
        has = xp.zeros(n, bool)
        edge_of[e[0, ~keep]] = xp.nonzero(~keep)[0]
        has[e[0, ~keep]] = True
        loop_w = axonic.where(axonic.tensor(has), w[axonic.tensor(edge_of)],
                              axonic.full((n,), fill, dtype=w.dtype))
        w = axonic.cat([w[axonic.tensor(xp.nonzero(keep)[0])], loop_w])
        e = xp.concatenate([e[:, keep], xp.stack([loops, loops])], axis=1)
    target = e[1] if flow == "source_to_target" else e[0]
    deg = scatter(w, axonic.tensor(target), dim=0, dim_size=n, reduce="sum")
    positive = deg > 0
    inv_sqrt = axonic.where(positive, deg.clamp(min=1e-30) ** -0.5, axonic.zeros_like(deg))
    return e, inv_sqrt[axonic.tensor(e[0])] * w * inv_sqrt[axonic.tensor(e[1])]


class GCNConv(MessagePassing):
    """Graph convolution (PyTorch Geometric's ``GCNConv``), called as
    ``conv(x, edge_index, edge_weight=None)``; ``lin.weight`` (out, in) and ``bias`` as
    in PyG, so its ``state_dict`` loads. An ``edge_weight`` tensor that requires grad gets
    its gradient through the normalisation (learnable edge weights).

    >>> import axonic
    >>> conv = GCNConv(3, 2)
    >>> conv(axonic.ones(4, 3), axonic.tensor([[0, 1, 2], [1, 2, 3]])).shape
    (4, 2)
    """

    def __init__(self, in_channels: int, out_channels: int, improved: bool = False,
                 cached: bool = False, add_self_loops: bool | None = None,
                 normalize: bool = True, bias: bool = True, **kwargs):
        super().__init__(aggr=kwargs.pop("aggr", "add"), **kwargs)
        check_channels("GCNConv", in_channels=in_channels, out_channels=out_channels)
        if add_self_loops is None:
            add_self_loops = normalize
        if add_self_loops and not normalize:
            raise ValueError("GCNConv: add_self_loops=True needs normalize=True "
                             "(as in PyTorch Geometric)")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.improved, self.cached, self.normalize = improved, cached, normalize
        self.add_self_loops = add_self_loops
        self._cache = None
        if bias:
            self.bias = parameter(out_channels)
        else:
            self.register_parameter("bias", None)
        self.lin = Linear(in_channels, out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self):
        glorot_(self.lin.weight)
        if self.bias is not None:
            init.zeros_(self.bias)
        self._cache = None

    def forward(self, x, edge_index, edge_weight=None):
        check_features("GCNConv", x, self.in_channels)
        learnable = isinstance(edge_weight, Tensor) and edge_weight.requires_grad
        if self.normalize:
            if self._cache is None or learnable:
                e, w = gcn_norm(edge_index, edge_weight, x.shape[0], self.improved,
                                self.add_self_loops, self.flow, x.dtype)
                if self.cached and not learnable:
                    self._cache = (e, w)
            else:
                e, w = self._cache
        else:
            e = as_edge_index(edge_index, x.shape[0], "GCNConv")
            w = edge_weight if learnable else None if edge_weight is None else \
                get_array_module(e).asarray(edge_weight._data if isinstance(edge_weight, Tensor)
                                            else edge_weight, x.dtype)
        out = self.propagate(e, x=self.lin(x), edge_weight=w)
        return out if self.bias is None else out + self.bias

    def message(self, x_j, edge_weight):
        return x_j if edge_weight is None else x_j * edge_weight.reshape(-1, 1)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}"
