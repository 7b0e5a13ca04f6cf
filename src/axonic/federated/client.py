"""Local training on one client: epochs of mini-batch (or full-batch) steps on its own
data, optionally with FedProx's proximal term pulling towards the global weights."""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, tensor


def as_client_data(data, where="client"):
    """``(inputs, targets)`` as a pair of tensors with the same number of rows."""
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise TypeError(f"{where}: client data must be an (inputs, targets) pair, got "
                        f"{type(data).__name__}")
    x, y = (v if isinstance(v, Tensor) else tensor(np.asarray(v)) for v in data)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{where}: inputs have {x.shape[0]} rows but targets {y.shape[0]}")
    return x, y


def local_train(model, data, loss_fn, optimizer, epochs=1, batch_size=None, rng=None,
                proximal_mu=0.0, global_params=None) -> float:
    """Train ``model`` in place on ``data``; returns the mean loss of the last epoch.

    ``batch_size=None`` takes one full-batch step per epoch. With ``proximal_mu > 0`` the
    loss gets ``mu / 2 * ||w - w_global||^2`` (FedProx, Li et al. 2020).
    """
    x, y = data
    n = x.shape[0]
    size = n if batch_size is None else int(batch_size)
    rng = rng or np.random.default_rng(0)
    params = list(model.parameters())
    model.train()
    for _ in range(epochs):
        order = np.arange(n) if batch_size is None else rng.permutation(n)
        total = 0.0
        for start in range(0, n, size):
            rows = order[start:start + size]
            xb, yb = (x, y) if len(rows) == n and batch_size is None else (x[rows], y[rows])
            loss = loss_fn(model(xb), yb)
            total += loss.item() * len(rows)
            if proximal_mu:
                drift = sum(((p - g) ** 2).sum() for p, g in zip(params, global_params))
                loss = loss + proximal_mu / 2 * drift
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return total / n
