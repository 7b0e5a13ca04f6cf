"""An axonic model as a Flower ``NumPyClient`` (the ``federated`` extra: ``flwr``).

Flower exchanges a model as a list of NumPy arrays; here they are the model's
``state_dict`` values in order (parameters and buffers, e.g. BatchNorm statistics), so
Flower's strategies (FedAvg, FedProx, ...) average exactly what axonic's own
``FedAvg`` averages. ``fit`` trains locally with ``local_train``; ``evaluate`` reports
the loss and, for classifiers, the accuracy on the client's validation data.

>>> from axonic import nn
>>> from axonic.federated.flower import get_weights, set_weights
>>> m = nn.Linear(2, 1)
>>> set_weights(m, [w * 0 for w in get_weights(m)])
>>> float(m.weight.sum())
0.0
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from axonic.federated.client import as_client_data, local_train


def get_weights(model) -> list:
    """The model's ``state_dict`` values as NumPy arrays, in order (Flower's form)."""
    return [v.detach().numpy().copy() for v in model.state_dict().values()]


def set_weights(model, weights) -> None:
    """Load a list of arrays (in ``state_dict`` order) into ``model``, checking each."""
    keys = list(model.state_dict())
    weights = list(weights)
    if len(weights) != len(keys):
        raise ValueError(f"flower: received {len(weights)} arrays but the model has "
                         f"{len(keys)} state_dict entries ({', '.join(keys)})")
    model.load_state_dict(OrderedDict(zip(keys, (np.asarray(w) for w in weights))))


def _flwr():
    try:
        import flwr
    except ImportError:
        raise ImportError("axonic.federated.flower needs Flower: pip install "
                          "'axonic[federated]'") from None
    return flwr


def to_numpy_client(model, train, loss_fn, optimizer, val=None, epochs: int = 1,
                    batch_size: int | None = None, seed: int = 0):
    """A ``flwr.client.NumPyClient`` training ``model`` on ``train = (x, y)``.

    ``optimizer`` is made for ``model``'s parameters (e.g. ``optim.SGD(model.parameters(),
    lr=0.1)``); Flower's ``config`` may override ``local_epochs`` per round. Call
    ``.to_client()`` on the result inside a Flower ``client_fn``.
    """
    flwr = _flwr()
    train = as_client_data(train, "flower client train data")
    val = None if val is None else as_client_data(val, "flower client validation data")
    if epochs < 1:
        raise ValueError(f"flower client: epochs must be >= 1, got {epochs}")

    class AxonicNumPyClient(flwr.client.NumPyClient):
        def __init__(self):
            self.rng = np.random.default_rng(seed)

        def get_parameters(self, config):
            return get_weights(model)

        def fit(self, parameters, config):
            set_weights(model, parameters)
            local = int(config.get("local_epochs", epochs))
            loss = local_train(model, train, loss_fn, optimizer, epochs=local,
                               batch_size=batch_size, rng=self.rng)
            return get_weights(model), int(train[0].shape[0]), {"train_loss": float(loss)}

        def evaluate(self, parameters, config):
            set_weights(model, parameters)
            x, y = val if val is not None else train
            return evaluate(model, x, y, loss_fn)

    return AxonicNumPyClient()


def evaluate(model, x, y, loss_fn) -> tuple:
    """``(loss, n, {"accuracy": ...})`` as Flower's ``evaluate`` returns them (accuracy
    only for integer class targets)."""
    from axonic.autograd.grad_mode import no_grad

    was = model.training
    model.eval()
    try:
        with no_grad():
            out = model(x)
            loss = float(loss_fn(out, y).item())
    finally:
        model.train(was)
    metrics = {}
    if y.dtype.kind in "iu" and out.ndim == 2:
        metrics["accuracy"] = float((out.numpy().argmax(1) == y.numpy()).mean())
    return loss, int(x.shape[0]), metrics
