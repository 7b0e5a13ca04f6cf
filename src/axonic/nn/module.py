"""``Module``: the base of every layer and model.

Parameters, buffers and child modules are registered in order, on assignment, the way
PyTorch does it; ``state_dict`` keys follow from those names. Loading state
(``module_state``), moving between devices and dtypes (``module_device``), printing
(``module_print``), hook handles (``hooks``) and locating a layer's input error in the
model (``layer_errors``) live beside it.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.nn.hooks import add_hook, call_with_hooks
from axonic.nn.layer_errors import LayerInputError, locate
from axonic.nn.module_device import move
from axonic.nn.module_print import module_repr, summary
from axonic.nn.module_state import load_state_dict
from axonic.nn.parameter import Parameter


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
            return call_with_hooks(self, args, kwargs)
        except LayerInputError as e:
            locate(e, self)
            raise

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
        return add_hook(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` before every forward; may return new inputs."""
        return add_hook(self._forward_pre_hooks, hook)

    def register_full_backward_hook(self, hook):
        """``hook(module, grad_input, grad_output)`` when the gradients with respect to the
        module's tensor inputs are computed; may return a replacement ``grad_input``."""
        return add_hook(self._backward_hooks, hook)

    def register_full_backward_pre_hook(self, hook):
        """``hook(module, grad_output)`` when the gradients of the module's outputs are
        known; may return a replacement ``grad_output``."""
        return add_hook(self._backward_pre_hooks, hook)

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
    def to(self, *args, **kwargs) -> Module:
        """Move parameters and buffers: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``.

        Only floating tensors change dtype; the Parameter objects stay the same, so an
        optimizer built before the move keeps working."""
        return move(self, args, kwargs)

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
        return load_state_dict(self, state_dict, strict, assign)

    # --- printing -------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        return module_repr(self)

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
        return summary(self, inputs, input_size, dtype)


def _check_name(module, name, kind):
    if not isinstance(name, str) or not name or "." in name:
        raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
    if hasattr(type(module), name) and name not in module.__dict__.get(f"_{kind}s", {}):
        raise KeyError(f"attribute {name!r} already exists on {type(module).__name__}")


def _remove_from(d, name, *stores):
    for s in stores:
        if name in d[s]:
            del d[s][name]
