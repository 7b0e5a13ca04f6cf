"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from axonic.autograd.tensor import _make
from axonic.backend import get_array_module, vector
from axonic.optim.optimizer import Optimizer, check_non_negative, effective_grad


class SGD(Optimizer):
    r"""Stochastic gradient descent (PyTorch's ``torch.optim.SGD``).

    With gradient :math:`g_t` of parameter :math:`\theta_{t-1}`:

    .. math::
        g_t &\leftarrow \pm g_t + \lambda \theta_{t-1}
            \quad (-\text{ if maximize}; \lambda = \text{weight\_decay}) \\
        b_t &\leftarrow \begin{cases} g_t & t = 1 \\
            \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases}
            \quad (\mu = \text{momentum}, \tau = \text{dampening}) \\
        g_t &\leftarrow g_t + \mu b_t \text{ if nesterov, else } b_t
            \quad (\text{when } \mu \ne 0) \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma g_t \quad (\gamma = \text{lr})

    State per parameter: ``momentum_buffer`` (only when ``momentum != 0``).

    >>> import axonic
    >>> from axonic import optim
    >>> w = axonic.nn.Parameter(axonic.tensor([1.0, -2.0]))
    >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.46, -0.92]
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None):
        # foreach / differentiable / fused: PyTorch's implementation switches, accepted for
        # drop-in compatibility; the NumPy update is one code path.
        check_non_negative("SGD", "learning rate", lr, "lr")
        check_non_negative("SGD", "momentum value", momentum, "momentum")
        check_non_negative("SGD", "weight_decay value", weight_decay, "weight_decay")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires a momentum and zero dampening, got "
                f"momentum={momentum}, dampening={dampening}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        xp = get_array_module(p._data)
        momentum = group["momentum"]
        tmp = self._work(p)
        g = effective_grad(p, grad, group["weight_decay"], group["maximize"], self._work(p, 1))
        buf = state.get("momentum_buffer") if momentum != 0 else None
        if buf is not None and not group["nesterov"]:
            arrays = (p._data, g, buf._data)
            vec = vector.functions_for(*arrays)
            if vec is not None:  # two fused oneMKL passes instead of four NumPy ones
                _fused_momentum_step(vec, arrays, momentum, 1 - group["dampening"],
                                     group["lr"])
                return
        if momentum != 0:
            if buf is None:
                buf = state["momentum_buffer"] = _make(g.copy())
            else:
                b = buf._data
                b *= momentum
                damp = 1 - group["dampening"]
                if damp == 1:
                    b += g
                else:
                    xp.multiply(g, damp, out=tmp)
                    b += tmp
            if group["nesterov"]:
                xp.multiply(buf._data, momentum, out=tmp)
                tmp += g
                g = tmp
            else:
                g = buf._data
        xp.multiply(g, group["lr"], out=tmp)
        p._data -= tmp


def _fused_momentum_step(vec, arrays, momentum, damp, lr):
    """``buf = momentum * buf + damp * g`` then ``p -= lr * buf``, each one pass on oneMKL
    (:mod:`axonic.backend.vector`), in cache-sized blocks."""
    def body(n, p, g, buf):
        vec.axpby(n, damp, g, momentum, buf)
        vec.axpy(n, -lr, buf, p)

    vector.run_blocks(arrays, body)
