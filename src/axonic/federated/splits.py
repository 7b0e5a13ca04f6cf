"""How data is spread over clients: ``iid_split`` (shuffled, equal shares) and
``dirichlet_split`` (non-IID: each class divided between clients in proportions drawn
from Dirichlet(alpha); small alpha gives clients few classes).

>>> import numpy as np
>>> parts = dirichlet_split(np.repeat(np.arange(3), 20), num_clients=4, alpha=0.5, seed=0)
>>> sum(len(p) for p in parts), len(parts)
(60, 4)
"""

from __future__ import annotations

import numpy as np


def _check_clients(num_clients, n, where):
    if isinstance(num_clients, bool) or not isinstance(num_clients, int | np.integer) \
            or num_clients <= 0:
        raise ValueError(f"{where}: num_clients must be a positive integer, got {num_clients!r}")
    if num_clients > n:
        raise ValueError(f"{where}: num_clients ({num_clients}) exceeds the number of "
                         f"samples ({n})")


def iid_split(num_samples: int, num_clients: int, seed: int = 0) -> list[np.ndarray]:
    """Shuffle ``range(num_samples)`` and cut it into ``num_clients`` near-equal parts.

    >>> [len(p) for p in iid_split(10, 3)]
    [4, 3, 3]
    """
    _check_clients(num_clients, num_samples, "iid_split")
    order = np.random.default_rng(seed).permutation(num_samples)
    return [np.sort(p) for p in np.array_split(order, num_clients)]


def dirichlet_split(labels, num_clients: int, alpha: float = 0.5, seed: int = 0,
                    min_size: int = 1) -> list[np.ndarray]:
    """Per class, proportions ~ Dirichlet(alpha * 1) decide which client gets how many of
    its samples; redrawn until every client has at least ``min_size`` samples."""
    labels = np.asarray(labels)
    _check_clients(num_clients, len(labels), "dirichlet_split")
    if not alpha > 0:
        raise ValueError(f"dirichlet_split: alpha must be positive, got {alpha!r}")
    if min_size * num_clients > len(labels):
        raise ValueError(f"dirichlet_split: {num_clients} clients of at least {min_size} "
                         f"samples need {min_size * num_clients}, there are {len(labels)}")
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        parts = [[] for _ in range(num_clients)]
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            share = rng.dirichlet(np.full(num_clients, alpha))
            cuts = (np.cumsum(share)[:-1] * len(members)).astype(int)
            for k, piece in enumerate(np.split(members, cuts)):
                parts[k].extend(piece.tolist())
        if min(len(p) for p in parts) >= min_size:
            return [np.sort(np.array(p, dtype=np.int64)) for p in parts]
    raise RuntimeError(f"dirichlet_split: no split with {min_size}+ samples per client in "
                       f"1000 draws (alpha={alpha}); raise alpha or lower min_size")
