"""How a ``Module`` prints: ``repr`` in PyTorch's layout and ``summary``'s table of layers,
output shapes and parameter counts."""

from __future__ import annotations

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import resolve_dtype


def module_repr(module) -> str:
    """PyTorch's layout: a one-line ``extra_repr`` inline, otherwise one item per line.

    >>> from axonic import nn
    >>> print(module_repr(nn.Sequential(nn.ReLU())))
    Sequential(
      (0): ReLU()
    )
    """
    lines = []
    extra = module.extra_repr()
    extra_lines = extra.split("\n") if extra else []
    for name, m in module._modules.items():
        mod = repr(m).replace("\n", "\n  ")
        lines.append(f"({name}): {mod}")
    main = type(module).__name__ + "("
    if len(extra_lines) == 1 and not lines:
        return main + extra_lines[0] + ")"
    body = extra_lines + lines
    if not body:
        return main + ")"
    return main + "\n  " + "\n  ".join(body) + "\n)"


def summary(module, inputs=(), input_size=None, dtype=None) -> str:
    """The table of ``Module.summary``: run ``module`` once on ``inputs`` (or a random input
    of ``input_size``) in eval mode and list each layer that ran.

    >>> from axonic import nn
    >>> print(summary(nn.Linear(3, 4), input_size=(2, 3)))  # doctest: +NORMALIZE_WHITESPACE
    Layer (type)       Output shape    Param #
    ==============================================
    Linear (Linear)    (2, 4)          16
    ==============================================
    Total params: 16
    Trainable params: 16
    """
    if input_size is not None:
        sizes = [input_size] if isinstance(input_size[0], int) else list(input_size)
        inputs = tuple(_make(np.random.default_rng(0).standard_normal(s).astype(
            resolve_dtype(dtype))) for s in sizes)
    calls = _record_calls(module, inputs)
    rows = _rows(calls)
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    w0 = max([len(r[0]) for r in rows] + [12]) + 4
    w1 = max([len(r[1]) for r in rows] + [12]) + 4
    header = f"{'Layer (type)':<{w0}}{'Output shape':<{w1}}Param #"
    rule = "=" * (w0 + w1 + 11)
    body = [f"{a:<{w0}}{b:<{w1}}{c:,}" for a, b, c in rows]
    return "\n".join([header, rule, *body, rule, f"Total params: {total:,}",
                      f"Trainable params: {trainable:,}"])


def _record_calls(module, inputs) -> list:
    """(name, module, output shape) of every submodule call of one eval-mode forward."""
    calls, handles = [], []
    for name, m in module.named_modules():
        if m is module and module._modules:
            continue

        def hook(mod, args, out, name=name):
            shape = tuple(out.shape) if isinstance(out, Tensor) else (
                tuple(out[0].shape) if isinstance(out, tuple) and out and isinstance(
                    out[0], Tensor) else "-")
            calls.append((name, mod, str(shape)))

        handles.append(m.register_forward_hook(hook))
    was = module.training
    try:
        module.eval()
        with no_grad():
            module(*inputs)
    finally:
        module.train(was)
        for h in handles:
            h.remove()
    return calls


def _rows(calls) -> list:
    """A row per innermost module that ran (with all its parameters, including those of
    children it uses without calling them, like MultiheadAttention's out_proj), and per
    outer module that ran and owns parameters directly (with those alone)."""
    called = [c[0] for c in calls]
    rows = []
    for name, mod, shape in calls:
        inner = any(c.startswith(name + ".") for c in called) if name else len(calls) > 1
        if not inner:
            n = sum(p.numel() for p in mod.parameters())
        elif any(p is not None for p in mod._parameters.values()):
            n = sum(p.numel() for p in mod.parameters(recurse=False))
        else:
            continue
        rows.append((f"{name or type(mod).__name__} ({type(mod).__name__})", shape, n))
    return rows
