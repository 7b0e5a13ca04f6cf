"""``torch.nn.modules.activation``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    MultiheadAttention,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmax2d,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from axonic.nn.activation_random import RReLU

__all__ = [
    "Threshold", "ReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid", "Tanh", "SiLU",
    "Mish", "Hardswish", "ELU", "CELU", "SELU", "GLU", "GELU", "LeakyReLU", "LogSigmoid",
    "Softplus", "MultiheadAttention", "PReLU", "Softsign", "Softmin", "Softmax", "LogSoftmax",
    "Hardshrink", "Softshrink", "Tanhshrink", "Softmax2d", "RReLU",
]
