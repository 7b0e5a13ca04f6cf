"""Federated learning on handwritten digits: FedAvg over 10 clients whose data is
non-IID (a Dirichlet(0.5) split of the classes), against the same with an IID split and
with FedProx, with secure-aggregation masking on.

    python examples/federated_digits.py [--rounds 30]

Each round half of the clients train two local epochs on their own digits; the server
averages their weights by sample count. Prints the test accuracy of the global model.
"""

import argparse

import numpy as np

import axonic
from axonic import nn
from axonic.data import get_dataset
from axonic.federated import FedAvg, FedProx, dirichlet_split, iid_split


def _model():
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def run(strategy, split, rounds, seed=0, verbose=False):
    axonic.manual_seed(seed)
    digits = get_dataset("digits")
    x, y = (a.numpy() for a in digits.tensors)
    order = np.random.default_rng(seed).permutation(len(y))
    test, train = order[:360], order[360:]
    if split == "iid":
        parts = iid_split(len(train), 10, seed=seed)
    else:
        parts = dirichlet_split(y[train], 10, alpha=0.5, seed=seed, min_size=10)
    clients = [(x[train][p], y[train][p]) for p in parts]
    kwargs = dict(lr=0.05, local_epochs=2, batch_size=16, fraction_fit=0.5,
                  secure_aggregation=True, seed=seed)
    if strategy == "fedprox":
        fed = FedProx(_model(), clients, nn.CrossEntropyLoss(), proximal_mu=0.01, **kwargs)
    else:
        fed = FedAvg(_model(), clients, nn.CrossEntropyLoss(), **kwargs)
    x_test, y_test = axonic.tensor(x[test]), axonic.tensor(y[test])

    def accuracy(model):
        return round((model(x_test).argmax(1) == y_test).float().mean().item(), 4)

    history = fed.fit(rounds, evaluate_fn=accuracy, verbose=verbose)
    return history[-1]["eval"], [len(p) for p in parts]


def main(rounds: int = 30) -> dict:
    results = {}
    for strategy, split in [("fedavg", "dirichlet"), ("fedprox", "dirichlet"),
                            ("fedavg", "iid")]:
        acc, sizes = run(strategy, split, rounds)
        results[(strategy, split)] = acc
        print(f"{strategy}, {split} split (client sizes {sizes}): "
              f"test accuracy {acc:.4f} after {rounds} rounds")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    main(parser.parse_args().rounds)
