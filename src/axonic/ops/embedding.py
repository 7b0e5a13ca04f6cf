"""``embedding``: rows of a weight matrix at integer indices, behind ``nn.Embedding``."""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops.indexing import IndexAdd


class Embedding(Function):
    """Rows of ``weight`` at integer ``indices``; the gradient adds back into those rows
    (never into ``padding_idx``)."""


    def forward(self, w, indices, padding_idx=None):
        # a private copy: the caller's index tensor may change in place before backward
        own = indices.copy() if self.needs_input_grad[0] else indices
        self.indices, self.wshape, self.padding_idx = own, w.shape, padding_idx
        return w[indices]

    def backward(self, g):
        if self._graph_mode:  # the scatter as its own op, whose gradient picks rows again
            gw = IndexAdd.apply(g, shape=self.wshape, index=(self.indices,), basic=False)
            if self.padding_idx is not None:
                keep = self.xp.ones_like(gw, shape=(self.wshape[0], 1))
                keep._data[self.padding_idx] = 0
                gw = gw * keep
            return gw
        xp = get_array_module(g)
        idx = self.indices.reshape(-1)
        rows = g.reshape(-1, self.wshape[1])
        gw = xp.zeros(self.wshape, g.dtype)
        dim = self.wshape[1]
        # np.add.at on flat element indices takes NumPy's fast 1-d path (~7x faster than
        # scattering whole rows)
        flat = (idx[:, None] * dim + xp.arange(dim)).reshape(-1)
        xp.add.at(gw.reshape(-1), flat, rows.reshape(-1))
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw, None

    def to_onnx(self, g, w, indices, padding_idx=None):
        return g.op("Gather", w, indices, axis=0)


SPECS = [
    OpSpec("embedding_fused", lambda w, i: Embedding.apply(w, i._data), lambda w, i: w[i],
           [lambda r: (r.uniform(-1, 1, (6, 3)), np.array([[0, 5, 2], [5, 5, 1]]))],
           lambda w, i: TORCH.nn.functional.embedding(i, w)),
    # the padding row gets no gradient although it is used (PyTorch's rule): parity only
    OpSpec("embedding_padding_idx", lambda w, i: Embedding.apply(w, i._data, padding_idx=5),
           lambda w, i: w[i], [lambda r: (r.uniform(-1, 1, (6, 3)), np.array([[0, 5, 2, 5]]))],
           lambda w, i: TORCH.nn.functional.embedding(i, w, padding_idx=5), gradcheck=False),
]
