"""``Linear`` (``y = x @ W.T + b``), ``Identity`` and ``Bilinear``."""

from __future__ import annotations

import math

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.backend import resolve_dtype
from axonic.nn import init
from axonic.nn.module import Module
from axonic.nn.parameter import Parameter
from axonic.ops.linear import Linear as _LinearFn


def _check_features(layer: str, **sizes) -> None:
    for name, v in sizes.items():
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
            raise ValueError(f"{layer}: {name} must be a non-negative integer, got {v!r}")


def _empty(shape, dtype, device):
    from axonic.ops.creation import empty

    return empty(*shape, dtype=resolve_dtype(dtype), device=device)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` as one fused op (one GEMM forward, two backward).

    >>> import axonic
    >>> linear(axonic.ones(2, 3), axonic.ones(4, 3), axonic.zeros(4)).shape
    (2, 4)
    """
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input of shape {tuple(input.shape)} and weight of shape "
            f"{tuple(weight.shape)} do not fit: expected input's last dimension "
            f"{weight.shape[-1]}")
    if bias is None:
        return _LinearFn.apply(input, weight)
    return _LinearFn.apply(input, weight, bias)


class Identity(Module):
    """Returns its input unchanged; accepts and ignores any arguments.

    >>> import axonic
    >>> Identity(54, unused="x")(axonic.ones(2)).shape
    (2,)
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """Affine map ``y = x @ W.T + b`` over the last dimension.

    ``weight`` (out_features, in_features) starts as kaiming_uniform(a=sqrt(5)), i.e.
    U(-1/sqrt(in_features), 1/sqrt(in_features)), and so does ``bias``, as in PyTorch.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.Linear(3, 4)(axonic.ones(2, 3)).shape
    (2, 4)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        _check_features("Linear", in_features=in_features, out_features=out_features)
        from axonic.ops.creation import check_memory

        check_memory(f"Linear({in_features}, {out_features}): weight", (out_features,
                     in_features), np.dtype(resolve_dtype(dtype)).itemsize)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(_empty((out_features, in_features), dtype, device))
        if bias:
            self.bias = Parameter(_empty((out_features,), dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = init.default_bound(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        params = self._parameters  # one dict read instead of four attribute look-ups
        if "weight" in params and "bias" in params:
            weight, bias = params["weight"], params["bias"]
        else:  # re-parametrised (pruning): the tensors are plain attributes
            weight, bias = self.weight, self.bias
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            raise self.input_error(
                f"expected input with last dimension {self.in_features}, got shape {shape}")
        if input.dtype != weight.dtype:
            self.check_input_dtype(input, weight)
        if bias is None:
            return _LinearFn.apply(input, weight)
        return _LinearFn.apply(input, weight, bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y_k = x1 @ W_k @ x2 + b_k`` for inputs (*, in1) and (*, in2).

    >>> import axonic
    >>> from axonic import nn
    >>> nn.Bilinear(2, 3, 4)(axonic.ones(5, 2), axonic.ones(5, 3)).shape
    (5, 4)
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        _check_features("Bilinear", in1_features=in1_features, in2_features=in2_features,
                        out_features=out_features)
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        self.weight = Parameter(_empty((out_features, in1_features, in2_features), dtype, device))
        if bias:
            self.bias = Parameter(_empty((out_features,), dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        from axonic.ops.linalg import einsum

        if input1.shape[-1:] != (self.in1_features,) or input2.shape[-1:] != (
                self.in2_features,) or input1.shape[:-1] != input2.shape[:-1]:
            raise self.input_error(
                f"expected inputs of shapes (*, {self.in1_features}) and "
                f"(*, {self.in2_features}) with the same leading dims, got "
                f"{tuple(input1.shape)} and {tuple(input2.shape)}")
        out = einsum("...i,oij,...j->...o", input1, self.weight, input2)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
