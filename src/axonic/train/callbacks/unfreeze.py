"""``GradualUnfreezing``: fine-tune a pre-trained model from the top down, unfreezing one
more group of layers every few epochs (ULMFiT, Howard & Ruder, 2018)."""

from __future__ import annotations

from axonic.models.transfer import _params
from axonic.train.callbacks.base import Callback


class GradualUnfreezing(Callback):
    """``groups`` are ordered from the input to the output (e.g. embeddings, encoder
    blocks, head). Training starts with only the last ``initially_trainable`` groups
    trainable; at the start of every ``every``-th epoch after that one more group, from
    the top down, is unfrozen, until all are. Put every parameter in the optimizer from
    the start (``discriminative_param_groups`` does): frozen ones get no gradient and are
    left alone by ``step``.

    >>> from axonic import nn
    >>> net = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 2))
    >>> cb = GradualUnfreezing(list(net))
    >>> cb.on_train_begin()
    >>> [net[i].weight.requires_grad for i in range(3)]
    [False, False, True]
    >>> cb.on_epoch_begin(1)
    >>> [net[i].weight.requires_grad for i in range(3)]
    [False, True, True]
    """

    def __init__(self, groups, every: int = 1, initially_trainable: int = 1):
        self.groups = [_params(g, "GradualUnfreezing") for g in groups]
        if not self.groups:
            raise ValueError("GradualUnfreezing: groups is empty")
        for name, v in (("every", every), ("initially_trainable", initially_trainable)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"GradualUnfreezing: {name} must be a positive int, "
                                 f"got {v!r}")
        self.every = every
        self.initially_trainable = initially_trainable
        self.trainable = 0

    def _set(self, n: int) -> None:
        """Make the top ``n`` groups trainable and the rest frozen."""
        self.trainable = min(n, len(self.groups))
        cut = len(self.groups) - self.trainable
        for i, params in enumerate(self.groups):
            for p in params:
                p.requires_grad_(i >= cut)

    def on_train_begin(self, logs=None):
        self._set(self.initially_trainable)

    def on_epoch_begin(self, epoch, logs=None):
        self._set(self.initially_trainable + epoch // self.every)

    def state_dict(self) -> dict:
        return {"trainable": self.trainable}

    def load_state_dict(self, state: dict) -> None:
        self._set(int(state["trainable"]))
