"""Real and synthetic graphs as ``Data``: Zachary's karate club (networkx), the larval
Drosophila mushroom-body connectome with cell types (graspologic), and motif graphs for
graph classification.

>>> g = karate_club()
>>> g
Data(x=[34, 34], edge_index=[2, 156], y=[34], train_mask=[34], test_mask=[34], edge_weight=[156])
>>> int(g.train_mask.sum())
4
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from axonic.data.graph import Data


def _require(module, what, install):
    if importlib.util.find_spec(module) is None:
        raise ImportError(f"{what} needs {module}: {install}")


def _edges(adjacency):
    """Directed edge list (2, E) and weights of a weighted adjacency matrix."""
    src, dst = np.nonzero(adjacency)
    return np.stack([src, dst]).astype(np.int64), adjacency[src, dst].astype(np.float32)


def karate_club():
    """Zachary's karate club: 34 members, 78 friendships (both directions stored, with
    the interaction counts as ``edge_weight``); ``y`` is the faction each member joined
    after the split (0 ``Mr. Hi``, 1 ``Officer``); ``x`` is one-hot node identity.
    ``train_mask`` labels four members (the two leaders, 0 and 33, and 1 and 32), as in
    semi-supervised node classification; ``test_mask`` is everyone else."""
    _require("networkx", "karate_club", "pip install 'axonic[graph]'")
    import networkx as nx

    g = nx.karate_club_graph()
    n = g.number_of_nodes()
    edge_index, weight = _edges(nx.to_numpy_array(g, nodelist=range(n), weight="weight"))
    y = np.array([g.nodes[i]["club"] != "Mr. Hi" for i in range(n)], dtype=np.int64)
    train = np.zeros(n, bool)
    train[[0, 1, 32, 33]] = True
    return Data(x=np.eye(n, dtype=np.float32), edge_index=edge_index, y=y, train_mask=train,
                test_mask=~train, edge_weight=weight)


DROSOPHILA_CLASSES = ("I", "K", "O", "P")  # input, Kenyon, output and projection neurons


def drosophila(side: str = "left", train_fraction: float = 0.3, seed: int = 0):
    """The larval Drosophila mushroom-body connectome (Eichler et al. 2017) as shipped by
    graspologic: neurons, directed synapse-count edges, and each neuron's cell type as
    ``y`` (index into ``DROSOPHILA_CLASSES``). ``x`` holds four structural features per
    neuron, standardised: log(1 + in/out degree) and log(1 + in/out synapse count).
    ``train_mask`` / ``test_mask`` split each cell type by ``train_fraction``.

    Reads graspologic's data files without importing graspologic (whose import pulls
    in its many dependencies).
    """
    if side not in ("left", "right"):
        raise ValueError(f"drosophila: side must be 'left' or 'right', got {side!r}")
    if not 0 < train_fraction < 1:
        raise ValueError(f"drosophila: train_fraction must be in (0, 1), got {train_fraction!r}")
    # only its data files are read: --no-deps keeps its numpy<2 pin from downgrading numpy
    _require("graspologic", "drosophila", "pip install --no-deps graspologic")
    root = Path(importlib.util.find_spec("graspologic").submodule_search_locations[0])
    folder = root / "datasets" / "drosophila"
    adjacency = np.loadtxt(folder / f"{side}_adjacency.csv", dtype=np.float32)
    names = np.loadtxt(folder / f"{side}_cell_labels.csv", dtype=str)
    y = np.searchsorted(np.array(DROSOPHILA_CLASSES), names).astype(np.int64)
    edge_index, weight = _edges(adjacency)
    feats = np.log1p(np.stack([(adjacency > 0).sum(0), (adjacency > 0).sum(1),
                               adjacency.sum(0), adjacency.sum(1)], axis=1))
    feats = ((feats - feats.mean(0)) / feats.std(0)).astype(np.float32)
    train = np.zeros(len(y), bool)
    rng = np.random.default_rng(seed)
    for c in range(len(DROSOPHILA_CLASSES)):
        members = rng.permutation(np.flatnonzero(y == c))
        train[members[:max(1, round(train_fraction * len(members)))]] = True
    return Data(x=feats, edge_index=edge_index, y=y, train_mask=train, test_mask=~train,
                edge_weight=weight)


MOTIFS = ("house", "cycle")


def motif_graphs(num_graphs: int = 200, seed: int = 0, base_nodes: int = 12,
                 max_degree: int = 8):
    """Graph classification from synthetic motifs: each graph is a random tree
    (Barabasi-Albert, ``base_nodes`` nodes) with a five-node motif attached to one node;
    ``y`` says which motif (``MOTIFS``: 0 a house, 1 a five-cycle). ``x`` is the one-hot
    node degree (capped at ``max_degree``). Half the graphs of each class.

    >>> gs = motif_graphs(4)
    >>> [int(g.y) for g in gs], gs[0].num_node_features
    ([0, 1, 0, 1], 9)
    """
    _require("networkx", "motif_graphs", "pip install 'axonic[graph]'")
    import networkx as nx

    rng = np.random.default_rng(seed)
    motifs = [nx.house_graph(), nx.cycle_graph(5)]
    graphs = []
    for k in range(num_graphs):
        label = k % 2
        base = nx.barabasi_albert_graph(base_nodes, 1, seed=int(rng.integers(2**31)))
        g = nx.disjoint_union(base, motifs[label])
        g.add_edge(int(rng.integers(base_nodes)), base_nodes)  # attach the motif
        edge_index, _ = _edges(nx.to_numpy_array(g, nodelist=range(g.number_of_nodes())))
        deg = np.minimum(np.bincount(edge_index[1], minlength=g.number_of_nodes()),
                         max_degree)
        x = np.eye(max_degree + 1, dtype=np.float32)[deg]
        graphs.append(Data(x=x, edge_index=edge_index, y=np.int64(label)))
    return graphs
