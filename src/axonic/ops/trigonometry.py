"""Trigonometric and hyperbolic functions: sin cos tan sinh cosh atan (atan2 is in
arithmetic).
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module
from axonic.ops._registry import op
from axonic.ops._spec import OpSpec
from axonic.ops._util import float_result as _float


class Sin(Function):
    onnx_op = "Sin"

    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).sin(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        xp = self.xp
        return g * xp.cos(x)


class Cos(Function):
    onnx_op = "Cos"

    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).cos(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        xp = self.xp
        return -g * xp.sin(x)


class Tan(Function):
    onnx_op = "Tan"

    def forward(self, x):
        out = get_array_module(x).tan(x)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return g * (1 + out * out)


class Sinh(Function):
    onnx_op = "Sinh"

    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).sinh(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        xp = self.xp
        return g * xp.cosh(x)


class Cosh(Function):
    onnx_op = "Cosh"

    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).cosh(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        xp = self.xp
        return g * xp.sinh(x)


class Atan(Function):
    onnx_op = "Atan"

    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).arctan(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / (1 + x * x)


@op(methods=("sin",))
def sin(input):
    return Sin.apply(_float(input))


@op(methods=("cos",))
def cos(input):
    return Cos.apply(_float(input))


@op(methods=("tan",))
def tan(input):
    return Tan.apply(_float(input))


@op(methods=("sinh",))
def sinh(input):
    return Sinh.apply(_float(input))


@op(methods=("cosh",))
def cosh(input):
    return Cosh.apply(_float(input))


@op(methods=("atan", "arctan"))
def atan(input):
    return Atan.apply(_float(input))


_SHAPES = [((3, 4),), ((),), ((0, 2),), ((2, 3, 4),)]

SPECS = [
    OpSpec("tan", tan, np.tan, [lambda r: (r.uniform(-1.2, 1.2, (3, 4)),)], lambda a: a.tan()),
    OpSpec("sinh", sinh, np.sinh, _SHAPES, lambda a: a.sinh()),
    OpSpec("cosh", cosh, np.cosh, _SHAPES, lambda a: a.cosh()),
    OpSpec("atan", atan, np.arctan, _SHAPES, lambda a: a.atan()),
    OpSpec("sin", sin, np.sin, _SHAPES, lambda a: a.sin()),
    OpSpec("cos", cos, np.cos, _SHAPES, lambda a: a.cos()),
]
