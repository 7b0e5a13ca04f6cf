"""``MLPModule``: the default module of the estimators, a multilayer perceptron whose
input and output widths come from the data.

>>> import axonic
>>> MLPModule(in_features=4, out_features=3, hidden=8)(axonic.zeros(2, 4)).shape
(2, 3)
"""

from __future__ import annotations

from axonic import nn


class MLPModule(nn.Module):
    """``num_hidden`` blocks of ``Linear(hidden) -> ReLU -> Dropout(dropout)``, then a
    ``Linear(out_features)`` head (like skorch's ``MLPModule``)."""

    def __init__(self, in_features: int = 1, out_features: int = 1, hidden: int = 32,
                 num_hidden: int = 1, dropout: float = 0.0):
        super().__init__()
        for name, v, low in (("in_features", in_features, 1), ("out_features", out_features, 1),
                             ("hidden", hidden, 1), ("num_hidden", num_hidden, 0)):
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"MLPModule: {name} must be an integer >= {low}, got {v!r}")
        layers, width = [], in_features
        for _ in range(num_hidden):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, out_features))
        self.sequential = nn.Sequential(*layers)

    def forward(self, x):
        return self.sequential(x)
