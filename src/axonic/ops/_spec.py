"""``OpSpec``: how the one op-test harness (tests/ops) checks an op.

Each op file ends with a ``SPECS`` list. A spec names the axonic callable, a float64
NumPy reference, sample inputs, and optionally the PyTorch callable for parity.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class OpSpec:
    """One op's test description (a plain class: ``dataclasses`` would add a millisecond
    and a half to every ``import axonic`` for objects only the tests read).

    - ``fn``: axonic, ``fn(*tensors) -> Tensor``; ``ref``: NumPy float64, ``ref(*arrays)``.
    - ``samples``: each a tuple of input shapes (uniform random floats in ``low, high``)
      or a callable ``rng -> tuple of arrays`` (for indices, masks and special values).
    - ``torch_fn``: PyTorch, ``torch_fn(*tensors) -> tensor``, for parity.
    - ``grad``: differentiable, gradients compared with PyTorch; ``gradcheck``: also
      against central differences (off at kinks and ties), tolerance ``atol`` (float64).
    - ``no_gradgrad``: why the op has no second derivative (empty: gradgradcheck runs).
    """

    __slots__ = ("name", "fn", "ref", "samples", "torch_fn", "low", "high", "grad",
                 "gradcheck", "atol", "no_gradgrad")

    def __init__(self, name: str, fn: Callable, ref: Callable, samples=None,
                 torch_fn: Callable | None = None, low: float = -2.0, high: float = 2.0,
                 grad: bool = True, gradcheck: bool = True, atol: float = 1e-5,
                 no_gradgrad: str = ""):
        self.name, self.fn, self.ref = name, fn, ref
        self.samples = [] if samples is None else samples
        self.torch_fn, self.low, self.high = torch_fn, low, high
        self.grad, self.gradcheck, self.atol, self.no_gradgrad = grad, gradcheck, atol, no_gradgrad

    def __repr__(self):
        return f"OpSpec({self.name!r})"

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
