"""Adagrad: per-coordinate step sizes from the sum of squared gradients (Duchi et al., 2011)."""

from __future__ import annotations

from axonic.backend import get_array_module, vector
from axonic.optim.optimizer import Optimizer, check_non_negative, effective_grad, step_tensor
from axonic.optim.optimizer import zeros_state as _full_like


class Adagrad(Optimizer):
    r"""Adagrad, PyTorch's ``torch.optim.Adagrad``.

    With gradient :math:`g_t`, :math:`\gamma` = lr, :math:`\eta` = lr_decay,
    :math:`\lambda` = weight_decay:

    .. math::
        g_t &\leftarrow \pm g_t + \lambda \theta_{t-1} \quad (-\text{ if maximize}) \\
        \tilde\gamma &\leftarrow \gamma / (1 + (t - 1) \eta) \\
        s_t &\leftarrow s_{t-1} + g_t^2
            \quad (s_0 = \text{initial\_accumulator\_value}) \\
        \theta_t &\leftarrow \theta_{t-1} - \tilde\gamma \, g_t / (\sqrt{s_t} + \epsilon)

    State per parameter (created with the optimizer, as in PyTorch): ``step`` and ``sum``.

    >>> import axonic
    >>> from axonic import optim
    >>> w = axonic.nn.Parameter(axonic.tensor([1.0, -2.0]))
    >>> opt = optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None):
        # foreach / differentiable / fused: PyTorch's implementation switches, accepted for
        # drop-in compatibility; the NumPy update is one code path.
        check_non_negative("Adagrad", "learning rate", lr, "lr")
        check_non_negative("Adagrad", "lr_decay value", lr_decay, "lr_decay")
        check_non_negative("Adagrad", "weight_decay value", weight_decay, "weight_decay")
        check_non_negative("Adagrad", "initial_accumulator_value value",
                           initial_accumulator_value, "initial_accumulator_value")
        check_non_negative("Adagrad", "epsilon value", eps, "eps")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)  # add_param_group creates the state

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        start = sum(len(g["params"]) for g in self.param_groups[:-1])
        for i, p in enumerate(group["params"]):
            state = self._state_at(start + i)
            if not state:
                state["step"] = step_tensor()
                state["sum"] = _full_like(p, group["initial_accumulator_value"])

    def _update(self, p, grad, state, group):
        if not state:  # state dropped by a load_state_dict without it
            state["step"] = step_tensor()
            state["sum"] = _full_like(p, group["initial_accumulator_value"])
        state["step"]._data += 1
        step = float(state["step"]._data)
        tmp, std = self._work(p, 0), self._work(p, 1)
        g = effective_grad(p, grad, group["weight_decay"], group["maximize"], self._work(p, 2))
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        xp = get_array_module(p._data)
        s = state["sum"]._data
        arrays = (p._data, g, s, tmp)
        vec = vector.functions_for(*arrays)
        if vec is not None:  # 5 fused oneMKL passes instead of 7
            _fused_update(vec, arrays, clr, group["eps"])
            return
        xp.multiply(g, g, out=tmp)
        s += tmp
        xp.sqrt(s, out=std)
        std += group["eps"]
        xp.multiply(g, -clr, out=tmp)
        tmp /= std
        p._data += tmp


def _fused_update(vec, arrays, clr, eps):
    """``sum += g^2``, then ``p -= clr * g / (sqrt(sum) + eps)``, in oneMKL's single passes
    (:mod:`axonic.backend.vector`)."""
    def body(n, p, g, s, tmp):
        vec.sqr(n, g, tmp)
        vec.axpy(n, 1.0, tmp, s)
        vec.sqrt(n, s, tmp)
        vec.linear_frac(n, g, tmp, -clr, 0.0, 1.0, eps, tmp)
        vec.axpy(n, 1.0, tmp, p)

    vector.run_blocks(arrays, body)
