"""RMSprop: gradients scaled by a running root mean square (Hinton, 2012)."""

from __future__ import annotations

from axonic.backend import get_array_module, vector
from axonic.optim.optimizer import (
    Optimizer,
    check_non_negative,
    effective_grad,
    lerp_,
    step_tensor,
    zeros_state,
)


class RMSprop(Optimizer):
    r"""RMSprop, PyTorch's ``torch.optim.RMSprop``.

    With gradient :math:`g_t`, :math:`\gamma` = lr, :math:`\lambda` = weight_decay,
    :math:`\mu` = momentum:

    .. math::
        g_t &\leftarrow \pm g_t + \lambda \theta_{t-1} \quad (-\text{ if maximize}) \\
        v_t &\leftarrow \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
        \bar g_t &\leftarrow \alpha \bar g_{t-1} + (1 - \alpha) g_t
            \quad (\text{if centered}) \\
        d_t &\leftarrow \sqrt{v_t - \bar g_t^2} + \epsilon \text{ if centered, else }
            \sqrt{v_t} + \epsilon \\
        b_t &\leftarrow \mu b_{t-1} + g_t / d_t, \quad
            \theta_t \leftarrow \theta_{t-1} - \gamma b_t \quad (\mu > 0) \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma g_t / d_t \quad (\mu = 0)

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0) and
    ``grad_avg`` (centered).

    >>> import axonic
    >>> from axonic import optim
    >>> w = axonic.nn.Parameter(axonic.tensor([1.0, -2.0]))
    >>> opt = optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        # capturable / foreach / differentiable: PyTorch's implementation switches, accepted
        # for drop-in compatibility; the NumPy update is one code path.
        check_non_negative("RMSprop", "learning rate", lr, "lr")
        check_non_negative("RMSprop", "epsilon value", eps, "eps")
        check_non_negative("RMSprop", "momentum value", momentum, "momentum")
        check_non_negative("RMSprop", "weight_decay value", weight_decay, "weight_decay")
        check_non_negative("RMSprop", "alpha value", alpha, "alpha")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state["step"] = step_tensor()
            state["square_avg"] = zeros_state(p)
            if momentum > 0:
                state["momentum_buffer"] = zeros_state(p)
            if group["centered"]:
                state["grad_avg"] = zeros_state(p)
        state["step"]._data += 1
        tmp, avg = self._work(p, 0), self._work(p, 1)
        g = effective_grad(p, grad, group["weight_decay"], group["maximize"], self._work(p, 2))
        xp = get_array_module(p._data)
        v = state["square_avg"]._data
        if not group["centered"]:
            buf = [state["momentum_buffer"]._data] if momentum > 0 else []
            arrays = (p._data, g, v, tmp, *buf)
            vec = vector.functions_for(*arrays)
            if vec is not None:  # 5 fused oneMKL passes (6 with momentum) instead of 9 (11)
                _fused_update(vec, arrays, alpha, group["eps"], group["lr"], momentum)
                return
        xp.multiply(g, 1 - alpha, out=tmp)
        tmp *= g
        v *= alpha
        v += tmp
        if group["centered"]:
            ga = state["grad_avg"]._data
            lerp_(ga, g, 1 - alpha, tmp)
            xp.multiply(ga, ga, out=avg)
            xp.subtract(v, avg, out=avg)
            xp.sqrt(avg, out=avg)
        else:
            xp.sqrt(v, out=avg)
        avg += group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"]._data
            buf *= momentum
            xp.divide(g, avg, out=tmp)
            buf += tmp
            xp.multiply(buf, group["lr"], out=tmp)
            p._data -= tmp
        else:
            xp.multiply(g, -group["lr"], out=tmp)
            tmp /= avg
            p._data += tmp


def _fused_update(vec, arrays, alpha, eps, lr, momentum):
    """The update (not centered) in oneMKL's single passes (:mod:`axonic.backend.vector`):
    ``v = alpha*v + (1-alpha)*g^2``, then ``p -= lr * g / (sqrt(v) + eps)``, through the
    momentum buffer when there is one."""
    def body(n, p, g, v, tmp, *buf):
        vec.sqr(n, g, tmp)
        vec.axpby(n, 1 - alpha, tmp, alpha, v)
        vec.sqrt(n, v, tmp)
        if buf:  # buf = momentum*buf + g / (sqrt(v) + eps); p -= lr * buf
            vec.linear_frac(n, g, tmp, 1.0, 0.0, 1.0, eps, tmp)
            vec.axpby(n, 1.0, tmp, momentum, buf[0])
            vec.axpy(n, -lr, buf[0], p)
        else:
            vec.linear_frac(n, g, tmp, -lr, 0.0, 1.0, eps, tmp)
            vec.axpy(n, 1.0, tmp, p)

    vector.run_blocks(arrays, body)
