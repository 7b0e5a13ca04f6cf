"""axonic: a complete neural-network framework on NumPy.

>>> import axonic
>>> x = axonic.tensor([1.0, 2.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad
tensor([2., 4.])
"""

from axonic import autograd
from axonic.autograd import (
    Tensor,
    enable_grad,
    is_grad_enabled,
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
from axonic.backend import cuda_is_available as _cuda_is_available
from axonic.backend.random import (
    Generator,
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


class cuda:
    """``axonic.cuda.is_available()``, as in PyTorch."""

    is_available = staticmethod(_cuda_is_available)

# --- further packages: one import line each, added by the package's owner ---------------
from axonic import data  # noqa: E402, I001  (one line per package, kept apart)
from axonic import nn  # noqa: E402
from axonic import optim  # noqa: E402
from axonic.io import load, save  # noqa: E402
from axonic import train  # noqa: E402
