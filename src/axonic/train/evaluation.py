"""What a ``Trainer`` does without training: the loss and metrics on a dataset (``evaluate``
and the ``val_`` logs of ``fit``) and the model's outputs (``predict``), in eval mode and
without gradients. Neither needs an optimizer."""

from __future__ import annotations

import numpy as np

import axonic
from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import Tensor
from axonic.train import inputs
from axonic.train.metrics import Mean


def evaluate_loader(trainer, loader, metrics, prefix: str) -> dict:
    """The mean loss and each of ``metrics`` over ``loader``, named with ``prefix``.

    >>> import numpy as np
    >>> from axonic import nn
    >>> from axonic.train import Trainer
    >>> t = Trainer(nn.Linear(2, 1), loss=nn.MSELoss())
    >>> data = inputs.as_loader((np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32)),
    ...                         2, False, None)
    >>> logs = evaluate_loader(t, data, [], prefix="val_")
    >>> list(logs)
    ['val_loss']
    """
    mean = Mean()
    for m in metrics:
        m.reset()
    with _eval_mode(trainer.model):
        for batch in loader:
            x, y = inputs.unpack(batch)
            if y is None:
                raise ValueError("evaluate: the data has no targets; use predict")
            out = trainer._forward(x)
            y = trainer._to_device(y)
            mean.update(float(trainer.loss_fn(out, y).item()), len(out))
            for m in metrics:
                m.update(out._data, y._data)
    logs = {prefix + "loss": mean.result()}
    for m in metrics:
        logs[prefix + m.name] = m.result()
    return logs


def predict(trainer, loader) -> Tensor:
    """The model's outputs over ``loader``, concatenated along the first axis."""
    outs = []
    with _eval_mode(trainer.model):
        for batch in loader:
            x, _ = inputs.unpack(batch)
            outs.append(trainer._forward(x)._data)
    xp = axonic.backend.get_array_module(outs[0]) if outs else np
    return axonic.tensor(xp.concatenate(outs)) if outs else axonic.zeros(0)


class _eval_mode:
    """The model in eval mode and no gradients recorded; its mode is put back after."""

    def __init__(self, model):
        self.model, self.grad = model, no_grad()

    def __enter__(self):
        self.was = self.model.training
        self.model.eval()
        self.grad.__enter__()

    def __exit__(self, *exc):
        self.grad.__exit__(*exc)
        self.model.train(self.was)
