"""Federated learning on handwritten digits in Flower's simulation: three Flower clients,
each an axonic model on its own third of the digits, averaged by Flower's FedAvg for a
few rounds. Needs the ``federated`` extra (``pip install 'axonic[federated]'``: Flower
with Ray for its simulation).

    python examples/federated_flower.py [--rounds 3]

Prints the global model's test accuracy after each round, and, with ``--compare``, the
largest difference from axonic's own ``FedAvg`` run on the same clients (one full-batch
SGD step per round: both average exactly the same updates).
"""

import argparse
import logging

import numpy as np

import axonic
from axonic import nn, optim
from axonic.data import get_dataset
from axonic.federated import FedAvg, iid_split
from axonic.federated.flower import evaluate, get_weights, set_weights, to_numpy_client

CLIENTS, LR = 3, 0.5


def _model():
    axonic.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def _data():
    x, y = (a.numpy() for a in get_dataset("digits").tensors)
    order = np.random.default_rng(0).permutation(len(y))
    test, train = order[:360], order[360:]
    parts = iid_split(len(train), CLIENTS, seed=0)
    return [(x[train][p], y[train][p]) for p in parts], (x[test], y[test])


def run_flower(rounds: int) -> tuple[list, list]:
    """Flower's simulation; returns the per-round test accuracies and the final weights."""
    from flwr.client import ClientApp
    from flwr.common import Context, ndarrays_to_parameters, parameters_to_ndarrays
    from flwr.server import ServerApp, ServerAppComponents, ServerConfig
    from flwr.server.strategy import FedAvg as FlowerFedAvg
    from flwr.simulation import run_simulation

    clients, (x_test, y_test) = _data()
    x_test, y_test = axonic.tensor(x_test), axonic.tensor(y_test)
    accuracies, final = [], []

    def client_fn(context: Context):
        model = _model()
        data = clients[int(context.node_config["partition-id"])]
        return to_numpy_client(model, data, nn.CrossEntropyLoss(),
                               optim.SGD(model.parameters(), lr=LR)).to_client()

    def central_evaluate(server_round, parameters, config):
        model = _model()
        set_weights(model, parameters)
        loss, _, metrics = evaluate(model, x_test, y_test, nn.CrossEntropyLoss())
        if server_round > 0:
            accuracies.append(metrics["accuracy"])
            final[:] = [np.array(w) for w in parameters]
        return loss, metrics

    def server_fn(context: Context):
        initial = ndarrays_to_parameters(get_weights(_model()))
        strategy = FlowerFedAvg(fraction_fit=1.0, fraction_evaluate=1.0,
                                min_fit_clients=CLIENTS, min_available_clients=CLIENTS,
                                initial_parameters=initial, evaluate_fn=central_evaluate)
        return ServerAppComponents(strategy=strategy, config=ServerConfig(num_rounds=rounds))

    assert parameters_to_ndarrays  # noqa: S101  (imported for users reading this example)
    run_simulation(server_app=ServerApp(server_fn=server_fn),
                   client_app=ClientApp(client_fn=client_fn), num_supernodes=CLIENTS,
                   backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}})
    initial = get_weights(_model())
    if not final or all(np.array_equal(a, b) for a, b in zip(final, initial)):
        raise RuntimeError("the Flower clients did not train (see Flower's log above)")
    return accuracies, final


def run_axonic(rounds: int) -> list:
    clients, _ = _data()
    fed = FedAvg(_model(), clients, nn.CrossEntropyLoss(), lr=LR, local_epochs=1)
    fed.fit(rounds)
    return get_weights(fed.model)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compare", action="store_true")
    args = ap.parse_args(argv)
    logging.getLogger("flwr").setLevel(logging.WARNING)
    accuracies, final = run_flower(args.rounds)
    for r, acc in enumerate(accuracies, 1):
        print(f"round {r}: test accuracy {acc:.4f}")
    result = {"accuracies": accuracies}
    if args.compare:
        ours = run_axonic(args.rounds)
        diff = max(float(np.abs(a - b).max()) for a, b in zip(final, ours))
        print(f"largest weight difference from axonic's FedAvg: {diff:.2e}")
        result["max_diff"] = diff
    return result


if __name__ == "__main__":
    main()
