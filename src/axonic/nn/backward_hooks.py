"""Module backward hooks: ``hook(module, grad_input, grad_output)`` once the gradients
with respect to a module's tensor inputs are known, and pre-hooks
``hook(module, grad_output)`` when those of its outputs are.

A call with hooks threads its tensor inputs and outputs through identity ops whose
backward reports the gradient passing by; the engine's topological order guarantees every
output gradient arrives before any input gradient.
"""

from __future__ import annotations

from axonic.autograd.function import Function
from axonic.autograd.grad_mode import STATE
from axonic.autograd.tensor import Tensor, _make


class _Passage(Function):
    """Identity whose backward hands the gradient to ``state.arrived``."""

    is_view = True

    def forward(self, x, state=None, side="in", pos=0):
        self.state, self.side, self.pos = state, side, pos
        return x

    def backward(self, g):
        return self.state.arrived(self.side, self.pos, g)


class _CallState:
    def __init__(self, module, n_args, wanted_inputs, n_outputs):
        self.module = module
        self.grad_input = [None] * n_args
        self.waiting = set(wanted_inputs)
        self.grad_output = [None] * n_outputs
        self.outputs_done = False
        self.fired = False

    def _outputs_ready(self):
        if self.outputs_done:
            return
        self.outputs_done = True
        go = tuple(None if g is None else _make(g) for g in self.grad_output)
        for hook in list(self.module._backward_pre_hooks.values()):
            r = hook(self.module, go)
            if r is not None:
                go = tuple(r) if isinstance(r, tuple | list) else (r,)
        self.grad_output = [None if g is None else (g._data if isinstance(g, Tensor) else g)
                            for g in go]
        if not self.waiting:  # no input needs a gradient: report at the outputs
            self._fire()

    def _fire(self):
        if self.fired:
            return
        self.fired = True
        gi = tuple(None if g is None else _make(g) for g in self.grad_input)
        go = tuple(None if g is None else _make(g) for g in self.grad_output)
        for hook in list(self.module._backward_hooks.values()):
            r = hook(self.module, gi, go)
            if r is not None:
                gi = tuple(r) if isinstance(r, tuple | list) else (r,)
        self.grad_input = [None if g is None else (g._data if isinstance(g, Tensor) else g)
                           for g in gi]

    def arrived(self, side, pos, g):
        if side == "out":
            self.grad_output[pos] = g
            # the output's pre-hooks may replace its gradient; read it back after them
            if all(v is not None for v in self.grad_output):
                self._outputs_ready()
            return self.grad_output[pos] if self.outputs_done else g
        self._outputs_ready()  # outputs not reached by the loss keep a None gradient
        self.grad_input[pos] = g
        self.waiting.discard(pos)
        if not self.waiting:
            self._fire()
        return self.grad_input[pos] if self.fired else g


def call_with_backward_hooks(module, forward, args, kwargs):
    """Run ``forward(*args, **kwargs)`` with the module's backward hooks attached."""
    if not STATE.enabled:
        return forward(*args, **kwargs)
    wanted = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    state = _CallState(module, len(args), wanted, 0)
    args = tuple(_Passage.apply(a, state=state, side="in", pos=i) if i in wanted else a
                 for i, a in enumerate(args))
    out = forward(*args, **kwargs)
    outs = out if isinstance(out, tuple) else (out,)
    state.grad_output = [None] * len(outs)
    wrapped = tuple(_Passage.apply(o, state=state, side="out", pos=i)
                    if isinstance(o, Tensor) and o.requires_grad else o
                    for i, o in enumerate(outs))
    return wrapped if isinstance(out, tuple) else wrapped[0]
