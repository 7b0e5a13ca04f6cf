"""Shared pieces of the graph layers: PyTorch Geometric's initialisers and checks."""

from __future__ import annotations

import math

import numpy as np

from axonic.nn import init
from axonic.nn.parameter import Parameter
from axonic.ops.creation import empty


def glorot_(tensor):
    """U(-a, a) with ``a = sqrt(6 / (shape[-2] + shape[-1]))`` (PyG's ``glorot``)."""
    a = math.sqrt(6.0 / (tensor.shape[-2] + tensor.shape[-1]))
    return init.uniform_(tensor, -a, a)


def parameter(*shape):
    return Parameter(empty(*shape))


def check_channels(layer: str, **sizes) -> None:
    for name, v in sizes.items():
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v <= 0:
            raise ValueError(f"{layer}: {name} must be a positive integer, got {v!r}")


def check_features(layer: str, x, in_channels: int) -> None:
    if x.ndim != 2 or x.shape[-1] != in_channels:
        raise ValueError(f"{layer}: x must have shape (num_nodes, {in_channels}), "
                         f"got {tuple(x.shape)}")
