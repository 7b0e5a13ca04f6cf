"""Graph neural networks with PyTorch Geometric's names: ``MessagePassing``, ``GCNConv``,
``GATConv``, ``SAGEConv``, ``GINConv``, the global pools, the scatter ops and edge helpers.

>>> import axonic
>>> from axonic.nn import GCNConv
>>> GCNConv(2, 3)(axonic.ones(3, 2), axonic.tensor([[0, 1], [1, 2]])).shape
(3, 3)
"""

from axonic.nn.graph.gat_conv import GATConv
from axonic.nn.graph.gcn_conv import GCNConv, gcn_norm
from axonic.nn.graph.gin_conv import GINConv
from axonic.nn.graph.message_passing import MessagePassing
from axonic.nn.graph.pool import global_add_pool, global_max_pool, global_mean_pool
from axonic.nn.graph.sage_conv import SAGEConv
from axonic.nn.graph.utils import (
    add_remaining_self_loops,
    add_self_loops,
    degree,
    remove_self_loops,
    to_undirected,
)
from axonic.ops.segment import gather_index, scatter, scatter_softmax

__all__ = ["GATConv", "GCNConv", "GINConv", "MessagePassing", "SAGEConv",
           "add_remaining_self_loops", "add_self_loops", "degree", "gather_index", "gcn_norm",
           "global_add_pool", "global_max_pool", "global_mean_pool", "remove_self_loops",
           "scatter", "scatter_softmax", "to_undirected"]
