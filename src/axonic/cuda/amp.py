"""``axonic.cuda.amp``: PyTorch's old spelling of mixed precision, forwarding to ``axonic.amp``.

``axonic.cuda.amp.autocast()`` is ``axonic.amp.autocast("cuda")`` and
``axonic.cuda.amp.GradScaler`` is ``axonic.amp.GradScaler``, as in ``torch.cuda.amp``.
"""

from __future__ import annotations


def _amp():
    import importlib

    return importlib.import_module("axonic.amp")


def autocast(enabled: bool = True, dtype=None, cache_enabled: bool = True):
    """``axonic.amp.autocast("cuda", ...)``."""
    kwargs = {"enabled": enabled, "cache_enabled": cache_enabled}
    if dtype is not None:
        kwargs["dtype"] = dtype
    return _amp().autocast("cuda", **kwargs)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_amp(), name)
