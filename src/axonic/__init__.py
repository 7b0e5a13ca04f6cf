"""axonic: a complete neural-network framework on NumPy.

>>> import axonic
>>> x = axonic.tensor([1.0, 2.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad
tensor([2., 4.])
"""

import math as _math

import numpy as _np

from axonic import autograd
from axonic.autograd import (
    Tensor,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
    tensor,
)
from axonic.backend import (
    Device,
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
)
from axonic.backend import as_device as device
from axonic.backend.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from axonic.ops import *  # noqa: F403  (the op functions: add, matmul, sum, cat, ...)
from axonic.ops import all_specs as _all_specs  # noqa: F401

bool = bool_  # noqa: A001  (PyTorch's name for the dtype)
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001

__version__ = "0.1.0"


# PyTorch's numeric constants and dtype limits (np.finfo answers .eps/.max/.tiny alike)
pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None
finfo, iinfo = _np.finfo, _np.iinfo
Size = tuple  # a tensor's shape is a plain tuple: Size([2, 3]) == x.shape, isinstance works


def get_default_device():
    """The device creation functions use: always the CPU (pass ``device=`` for a GPU)."""
    return device("cpu")


def _assert(condition, message):
    """PyTorch's ``torch._assert``: ``assert condition, message`` as a function (it survives
    ``python -O``, as in PyTorch's traced code).

    >>> _assert(True, "never raised")
    """
    if not condition:
        raise AssertionError(message)


# --- packages -----------------------------------------------------------------------------
# nn is imported at once (it is small and used everywhere); the rest on first use, so that
# `import axonic` stays fast: `axonic.optim`, `from axonic import data`, `axonic.save` all work.
from axonic import nn  # noqa: E402

# `axonic.compile` is the package, callable as PyTorch's `torch.compile` function
_LAZY_MODULES = ("data", "optim", "train", "io", "models", "cli", "cuda", "onnx", "quantization",
                 "compat", "amp", "backends", "accelerator", "utils", "serialization", "compile")
_LAZY_NAMES = {"save": "axonic.io", "load": "axonic.io", "autocast": "axonic.amp",
               "GradScaler": "axonic.amp",
               "set_num_threads": "axonic.backend.threads",
               "get_num_threads": "axonic.backend.threads",
               **{n: "axonic.quantization" for n in (
                   "qint8", "quint8", "qint32", "quantize_per_tensor", "quantize_per_channel")},
               **{n: "axonic.backends" for n in (
                   "set_float32_matmul_precision", "get_float32_matmul_precision",
                   "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
                   "is_deterministic_algorithms_warn_only_enabled")}}


def __getattr__(name):
    import importlib

    if name in _LAZY_MODULES:
        module = importlib.import_module(f"axonic.{name}")
        globals()[name] = module
        return module
    if name == "bfloat16":  # ml_dtypes is imported only when bfloat16 is asked for
        from axonic.backend.dtypes import bfloat16_dtype

        globals()[name] = bfloat16_dtype()
        return globals()[name]
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'axonic' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY_MODULES) + list(_LAZY_NAMES) + ["bfloat16"])
