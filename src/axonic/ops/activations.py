"""Activation functions: relu sigmoid tanh gelu silu elu leaky_relu softplus prelu.

Each is one op with its own backward (the elementwise derivative, cheaper than composing
the forward from primitives); under create_graph the backwards recompute what they need
from x with differentiable ops.
"""

from __future__ import annotations

import math

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module, jit, threads
from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec, away_from
from axonic.ops._util import float_result as _float
from axonic.ops.inplace import honours_inplace
from axonic.ops.special import (
    _INV_SQRT2,
    _INV_SQRT_2PI,
    _SQRT_2_OVER_PI,
    erfc,
    normal_cdf_array,
)


class Tanh(Function):
    onnx_op = "Tanh"

    def forward(self, x):
        out = get_array_module(x).tanh(x)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return g * (1 - out * out)


class Sigmoid(Function):
    onnx_op = "Sigmoid"

    def forward(self, x):
        xp = get_array_module(x)
        # exp(-|x|) never overflows; both branches keep full relative precision
        e = xp.exp(-xp.abs(x))
        r = 1 / (1 + e)
        out = xp.where(x >= 0, r, e * r)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return g * (out * (1 - out))


def _relu_into(out, x):
    get_array_module(x).maximum(x, 0, out=out)


def _relu_grad_into(dx, g, out):
    get_array_module(g).multiply(g, out > 0, out=dx)


class Relu(Function):
    """max(x, 0); large float arrays are split across the intra-op threads."""
    onnx_op = "Relu"

    def forward(self, x):
        xp = get_array_module(x)
        if x.dtype.kind == "f" and x.size >= threads.MIN_PARALLEL_SIZE:
            out = threads.parallel_apply(_relu_into, xp.empty_like(x), x)
        else:
            out = xp.maximum(x, 0)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        if self._graph_mode:
            return g * (out > 0)
        if (type(g) is np.ndarray and type(out) is np.ndarray and g.dtype == out.dtype
                and g.dtype in (np.float32, np.float64) and g.shape == out.shape
                and g.flags.c_contiguous and out.flags.c_contiguous and g.size >= 4096
                and not (threads.ENABLED and threads.get_num_threads() > 1)):
            fused = jit.kernels()  # one compiled pass where numba is installed
            if fused is not None:
                return fused.relu_backward(g, out)
        if g.size >= threads.MIN_PARALLEL_SIZE and g.shape == out.shape and g.dtype.kind == "f":
            return threads.parallel_apply(_relu_grad_into, self.xp.empty_like(g), g, out)
        return g * (out > 0)


@op(methods=("tanh",))
def tanh(input):
    return Tanh.apply(_float(input))


@op(methods=("sigmoid",))
def sigmoid(input):
    """``1 / (1 + exp(-x))``, exact in float32 for large negative inputs.

    >>> import axonic
    >>> axonic.tensor([-100.0, 0.0]).sigmoid()
    tensor([3.7835e-44, 5.0000e-01])
    """
    return Sigmoid.apply(_float(input))


@op(methods=("relu",))
def relu(input):
    return Relu.apply(input)


def _sig(x):
    return 1 / (1 + np.exp(-x))


class Gelu(Function):
    def forward(self, x, approximate="none"):
        self.approximate = approximate
        if approximate == "tanh":
            t = get_array_module(x).tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            self.save_for_backward(x, t)
            return 0.5 * x * (1 + t)
        # Phi through erfc keeps its relative precision for x << 0 (1 + erf would cancel)
        cdf = normal_cdf_array(x)
        self.save_for_backward(x, cdf)
        return x * cdf

    def backward(self, g):
        x, aux = self.saved_tensors
        xp, tanh = self.xp, self.approximate == "tanh"
        if self._graph_mode:  # aux is a function of x: recompute it with differentiable ops
            aux = (xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)) if tanh
                   else 0.5 * erfc(x * -_INV_SQRT2))
        if tanh:
            inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return g * (0.5 * (1 + aux) + 0.5 * x * (1 - aux * aux) * inner)
        pdf = _INV_SQRT_2PI * xp.exp(-0.5 * x * x)
        return g * (aux + x * pdf)

    def to_onnx(self, g, x, approximate="none"):
        if g.opset >= 20:
            return g.op("Gelu", x, approximate=approximate)
        dt = g.out_dtype
        if approximate == "tanh":  # tanh(sqrt(2 / pi) * (x + 0.044715 x^3))
            cube = g.op("Mul", g.op("Mul", x, x), x)
            inner = g.op("Add", x, g.op("Mul", cube, g.const(0.044715, dt)))
            t = g.op("Tanh", g.op("Mul", inner, g.const(np.sqrt(2 / np.pi), dt)))
        else:
            t = g.op("Erf", g.op("Div", x, g.const(np.sqrt(2.0), dt)))
        return g.op("Mul", g.op("Mul", x, g.const(0.5, dt)), g.op("Add", t, g.const(1, dt)))


def _sigmoid(x):
    # exp(-x) overflows to inf only where the sigmoid is 0 anyway
    xp = get_array_module(x)
    with np.errstate(over="ignore"):
        return 1 / (1 + xp.exp(-x))


def _sigmoid_of(fn, x):
    """sigmoid(x) for a backward: on arrays directly, under create_graph as an op."""
    if fn._graph_mode:
        return sigmoid(x)
    return _sigmoid(x)


class Silu(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return x * _sigmoid(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        s = _sigmoid_of(self, x)
        return g * (s * (1 + x * (1 - s)))

    def to_onnx(self, g, x):
        return g.op("Mul", x, g.op("Sigmoid", x))


# The piecewise ops select with masks in arithmetic (each term is exactly 0 on the other
# side), since np.where on data-dependent masks is an order of magnitude slower.
class Elu(Function):
    def forward(self, x, alpha=1.0):
        self.alpha = alpha
        self.save_for_backward(x)
        xp = get_array_module(x)
        return xp.maximum(x, 0) + alpha * xp.expm1(xp.minimum(x, 0))

    def backward(self, g):
        (x,) = self.saved_tensors
        pos = x > 0
        return g * (self.alpha * self.xp.exp(self.xp.minimum(x, 0)) * ~pos + pos)

    def to_onnx(self, g, x, alpha=1.0):
        return g.op("Elu", x, alpha=float(alpha))


class LeakyRelu(Function):
    def forward(self, x, negative_slope=0.01):
        self.slope = negative_slope
        self.save_for_backward(x)
        xp = get_array_module(x)
        return xp.maximum(x, 0) + x.dtype.type(negative_slope) * xp.minimum(x, 0)

    def backward(self, g):
        (x,) = self.saved_tensors
        pos = x > 0
        return g * (pos + g.dtype.type(self.slope) * ~pos)

    def to_onnx(self, g, x, negative_slope=0.01):
        return g.op("LeakyRelu", x, alpha=float(negative_slope))


class Softplus(Function):
    def forward(self, x, beta=1.0, threshold=20.0):
        self.beta, self.threshold = beta, threshold
        self.save_for_backward(x)
        xp = get_array_module(x)
        bx = x * beta if beta != 1 else x
        # log1p(exp(bx)) written so exp never overflows
        soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx))))
        if beta != 1:
            soft = soft / beta
        over = bx > threshold
        if over.any():
            soft += over * (x - soft)  # exactly x there: the difference is exact
        return soft

    def backward(self, g):
        (x,) = self.saved_tensors
        bx = x * self.beta if self.beta != 1 else x
        s = _sigmoid_of(self, bx)
        over = bx > self.threshold
        if over.any():
            s = s + over * (1 - s)
        return g * s

    def to_onnx(self, g, x, beta=1.0, threshold=20.0):
        dt = g.out_dtype
        bx = g.op("Mul", x, g.const(beta, dt))
        soft = g.op("Div", g.op("Softplus", bx), g.const(beta, dt))
        return g.op("Where", g.op("Greater", bx, g.const(threshold, dt)), x, soft)


class Prelu(Function):
    """``max(0, x) + w * min(0, x)`` with one slope per channel (dim 1) or one in all."""

    def forward(self, x, w):
        self.save_for_backward(x, w)
        xp = get_array_module(x)
        return xp.maximum(x, 0) + _channel(w, x.ndim) * xp.minimum(x, 0)

    def backward(self, g):
        x, w = self.saved_tensors
        nx, nw = self.needs_input_grad
        xp = self.xp
        pos = x > 0
        gx = g * (pos + _channel(w, x.ndim) * ~pos) if nx else None
        gw = None
        if nw:
            contrib = xp.minimum(x, 0) * g
            if math.prod(w.shape) > 1:
                gw = contrib.sum(axis=(0,) + tuple(range(2, x.ndim))).reshape(w.shape)
            else:
                gw = contrib.sum().reshape(w.shape)
        return gx, gw

    def to_onnx(self, g, x, w):
        rank = len(g.dims(x))
        if rank > 2 and math.prod(g.dims(w)) > 1:  # one slope per channel (dim 1)
            w = g.op("Reshape", w, g.ints([-1] + [1] * (rank - 2)))
        return g.op("PRelu", x, w)


def _channel(w, ndim):
    """The slopes shaped to broadcast along dim 1 (or a single slope as a 0-d value)."""
    return w.reshape((1, -1) + (1,) * (ndim - 2)) if math.prod(w.shape) > 1 else w.reshape(())


@op()
def gelu(input, approximate: str = "none"):
    """``x * Phi(x)`` (Phi the normal CDF), or the tanh approximation with
    ``approximate='tanh'``."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(_float(input), approximate=approximate)


@op()
@honours_inplace
def silu(input, inplace: bool = False):
    """``x * sigmoid(x)`` (also called swish)."""
    return Silu.apply(_float(input))


@op()
@honours_inplace
def elu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return Elu.apply(_float(input), alpha=alpha)


@op()
@honours_inplace
def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return LeakyRelu.apply(_float(input), negative_slope=negative_slope)


@op()
def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    return Softplus.apply(_float(input), beta=beta, threshold=threshold)


@op()
def prelu(input, weight):
    """Leaky ReLU with learnable slopes: one per channel (dim 1) or a single one."""
    w = weight._data
    if w.size > 1 and (input.ndim < 2 or input.shape[1] != w.size):
        raise ValueError(
            f"prelu: weight has {w.size} slopes but the input has shape {tuple(input.shape)}; "
            f"expected {w.size} channels in dim 1")
    return Prelu.apply(input, weight)


def _np_gelu(a):
    return a * 0.5 * (1 + _np_erf(a / math.sqrt(2)))


def _np_gelu_tanh(a):
    return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))


def _np_softplus(a, beta=1.0, threshold=20.0):
    return np.where(a * beta > threshold, a, np.log1p(np.exp(a * beta)) / beta)


def _wide(r):
    return (away_from(r.uniform(-6, 6, (4, 6)), [0]),)


def _ch(r):
    return (away_from(r.uniform(-2, 2, (2, 3, 4)), [0]), r.uniform(0.05, 0.5, (3,)))


def _ch1(r):
    return (away_from(r.uniform(-2, 2, (3, 4)), [0]), np.array([0.25]))


def _np_prelu(a, w):
    wb = w.reshape((1, -1) + (1,) * (a.ndim - 2)) if w.size > 1 else w.reshape(())
    return np.where(a > 0, a, wb * a)


_SHAPES = [((3, 4),), ((),), ((0, 2),), ((2, 3, 4),)]


def _np_erf(a):
    return np.vectorize(math.erf, otypes=[np.float64])(a)


SPECS = [
    OpSpec("tanh", tanh, np.tanh, _SHAPES, lambda a: a.tanh()),
    OpSpec("sigmoid", sigmoid, _sig, _SHAPES + [lambda r: (np.array([-30.0, -5, 0, 5, 30]),)],
           lambda a: a.sigmoid()),
    OpSpec("relu", relu, lambda a: np.maximum(a, 0),
           [lambda r: (away_from(r.uniform(-2, 2, (3, 4)), [0]),), ((),)], lambda a: a.relu()),
    OpSpec("gelu", gelu, _np_gelu, [_wide, ((),)],
           lambda a: TORCH.nn.functional.gelu(a)),
    OpSpec("gelu_tanh", lambda a: gelu(a, "tanh"), _np_gelu_tanh, [_wide],
           lambda a: TORCH.nn.functional.gelu(a, approximate="tanh")),
    OpSpec("silu", silu, lambda a: a / (1 + np.exp(-a)),
           [_wide, lambda r: (np.array([-100.0, -20, 0, 20, 100]),)],
           lambda a: TORCH.nn.functional.silu(a)),
    OpSpec("elu", lambda a: elu(a, 0.7), lambda a: np.where(a > 0, a, 0.7 * np.expm1(a)),
           [lambda r: (away_from(r.uniform(-3, 3, (3, 5)), [0]),)],
           lambda a: TORCH.nn.functional.elu(a, 0.7)),
    OpSpec("leaky_relu", lambda a: leaky_relu(a, 0.1), lambda a: np.where(a > 0, a, 0.1 * a),
           [lambda r: (away_from(r.uniform(-2, 2, (3, 5)), [0]),)],
           lambda a: TORCH.nn.functional.leaky_relu(a, 0.1)),
    OpSpec("softplus", softplus, _np_softplus,
           [_wide, lambda r: (np.array([-50.0, -1, 0, 1, 19.9, 20.1, 50]),)],
           lambda a: TORCH.nn.functional.softplus(a)),
    OpSpec("softplus_beta", lambda a: softplus(a, 2.0, 5.0), lambda a: _np_softplus(a, 2.0, 5.0),
           [lambda r: (away_from(r.uniform(-4, 4, (3, 5)), [2.5]),)],
           lambda a: TORCH.nn.functional.softplus(a, 2.0, 5.0)),
    OpSpec("prelu", prelu, _np_prelu, [_ch, _ch1], lambda a, w: TORCH.nn.functional.prelu(a, w)),
]
