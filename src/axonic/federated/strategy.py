"""``FedAvg`` and ``FedProx`` simulated in one process: each round a fraction of the
clients trains a copy of the global model on its own data, and the server replaces the
global weights by the average of the clients' weights, weighted by their sample counts
(McMahan et al. 2017). Data never leaves its client; only weights travel.
"""

from __future__ import annotations

import copy

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.federated.client import as_client_data, local_train
from axonic.federated.secure import mask_updates


def _float_keys(state):
    return [k for k, v in state.items() if v.dtype.kind == "f"]


class FedAvg:
    """Federated averaging over ``clients``, a list of ``(inputs, targets)`` pairs.

    Each round ``max(1, round(fraction_fit * len(clients)))`` clients are drawn; each
    trains ``local_epochs`` epochs (``batch_size=None``: one full-batch step per epoch)
    with a fresh optimizer from ``optimizer_fn(params)`` (default SGD with ``lr``).
    With ``secure_aggregation=True`` the clients upload pairwise-masked updates whose
    sum, but no single one, equals the true weighted update.

    >>> import numpy as np
    >>> from axonic import nn
    >>> rng = np.random.default_rng(0)
    >>> clients = [(rng.normal(size=(8, 2)).astype(np.float32),
    ...             rng.normal(size=(8, 1)).astype(np.float32)) for _ in range(3)]
    >>> fed = FedAvg(nn.Linear(2, 1), clients, nn.MSELoss(), lr=0.1)
    >>> history = fed.fit(num_rounds=5)
    >>> history[-1]["loss"] < history[0]["loss"]
    True
    """

    proximal_mu = 0.0

    def __init__(self, model, clients, loss_fn, *, lr: float = 0.1, optimizer_fn=None,
                 local_epochs: int = 1, batch_size: int | None = None,
                 fraction_fit: float = 1.0, secure_aggregation: bool = False, seed: int = 0):
        name = type(self).__name__
        if not clients:
            raise ValueError(f"{name}: clients is empty; give a list of (inputs, targets)")
        if not 0 < fraction_fit <= 1:
            raise ValueError(f"{name}: fraction_fit must be in (0, 1], got {fraction_fit!r}")
        if isinstance(local_epochs, bool) or not isinstance(local_epochs, int) \
                or local_epochs <= 0:
            raise ValueError(f"{name}: local_epochs must be a positive integer, "
                             f"got {local_epochs!r}")
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"{name}: batch_size must be None or a positive integer, "
                             f"got {batch_size!r}")
        if optimizer_fn is None and not lr > 0:
            raise ValueError(f"{name}: lr must be positive, got {lr!r}")
        self.model, self.loss_fn = model, loss_fn
        self.clients = [as_client_data(c, f"{name} client {k}") for k, c in enumerate(clients)]
        self.lr, self.optimizer_fn = lr, optimizer_fn
        self.local_epochs, self.batch_size = local_epochs, batch_size
        self.fraction_fit, self.secure_aggregation = fraction_fit, secure_aggregation
        self.rng = np.random.default_rng(seed)
        self.rounds_done = 0
        self._local = copy.deepcopy(model)  # one working copy, reloaded for every client

    def _optimizer(self, params):
        if self.optimizer_fn is not None:
            return self.optimizer_fn(params)
        from axonic.optim import SGD

        return SGD(params, lr=self.lr)

    def sample_clients(self) -> np.ndarray:
        n = len(self.clients)
        m = max(1, int(round(self.fraction_fit * n)))
        return np.sort(self.rng.choice(n, size=m, replace=False))

    def round(self) -> dict:
        """One round: sample, train locally, aggregate. Returns the round's record."""
        chosen = self.sample_clients()
        start = {k: v.numpy().copy() for k, v in self.model.state_dict().items()}
        keys = _float_keys(start)
        flat_start = np.concatenate([start[k].ravel().astype(np.float64) for k in keys])
        updates, sizes, losses, ints = [], [], [], None
        for c in chosen:
            self._local.load_state_dict(start)
            params = list(self._local.parameters())
            anchor = [p.detach().clone() for p in params] if self.proximal_mu else None
            losses.append(local_train(
                self._local, self.clients[c], self.loss_fn, self._optimizer(params),
                self.local_epochs, self.batch_size, self.rng, self.proximal_mu, anchor))
            state = {k: v.numpy() for k, v in self._local.state_dict().items()}
            flat = np.concatenate([state[k].ravel().astype(np.float64) for k in keys])
            n = self.clients[c][0].shape[0]
            updates.append(n * (flat - flat_start))
            sizes.append(n)
            if ints is None:
                ints = {k: v.copy() for k, v in state.items() if k not in keys}
        if self.secure_aggregation:
            updates = mask_updates(updates, chosen.tolist(), round_seed=self.rounds_done)
        flat_new = flat_start + sum(updates) / sum(sizes)
        self._load_flat(start, keys, flat_new, ints)
        self.rounds_done += 1
        loss = float(np.dot(losses, sizes) / sum(sizes))
        return {"round": self.rounds_done, "clients": chosen.tolist(), "loss": loss}

    def _load_flat(self, start, keys, flat, ints):
        new, offset = dict(ints), 0
        for k in keys:
            size = start[k].size
            new[k] = flat[offset:offset + size].reshape(start[k].shape).astype(start[k].dtype)
            offset += size
        with no_grad():
            self.model.load_state_dict(new)

    def fit(self, num_rounds: int, evaluate_fn=None, verbose: bool = False) -> list[dict]:
        """Run ``num_rounds`` rounds; ``evaluate_fn(model)`` (a dict or a number) is
        recorded after each round as ``"eval"``."""
        history = []
        for _ in range(num_rounds):
            record = self.round()
            if evaluate_fn is not None:
                self.model.eval()
                with no_grad():
                    record["eval"] = evaluate_fn(self.model)
            history.append(record)
            if verbose:
                extra = f"  eval {record['eval']}" if "eval" in record else ""
                print(f"round {record['round']:3d}  clients {len(record['clients'])}  "
                      f"train loss {record['loss']:.4f}{extra}")
        return history


class FedProx(FedAvg):
    """FedAvg whose local loss adds ``proximal_mu / 2 * ||w - w_global||^2`` (Li et al.
    2020), which keeps clients with very different data from drifting apart.

    >>> import numpy as np
    >>> from axonic import nn
    >>> clients = [(np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32))] * 2
    >>> FedProx(nn.Linear(2, 1), clients, nn.MSELoss(), proximal_mu=0.1).proximal_mu
    0.1
    """

    def __init__(self, model, clients, loss_fn, *, proximal_mu: float = 0.01, **kwargs):
        super().__init__(model, clients, loss_fn, **kwargs)
        if not proximal_mu >= 0:
            raise ValueError(f"FedProx: proximal_mu must be >= 0, got {proximal_mu!r}")
        self.proximal_mu = float(proximal_mu)
