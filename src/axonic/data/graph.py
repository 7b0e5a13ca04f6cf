"""Graph containers with PyTorch Geometric's names: ``Data`` (one graph: ``x``,
``edge_index``, ``y``, masks and any other attribute), ``Batch`` (many graphs as one
disconnected graph with a ``batch`` vector) and ``GraphLoader`` (mini-batches of graphs).

>>> import numpy as np
>>> g = Data(x=np.ones((3, 2), np.float32), edge_index=np.array([[0, 1], [1, 2]]))
>>> g
Data(x=[3, 2], edge_index=[2, 2])
>>> b = Batch.from_data_list([g, g])
>>> b.edge_index.tolist(), b.batch.tolist(), b.num_graphs
([[0, 1, 3, 4], [1, 2, 4, 5]], [0, 0, 0, 1, 1, 1], 2)
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, tensor


def _as_tensor(value):
    """Arrays and lists become tensors; numbers, strings and tensors stay as they are."""
    if isinstance(value, np.ndarray | np.generic | list):
        return tensor(np.asarray(value))
    return value


class Data:
    """One graph. ``edge_index`` (2, num_edges) holds (source, target) pairs; ``x`` is
    (num_nodes, num_features); ``y``, ``train_mask`` ... are whatever the task needs.

    >>> import numpy as np
    >>> g = Data(x=np.eye(3, dtype=np.float32), edge_index=np.array([[0, 1], [1, 0]]))
    >>> g.num_nodes, g.num_edges, g.num_node_features
    (3, 2, 3)
    """

    def __init__(self, x=None, edge_index=None, edge_attr=None, y=None, **kwargs):
        if edge_index is not None:
            e = edge_index._data if isinstance(edge_index, Tensor) else np.asarray(edge_index)
            if e.ndim != 2 or e.shape[0] != 2 or (e.size and e.dtype.kind not in "iu"):
                raise ValueError(f"Data: edge_index must be an integer array of shape "
                                 f"(2, num_edges), got {e.dtype.name} {tuple(e.shape)}")
        fields = dict(x=x, edge_index=edge_index, edge_attr=edge_attr, y=y, **kwargs)
        for key, value in fields.items():
            if value is not None:
                setattr(self, key, _as_tensor(value))

    def __setattr__(self, key, value):
        object.__setattr__(self, key, _as_tensor(value))

    def keys(self):
        return [k for k, v in vars(self).items() if v is not None]

    def __getitem__(self, key):
        return getattr(self, key)

    def __contains__(self, key):
        return key in self.keys()

    @property
    def num_nodes(self):
        if "num_nodes" in vars(self):  # set explicitly for graphs without features
            return int(vars(self)["num_nodes"])
        if getattr(self, "x", None) is not None:
            return self.x.shape[0]
        e = getattr(self, "edge_index", None)
        return int(e._data.max()) + 1 if e is not None and e.shape[1] else 0

    @num_nodes.setter
    def num_nodes(self, n):
        vars(self)["num_nodes"] = int(n)

    @property
    def num_edges(self):
        e = getattr(self, "edge_index", None)
        return 0 if e is None else e.shape[1]

    @property
    def num_node_features(self):
        x = getattr(self, "x", None)
        return 0 if x is None else (x.shape[1] if x.ndim > 1 else 1)

    def __getattr__(self, key):  # absent fields read as None, as in PyG
        if key.startswith("__"):
            raise AttributeError(key)
        return None

    def __repr__(self):
        parts = []
        for k, v in vars(self).items():
            shape = list(v.shape) if isinstance(v, Tensor) else v
            parts.append(f"{k}={shape}")
        return f"{type(self).__name__}({', '.join(parts)})"


# What gets offset when graphs are joined: node indices by the nodes before them.
_INCREMENTED = ("edge_index",)


class Batch(Data):
    """Many graphs as one: node and edge rows stacked, ``edge_index`` shifted by the
    nodes before each graph, ``batch[i]`` the graph of node ``i`` and ``ptr`` the first
    node of each graph. Graph-level ``y`` (one value per graph) stacks to (num_graphs,)."""

    @classmethod
    def from_data_list(cls, data_list):
        data_list = list(data_list)
        if not data_list:
            raise ValueError("Batch.from_data_list: got an empty list of graphs")
        keys = data_list[0].keys()
        for k, g in enumerate(data_list):
            if not isinstance(g, Data):
                raise TypeError(f"Batch.from_data_list: item {k} is a {type(g).__name__}, "
                                "expected Data")
            if sorted(g.keys()) != sorted(keys):
                raise ValueError(f"Batch.from_data_list: graph {k} has fields "
                                 f"{sorted(g.keys())}, graph 0 has {sorted(keys)}")
        sizes = np.array([g.num_nodes for g in data_list])
        ptr = np.concatenate([[0], np.cumsum(sizes)])
        out = cls()
        for key in keys:
            if key == "num_nodes":
                continue
            values = [g[key] for g in data_list]
            if not isinstance(values[0], Tensor):
                setattr(out, key, values)
                continue
            arrays = [v._data for v in values]
            if key in _INCREMENTED:
                arrays = [a + p for a, p in zip(arrays, ptr)]
                setattr(out, key, np.concatenate(arrays, axis=1))
            elif arrays[0].ndim == 0:
                setattr(out, key, np.stack(arrays))
            else:
                setattr(out, key, np.concatenate(arrays))
        out.batch = np.repeat(np.arange(len(data_list)), sizes)
        out.ptr = ptr
        out.num_nodes = int(ptr[-1])
        vars(out)["num_graphs"] = len(data_list)
        return out

    @property
    def num_graphs(self):
        return vars(self)["num_graphs"]


class GraphLoader:
    """Mini-batches of graphs as ``Batch`` objects (PyG's ``loader.DataLoader``).

    >>> import numpy as np
    >>> gs = [Data(x=np.ones((n, 1), np.float32), edge_index=np.zeros((2, 0), np.int64),
    ...            y=np.int64(n % 2)) for n in (2, 3, 4)]
    >>> [b.num_graphs for b in GraphLoader(gs, batch_size=2)]
    [2, 1]
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"GraphLoader: batch_size must be a positive integer, "
                             f"got {batch_size!r}")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        order = self.rng.permutation(len(self.dataset)) if self.shuffle else range(
            len(self.dataset))
        order = list(order)
        for k in range(len(self)):
            chunk = order[k * self.batch_size:(k + 1) * self.batch_size]
            yield Batch.from_data_list([self.dataset[i] for i in chunk])
