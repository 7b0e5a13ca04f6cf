"""``LayerInputError``: a layer's complaint about its input, located in the model.

The layer raises it with its own name; the outermost ``Module.__call__`` adds the layer's
path in the model (``features.3 (Conv2d): ...``), so the message says where to look.
"""

from __future__ import annotations

import sys


class LayerInputError(ValueError):
    """A layer got an input it cannot take. The message names the layer; when the layer
    runs inside a model, the outermost module adds the layer's path (``features.3``)."""

    def __init__(self, module, message):
        super().__init__(f"{type(module).__name__}: {message}")
        self.module = module
        self.detail = message
        self.located = False


def locate(error: LayerInputError, model) -> None:
    """Prefix ``error``'s message with the failing layer's path in ``model``, when the
    ``Module.__call__`` that caught it (the caller of this function) is the outermost one
    on this thread's stack. Walking the stack only while an error is being reported keeps
    calls without errors free (a per-thread depth counter cost two updates on every call).

    >>> import axonic
    >>> from axonic import nn
    >>> try:
    ...     nn.Sequential(nn.Linear(2, 2))(axonic.zeros(2, 3))
    ... except ValueError as e:
    ...     print(e)
    0 (Linear): expected input with last dimension 2, got shape (2, 3)
    """
    if error.located or error.module is model:
        return
    call = sys._getframe(1)
    f = call.f_back
    while f is not None:
        if f.f_code is call.f_code:
            return  # an outer call locates it
        f = f.f_back
    path = next((n for n, m in model.named_modules() if m is error.module), None)
    if path:
        error.located = True
        error.args = (f"{path} ({type(error.module).__name__}): {error.detail}",)
