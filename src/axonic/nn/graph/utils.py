"""Edge-index helpers with PyTorch Geometric's names: ``add_self_loops``,
``add_remaining_self_loops``, ``remove_self_loops``, ``degree``, ``to_undirected``.

An ``edge_index`` is an integer array of shape (2, num_edges): row 0 holds source nodes,
row 1 target nodes. These helpers work on the index (NumPy arrays), which carries no
gradient; edge weights here are constants too.

>>> import numpy as np
>>> add_self_loops(np.array([[0, 1], [1, 0]]), num_nodes=3)[0]
array([[0, 1, 0, 1, 2],
       [1, 0, 0, 1, 2]])
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module


def as_edge_index(edge_index, num_nodes=None, where="edge_index"):
    """``edge_index`` as an int64 NumPy array of shape (2, E), checked against ``num_nodes``."""
    e = edge_index._data if isinstance(edge_index, Tensor) else np.asarray(edge_index)
    if e.size == 0:
        e = e.reshape(2, 0).astype(np.int64)
    if e.ndim != 2 or e.shape[0] != 2:
        raise ValueError(f"{where}: edge_index must have shape (2, num_edges), "
                         f"got {tuple(e.shape)}")
    if e.dtype.kind not in "iu":
        raise TypeError(f"{where}: edge_index must hold integers, got {e.dtype.name}")
    if e.size and int(e.min()) < 0:
        raise IndexError(f"{where}: edge_index holds a negative node index {int(e.min())}")
    if num_nodes is not None and e.size and int(e.max()) >= num_nodes:
        raise IndexError(f"{where}: edge_index refers to node {int(e.max())} but there are "
                         f"only {num_nodes} nodes")
    return e.astype(np.int64, copy=False)


def _num_nodes(edge_index, num_nodes):
    return int(edge_index.max()) + 1 if num_nodes is None and edge_index.size else num_nodes or 0


def remove_self_loops(edge_index, edge_attr=None):
    """Drop edges ``i -> i``; returns ``(edge_index, edge_attr)``."""
    e = as_edge_index(edge_index)
    keep = e[0] != e[1]
    xp = get_array_module(e)
    return e[:, keep], None if edge_attr is None else xp.asarray(edge_attr)[keep]


def add_self_loops(edge_index, edge_attr=None, fill_value=1.0, num_nodes=None):
    """Append ``i -> i`` for every node (after the existing edges)."""
    e = as_edge_index(edge_index)
    n, xp = _num_nodes(e, num_nodes), get_array_module(e)
    loops = xp.arange(n, dtype=np.int64)
    out = xp.concatenate([e, xp.stack([loops, loops])], axis=1)
    if edge_attr is None:
        return out, None
    attr = xp.asarray(edge_attr)
    fill = xp.full((n,) + attr.shape[1:], fill_value, attr.dtype)
    return out, xp.concatenate([attr, fill])


def add_remaining_self_loops(edge_index, edge_weight=None, fill_value=1.0, num_nodes=None):
    """Give every node exactly one self-loop: existing loops keep their weight, the
    others get ``fill_value`` (PyTorch Geometric's order: other edges, then loops)."""
    e = as_edge_index(edge_index)
    n, xp = _num_nodes(e, num_nodes), get_array_module(e)
    keep = e[0] != e[1]
    loops = xp.arange(n, dtype=np.int64)
    out = xp.concatenate([e[:, keep], xp.stack([loops, loops])], axis=1)
    if edge_weight is None:
        return out, None
    w = xp.asarray(edge_weight)
    loop_w = xp.full(n, fill_value, w.dtype)
    loop_w[e[0, ~keep]] = w[~keep]
    return out, xp.concatenate([w[keep], loop_w])


def degree(index, num_nodes=None, dtype=np.float32):
    """How many times each node appears in ``index`` (a row of ``edge_index``).

    >>> degree(np.array([0, 0, 2]), 4)
    array([2., 0., 1., 0.], dtype=float32)
    """
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    n = int(idx.max()) + 1 if num_nodes is None and idx.size else num_nodes or 0
    return get_array_module(idx).bincount(idx, minlength=n).astype(dtype)


def to_undirected(edge_index, num_nodes=None):
    """Add the reverse of every edge and drop duplicates, sorted by (source, target)."""
    e = as_edge_index(edge_index)
    xp = get_array_module(e)
    both = xp.concatenate([e, e[::-1]], axis=1)
    n = max(_num_nodes(both, num_nodes), 1)
    keys = xp.unique(both[0] * n + both[1])
    return xp.stack([keys // n, keys % n])
