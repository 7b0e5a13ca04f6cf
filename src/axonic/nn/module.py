"""``Module``: the base of every layer and model.

Parameters, buffers and child modules are registered in order, on assignment, the way
PyTorch does it; ``state_dict`` keys follow from those names.
"""

from __future__ import annotations

import sys
from collections import OrderedDict, namedtuple

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, resolve_dtype, to_device
from axonic.nn.parameter import Parameter

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class LayerInputError(ValueError):
    """A layer got an input it cannot take. The message names the layer; when the layer
    runs inside a model, the outermost module adds the layer's path (``features.3``)."""

    def __init__(self, module, message):
        super().__init__(f"{type(module).__name__}: {message}")
        self.module = module
        self.detail = message
        self.located = False


class Module:
    """Base class of layers and models: subclass it, assign layers and ``Parameter``s in
    ``__init__``, and write ``forward``.

    >>> import axonic
    >>> from axonic import nn
    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(4, 8)
    ...         self.out = nn.Linear(8, 1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> [name for name, _ in TwoLayer().named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments; "
                "Module.__init__ takes none")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = []
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing its forward()")

    # --- calling ------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        d = self.__dict__
        try:
            hooked = (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]
                      or d["_backward_pre_hooks"])
        except KeyError:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() at the start of __init__"
            ) from None
        try:
            if not hooked:  # the common case: no hooks to run, call forward directly
                return self.forward(*args, **kwargs)
            return self._call_with_hooks(args, kwargs)
        except LayerInputError as e:
            if not e.located and e.module is not self and _outermost_call():
                path = next((n for n, m in self.named_modules() if m is e.module), None)
                if path:
                    e.located = True
                    e.args = (f"{path} ({type(e.module).__name__}): {e.detail}",)
            raise

    def _call_with_hooks(self, args, kwargs):
        for hook in self._forward_pre_hooks.values():
            r = hook(self, args)
            if r is not None:
                args = r if isinstance(r, tuple) else (r,)
        if self._backward_hooks or self._backward_pre_hooks:
            from axonic.nn.backward_hooks import call_with_backward_hooks

            out = call_with_backward_hooks(self, self.forward, args, kwargs)
        else:
            out = self.forward(*args, **kwargs)
        for hook in self._forward_hooks.values():
            r = hook(self, args, out)
            if r is not None:
                out = r
        return out

    def input_error(self, message: str) -> LayerInputError:
        """The error a layer raises for a bad input (named with its path in the model)."""
        return LayerInputError(self, message)

    def check_input_dtype(self, input, param) -> None:
        """Raise unless ``input`` has ``param``'s dtype (no silent float64 upcasts)."""
        if param is not None and input.dtype != param.dtype:
            raise self.input_error(
                f"expected input of dtype {param.dtype.name} (the layer's parameters), got "
                f"{input.dtype.name}; convert the input (x.to({param.dtype.name})) or the model "
                f"(model.to({input.dtype.name}))")

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` after every forward; may return a new output."""
        return _add_hook(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` before every forward; may return new inputs."""
        return _add_hook(self._forward_pre_hooks, hook)

    def register_full_backward_hook(self, hook):
        """``hook(module, grad_input, grad_output)`` when the gradients with respect to the
        module's tensor inputs are computed; may return a replacement ``grad_input``."""
        return _add_hook(self._backward_hooks, hook)

    def register_full_backward_pre_hook(self, hook):
        """``hook(module, grad_output)`` when the gradients of the module's outputs are
        known; may return a replacement ``grad_output``."""
        return _add_hook(self._backward_pre_hooks, hook)

    # --- registration -------------------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(d, name, "_buffers", "_modules")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(a Parameter or None is expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign modules before Module.__init__() call")
            _remove_from(d, name, "_parameters", "_buffers")
            d.pop(name, None)
            d["_modules"][name] = value
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r}")
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r}")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d.get(store, ()):
                del d[store][name]
                if name in d["_non_persistent"]:
                    d["_non_persistent"].remove(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        _check_name(self, name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot register {type(param).__name__} as parameter {name!r} "
                "(wrap it in nn.Parameter)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is state but not learnable (running means, masks); it moves with
        ``to()`` and, if persistent, is saved in ``state_dict``."""
        _check_name(self, name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"buffer {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if not persistent and name not in self._non_persistent:
            self._non_persistent.append(name)
        elif persistent and name in self._non_persistent:
            self._non_persistent.remove(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(self, name, "module")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        m = self
        for part in target.split(".") if target else []:
            if part not in m._modules:
                raise AttributeError(
                    f"{type(m).__name__} has no submodule {part!r} (in {target!r})")
            m = m._modules[part]
        return m

    def get_parameter(self, target: str) -> Parameter:
        mod, _, name = target.rpartition(".")
        m = self.get_submodule(mod)
        if name not in m._parameters:
            raise AttributeError(f"{type(m).__name__} has no parameter {name!r}")
        return m._parameters[name]

    # --- iteration ----------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                           remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, v in m.__dict__[store].items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), v

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # --- modes and gradients ------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError(f"train(): mode must be a bool, got {mode!r}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._data[...] = 0

    def apply(self, fn) -> Module:
        """Call ``fn(m)`` on every submodule (children first) and on self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # --- device and dtype ---------------------------------------------------------------
    def _apply_arrays(self, convert) -> Module:
        with no_grad():
            for m in self.modules():
                for store in ("_parameters", "_buffers"):
                    for t in m.__dict__[store].values():
                        if t is None:
                            continue
                        new = convert(t._data)
                        if new is not t._data:
                            t._data = new
                            if t.grad is not None:
                                t.grad._data = convert(t.grad._data)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Move parameters and buffers: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``.

        Only floating tensors change dtype; the Parameter objects stay the same, so an
        optimizer built before the move keeps working."""
        from axonic.ops.convert import _parse_to

        device, dtype, _ = _parse_to(args, dict(kwargs))
        dt = resolve_dtype(dtype) if dtype is not None else None
        if dt is not None and dt.kind != "f":
            raise TypeError(f"Module.to: only floating dtypes are allowed, got {dt.name}")

        def convert(a):
            if dt is not None and a.dtype.kind == "f" and a.dtype != dt:
                a = a.astype(dt)
            if device is not None:
                a = to_device(a, device)
            return a

        return self._apply_arrays(convert)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device=None) -> Module:
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int)
                       else device)

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def half(self) -> Module:
        return self.to(np.float16)

    # --- state ----------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """Parameters and persistent buffers by dotted name, in registration order."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values into parameters and buffers. Values may be axonic tensors or NumPy
        arrays (e.g. ``{k: v.numpy() for k, v in torch_model.state_dict().items()}``).

        Everything is checked before anything is written: on missing keys (strict),
        unexpected keys (strict) or shape conflicts it raises and the model is unchanged.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        conflicts, staged = [], []
        for k, t in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v._data if isinstance(v, Tensor) else v
            if hasattr(arr, "detach") and hasattr(arr, "numpy") and not isinstance(arr, np.ndarray):
                arr = arr.detach().cpu().numpy()  # a tensor of another framework
            arr = arr if hasattr(arr, "shape") and hasattr(arr, "dtype") else np.asarray(arr)
            if tuple(arr.shape) != tuple(t.shape):
                conflicts.append(f"{k}: checkpoint shape {tuple(arr.shape)}, "
                                 f"model shape {tuple(t.shape)}")
                continue
            staged.append((t, arr))
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if conflicts:
            problems.append("shape conflicts: " + "; ".join(conflicts))
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n  "
                + "\n  ".join(problems))
        with no_grad():
            for t, arr in staged:
                xp = get_array_module(t._data)
                src = xp.asarray(to_device(arr, t.device) if xp is not np else np.asarray(arr))
                if assign:
                    t._data = src.astype(t._data.dtype, copy=True)
                else:
                    t._data[...] = src
                t._vc[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    # --- printing -------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        # PyTorch's layout: a one-line extra_repr inline, otherwise one item per line
        lines = []
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        for name, m in self._modules.items():
            mod = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {mod}")
        main = type(self).__name__ + "("
        if len(extra_lines) == 1 and not lines:
            return main + extra_lines[0] + ")"
        body = extra_lines + lines
        if not body:
            return main + ")"
        return main + "\n  " + "\n  ".join(body) + "\n)"

    def __dir__(self):
        keys = set(super().__dir__())
        for store in ("_parameters", "_buffers", "_modules"):
            keys.update(self.__dict__.get(store, {}))
        return sorted(keys)

    def summary(self, *inputs, input_size=None, dtype=None) -> str:
        """A table of every leaf layer with its output shape and parameter count.

        Pass example inputs, or ``input_size=(1, 3, 32, 32)`` for a random float input.

        >>> import axonic
        >>> from axonic import nn
        >>> print(nn.Sequential(nn.Linear(3, 4), nn.ReLU()).summary(input_size=(2, 3)))
        ... # doctest: +NORMALIZE_WHITESPACE
        Layer (type)      Output shape    Param #
        ===========================================
        0 (Linear)        (2, 4)          16
        1 (ReLU)          (2, 4)          0
        ===========================================
        Total params: 16
        Trainable params: 16
        """
        if input_size is not None:
            sizes = [input_size] if isinstance(input_size[0], int) else list(input_size)
            inputs = tuple(_make(np.random.default_rng(0).standard_normal(s).astype(
                resolve_dtype(dtype))) for s in sizes)
        calls, handles = [], []
        for name, m in self.named_modules():
            if m is self and self._modules:
                continue

            def hook(mod, args, out, name=name):
                shape = tuple(out.shape) if isinstance(out, Tensor) else (
                    tuple(out[0].shape) if isinstance(out, tuple) and out and isinstance(
                        out[0], Tensor) else "-")
                calls.append((name, mod, str(shape)))

            handles.append(m.register_forward_hook(hook))
        was = self.training
        try:
            self.eval()
            with no_grad():
                self(*inputs)
        finally:
            self.train(was)
            for h in handles:
                h.remove()
        # A row per innermost module that ran (with all its parameters, including those of
        # children it uses without calling them, like MultiheadAttention's out_proj), and
        # per outer module that ran and owns parameters directly (with those alone).
        called = [c[0] for c in calls]
        rows = []
        for name, mod, shape in calls:
            inner = any(c.startswith(name + ".") for c in called) if name else len(calls) > 1
            if not inner:
                n = sum(p.numel() for p in mod.parameters())
            elif any(p is not None for p in mod._parameters.values()):
                n = sum(p.numel() for p in mod.parameters(recurse=False))
            else:
                continue
            rows.append((f"{name or type(mod).__name__} ({type(mod).__name__})", shape, n))
        total = sum(p.numel() for p in self.parameters())
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        w0 = max([len(r[0]) for r in rows] + [12]) + 4
        w1 = max([len(r[1]) for r in rows] + [12]) + 4
        header = f"{'Layer (type)':<{w0}}{'Output shape':<{w1}}Param #"
        rule = "=" * (w0 + w1 + 11)
        body = [f"{a:<{w0}}{b:<{w1}}{c:,}" for a, b, c in rows]
        return "\n".join([header, rule, *body, rule, f"Total params: {total:,}",
                          f"Trainable params: {trainable:,}"])


def _outermost_call() -> bool:
    """Whether the ``Module.__call__`` that called this is not inside another one on this
    thread's stack. Asked only while an error is being reported, so that a call without
    errors pays nothing (a per-thread depth counter cost two updates on every call)."""
    f = sys._getframe(2)  # the caller of that Module.__call__
    while f is not None:
        if f.f_code is _MODULE_CALL:
            return False
        f = f.f_back
    return True


def _check_name(module, name, kind):
    if not isinstance(name, str) or not name or "." in name:
        raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
    if hasattr(type(module), name) and name not in module.__dict__.get(f"_{kind}s", {}):
        raise KeyError(f"attribute {name!r} already exists on {type(module).__name__}")


_MODULE_CALL = Module.__call__.__code__


def _remove_from(d, name, *stores):
    for s in stores:
        if name in d[s]:
            del d[s][name]


class _RemovableHandle:
    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


_hook_counter = [0]


def _add_hook(hooks, hook):
    _hook_counter[0] += 1
    hooks[_hook_counter[0]] = hook
    return _RemovableHandle(hooks, _hook_counter[0])
