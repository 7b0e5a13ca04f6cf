"""``Optimizer``: the base of every optimizer, with PyTorch's ``param_groups`` and
``state_dict``.

State is kept per parameter *position* (the parameter's index across all groups, in
order), never by ``id()``: ``state_dict()`` is the same structure PyTorch writes,
``{'state': {0: {...}, 1: {...}}, 'param_groups': [{'lr': ..., 'params': [0, 1]}]}``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np

from axonic.autograd.grad_mode import enable_grad
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, to_device


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class _StateView(Mapping):
    """``optimizer.state``: per-parameter state dicts, looked up by the parameter itself
    (``optimizer.state[p]``) but stored by the parameter's position."""

    def __init__(self, opt: Optimizer):
        self._opt = opt

    def _index(self, p) -> int:
        for i, q in enumerate(self._opt._params()):
            if q is p:
                return i
        raise KeyError("this tensor is not one of the optimizer's parameters")

    def __getitem__(self, p) -> dict:
        return self._opt._state_at(self._index(p))

    def __iter__(self):
        params = self._opt._params()
        return (params[i] for i in sorted(self._opt._state) if self._opt._state[i])

    def __len__(self):
        return sum(1 for s in self._opt._state.values() if s)

    def __repr__(self):
        return repr({i: s for i, s in self._opt._state.items() if s})


class Optimizer:
    """Base class of optimizers: holds ``param_groups`` and per-parameter ``state``.

    A subclass writes ``_update(p, grad, state, group)``, the in-place update of one
    parameter from its gradient array (``step`` calls it for every parameter with a
    gradient and bumps the parameter's version), or overrides ``step`` itself.

    ``params`` is an iterable of tensors or of dicts ``{'params': [...], 'lr': ...}``
    (per-group options override ``defaults``).

    >>> import axonic
    >>> from axonic import optim
    >>> w = axonic.nn.Parameter(axonic.ones(2))
    >>> opt = optim.SGD([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    Parameter containing:
    tensor([0., 0.], requires_grad=True)
    >>> opt.state_dict()['param_groups'][0]['params']
    [0]
    """

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self._state: dict[int, dict] = {}
        self._scratch: dict = {}  # reusable work arrays (not state: never saved)
        self._step_pre_hooks: dict = {}
        self._step_post_hooks: dict = {}
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or dicts, but got a "
                f"Tensor; pass [tensor] or model.parameters()")
        if isinstance(params, set | frozenset):
            raise TypeError(
                f"{name}: params should be an ordered collection (list, generator), got a "
                "set: the order of a set changes between runs")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # --- groups and state ---------------------------------------------------------------
    @property
    def state(self) -> _StateView:
        """Per-parameter state: ``optimizer.state[p]`` is a dict (empty before a step)."""
        return _StateView(self)

    def _params(self) -> list:
        return [p for g in self.param_groups for p in g["params"]]

    def _state_at(self, index: int) -> dict:
        s = self._state.get(index)
        if s is None:
            s = self._state[index] = {}
        return s

    def _work(self, p, slot: int = 0):
        """A scratch array shaped like ``p`` (its contents are garbage). Reusing one buffer
        per slot across parameters saves an allocation, and its page faults, per update."""
        a = p._data
        key = (slot, a.dtype.str, type(a))
        buf = self._scratch.get(key)
        if buf is None or buf.size < a.size:
            buf = self._scratch[key] = get_array_module(a).empty(a.size, a.dtype)
        return buf[:a.size].reshape(a.shape)

    def _group_states(self):
        """Yield ``(group, [(param, state), ...])`` with the state dict of each parameter."""
        start = 0
        for group in self.param_groups:
            n = len(group["params"])
            yield group, [(p, self._state_at(start + i)) for i, p in enumerate(group["params"])]
            start += n

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (e.g. a layer unfrozen later)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set | frozenset):
            raise TypeError(
                f"{name}: a param group's params must be an ordered collection, got a set")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(
                    f"{name}: parameter group didn't specify a value of required "
                    f"optimization parameter {key}")
            group.setdefault(key, default)
        seen = {id(q) for q in self._params()}  # a transient check; state never uses id()
        for p in params:
            if id(p) in seen:
                raise ValueError(
                    f"{name}: a parameter appears twice (in one group or in two); each "
                    "parameter may be optimized once")
            seen.add(id(p))
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: to ``None`` (default) or to zeros in place."""
        for p in self._params():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.grad_fn = None
                p.grad._rg = False
                p.grad._data[...] = 0
                p.grad._vc[0] += 1

    def step(self, closure=None):
        """Update the parameters once; ``closure`` re-evaluates the model and returns
        the loss (it is called with gradients enabled)."""
        for hook in list(self._step_pre_hooks.values()):
            hook(self, (closure,), {})
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group, pairs in self._group_states():
            for p, state in pairs:
                if p.grad is None:
                    continue
                self._update(p, p.grad._data, state, group)
                p._vc[0] += 1  # the data changed: autograd's version check must see it
        for hook in list(self._step_post_hooks.values()):
            hook(self, (closure,), {})
        return loss

    def register_step_pre_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` before every ``step``. Returns a handle
        with ``remove()``."""
        return _Handle(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` after every ``step``. Returns a handle
        with ``remove()``."""
        return _Handle(self._step_post_hooks, hook)

    def _update(self, p, grad, state: dict, group: dict) -> None:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    # --- saving -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """PyTorch's structure: ``{'state': {position: {name: tensor}},
        'param_groups': [{..., 'params': [positions]}]}``. The state tensors are the live
        ones (as in PyTorch)."""
        groups, start = [], 0
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            packed["params"] = list(range(start, start + len(g["params"])))
            start += len(g["params"])
            groups.append(packed)
        state = {i: dict(s) for i, s in sorted(self._state.items()) if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore state and hyperparameters saved by ``state_dict()`` (of axonic or PyTorch).

        Values may be axonic tensors, NumPy arrays or another framework's tensors; they are
        copied, cast to each parameter's dtype and device (the step count stays float32).
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping) or "param_groups" not in state_dict \
                or "state" not in state_dict:
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with keys 'state' and "
                f"'param_groups', got {type(state_dict).__name__}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} "
                f"parameter groups, the optimizer has {len(self.param_groups)}")
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(s['params'])} "
                    f"parameters in the state dict, {len(g['params'])} in the optimizer")
        # Saved position -> our position (a saved dict may number its parameters freely).
        index_map, start = {}, 0
        for s in saved_groups:
            for j, k in enumerate(s["params"]):
                index_map[int(k)] = start + j
            start += len(s["params"])
        params = self._params()
        new_state: dict[int, dict] = {}
        for k, values in state_dict["state"].items():
            k = int(k)
            if k not in index_map:
                continue
            pos = index_map[k]
            new_state[pos] = {key: _cast_state(params[pos], key, v) for key, v in values.items()}
            for key, t in new_state[pos].items():
                if isinstance(t, Tensor) and t.ndim and t.shape != params[pos].shape:
                    raise ValueError(
                        f"{name}.load_state_dict: state '{key}' of parameter {pos} has shape "
                        f"{tuple(t.shape)}, the parameter has shape {tuple(params[pos].shape)}")
        for g, s in zip(self.param_groups, saved_groups):
            for key, v in s.items():
                if key != "params":
                    g[key] = copy.deepcopy(v)
        self._state = new_state

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines) + "\n)"


class _Handle:
    _next = 0

    def __init__(self, hooks: dict, hook):
        _Handle._next += 1
        self.id, self._hooks = _Handle._next, hooks
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def _to_array(v):
    if isinstance(v, Tensor):
        return v._data
    if hasattr(v, "detach") and hasattr(v, "numpy") and not isinstance(v, np.ndarray):
        return v.detach().cpu().numpy()  # a tensor of another framework
    return v


def _cast_state(param, key: str, value):
    arr = _to_array(value)
    if not hasattr(arr, "dtype") or not hasattr(arr, "shape"):
        return copy.deepcopy(value)
    if key == "step":
        return _make(np.array(arr, dtype=np.float32))
    xp = get_array_module(param._data)
    arr = to_device(np.asarray(arr) if isinstance(arr, np.ndarray) else arr, param.device)
    return _make(xp.array(arr, dtype=param._data.dtype, copy=True))


# --- small in-place helpers shared by the optimizers ------------------------------------------
def effective_grad(p, grad, weight_decay: float, maximize: bool, out):
    """``±grad + weight_decay * p``, written into ``out`` when it differs from ``grad``
    (which belongs to the parameter and is never written)."""
    if weight_decay == 0 and not maximize:
        return grad
    xp = get_array_module(grad)
    if weight_decay == 0:
        return xp.negative(grad, out=out)
    xp.multiply(p._data, weight_decay, out=out)
    if maximize:
        out -= grad
    else:
        out += grad
    return out


def lerp_(a, b, weight: float, tmp):
    """``a += weight * (b - a)`` in place, in PyTorch's two-sided form (exact at the ends)."""
    xp = get_array_module(a)
    xp.subtract(b, a, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        a += tmp
    else:  # b - (b - a) * (1 - weight)
        tmp *= 1.0 - weight
        xp.subtract(b, tmp, out=a)


def check_betas(name: str, betas) -> tuple:
    """PyTorch's validation of Adam-style ``betas``; returns them as a tuple."""
    betas = tuple(betas)
    if len(betas) != 2:
        raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(
                f"{name}: Invalid beta parameter at index {i}: {b} (expected 0 <= beta < 1)")
    return betas


def check_adam_hyperparameters(name: str, lr, eps, betas, weight_decay) -> tuple:
    """The checks shared by the Adam family (Adam, AdamW, Adamax, NAdam, RAdam), in
    PyTorch's order; returns ``betas`` as a tuple."""
    check_non_negative(name, "learning rate", lr, "lr")
    check_non_negative(name, "epsilon value", eps, "eps")
    betas = check_betas(name, betas)
    check_non_negative(name, "weight_decay value", weight_decay, "weight_decay")
    return betas


def step_tensor():
    """A fresh step counter: a 0-d float32 tensor, as PyTorch keeps it."""
    return _make(np.zeros((), np.float32))


def zeros_state(p, fill: float = 0.0):
    xp = get_array_module(p._data)
    return _make(xp.full(p._data.shape, fill, dtype=p._data.dtype))


def check_non_negative(name: str, what: str, value, label: str) -> None:
    """PyTorch's validation: ``ValueError("Invalid learning rate: -1")``."""
    if not 0.0 <= value:
        raise ValueError(f"{name}: Invalid {what}: {value} ({label} must be >= 0)")

