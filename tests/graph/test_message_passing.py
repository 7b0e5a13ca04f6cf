"""A user's own MessagePassing subclass behaves like the same subclass in PyG; the
layers' error messages name the layer and the value."""

import numpy as np
import pytest
import torch_geometric.nn as pyg

import axonic
from axonic import nn
from axonic.nn.graph import add_remaining_self_loops, add_self_loops, degree, to_undirected
from tests.conftest import torch

EDGES = np.array([[0, 1, 1, 2, 3, 3], [1, 0, 2, 1, 1, 0]])
X = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)


class OursEdgeConv(nn.MessagePassing):
    """EdgeConv-like: max over neighbours of lin([x_i, x_j - x_i]), plus an update."""

    def __init__(self):
        super().__init__(aggr="max")
        self.lin = nn.Linear(6, 2)

    def forward(self, x, edge_index):
        return self.propagate(edge_index, x=x, scale=2.0)

    def message(self, x_i, x_j, scale):
        return self.lin(axonic.cat([x_i, x_j - x_i], 1)) * scale

    def update(self, inputs, x):
        return inputs + x[:, :2]


class TheirsEdgeConv(pyg.MessagePassing):
    def __init__(self):
        super().__init__(aggr="max")
        self.lin = torch.nn.Linear(6, 2)

    def forward(self, x, edge_index):
        return self.propagate(edge_index, x=x, scale=2.0)

    def message(self, x_i, x_j, scale):
        return self.lin(torch.cat([x_i, x_j - x_i], 1)) * scale

    def update(self, inputs, x):
        return inputs + x[:, :2]


def test_user_message_passing_subclass_matches_pyg():
    from tests.nn._parity import assert_layer_matches

    assert_layer_matches(OursEdgeConv(), TheirsEdgeConv(), X, EDGES)


@pytest.mark.parametrize("flow", ["source_to_target", "target_to_source"])
def test_flow_decides_which_end_receives(flow):
    class Count(nn.MessagePassing):
        def forward(self, x, edge_index):
            return self.propagate(edge_index, x=x)

    out = Count(flow=flow)(axonic.ones(3, 1), np.array([[0, 0], [1, 2]]))
    want = [0, 1, 1] if flow == "source_to_target" else [2, 0, 0]
    np.testing.assert_array_equal(out.numpy()[:, 0], want)


def test_edge_helpers_match_pyg():
    import torch_geometric.utils as U

    e = np.array([[0, 1, 2, 2], [1, 2, 2, 0]])
    w = np.array([1.0, 2.0, 5.0, 3.0], np.float32)
    ours = add_remaining_self_loops(e, w, 1.0, 4)
    theirs = U.add_remaining_self_loops(torch.tensor(e), torch.tensor(w), 1.0, 4)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b.numpy())
    np.testing.assert_array_equal(add_self_loops(e, num_nodes=4)[0],
                                  U.add_self_loops(torch.tensor(e), num_nodes=4)[0].numpy())
    np.testing.assert_array_equal(degree(e[1], 4), U.degree(torch.tensor(e[1]), 4).numpy())
    np.testing.assert_array_equal(to_undirected(e), U.to_undirected(torch.tensor(e)).numpy())


@pytest.mark.parametrize("call,error,message", [
    (lambda: nn.GCNConv(3, 0), ValueError, "GCNConv: out_channels must be a positive integer, "
                                           "got 0"),
    (lambda: nn.GATConv(3, 2, heads=0), ValueError, "GATConv: heads must be a positive "
                                                    "integer, got 0"),
    (lambda: nn.GATConv(3, 2, dropout=1.0), ValueError, "GATConv: dropout must be in [0, 1), "
                                                        "got 1.0"),
    (lambda: nn.GATConv(3, 2, edge_dim=4), NotImplementedError, "GATConv: edge_dim and "
                                                               "residual are not supported"),
    (lambda: nn.SAGEConv(3, 2, aggr="lstm"), ValueError,
     "SAGEConv: aggr must be one of ('add', 'sum', 'mean', 'max', 'min'), got 'lstm'"),
    (lambda: nn.SAGEConv(3, 2, project=True), NotImplementedError,
     "SAGEConv: project=True is not supported"),
    (lambda: nn.GCNConv(3, 2, normalize=False, add_self_loops=True), ValueError,
     "GCNConv: add_self_loops=True needs normalize=True"),
    (lambda: nn.GINConv(5), TypeError, "GINConv: nn must be a Module (or callable), got int"),
    (lambda: nn.MessagePassing(flow="up"), ValueError,
     "MessagePassing: flow must be 'source_to_target' or 'target_to_source', got 'up'"),
    (lambda: nn.GCNConv(3, 2)(axonic.ones(4, 5), EDGES), ValueError,
     "GCNConv: x must have shape (num_nodes, 3), got (4, 5)"),
    (lambda: nn.GCNConv(3, 2)(axonic.ones(4, 3), EDGES[:, :1].T), ValueError,
     "gcn_norm: edge_index must have shape (2, num_edges), got (1, 2)"),
    (lambda: nn.GCNConv(3, 2)(axonic.ones(3, 3), EDGES), IndexError,
     "gcn_norm: edge_index refers to node 3 but there are only 3 nodes"),
    (lambda: nn.SAGEConv(3, 2)(axonic.ones(3, 3), EDGES), IndexError,
     "SAGEConv: edge_index refers to source node 3 but there are only 3 nodes"),
    (lambda: nn.GATConv(3, 2)(axonic.ones(4, 3), EDGES.astype(float)), TypeError,
     "GATConv: edge_index must hold integers, got float64"),
    (lambda: nn.GINConv(nn.Linear(3, 2))(axonic.ones(4, 3), -EDGES), IndexError,
     "GINConv: edge_index holds a negative node index -3"),
])
def test_graph_layer_errors_name_the_layer_and_the_value(call, error, message):
    with pytest.raises(error) as e:
        call()
    assert message in str(e.value)


def test_propagate_names_a_missing_message_argument():
    class Needs(nn.MessagePassing):
        def forward(self, x, edge_index):
            return self.propagate(edge_index, x=x)

        def message(self, x_j, edge_weight):
            return x_j

    with pytest.raises(TypeError, match=r"Needs: propagate\(\) got no value for "
                                        r"'edge_weight' \(pass it as propagate"):
        Needs()(axonic.ones(4, 3), EDGES)
