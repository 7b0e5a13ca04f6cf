"""Learnable edge weights: GCNConv passes a gradient to an edge_weight tensor that
requires grad, through the self-loops and the symmetric normalisation, as PyG does."""
import numpy as np
import pytest
import torch
import torch_geometric.nn as pyg

import axonic
from axonic import nn

EDGES = np.array([[0, 1, 1, 2, 2, 3, 0, 2], [1, 0, 2, 1, 3, 2, 3, 2]])  # with a self-loop


@pytest.mark.parametrize("improved", [False, True])
def test_edge_weight_gradients_match_pyg(improved):
    torch.manual_seed(0)
    theirs = pyg.GCNConv(3, 2, improved=improved)
    ours = nn.GCNConv(3, 2, improved=improved)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = torch.randn(4, 3)
    tw = torch.rand(8, requires_grad=True)
    aw = axonic.tensor(tw.detach().numpy(), requires_grad=True)
    theirs(x, torch.from_numpy(EDGES), tw).square().sum().backward()
    out = ours(axonic.tensor(x.numpy()), axonic.tensor(EDGES), aw)
    out.square().sum().backward()
    np.testing.assert_allclose(aw.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_edge_weight_gradcheck_float64():
    axonic.manual_seed(0)
    conv = nn.GCNConv(3, 2).double()
    x = axonic.randn(4, 3, dtype=axonic.float64)
    w = axonic.tensor(np.random.default_rng(0).uniform(0.5, 1.5, 8), requires_grad=True)
    assert axonic.autograd.gradcheck(lambda w: conv(x, axonic.tensor(EDGES), w), (w,))


def test_a_constant_edge_weight_keeps_the_cached_fast_path():
    conv = nn.GCNConv(3, 2, cached=True)
    x = axonic.randn(4, 3)
    w = axonic.rand(8)
    first = conv(x, axonic.tensor(EDGES), w)
    assert conv._cache is not None and isinstance(conv._cache[1], np.ndarray)
    np.testing.assert_array_equal(conv(x, axonic.tensor(EDGES), w).detach().numpy(),
                                  first.detach().numpy())
