"""Adadelta: step sizes from running averages of squared gradients and squared updates
(Zeiler, 2012)."""

from __future__ import annotations

from axonic.backend import get_array_module
from axonic.optim.optimizer import (
    Optimizer,
    check_non_negative,
    effective_grad,
    step_tensor,
    zeros_state,
)


class Adadelta(Optimizer):
    r"""Adadelta, PyTorch's ``torch.optim.Adadelta``.

    .. math::
        g_t &\leftarrow \pm g_t + \lambda \theta_{t-1} \quad (-\text{ if maximize}) \\
        v_t &\leftarrow \rho v_{t-1} + (1 - \rho) g_t^2 \\
        \Delta_t &\leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t \\
        u_t &\leftarrow \rho u_{t-1} + (1 - \rho) \Delta_t^2 \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma \Delta_t

    State per parameter: ``step``, ``square_avg``, ``acc_delta``.

    >>> import axonic
    >>> from axonic import optim
    >>> w = axonic.nn.Parameter(axonic.tensor([1.0, -2.0]))
    >>> opt = optim.Adadelta([w], lr=1.0)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.9968, -1.9968]
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False):
        check_non_negative("Adadelta", "learning rate", lr, "lr")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: Invalid rho value: {rho} (expected 0 <= rho <= 1)")
        check_non_negative("Adadelta", "epsilon value", eps, "eps")
        check_non_negative("Adadelta", "weight_decay value", weight_decay, "weight_decay")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = step_tensor()
            state["square_avg"] = zeros_state(p)
            state["acc_delta"] = zeros_state(p)
        state["step"]._data += 1
        xp = get_array_module(p._data)
        tmp, std = self._work(p, 0), self._work(p, 1)
        g = effective_grad(p, grad, group["weight_decay"], group["maximize"], self._work(p, 2))
        v, u = state["square_avg"]._data, state["acc_delta"]._data
        xp.multiply(g, 1 - rho, out=tmp)
        tmp *= g
        v *= rho
        v += tmp
        xp.add(v, eps, out=std)
        xp.sqrt(std, out=std)
        delta = tmp
        xp.add(u, eps, out=delta)
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        xp.multiply(delta, 1 - rho, out=std)  # std is free again
        std *= delta
        u *= rho
        u += std
        xp.multiply(delta, group["lr"], out=delta)
        p._data -= delta
