"""``MessagePassing``: the base of every graph layer, with PyTorch Geometric's protocol.

``propagate(edge_index, size=None, **kwargs)`` runs, for every edge ``j -> i``:
``message`` (its arguments named ``x_j`` / ``x_i`` receive ``x`` at the source / target
node of each edge), then ``aggregate`` (a scatter ``sum`` / ``mean`` / ``max`` / ``min``
of the messages into their target nodes), then ``update``.
"""

from __future__ import annotations

import inspect

from axonic.autograd.tensor import Tensor
from axonic.nn.graph.utils import as_edge_index
from axonic.nn.module import Module
from axonic.ops.segment import gather_index, scatter

AGGREGATIONS = ("add", "sum", "mean", "max", "min")
_SIGNATURES: dict = {}


def _params(fn) -> tuple:
    """Argument names of ``message`` / ``update`` (cached per function)."""
    names = _SIGNATURES.get(fn)
    if names is None:
        names = tuple(p for p in inspect.signature(fn).parameters if p != "self")
        _SIGNATURES[fn] = names
    return names


class MessagePassing(Module):
    """Subclass it and write ``message`` (and optionally ``aggregate`` / ``update``);
    call ``self.propagate(edge_index, x=x)`` in ``forward``.

    >>> import axonic
    >>> class SumOfNeighbours(MessagePassing):
    ...     def __init__(self):
    ...         super().__init__(aggr="add")
    ...     def forward(self, x, edge_index):
    ...         return self.propagate(edge_index, x=x)
    ...     def message(self, x_j):
    ...         return x_j
    >>> x = axonic.tensor([[1.0], [2.0], [4.0]])
    >>> SumOfNeighbours()(x, axonic.tensor([[0, 1, 2], [2, 2, 0]]))
    tensor([[4.],
            [0.],
            [3.]])
    """

    def __init__(self, aggr: str = "add", *, flow: str = "source_to_target",
                 node_dim: int = -2):
        super().__init__()
        name = type(self).__name__
        if aggr not in AGGREGATIONS:
            raise ValueError(f"{name}: aggr must be one of {AGGREGATIONS}, got {aggr!r}")
        if flow not in ("source_to_target", "target_to_source"):
            raise ValueError(f"{name}: flow must be 'source_to_target' or 'target_to_source', "
                             f"got {flow!r}")
        self.aggr, self.flow, self.node_dim = aggr, flow, node_dim

    # --- the protocol ----------------------------------------------------------------
    def propagate(self, edge_index, size=None, **kwargs):
        """Messages along ``edge_index``, aggregated into the target nodes, updated."""
        e = as_edge_index(edge_index, where=type(self).__name__)
        j, i = (0, 1) if self.flow == "source_to_target" else (1, 0)
        src, dst = e[j], e[i]
        size_j, size_i = self._sizes(size, kwargs, e)
        known = {"index": dst, "edge_index": e, "size_i": size_i, "size_j": size_j,
                 "dim_size": size_i, "size": (size_j, size_i)}
        args = self._collect(_params(self.message), kwargs, known, src, dst, (size_j, size_i))
        out = self.message(**args)
        out = self.aggregate(out, dst, dim_size=size_i)
        names = _params(self.update)[1:]
        return self.update(out, **self._collect(names, kwargs, known, src, dst,
                                                (size_j, size_i)))

    def message(self, x_j):
        """What each edge sends; by default the source node's features."""
        return x_j

    def aggregate(self, inputs, index, dim_size=None):
        """Reduce the messages into their target nodes with ``self.aggr``."""
        return scatter(inputs, index, dim=self.node_dim, dim_size=dim_size, reduce=self.aggr)

    def update(self, inputs):
        """What a node makes of its aggregated messages; by default nothing changes."""
        return inputs

    # --- helpers ---------------------------------------------------------------------
    def _sizes(self, size, kwargs, e):
        if size is not None:
            size_j, size_i = size
        else:
            size_j = size_i = None
        for value in kwargs.values():
            pair = value if isinstance(value, tuple) else (value, value)
            for k, v in enumerate(pair):
                if isinstance(v, Tensor) and v.ndim >= 1:
                    n = v.shape[self.node_dim % v.ndim]
                    if k == 0 and size_j is None:
                        size_j = n
                    elif k == 1 and size_i is None:
                        size_i = n
        top = int(e.max()) + 1 if e.size else 0
        size_j = top if size_j is None else size_j
        size_i = size_j if size_i is None else size_i
        j, i = (0, 1) if self.flow == "source_to_target" else (1, 0)
        for row, n, side in ((j, size_j, "source"), (i, size_i, "target")):
            if e.size and int(e[row].max()) >= n:
                raise IndexError(
                    f"{type(self).__name__}: edge_index refers to {side} node "
                    f"{int(e[row].max())} but there are only {n} nodes")
        return size_j, size_i

    def _collect(self, names, kwargs, known, src, dst, sizes):
        args = {}
        for name in names:
            if name in kwargs:
                args[name] = kwargs[name]
            elif name[-2:] in ("_j", "_i") and name[:-2] in kwargs:
                side = 0 if name[-1] == "j" else 1
                value = kwargs[name[:-2]]
                if isinstance(value, tuple):
                    value = value[side]
                args[name] = None if value is None else self._lift(value, (src, dst)[side])
            elif name in known:
                args[name] = known[name]
            else:
                raise TypeError(f"{type(self).__name__}: propagate() got no value for "
                                f"'{name}' (pass it as propagate(..., {name}=...))")
        return args

    def _lift(self, value, index):
        """``value`` at ``index`` along the node dimension: one row per edge."""
        return gather_index(value, index, self.node_dim % value.ndim)
