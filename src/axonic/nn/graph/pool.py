"""Readouts for graph classification: ``global_add_pool``, ``global_mean_pool``,
``global_max_pool``: one row per graph, from the node rows that ``batch`` assigns to it."""

from __future__ import annotations

from axonic.ops.segment import scatter


def _pool(x, batch, size, reduce):
    if batch is None:
        return getattr(x, {"sum": "sum", "mean": "mean", "max": "amax"}[reduce])(
            dim=-2, keepdim=True)
    return scatter(x, batch, dim=-2, dim_size=size, reduce=reduce)


def global_add_pool(x, batch=None, size=None):
    """Sum of each graph's node features; ``batch[i]`` is node i's graph.

    >>> import axonic
    >>> global_add_pool(axonic.tensor([[1.0], [2.0], [5.0]]), axonic.tensor([0, 0, 1]))
    tensor([[3.],
            [5.]])
    """
    return _pool(x, batch, size, "sum")


def global_mean_pool(x, batch=None, size=None):
    """Mean of each graph's node features.

    >>> import axonic
    >>> global_mean_pool(axonic.tensor([[1.0], [2.0], [5.0]]), axonic.tensor([0, 0, 1]))
    tensor([[1.5000],
            [5.0000]])
    """
    return _pool(x, batch, size, "mean")


def global_max_pool(x, batch=None, size=None):
    """Feature-wise maximum over each graph's nodes.

    >>> import axonic
    >>> global_max_pool(axonic.tensor([[1.0], [2.0], [5.0]]), axonic.tensor([0, 0, 1]))
    tensor([[2.],
            [5.]])
    """
    return _pool(x, batch, size, "max")
