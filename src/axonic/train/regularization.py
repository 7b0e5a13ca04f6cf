"""``L2Penalty``: ``weight * sum(w ** 2)`` over a model's weights, added to the loss.

The weights are the trainable parameters with two or more dimensions (Linear, Conv, RNN
and Embedding matrices); biases and normalisation scales and shifts (1-D) are left out,
as weight decay usually leaves them.

>>> from axonic import nn
>>> lin = nn.Linear(2, 1)
>>> _ = lin.weight._data.fill(3.0)
>>> float(L2Penalty(0.5)(lin).item())  # 0.5 * (9 + 9); the bias is not counted
9.0
"""

from __future__ import annotations

import axonic


class L2Penalty:
    """Callable ``penalty(model) -> Tensor``; ``bool(penalty)`` is False for weight 0."""

    def __init__(self, weight: float = 0.0):
        self.weight = float(weight)

    def __bool__(self) -> bool:
        return self.weight != 0.0

    @staticmethod
    def weights(model) -> list:
        """The parameters the penalty covers: trainable, two or more dimensions."""
        return [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]

    def __call__(self, model, divisor: int = 1):
        """The penalty divided by ``divisor`` (the Trainer's ``k`` accumulated batches)."""
        total = None
        for w in self.weights(model):
            term = (w * w).sum()
            total = term if total is None else total + term
        if total is None:
            return axonic.tensor(0.0)
        return total * (self.weight / divisor)

    def __repr__(self) -> str:
        return f"L2Penalty({self.weight})"
