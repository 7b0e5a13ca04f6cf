"""MAML (Finn et al. 2017): learn initial weights from which one or a few gradient
steps on a new task's support set already fit it. The inner steps run under
``create_graph``, so the query loss differentiates through them back to the initial
weights (``first_order=True`` drops that second-order part, as FOMAML does).

``functional_call(module, params, *args)`` runs a module with other tensors in place of
its parameters (PyTorch's ``torch.func.functional_call``), which the fast weights need.
"""

from __future__ import annotations

from axonic.autograd.engine import grad
from axonic.nn.module import Module


def functional_call(module: Module, params: dict, *args, **kwargs):
    """``module(*args)`` with ``params`` (dotted name -> tensor) standing in for the
    parameters of those names; the module's own parameters are restored afterwards.

    >>> import axonic
    >>> from axonic import nn
    >>> lin = nn.Linear(2, 1, bias=False)
    >>> functional_call(lin, {"weight": axonic.tensor([[1.0, 2.0]])}, axonic.ones(1, 2))
    tensor([[3.]])
    """
    swapped = []
    try:
        for name, value in params.items():
            owner_name, _, leaf = name.rpartition(".")
            owner = module.get_submodule(owner_name) if owner_name else module
            store = owner.__dict__["_parameters"]
            if leaf not in store:
                raise KeyError(f"functional_call: {type(module).__name__} has no parameter "
                               f"{name!r}")
            swapped.append((store, leaf, store[leaf]))
            store[leaf] = value  # bypasses __setattr__, which accepts only Parameters
        return module(*args, **kwargs)
    finally:
        for store, leaf, original in reversed(swapped):
            store[leaf] = original


class MAML(Module):
    """Wraps ``model``; ``adapt(loss, params)`` takes one inner SGD step with ``lr`` and
    returns the fast weights; ``maml(x, params=fast)`` runs the model with them.

    >>> import axonic
    >>> from axonic import nn
    >>> maml = MAML(nn.Linear(3, 2), lr=0.1)
    >>> x, y = axonic.randn(4, 3), axonic.tensor([0, 1, 1, 0])
    >>> fast = maml.adapt(nn.functional.cross_entropy(maml(x), y))
    >>> query_loss = nn.functional.cross_entropy(maml(x, params=fast), y)
    >>> query_loss.backward()                     # the meta-gradient, on maml's own weights
    >>> maml.module.weight.grad.shape
    (2, 3)
    """

    def __init__(self, model: Module, lr: float, first_order: bool = False):
        super().__init__()
        if not lr > 0:
            raise ValueError(f"MAML: lr must be positive, got {lr!r}")
        self.module, self.lr, self.first_order = model, float(lr), bool(first_order)

    def forward(self, *args, params: dict | None = None, **kwargs):
        if params is None:
            return self.module(*args, **kwargs)
        return functional_call(self.module, params, *args, **kwargs)

    def adapt(self, loss, params: dict | None = None) -> dict:
        """Fast weights ``params - lr * d loss / d params`` (starting from the model's)."""
        if params is None:
            params = dict(self.module.named_parameters())
        names = list(params)
        # retain_graph: the engine frees what it walks, and a later step's loss reaches the
        # original weights through these fast weights again
        grads = grad(loss, [params[n] for n in names], create_graph=not self.first_order,
                     retain_graph=True)
        if self.first_order:
            grads = [g.detach() for g in grads]
        return {n: params[n] - self.lr * g for n, g in zip(names, grads)}
