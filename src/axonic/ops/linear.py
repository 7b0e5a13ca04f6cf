"""``linear``: ``x @ W.T + b`` as one op (one GEMM forward, two backward), behind
``nn.Linear`` and ``F.linear``; its backward is written with operators, so it is also its
own second derivative.
"""

from __future__ import annotations

from axonic.autograd.function import Function
from axonic.backend.blas import matmul
from axonic.backend.sums import sum_leading
from axonic.ops._spec import TORCH, OpSpec


# --- linear ----------------------------------------------------------------------------------
class Linear(Function):
    """``x @ W.T + b`` for x of shape (*, in_features)."""

    def forward(self, x, w, b=None):
        nx, nw = self.needs_input_grad[:2]
        self.x_shape = x.shape
        # each of x and W is kept only for the other's gradient, as PyTorch
        self.save_for_backward(x if nw else None, w if nx else None)
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        out = matmul(x2, w.T)
        if b is not None:
            out += b
        return out.reshape(x.shape[:-1] + (w.shape[0],)) if x.ndim != 2 else out

    def backward(self, g):
        x, w = self.saved_tensors
        nx, nw, *nb = self.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        gx = gw = gb = None
        if nx:
            gx = matmul(g2, w)
            if len(self.x_shape) != 2:
                gx = gx.reshape(self.x_shape)
        if nw:
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = matmul(g2.T, x2)
        if nb and nb[0]:
            gb = sum_leading(g2)
        return gx, gw, gb

    def to_onnx(self, g, x, w, b=None):
        if len(g.dims(x)) == 2:
            return g.op("Gemm", x, w, b, transB=1)
        y = g.op("MatMul", x, g.op("Transpose", w, perm=[1, 0]))
        return y if b is None else g.op("Add", y, b)


SPECS = [
    OpSpec("linear", lambda x, w, b: Linear.apply(x, w, b), lambda x, w, b: x @ w.T + b,
           [((4, 3), (5, 3), (5,)), ((2, 4, 3), (5, 3), (5,))],
           lambda x, w, b: TORCH.nn.functional.linear(x, w, b)),
    OpSpec("linear_nobias", lambda x, w: Linear.apply(x, w), lambda x, w: x @ w.T,
           [((4, 3), (2, 3)), ((0, 3), (2, 3))], lambda x, w: TORCH.nn.functional.linear(x, w)),
]
