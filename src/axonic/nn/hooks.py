"""A ``Module``'s hooks: registering one gives a handle whose ``remove()`` unregisters it
(PyTorch's ``RemovableHandle``; keys grow, so hooks run in registration order), and a call
runs them around ``forward``.
"""

from __future__ import annotations


class RemovableHandle:
    """Returned by ``register_*_hook``; ``remove()`` takes the hook out again.

    >>> hooks = {}
    >>> handle = add_hook(hooks, print)
    >>> len(hooks)
    1
    >>> handle.remove()
    >>> len(hooks)
    0
    """

    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


_hook_counter = [0]


def add_hook(hooks, hook) -> RemovableHandle:
    """Register ``hook`` in the ordered dict ``hooks``; returns its handle."""
    _hook_counter[0] += 1
    hooks[_hook_counter[0]] = hook
    return RemovableHandle(hooks, _hook_counter[0])


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` with its forward pre-hooks, forward hooks and backward
    hooks run around ``forward`` (``Module.__call__`` comes here only when it has hooks)."""
    for hook in module._forward_pre_hooks.values():
        r = hook(module, args)
        if r is not None:
            args = r if isinstance(r, tuple) else (r,)
    if module._backward_hooks or module._backward_pre_hooks:
        from axonic.nn.backward_hooks import call_with_backward_hooks

        out = call_with_backward_hooks(module, module.forward, args, kwargs)
    else:
        out = module.forward(*args, **kwargs)
    for hook in module._forward_hooks.values():
        r = hook(module, args, out)
        if r is not None:
            out = r
    return out
