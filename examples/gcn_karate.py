"""Semi-supervised node classification: a 2-layer GCN on Zachary's karate club.

    python examples/gcn_karate.py [--epochs 200]

Four members are labelled (the two faction leaders and one friend of each); the GCN
propagates those labels along friendships and predicts the faction every other member
joined after the club split. Prints the accuracy on the 30 unlabelled members.
"""

import argparse

import axonic
from axonic import nn, optim
from axonic.data import karate_club


class GCN(nn.Module):
    def __init__(self, in_channels, hidden, classes):
        super().__init__()
        self.conv1, self.conv2 = nn.GCNConv(in_channels, hidden), nn.GCNConv(hidden, classes)

    def forward(self, x, edge_index):
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)


def main(epochs: int = 200, seed: int = 0) -> float:
    axonic.manual_seed(seed)
    g = karate_club()
    model = GCN(g.num_node_features, 16, 2)
    optimizer = optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    for epoch in range(1, epochs + 1):
        out = model(g.x, g.edge_index)
        loss = nn.functional.cross_entropy(out[g.train_mask], g.y[g.train_mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % 50 == 0:
            print(f"epoch {epoch:3d}  loss {loss.item():.4f}")
    with axonic.no_grad():
        pred = model(g.x, g.edge_index).argmax(1)
    accuracy = (pred[g.test_mask] == g.y[g.test_mask]).float().mean().item()
    print(f"karate club: {int(g.train_mask.sum())} labelled nodes, "
          f"accuracy on the other {int(g.test_mask.sum())}: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    main(parser.parse_args().epochs)
