"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

from axonic.backend import get_array_module, threads, vector
from axonic.optim.optimizer import (
    Optimizer,
    check_adam_hyperparameters,
    effective_grad,
    lerp_,
    step_tensor,
    zeros_state,
)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), PyTorch's ``torch.optim.Adam``.

    With gradient :math:`g_t`, :math:`\gamma` = lr, :math:`\lambda` = weight_decay:

    .. math::
        g_t &\leftarrow \pm g_t \quad (-\text{ if maximize}) \\
        g_t &\leftarrow g_t + \lambda \theta_{t-1}
            \quad (\text{or } \theta_{t-1} \leftarrow \theta_{t-1}(1 - \gamma\lambda)
            \text{ if decoupled\_weight\_decay}) \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat v_t &\leftarrow \max(\hat v_{t-1}, v_t) \text{ if amsgrad, else } v_t \\
        \theta_t &\leftarrow \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}
            \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` and, with amsgrad,
    ``max_exp_avg_sq``.

    >>> import axonic
    >>> from axonic import optim
    >>> w = axonic.nn.Parameter(axonic.tensor([1.0, -2.0]))
    >>> opt = optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    _name = "Adam"

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None,
                 decoupled_weight_decay: bool = False):
        # foreach / capturable / differentiable / fused: PyTorch's implementation switches,
        # accepted for drop-in compatibility; the NumPy update is one code path.
        name = self._name
        betas = check_adam_hyperparameters(name, lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = step_tensor()
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_state(p)
        state["step"]._data += 1
        step = float(state["step"]._data)  # a Python float keeps the scalars below float64-free

        tmp, denom, gbuf = self._work(p, 0), self._work(p, 1), self._work(p, 2)
        if wd != 0 and group["decoupled_weight_decay"]:
            p._data *= 1 - lr * wd
            g = effective_grad(p, grad, 0, group["maximize"], gbuf)
        else:
            g = effective_grad(p, grad, wd, group["maximize"], gbuf)
        xp = get_array_module(p._data)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        step_size = lr / bias_correction1
        eps = group["eps"]

        def kernel(p, g, m, v, tmp, denom, *vmax):  # elementwise: split into blocks and threads
            lerp_(m, g, 1 - beta1, tmp)
            v *= beta2
            xp.multiply(g, 1 - beta2, out=tmp)
            tmp *= g
            v += tmp
            if vmax:
                xp.maximum(vmax[0], v, out=vmax[0])
                v = vmax[0]
            xp.sqrt(v, out=denom)
            denom /= bias_correction2_sqrt
            denom += eps
            xp.multiply(m, -step_size, out=tmp)
            tmp /= denom
            p += tmp

        vmax = [state["max_exp_avg_sq"]._data] if group["amsgrad"] else []
        arrays = (p._data, g, state["exp_avg"]._data, state["exp_avg_sq"]._data, tmp, *vmax)
        vec = vector.functions_for(*arrays)
        if vec is not None:  # 6 fused passes (7 with amsgrad) on oneMKL, in cache blocks
            _fused_update(vec, arrays, beta1, beta2, step_size, bias_correction2_sqrt, eps)
            return
        # 13 passes: in cache-sized blocks, each block's six arrays stay in L2 between them
        threads.parallel_apply(kernel, p._data, g, state["exp_avg"]._data,
                               state["exp_avg_sq"]._data, tmp, denom, *vmax,
                               block=threads.CACHE_BLOCK)


def _fused_update(vec, arrays, beta1, beta2, step_size, bias_correction2_sqrt, eps):
    """Adam's update in oneMKL's single passes (:mod:`axonic.backend.vector`): the same
    formula as the NumPy kernel, within a rounding or two of it (``m`` as
    ``beta1*m + (1-beta1)*g`` rather than a lerp, the division by the bias correction as
    a multiplication by its inverse)."""
    inv_bc2 = 1.0 / bias_correction2_sqrt

    def body(n, p, g, m, v, tmp, *vmax):
        vec.axpby(n, 1 - beta1, g, beta1, m)  # m = b1 m + (1 - b1) g
        vec.sqr(n, g, tmp)
        vec.axpby(n, 1 - beta2, tmp, beta2, v)  # v = b2 v + (1 - b2) g^2
        if vmax:
            vec.fmax(n, vmax[0], v, vmax[0])
            v = vmax[0]
        vec.sqrt(n, v, tmp)
        # -step * m / (sqrt(v) / sqrt(bc2) + eps), then p += it
        vec.linear_frac(n, m, tmp, -step_size, 0.0, inv_bc2, eps, tmp)
        vec.axpy(n, 1.0, tmp, p)

    vector.run_blocks(arrays, body)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's
    ``torch.optim.AdamW``: the same update as :class:`Adam`, except that weight decay
    shrinks the parameter directly instead of entering the gradient:

    .. math::
        \theta_{t-1} &\leftarrow \theta_{t-1} (1 - \gamma \lambda) \\
        \theta_t &\leftarrow \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}
            \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    The default ``weight_decay`` is ``1e-2``.

    >>> import axonic
    >>> from axonic import optim
    >>> w = axonic.nn.Parameter(axonic.tensor([1.0, -2.0]))
    >>> opt = optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.85, -1.8]
    """

    _name = "AdamW"

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach=None, capturable: bool = False, differentiable: bool = False,
                 fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
