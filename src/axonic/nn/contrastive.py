"""Self-supervised contrastive loss: NT-Xent (normalised temperature-scaled cross
entropy), SimCLR's loss (Chen et al. 2020), named as in pytorch-metric-learning.

For a batch of N pairs of views ``(z1[i], z2[i])``, each of the 2N embeddings must pick
its partner out of the other 2N - 1 by cosine similarity / temperature.

>>> import axonic
>>> z = axonic.tensor([[1.0, 0.0], [0.0, 1.0]])
>>> round(nt_xent_loss(z, z, temperature=0.1).item(), 4)   # partners identical: low loss
0.0001
"""

from __future__ import annotations

import numpy as np

from axonic.nn.loss import cross_entropy
from axonic.nn.module import Module
from axonic.nn.normalization import normalize


def nt_xent_loss(z1, z2, temperature: float = 0.5):
    """Mean over the 2N views of ``-log softmax(sim / t)[partner]``, with a view's
    similarity to itself left out."""
    if not temperature > 0:
        raise ValueError(f"nt_xent_loss: temperature must be positive, got {temperature!r}")
    if z1.ndim != 2 or tuple(z1.shape) != tuple(z2.shape) or z1.shape[0] < 1:
        raise ValueError(f"nt_xent_loss: z1 and z2 must be (batch, features) of the same "
                         f"shape, got {tuple(z1.shape)} and {tuple(z2.shape)}")
    import axonic

    n = z1.shape[0]
    z = normalize(axonic.cat([z1, z2]), p=2.0, dim=1)
    sim = (z @ z.transpose(0, 1)) / temperature
    sim = sim.masked_fill(axonic.eye(2 * n, dtype=axonic.bool, device=z1.device),
                          float("-inf"))
    partner = np.concatenate([np.arange(n, 2 * n), np.arange(n)])
    return cross_entropy(sim, axonic.tensor(partner, device=z1.device))


class NTXentLoss(Module):
    """``NTXentLoss(temperature)(z1, z2)``: see ``nt_xent_loss``.

    >>> import axonic
    >>> NTXentLoss(temperature=0.5)(axonic.randn(4, 3), axonic.randn(4, 3)).shape
    ()
    """

    def __init__(self, temperature: float = 0.07):
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"NTXentLoss: temperature must be positive, got {temperature!r}")
        self.temperature = float(temperature)

    def forward(self, z1, z2):
        return nt_xent_loss(z1, z2, self.temperature)

    def extra_repr(self):
        return f"temperature={self.temperature}"
