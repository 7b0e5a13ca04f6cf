"""Graph classification: a GIN tells which motif (a house or a five-cycle) is attached
to a random tree, reading out each graph with global_add_pool.

    python examples/gin_motifs.py [--epochs 30]

Graphs are batched into one disconnected graph by GraphLoader (a ``batch`` vector
says which graph each node belongs to). Prints the test accuracy.
"""

import argparse

import axonic
from axonic import nn, optim
from axonic.data import GraphLoader, motif_graphs


class GIN(nn.Module):
    def __init__(self, in_channels, hidden, classes):
        super().__init__()

        def mlp(i):
            return nn.Sequential(nn.Linear(i, hidden), nn.ReLU(), nn.Linear(hidden, hidden))

        self.conv1, self.conv2 = nn.GINConv(mlp(in_channels)), nn.GINConv(mlp(hidden))
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, x, edge_index, batch, num_graphs):
        h1 = self.conv1(x, edge_index).relu()
        h2 = self.conv2(h1, edge_index).relu()
        pooled = [nn.global_add_pool(h, batch, num_graphs) for h in (h1, h2)]
        return self.head(axonic.cat(pooled, 1))


def _accuracy(model, graphs):
    b = next(iter(GraphLoader(graphs, batch_size=len(graphs))))
    with axonic.no_grad():
        pred = model(b.x, b.edge_index, b.batch, b.num_graphs).argmax(1)
    return (pred == b.y).float().mean().item()


def main(epochs: int = 30, seed: int = 0) -> float:
    axonic.manual_seed(seed)
    graphs = motif_graphs(400, seed=seed)
    train, test = graphs[:300], graphs[300:]
    model = GIN(train[0].num_node_features, 32, 2)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    loader = GraphLoader(train, batch_size=32, shuffle=True, seed=seed)
    for epoch in range(1, epochs + 1):
        total = 0.0
        for b in loader:
            loss = nn.functional.cross_entropy(
                model(b.x, b.edge_index, b.batch, b.num_graphs), b.y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * b.num_graphs
        if epoch % 10 == 0:
            print(f"epoch {epoch:3d}  loss {total / len(train):.4f}")
    accuracy = _accuracy(model, test)
    print(f"motif graphs: GIN test accuracy {accuracy:.4f} on {len(test)} graphs "
          f"(chance 0.5)")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    main(parser.parse_args().epochs)
