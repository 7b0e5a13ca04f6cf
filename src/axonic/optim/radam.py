"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2020)."""

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


class RAdam(Optimizer):
    r"""RAdam, PyTorch's ``torch.optim.RAdam``.

    With :math:`\rho_\infty = 2 / (1 - \beta_2) - 1` and
    :math:`\rho_t = \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t)`:

    .. math::
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \quad
        \hat m_t = m_t / (1 - \beta_1^t) \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma \hat m_t r_t
            \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon}
            \quad \text{if } \rho_t > 5, \text{ with }
            r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}
                             {(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}} \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma \hat m_t \quad \text{otherwise}

    Weight decay is L2 (added to :math:`g_t`) or, with ``decoupled_weight_decay``,
    :math:`\theta_{t-1} \leftarrow \theta_{t-1}(1 - \gamma\lambda)`.
    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``.

    >>> import axonic
    >>> from axonic import optim
    >>> w = axonic.nn.Parameter(axonic.tensor([1.0, -2.0]))
    >>> opt = optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.8, -1.6]
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        betas = check_adam_hyperparameters("RAdam", lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = step_tensor()
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
        state["step"]._data += 1
        step = float(state["step"]._data)
        xp = get_array_module(p._data)
        tmp, upd = self._work(p, 0), self._work(p, 1)
        if wd != 0 and group["decoupled_weight_decay"]:
            p._data *= 1 - lr * wd
            g = effective_grad(p, grad, 0, group["maximize"], self._work(p, 2))
        else:
            g = effective_grad(p, grad, wd, group["maximize"], self._work(p, 2))
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        lerp_(m, g, 1 - beta1, tmp)
        v *= beta2
        xp.multiply(g, 1 - beta2, out=tmp)
        tmp *= g
        v += tmp
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        xp.divide(m, bias_correction1, out=upd)
        upd *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            xp.sqrt(v, out=tmp)
            tmp += group["eps"]
            xp.divide(bias_correction2 ** 0.5, tmp, out=tmp)
            upd *= tmp
            upd *= rect
        p._data -= upd
