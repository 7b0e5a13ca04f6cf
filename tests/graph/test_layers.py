"""Graph layers equal PyTorch Geometric's on the karate club graph: same state_dict,
same outputs, same input and parameter gradients."""

import numpy as np
import pytest
import torch_geometric.nn as pyg

import axonic
from axonic import nn
from axonic.data import karate_club
from tests.conftest import torch
from tests.nn._parity import assert_layer_matches

KARATE = karate_club()
EDGES = KARATE.edge_index.numpy()
X = np.random.default_rng(0).standard_normal((34, 5)).astype(np.float32)


def _same_keys(ours, theirs):
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}


@pytest.mark.parametrize("kwargs", [{}, {"bias": False},
                                    {"add_self_loops": False}])
def test_gcnconv_matches_pyg(kwargs):
    ours, theirs = nn.GCNConv(5, 4, **kwargs), pyg.GCNConv(5, 4, **kwargs)
    _same_keys(ours, theirs)
    assert_layer_matches(ours, theirs, X, EDGES)


@pytest.mark.parametrize("improved", [False, True])
def test_gcnconv_with_edge_weight_matches_pyg(improved):
    ours, theirs = nn.GCNConv(5, 4, improved=improved), pyg.GCNConv(5, 4, improved=improved)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    w = KARATE.edge_weight.numpy()
    assert_layer_matches(_WithWeight(ours, w), _WithWeight(theirs, torch.tensor(w)), X, EDGES,
                         load=False)


def test_gcnconv_improved_doubles_the_self_loops_without_edge_weight():
    # PyG ignores improved=True when no edge_weight is given; axonic applies A + 2I always
    conv = nn.GCNConv(5, 4, improved=True)
    ones = np.ones(EDGES.shape[1], np.float32)
    x = axonic.tensor(X)
    np.testing.assert_allclose(conv(x, EDGES).detach().numpy(),
                               conv(x, EDGES, ones).detach().numpy(), rtol=1e-6)


class _WithWeight:
    """A conv called with fixed edge weights, its parameters seen through."""

    def __init__(self, conv, w):
        self.conv, self.w = conv, w

    def __call__(self, x, e):
        return self.conv(x, e, self.w)

    def __getattr__(self, name):
        return getattr(self.conv, name)


def test_gcnconv_edge_weight_changes_the_output_like_pyg():
    ours, theirs = nn.GCNConv(5, 4), pyg.GCNConv(5, 4)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    w = KARATE.edge_weight.numpy()
    out = ours(axonic.tensor(X), EDGES, w).detach().numpy()
    ref = theirs(torch.tensor(X), torch.tensor(EDGES), torch.tensor(w)).detach().numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    assert not np.allclose(out, ours(axonic.tensor(X), EDGES).detach().numpy())


@pytest.mark.parametrize("kwargs", [{"heads": 1}, {"heads": 3}, {"heads": 2, "concat": False},
                                    {"heads": 2, "add_self_loops": False},
                                    {"heads": 2, "negative_slope": 0.1}])
def test_gatconv_matches_pyg(kwargs):
    ours, theirs = nn.GATConv(5, 4, **kwargs), pyg.GATConv(5, 4, **kwargs)
    _same_keys(ours, theirs)
    assert_layer_matches(ours, theirs, X, EDGES, rtol=1e-5, atol=1e-5)


def test_gatconv_attention_weights_match_pyg():
    ours, theirs = nn.GATConv(5, 4, heads=2), pyg.GATConv(5, 4, heads=2)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    _, (e, alpha) = ours(axonic.tensor(X), EDGES, return_attention_weights=True)
    _, (te, talpha) = theirs(torch.tensor(X), torch.tensor(EDGES), return_attention_weights=True)
    np.testing.assert_array_equal(e, te.numpy())
    np.testing.assert_allclose(alpha.detach().numpy(), talpha.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    sums = np.bincount(e[1], weights=alpha.detach().numpy()[:, 0], minlength=34)
    np.testing.assert_allclose(sums, 1, rtol=1e-5)


@pytest.mark.parametrize("kwargs", [{}, {"aggr": "max"}, {"aggr": "sum"}, {"aggr": "min"},
                                    {"normalize": True}, {"root_weight": False},
                                    {"bias": False}])
def test_sageconv_matches_pyg(kwargs):
    ours, theirs = nn.SAGEConv(5, 4, **kwargs), pyg.SAGEConv(5, 4, **kwargs)
    _same_keys(ours, theirs)
    assert_layer_matches(ours, theirs, X, EDGES)


@pytest.mark.parametrize("train_eps", [False, True])
def test_ginconv_matches_pyg(train_eps):
    ours = nn.GINConv(nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)), eps=0.3,
                      train_eps=train_eps)
    theirs = pyg.GINConv(torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(),
                                             torch.nn.Linear(8, 3)), eps=0.3,
                         train_eps=train_eps)
    _same_keys(ours, theirs)
    assert_layer_matches(ours, theirs, X, EDGES)


@pytest.mark.parametrize("name", ["global_add_pool", "global_mean_pool", "global_max_pool"])
def test_global_pools_match_pyg(name):
    batch = np.repeat(np.arange(4), [10, 0, 20, 4])  # graph 1 has no nodes
    ours_x = axonic.tensor(X, requires_grad=True)
    theirs_x = torch.tensor(X, requires_grad=True)
    out = getattr(nn, name)(ours_x, axonic.tensor(batch), 4)
    ref = getattr(pyg, name)(theirs_x, torch.tensor(batch), 4)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6)
    g = np.random.default_rng(1).standard_normal(ref.shape).astype(np.float32)
    out.backward(axonic.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-6)


def test_global_pool_without_batch_reads_out_the_whole_graph():
    out = nn.global_mean_pool(axonic.tensor(X))
    np.testing.assert_allclose(out.numpy(), X.mean(0, keepdims=True), rtol=1e-6)


def test_two_layer_gcn_gradients_match_pyg_in_float64():
    ours = [nn.GCNConv(34, 8).double(), nn.GCNConv(8, 2).double()]
    theirs = [pyg.GCNConv(34, 8).double(), pyg.GCNConv(8, 2).double()]
    for a, b in zip(ours, theirs):
        a.load_state_dict({k: v.numpy() for k, v in b.state_dict().items()})
    x = np.eye(34)
    out = ours[1](ours[0](axonic.tensor(x), EDGES).relu(), EDGES)
    ref = theirs[1](theirs[0](torch.tensor(x), torch.tensor(EDGES)).relu(), torch.tensor(EDGES))
    mask = KARATE.train_mask.numpy()
    y = KARATE.y.numpy()
    nn.functional.cross_entropy(out[mask], axonic.tensor(y[mask])).backward()
    torch.nn.functional.cross_entropy(ref[torch.tensor(mask)], torch.tensor(y[mask])).backward()
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    for a, b in zip(ours, theirs):
        for (name, p), (_, q) in zip(sorted(a.named_parameters()), sorted(b.named_parameters())):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-14,
                                       err_msg=name)


@pytest.mark.parametrize("make", [lambda: nn.GATConv(3, 2, heads=2), lambda: nn.GCNConv(3, 2),
                                  lambda: nn.SAGEConv(3, 2, aggr="max"),
                                  lambda: nn.GINConv(nn.Linear(3, 2), train_eps=True)])
def test_graph_layers_gradcheck_float64(make):
    from axonic.autograd import gradcheck

    edges = np.array([[0, 1, 1, 2, 3, 3, 4], [1, 0, 2, 1, 1, 4, 2]])
    conv = make().double()
    x = axonic.tensor(np.random.default_rng(0).standard_normal((5, 3)), requires_grad=True)
    params = [p for p in conv.parameters()]
    assert gradcheck(lambda x, *ps: conv(x, edges), (x, *params))
