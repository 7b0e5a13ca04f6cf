"""``OpSpec``: how the one op-test harness (tests/ops) checks an op.

Each op file ends with a ``SPECS`` list. A spec names the axonic callable, a float64
NumPy reference, sample inputs, and optionally the PyTorch callable for parity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class OpSpec:
    name: str
    fn: Callable  # axonic: fn(*tensors) -> Tensor
    ref: Callable  # NumPy float64 reference: ref(*arrays) -> array
    # Each sample is a tuple of input shapes (uniform random floats in `low, high`) or a
    # callable rng -> tuple of arrays (for indices, masks and special values).
    samples: list = field(default_factory=list)
    torch_fn: Callable | None = None  # PyTorch: torch_fn(*tensors) -> tensor
    low: float = -2.0
    high: float = 2.0
    grad: bool = True  # differentiable: compare gradients with PyTorch
    gradcheck: bool = True  # also check against central differences (off at kinks and ties)
    atol: float = 1e-5  # gradcheck tolerance (float64)
    # Why the op has no second derivative in axonic (empty: gradgradcheck runs on it).
    no_gradgrad: str = ""

    def make_inputs(self, sample, rng) -> tuple:
        if callable(sample):
            return tuple(np.asarray(a) for a in sample(rng))
        return tuple(rng.uniform(self.low, self.high, size=s) for s in sample)


def away_from(values, points, margin=0.05):
    """Nudge samples away from kinks (|x| near 0 for abs/relu) so differences are clean."""
    values = np.array(values, dtype=np.float64)
    for p in points:
        close = np.abs(values - p) < margin
        values[close] = p + np.where(values[close] >= p, margin, -margin) * 2
    return values


class _TorchInTests:
    """``TORCH.cat(...)`` in a spec's ``torch_fn``: PyTorch as the test harness imported it.

    The package never imports PyTorch; specs only name it, and only tests call them.
    """

    def __getattr__(self, name):
        import sys

        if name.startswith("__"):  # introspection (doctest, inspect) probes dunders
            raise AttributeError(name)

        torch = sys.modules.get("torch")
        if torch is None:
            raise RuntimeError("PyTorch parity functions run only where the tests imported torch")
        return getattr(torch, name)


TORCH = _TorchInTests()
