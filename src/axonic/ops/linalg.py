"""Matrix products: ``matmul`` (1-D, 2-D, batched with broadcasting) and ``einsum``."""

from __future__ import annotations

import re

import numpy as np

from axonic.autograd.function import Function, sum_to
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module
from axonic.backend.blas import matmul as _gemm
from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec


class MatMul(Function):
    onnx_op = "MatMul"

    def forward(self, a, b):
        need_a, need_b = self.needs_input_grad
        self.shapes = (a.shape, b.shape)
        # each side is kept only for the other's gradient, as PyTorch
        self.save_for_backward(a if need_b else None, b if need_a else None)
        return _gemm(a, b) if a.ndim == 2 and b.ndim == 2 else a @ b

    def backward(self, g):
        a, b = self.saved_tensors
        need_a, need_b = self.needs_input_grad
        sa, sb = self.shapes
        if len(sa) == 2 and len(sb) == 2:  # the common case, without reshapes
            return (_gemm(g, b.T) if need_a else None), (_gemm(a.T, g) if need_b else None)
        if len(sa) == 1 and len(sb) == 1:  # dot product: g is 0-d
            return (g * b if need_a else None), (g * a if need_b else None)
        xp = self.xp
        g2 = g
        if len(sa) == 1:
            g2 = xp.expand_dims(g2, -2)
        if len(sb) == 1:
            g2 = xp.expand_dims(g2, -1)
        ga = gb = None
        if need_a:
            b2 = b[:, None] if len(sb) == 1 else b  # (k, 1)
            a2_shape = (1,) + sa if len(sa) == 1 else sa
            ga = sum_to(g2 @ xp.swapaxes(b2, -1, -2), a2_shape).reshape(sa)
        if need_b:
            a2 = a[None] if len(sa) == 1 else a  # (1, k)
            b2_shape = sb + (1,) if len(sb) == 1 else sb
            gb = sum_to(xp.swapaxes(a2, -1, -2) @ g2, b2_shape).reshape(sb)
        return ga, gb


@op("matmul", "mm", methods=("matmul", "mm", "__matmul__"), rmethods=("__rmatmul__",))
def matmul(input, other):
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading dims broadcast.

    >>> import axonic
    >>> (axonic.ones(5, 2, 3) @ axonic.ones(3, 4)).shape
    (5, 2, 4)
    """
    a, b = input, other
    sa, sb = a.shape, b.shape
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension, got shapes {sa} and {sb}")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(
            f"matmul: shapes {tuple(sa)} and {tuple(sb)} are not aligned: the last dim of the "
            f"first ({ka}) must equal the {'only' if len(sb) == 1 else 'second-to-last'} dim of "
            f"the second ({kb})")
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ValueError(
            f"matmul: batch dims of shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast"
        ) from None


mm = matmul


@op(methods=("outer",))
def outer(input, vec2):
    """The outer product of two vectors.

    >>> import axonic
    >>> axonic.outer(axonic.tensor([1.0, 2.0]), axonic.tensor([1.0, 10.0]))
    tensor([[ 1., 10.],
            [ 2., 20.]])
    """
    if input.ndim != 1 or vec2.ndim != 1:
        raise ValueError(
            f"outer: expects two 1-d tensors, got shapes {input.shape} and {vec2.shape}")
    from axonic.ops.arithmetic import mul

    return mul(input.reshape(-1, 1), vec2.reshape(1, -1))


@op(methods=("bmm",))
def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise ValueError(f"bmm: expects two 3-d tensors, got shapes {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


@op(methods=("dot",))
def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise ValueError(
            f"dot: expects two 1-d tensors, got shapes {input.shape} and {other.shape}")
    return matmul(input, other)


# --- einsum ---------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse_einsum(equation: str, shapes):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} names {len(terms)} operands, "
                         f"got {len(shapes)}")
    used = set(re.sub(r"[^A-Za-z]", "", eq))
    free = [c for c in _LETTERS if c not in used]
    ell_nd = max((len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell = "".join(free[:ell_nd])
    new_terms = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            n = len(s) - (len(t) - 3)
            t = t.replace("...", ell[ell_nd - n:] if n else "")
        if not re.fullmatch(r"[A-Za-z]*", t):
            raise ValueError(f"einsum: invalid subscripts {t!r} in {equation!r}")
        if len(t) != len(s):
            raise ValueError(f"einsum: subscripts {t!r} have {len(t)} letters but the operand "
                             f"has {len(s)} dims (shape {tuple(s)})")
        if len(set(t)) != len(t):
            raise ValueError(f"einsum: repeated subscripts within one operand ({t!r}, a "
                             "diagonal) are not supported")
        new_terms.append(t)
    if out is None:
        counts = {}
        for t in new_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return new_terms, out


class Einsum(Function):
    def forward(self, *arrays, terms, out):
        self.terms, self.out = terms, out
        self.shapes = [a.shape for a in arrays]
        # an operand is read only by the other operands' gradients
        needs = self.needs_input_grad
        self.save_for_backward(*(a if any(needs[:i] + needs[i + 1:]) else None
                                 for i, a in enumerate(arrays)))
        eq = ",".join(terms) + "->" + out
        return get_array_module(arrays[0]).einsum(eq, *arrays, optimize=len(arrays) > 2)

    def backward(self, g):
        xp, arrays = self.xp, self.saved_tensors
        grads = []
        for i, t in enumerate(self.terms):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(tt, aa) for j, (tt, aa) in enumerate(zip(self.terms, arrays)) if j != i]
            avail = set(self.out).union(*[set(tt) for tt, _ in others])
            # letters only in this operand were summed away: broadcast them back afterwards
            kept = "".join(c for c in t if c in avail)
            eq = ",".join([self.out] + [tt for tt, _ in others]) + "->" + kept
            gi = xp.einsum(eq, g, *[aa for _, aa in others], optimize=len(others) > 1)
            if kept != t:
                full = self.shapes[i]
                shape = [full[t.index(c)] if c in kept else 1 for c in t]
                order = [kept.index(c) for c in t if c in kept]
                gi = xp.broadcast_to(xp.transpose(gi, order).reshape(shape), full)
            grads.append(gi)
        return tuple(grads)

    def to_onnx(self, g, *arrays, terms, out):
        return g.op("Einsum", *arrays, equation=",".join(terms) + "->" + out)


@op()
def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum("bij,bjk->bik", a, b)``; supports ``...`` and
    implicit output (not repeated letters within one operand).

    >>> import axonic
    >>> axonic.einsum("ij,j->i", axonic.ones(2, 3), axonic.tensor([1.0, 2.0, 3.0]))
    tensor([6., 6.])
    """
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    for k, o in enumerate(operands):
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum: operand {k} is {type(o).__name__}, expected a Tensor")
    terms, out = _parse_einsum(equation, [o.shape for o in operands])
    sizes = {}
    for t, o in zip(terms, operands):
        for c, n in zip(t, o.shape):
            if sizes.setdefault(c, n) != n:
                raise ValueError(f"einsum: subscript {c!r} has size {sizes[c]} in one operand "
                                 f"and {n} in another ({equation!r})")
    return Einsum.apply(*operands, terms=terms, out=out)


SPECS = [
    OpSpec("outer", outer, np.outer, [((3,), (4,))], lambda a, b: TORCH.outer(a, b)),
    OpSpec("matmul_2d", matmul, np.matmul, [((3, 4), (4, 5)), ((0, 4), (4, 2))],
           lambda a, b: a @ b),
    OpSpec("matmul_vec", matmul, np.matmul, [((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,))],
           lambda a, b: a @ b),
    OpSpec("matmul_batched_broadcast", matmul, np.matmul,
           [((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,))],
           lambda a, b: a @ b),
    OpSpec("matmul_transposed_view", lambda a, b: matmul(a.T, b), lambda a, b: a.T @ b,
           [((4, 3), (4, 2))], lambda a, b: a.T @ b),
    OpSpec("einsum_bmm", lambda a, b: einsum("bij,bjk->bik", a, b),
           lambda a, b: np.einsum("bij,bjk->bik", a, b), [((2, 3, 4), (2, 4, 5))],
           lambda a, b: TORCH.einsum("bij,bjk->bik", a, b)),
    OpSpec("einsum_outer_sum", lambda a, b: einsum("ij,k->jk", a, b),
           lambda a, b: np.einsum("ij,k->jk", a, b), [((3, 4), (5,))],
           lambda a, b: TORCH.einsum("ij,k->jk", a, b)),
    OpSpec("einsum_implicit_trace_free", lambda a, b: einsum("ij,jk", a, b),
           lambda a, b: np.einsum("ij,jk", a, b), [((3, 4), (4, 2))],
           lambda a, b: TORCH.einsum("ij,jk", a, b)),
    OpSpec("einsum_ellipsis", lambda a, b: einsum("...ij,...jk->...ik", a, b),
           lambda a, b: np.einsum("...ij,...jk->...ik", a, b), [((2, 3, 4), (2, 4, 3))],
           lambda a, b: TORCH.einsum("...ij,...jk->...ik", a, b)),
    OpSpec("einsum_three", lambda a, b, c: einsum("ij,jk,kl->il", a, b, c),
           lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c), [((2, 3), (3, 4), (4, 2))],
           lambda a, b, c: TORCH.einsum("ij,jk,kl->il", a, b, c)),
]
