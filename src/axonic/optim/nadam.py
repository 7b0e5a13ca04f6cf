"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import _make
from axonic.backend import get_array_module
from axonic.optim.optimizer import (
    Optimizer,
    check_adam_hyperparameters,
    check_non_negative,
    effective_grad,
    lerp_,
    step_tensor,
    zeros_state,
)


class NAdam(Optimizer):
    r"""NAdam, PyTorch's ``torch.optim.NAdam``.

    With :math:`\mu_t = \beta_1 (1 - \frac12 0.96^{t \psi})` (:math:`\psi` =
    momentum_decay) and :math:`\Pi_t = \prod_{i \le t} \mu_i`:

    .. math::
        g_t &\leftarrow \pm g_t + \lambda \theta_{t-1}
            \quad (\text{or } \theta_{t-1} \leftarrow \theta_{t-1}(1 - \gamma\lambda)
            \text{ if decoupled\_weight\_decay}) \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        d_t &\leftarrow \sqrt{v_t / (1 - \beta_2^t)} + \epsilon \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma \frac{1 - \mu_t}{1 - \Pi_t} \frac{g_t}{d_t}
            - \gamma \frac{\mu_{t+1}}{1 - \Pi_t \mu_{t+1}} \frac{m_t}{d_t}

    State per parameter: ``step``, ``mu_product`` (float32, as PyTorch keeps it),
    ``exp_avg``, ``exp_avg_sq``.

    >>> import axonic
    >>> from axonic import optim
    >>> w = axonic.nn.Parameter(axonic.tensor([1.0, -2.0]))
    >>> opt = optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.8944, -1.8944]
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        betas = check_adam_hyperparameters("NAdam", lr, eps, betas, weight_decay)
        check_non_negative("NAdam", "momentum_decay value", momentum_decay, "momentum_decay")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = step_tensor()
            state["mu_product"] = _make(np.ones((), np.float32))
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
        state["step"]._data += 1
        step = float(state["step"]._data)
        xp = get_array_module(p._data)
        tmp, denom = self._work(p, 0), self._work(p, 1)
        if wd != 0 and group["decoupled_weight_decay"]:
            p._data *= 1 - lr * wd
            g = effective_grad(p, grad, 0, group["maximize"], self._work(p, 2))
        else:
            g = effective_grad(p, grad, wd, group["maximize"], self._work(p, 2))
        bias_correction2 = 1 - beta2 ** step
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * group["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * group["momentum_decay"]))
        state["mu_product"]._data *= mu  # float32 product, as PyTorch's state tensor
        mu_product = float(state["mu_product"]._data)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        lerp_(m, g, 1 - beta1, tmp)
        v *= beta2
        xp.multiply(g, 1 - beta2, out=tmp)
        tmp *= g
        v += tmp
        xp.divide(v, bias_correction2, out=denom)
        xp.sqrt(denom, out=denom)
        denom += group["eps"]
        xp.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product), out=tmp)
        tmp /= denom
        p._data += tmp
        xp.multiply(m, (-lr * mu_next) / (1.0 - mu_product * mu_next), out=tmp)
        tmp /= denom
        p._data += tmp
