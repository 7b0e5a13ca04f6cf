"""Graph containers and datasets: Data, Batch, GraphLoader, karate club, Drosophila,
motif graphs; their error messages."""

import numpy as np
import pytest
import torch_geometric.data as pyg_data

from axonic.data import Batch, Data, GraphLoader, drosophila, karate_club, motif_graphs
from tests.conftest import torch


def _graph(n, label):
    rng = np.random.default_rng(n)
    return Data(x=rng.standard_normal((n, 3)).astype(np.float32),
                edge_index=np.stack([np.arange(n - 1), np.arange(1, n)]),
                y=np.int64(label), edge_attr=rng.standard_normal((n - 1, 2)))


def test_batch_matches_pyg_batch():
    graphs = [_graph(n, n % 2) for n in (3, 5, 2)]
    ours = Batch.from_data_list(graphs)
    theirs = pyg_data.Batch.from_data_list([
        pyg_data.Data(**{k: torch.tensor(g[k].numpy()) for k in g.keys()}) for g in graphs])
    for key in ("x", "edge_index", "edge_attr", "y", "batch", "ptr"):
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy(), err_msg=key)
    assert ours.num_graphs == theirs.num_graphs == 3
    assert ours.num_nodes == 10


def test_graph_loader_batches_every_graph_once_and_shuffles_by_seed():
    graphs = [_graph(n, n % 2) for n in range(2, 12)]
    batches = list(GraphLoader(graphs, batch_size=4, shuffle=True, seed=1))
    assert [b.num_graphs for b in batches] == [4, 4, 2]
    sizes = sorted(np.bincount(b.batch.numpy()).tolist() for b in batches)
    assert sorted(s for b in sizes for s in b) == list(range(2, 12))
    again = list(GraphLoader(graphs, batch_size=4, shuffle=True, seed=1))
    assert [b.num_nodes for b in batches] == [b.num_nodes for b in again]
    assert len(GraphLoader(graphs, batch_size=4, drop_last=True)) == 2


def test_karate_club_is_zacharys_graph():
    g = karate_club()
    assert (g.num_nodes, g.num_edges) == (34, 156)  # 78 friendships, both directions
    e = g.edge_index.numpy()
    assert set(zip(*e)) == set(zip(*e[::-1]))
    assert np.bincount(g.y.numpy()).tolist() == [17, 17]
    assert g.y.numpy()[[0, 33]].tolist() == [0, 1]
    assert np.flatnonzero(g.train_mask.numpy()).tolist() == [0, 1, 32, 33]


def test_drosophila_has_the_four_cell_types_and_a_stratified_split():
    g = drosophila("left", train_fraction=0.3)
    assert (g.num_nodes, g.num_edges, g.num_node_features) == (209, 7425, 4)
    counts = np.bincount(g.y.numpy())
    assert counts.tolist() == [21, 101, 29, 58]
    train = np.bincount(g.y.numpy()[g.train_mask.numpy()])
    np.testing.assert_allclose(train / counts, 0.3, atol=0.02)
    assert not (g.train_mask.numpy() & g.test_mask.numpy()).any()
    assert drosophila("right").num_nodes == 213


def test_motif_graphs_are_balanced_and_differ_by_the_motif():
    graphs = motif_graphs(10, seed=3)
    assert [int(g.y) for g in graphs] == [0, 1] * 5
    # a house has 6 edges, a five-cycle 5: the same tree size otherwise
    assert {g.num_edges // 2 - (g.num_nodes - 5) for g in graphs[0::2]} == {6}
    assert {g.num_edges // 2 - (g.num_nodes - 5) for g in graphs[1::2]} == {5}


@pytest.mark.parametrize("call,error,message", [
    (lambda: Data(edge_index=np.zeros((3, 2), np.int64)), ValueError,
     "Data: edge_index must be an integer array of shape (2, num_edges), got int64 (3, 2)"),
    (lambda: Batch.from_data_list([]), ValueError,
     "Batch.from_data_list: got an empty list of graphs"),
    (lambda: Batch.from_data_list([_graph(3, 0), 5]), TypeError,
     "Batch.from_data_list: item 1 is a int, expected Data"),
    (lambda: Batch.from_data_list([_graph(3, 0), Data(x=np.ones((2, 3)))]), ValueError,
     "Batch.from_data_list: graph 1 has fields ['x'], graph 0 has"),
    (lambda: GraphLoader([], batch_size=0), ValueError,
     "GraphLoader: batch_size must be a positive integer, got 0"),
    (lambda: drosophila("middle"), ValueError,
     "drosophila: side must be 'left' or 'right', got 'middle'"),
    (lambda: drosophila(train_fraction=1.5), ValueError,
     "drosophila: train_fraction must be in (0, 1), got 1.5"),
])
def test_graph_data_errors_say_what_was_wrong(call, error, message):
    with pytest.raises(error) as e:
        call()
    assert message in str(e.value)


def test_missing_dataset_package_names_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "graspologic" else real(name, *a))
    with pytest.raises(ImportError, match="drosophila needs graspologic: pip install --no-deps "
                                          "graspologic"):
        drosophila()
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "networkx" else real(name, *a))
    with pytest.raises(ImportError, match=r"karate_club needs networkx: pip install "
                                          r"'axonic\[graph\]'"):
        karate_club()
