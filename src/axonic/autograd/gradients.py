"""Where the gradients a backward produces go: ``.grad`` of every leaf (summed over
the leaf's uses, then its hooks, as PyTorch's AccumulateGrad), or, for
``autograd.grad`` and ``backward(inputs=...)``, only the chosen tensors.

Leaves receive an array they own, so in-place changes to ``.grad`` (clipping,
optimizers) never reach another tensor's gradient.
"""

from __future__ import annotations

from axonic.autograd.tensor import Tensor, _make


class _Gradients:
    """Where the gradients that reach tensors go during one traversal.

    ``wanted`` None: every leaf that requires grad (``Tensor.backward``). Otherwise only
    the tensors in ``wanted`` (leaves or not), whose gradients are summed and returned.
    """

    def __init__(self, wanted, create_graph: bool):
        self.graph = create_graph
        self.wanted = wanted
        if wanted is not None:
            # leaves by identity, non-leaves by the op that made them (local to this call)
            self.slot = {}
            for i, t in enumerate(wanted):
                self.slot.setdefault(id(t) if t.grad_fn is None else t.grad_fn, i)
            self.got = [None] * len(wanted)
        # id(leaf) -> [leaf, summed gradient, maybe shared with another tensor]
        self.leaves = {}

    def at_node(self, fn, g) -> None:
        if self.wanted is not None:
            i = self.slot.get(fn)
            if i is not None:
                self.got[i] = g if self.got[i] is None else self.got[i] + g

    def at_leaf(self, t: Tensor, g, maybe_shared: bool) -> None:
        if self.wanted is not None:
            if id(t) not in self.slot:
                return
        entry = self.leaves.get(id(t))
        if entry is None:
            self.leaves[id(t)] = [t, g, maybe_shared]
        else:  # the sum is a new array, owned by nobody else
            entry[1] = entry[1] + g
            entry[2] = False

    def finish(self):
        """Leaves' hooks run on their total gradient (as PyTorch's AccumulateGrad); then
        either accumulate into ``.grad`` or hand the gradients back."""
        if self.wanted is None:
            owned = set()
            for t, g, shared in self.leaves.values():
                _accumulate(t, g, shared, owned, self.graph)
            return None
        for t, g, _ in self.leaves.values():
            if t._hooks:
                g = _run_hooks(t._hooks, g, self.graph)
            i = self.slot[id(t)]
            self.got[i] = g if self.got[i] is None else self.got[i] + g
        return self.got


def _run_hooks(hooks, g, create_graph: bool = False):
    for hook in hooks:
        r = hook(g if create_graph else _make(g))
        if r is not None:
            if create_graph:
                g = r if isinstance(r, Tensor) else _make(r)
            else:
                g = r._data if isinstance(r, Tensor) else r
    return g


def _retain_into(t: Tensor, g, create_graph: bool) -> None:
    if create_graph:
        t.grad = g if t.grad is None else t.grad + g
    else:
        t.grad = _make(g.copy()) if t.grad is None else _make(t.grad._data + g)


def _accumulate(t: Tensor, g, maybe_shared: bool, owned: set, create_graph: bool) -> None:
    if t._hooks:
        hooked = _run_hooks(t._hooks, g, create_graph)
        maybe_shared = maybe_shared or hooked is not g  # a hook may return anything
        g = hooked
    if create_graph:  # the gradient keeps its history (PyTorch: grad.grad_fn is set)
        if t.grad is not None and t.grad.shape != g.shape:
            _grad_shape_error(t.grad, g)
        t.grad = g if t.grad is None else t.grad + g
        return
    if t.grad is None:
        # The leaf must own its gradient: a pass-through op (add, reshape, expand) hands the
        # same array or a view of it to several inputs.
        if maybe_shared or g.base is not None or id(g) in owned or not g.flags.writeable:
            g = g.copy()
        owned.add(id(g))
        t.grad = _make(g)
    else:
        gd = t.grad._data
        if gd.shape != g.shape:
            _grad_shape_error(t.grad, g)
        gd += g
        t.grad._vc[0] += 1


def _grad_shape_error(old, g):
    raise RuntimeError(
        f"existing .grad has shape {tuple(old.shape)} but the new gradient has shape "
        f"{tuple(g.shape)}"
    )
