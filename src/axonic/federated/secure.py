"""Secure-aggregation-style masking (Bonawitz et al. 2017, without the key agreement
and dropout recovery): every pair of clients shares a random mask that one adds and the
other subtracts, so the server sees only masked updates whose sum is the true sum.

>>> import numpy as np
>>> updates = [np.ones(3), 2 * np.ones(3)]
>>> masked = mask_updates(updates, client_ids=[4, 7], round_seed=1)
>>> bool(np.allclose(masked[0], updates[0])), np.allclose(sum(masked), 3)
(False, True)
"""

from __future__ import annotations

import numpy as np


def pair_mask(a: int, b: int, round_seed: int, shape, scale: float = 1.0):
    """The mask clients ``a < b`` derive from their shared seed in this round."""
    rng = np.random.default_rng([round_seed, a, b])
    return rng.normal(0.0, scale, size=shape)


def mask_updates(updates, client_ids, round_seed: int, scale: float = 1.0):
    """``updates[k]`` (a flat float64 vector) plus the masks shared with every other
    participating client: ``+mask`` towards higher ids, ``-mask`` towards lower ids."""
    ids = list(client_ids)
    out = [np.asarray(u, np.float64).copy() for u in updates]
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            a, b = sorted((ids[i], ids[j]))
            m = pair_mask(a, b, round_seed, out[i].shape, scale)
            sign = 1.0 if ids[i] == a else -1.0
            out[i] += sign * m
            out[j] -= sign * m
    return out
