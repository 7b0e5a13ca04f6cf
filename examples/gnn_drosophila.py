"""Node classification on a real connectome: a GraphSAGE network predicts the cell type
(input, Kenyon, output or projection neuron) of each neuron in the larval Drosophila
mushroom body from its wiring (graspologic's data, 209 neurons, 7,425 synaptic edges).

    python examples/gnn_drosophila.py [--epochs 200]

30% of each cell type is labelled; the network sees four structural features per neuron
(log in/out degree and synapse counts) and messages from its pre- and postsynaptic
partners. Prints the test accuracy next to a logistic regression on the same features
without the graph.
"""

import argparse

import numpy as np

import axonic
from axonic import nn, optim
from axonic.data import drosophila
from axonic.data.graph_datasets import DROSOPHILA_CLASSES


class SAGE(nn.Module):
    """Incoming and outgoing synapses aggregated separately (the graph is directed)."""

    def __init__(self, in_channels, hidden, classes):
        super().__init__()
        self.pre1, self.post1 = nn.SAGEConv(in_channels, hidden), nn.SAGEConv(in_channels,
                                                                              hidden)
        self.pre2, self.post2 = nn.SAGEConv(2 * hidden, hidden), nn.SAGEConv(2 * hidden,
                                                                             hidden)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, x, edge_index):
        reverse = edge_index[[1, 0]]
        h = axonic.cat([self.pre1(x, edge_index), self.post1(x, reverse)], 1).relu()
        h = axonic.cat([self.pre2(h, edge_index), self.post2(h, reverse)], 1).relu()
        return self.head(h)


def _fit(model, g, epochs, graph=True):
    optimizer = optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    forward = (lambda: model(g.x, g.edge_index.numpy())) if graph else (lambda: model(g.x))
    for epoch in range(1, epochs + 1):
        loss = nn.functional.cross_entropy(forward()[g.train_mask], g.y[g.train_mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if graph and epoch % 50 == 0:
            print(f"epoch {epoch:3d}  loss {loss.item():.4f}")
    with axonic.no_grad():
        pred = forward().argmax(1)
    return (pred[g.test_mask] == g.y[g.test_mask]).float().mean().item()


def main(epochs: int = 200, seed: int = 0) -> float:
    axonic.manual_seed(seed)
    g = drosophila("left", train_fraction=0.3, seed=seed)
    counts = np.bincount(g.y.numpy())
    print("cell types:", dict(zip(DROSOPHILA_CLASSES, counts.tolist())))
    accuracy = _fit(SAGE(g.num_node_features, 32, len(DROSOPHILA_CLASSES)), g, epochs)
    baseline = _fit(nn.Linear(g.num_node_features, len(DROSOPHILA_CLASSES)), g, epochs,
                    graph=False)
    majority = counts.max() / counts.sum()
    print(f"Drosophila cell types: GNN test accuracy {accuracy:.4f}, logistic regression "
          f"without the graph {baseline:.4f}, majority class {majority:.4f}")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    main(parser.parse_args().epochs)
