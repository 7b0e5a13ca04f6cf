"""``axonic.compile``: PyTorch's ``torch.compile``, as a plan of array calls.

The first call with a given signature (the shapes and dtypes of the tensor arguments,
the other arguments, the grad mode and every module's ``training`` flag) runs eagerly
while the ops it runs are recorded; later calls with that signature replay them: each
op's forward on raw arrays, without tensors, ``Module.__call__``, hooks or the graph.
Parameters and buffers are read afresh at every call, so an optimizer step,
``load_state_dict`` or a replaced parameter is seen. Results are identical, bit for bit,
to eager ones (the same array calls in the same order).

What a plan cannot represent runs eagerly for that signature after one warning naming
why (``fullgraph=True`` raises ``Unsupported`` instead): random numbers (dropout in
training mode), in-place changes of inputs, results or buffers (BatchNorm in training
mode), a value read back into Python (``.item()``, ``bool(t)``), Python control flow or
values computed outside the ops from the inputs (found by recording the first call a
second time on changed inputs and weights). A call that autograd must record (an input
or parameter requiring grad, with grad enabled) runs eagerly: plans are for inference.

>>> import axonic
>>> from axonic import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
>>> fast = axonic.compile(model)
>>> x = axonic.randn(3, 4)
>>> with axonic.no_grad():
...     y1, y2 = fast(x), fast(x)       # recorded, then replayed
...     same = bool((y2.numpy() == model(x).numpy()).all())
>>> same
True
>>> @axonic.compile
... def gelu_mlp(x, w):
...     return axonic.nn.functional.gelu(x @ w)
>>> gelu_mlp(x, axonic.randn(4, 5)).shape
(3, 5)
"""

from __future__ import annotations

import functools
import sys
import types

from axonic.compile.compiled import Compiler
from axonic.compile.trace import Unsupported
from axonic.nn.module import Module

MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
BACKENDS = (None, "inductor", "axonic", "eager", "aot_eager")


class CompiledModule(Module):
    """A module whose calls go through plans; ``_orig_mod`` is the module (PyTorch's
    name), and its attributes are reachable through this one."""

    def __init__(self, module: Module, fullgraph: bool = False):
        super().__init__()
        self._orig_mod = module
        self.__dict__["_compiler"] = Compiler(module, module, fullgraph)

    def forward(self, *args, **kwargs):
        return self.__dict__["_compiler"](*args, **kwargs)

    def __getattr__(self, name):
        try:
            return Module.__getattr__(self, name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor",  # noqa: A001
            mode=None, options=None, disable: bool = False):
    """``torch.compile``: ``model`` (a ``Module`` or a function) with its calls replayed
    from plans (see the module docstring). Usable bare or as ``@compile(...)``.

    ``fullgraph=True`` raises ``Unsupported`` where a plan cannot represent a call,
    instead of running it eagerly. ``dynamic``, ``mode`` and ``options`` are accepted for
    PyTorch's code; plans are always specialised to the input shapes (a new shape is
    recorded anew). ``backend="eager"`` or ``disable=True`` return ``model`` unchanged.
    """
    if mode not in MODES:
        raise ValueError(f"axonic.compile: mode must be one of {MODES}, got {mode!r}")
    if not (backend in BACKENDS or callable(backend)):
        raise ValueError(f"axonic.compile: backend must be one of {BACKENDS} or a callable, "
                         f"got {backend!r}")
    if dynamic not in (None, True, False):
        raise ValueError(f"axonic.compile: dynamic must be None, True or False, got {dynamic!r}")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"axonic.compile: options must be a dict, got {type(options).__name__}")
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable)
    if disable or backend == "eager":
        return model
    if isinstance(model, Module):
        return CompiledModule(model, fullgraph)
    if not callable(model):
        raise TypeError(f"axonic.compile: expected a Module or a function, got "
                        f"{type(model).__name__}")
    compiler = Compiler(model, None, fullgraph)

    @functools.wraps(model)
    def compiled(*args, **kwargs):
        return compiler(*args, **kwargs)

    compiled._compiler = compiler
    return compiled


class _CallablePackage(types.ModuleType):
    """``axonic.compile`` is this package and PyTorch's function at once."""

    def __call__(self, model=None, **kwargs):
        return compile(model, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage

__all__ = ["CompiledModule", "Unsupported", "compile"]
