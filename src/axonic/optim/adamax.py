"""Adamax: Adam with the infinity norm of past gradients (Kingma & Ba, 2015, section 7)."""

from __future__ import annotations

from axonic.backend import get_array_module
from axonic.optim.optimizer import (
    Optimizer,
    check_adam_hyperparameters,
    effective_grad,
    lerp_,
    step_tensor,
    zeros_state,
)


class Adamax(Optimizer):
    r"""Adamax, PyTorch's ``torch.optim.Adamax``.

    .. math::
        g_t &\leftarrow \pm g_t + \lambda \theta_{t-1} \quad (-\text{ if maximize}) \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        u_t &\leftarrow \max(\beta_2 u_{t-1}, |g_t| + \epsilon) \\
        \theta_t &\leftarrow \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \frac{m_t}{u_t}

    State per parameter: ``step``, ``exp_avg``, ``exp_inf``.

    >>> import axonic
    >>> from axonic import optim
    >>> w = axonic.nn.Parameter(axonic.tensor([1.0, -2.0]))
    >>> opt = optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        betas = check_adam_hyperparameters("Adamax", lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = step_tensor()
            state["exp_avg"] = zeros_state(p)
            state["exp_inf"] = zeros_state(p)
        state["step"]._data += 1
        step = float(state["step"]._data)
        xp = get_array_module(p._data)
        tmp = self._work(p, 0)
        g = effective_grad(p, grad, group["weight_decay"], group["maximize"], self._work(p, 1))
        m, u = state["exp_avg"]._data, state["exp_inf"]._data
        lerp_(m, g, 1 - beta1, tmp)
        u *= beta2
        xp.abs(g, out=tmp)
        tmp += group["eps"]
        xp.maximum(u, tmp, out=u)
        clr = group["lr"] / (1 - beta1 ** step)
        xp.multiply(m, -clr, out=tmp)
        tmp /= u
        p._data += tmp
