"""``Tensor``: an array (NumPy or CuPy) that records the ops applied to it.

This file holds the data structure and the methods that are not ops; the ops
(arithmetic, reductions, shape ops, ...) live in ``axonic/ops`` and are attached
as methods and operators by ``axonic.ops`` (from each op's ``@op`` declaration).
"""

from __future__ import annotations

import weakref

import numpy as np

from axonic.backend import (
    as_device,
    device_of,
    get_array_module,
    get_default_dtype,
    resolve_dtype,
    to_device,
    to_numpy,
)

_new = object.__new__


class Tensor:
    """A multi-dimensional array with reverse-mode automatic differentiation.

    Use ``axonic.tensor(data)`` or the creation functions (``zeros``, ``randn`` ...) to
    make one. ``Tensor(data)`` is the same as ``axonic.tensor(data)``.

    >>> import axonic
    >>> x = axonic.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # _base: the tensor this one is a view of (None if it owns its data)
    __slots__ = ("_data", "_rg", "grad", "grad_fn", "_vc", "_hooks", "_retain", "_base",
                 "__weakref__")
    # NumPy defers to Tensor's reflected operators (np.float32(2) * t is a Tensor).
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        t = tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        self._data = t._data
        self._rg = t._rg
        self.grad = None
        self.grad_fn = None
        self._vc = [0]
        self._hooks = None
        self._retain = False
        self._base = None

    # --- properties -------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The same values as a tensor outside the graph, as PyTorch's ``.data``: it shares
        memory but not the version counter, so ``p.data.add_(g, alpha=-lr)`` changes ``p``
        without autograd seeing it. Use ``numpy()`` for the array."""
        return _make(self._data)

    @data.setter
    def data(self, value) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"Tensor.data: expected a Tensor to take the data from, got "
                f"{type(value).__name__}; wrap an array with axonic.tensor(...)")
        self._data = value._data

    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating point tensors can require gradients, got dtype "
                f"{self._data.dtype.name}; convert first, e.g. x.float()"
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be switched off on a leaf tensor; "
                "use detach() to get a tensor without history"
            )
        self._rg = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def _version(self) -> int:
        return self._vc[0]

    def size(self, dim: int | None = None):
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def element_size(self) -> int:
        return self._data.itemsize

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    # --- conversion -------------------------------------------------------------------
    def numpy(self, force: bool = False) -> np.ndarray:
        """The data as a NumPy array, sharing memory on the CPU."""
        if self._rg and not force:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; "
                "use tensor.detach().numpy() instead"
            )
        if self.device.type != "cpu" and not force:
            raise TypeError(
                f"can't convert a {self.device} tensor to NumPy; use tensor.cpu().numpy()"
            )
        return to_numpy(self._data)

    def item(self):
        if self._data.size != 1:
            raise ValueError(
                f"item() needs a tensor with one element, got shape {tuple(self._data.shape)}"
            )
        return self._data.item()

    def tolist(self):
        return to_numpy(self._data).tolist()

    def __array__(self, dtype=None, copy=None):
        """NumPy's conversion protocol: ``np.array(t)`` copies, ``np.asarray(t)`` shares
        memory on the CPU, ``copy=False`` refuses to copy."""
        a = to_numpy(self._data)
        if dtype is not None and np.dtype(dtype) != a.dtype:
            if copy is False:
                raise ValueError(f"converting {a.dtype.name} to {np.dtype(dtype).name} "
                                 "needs a copy, but copy=False was requested")
            return a.astype(dtype)
        return a.copy() if copy else a

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data)

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._data)

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __reduce_ex__(self, protocol):
        # Tensors travel between processes (DataLoader workers) as their arrays.
        return (_rebuild, (to_numpy(self._data), self._rg))

    # --- autograd ---------------------------------------------------------------------
    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory and version counter)."""
        t = _make(self._data)
        t._vc = self._vc
        t._base = self
        return t

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._rg = False
        return self

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad,
        or with ``inputs`` only into those tensors' ``.grad``."""
        from axonic.autograd.engine import backward

        backward([self], [gradient], retain_graph, create_graph, inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned
        tensor replaces the gradient. Returns a handle with ``remove()``."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        holder = self.grad_fn if self.grad_fn is not None else self
        if holder._hooks is None:
            holder._hooks = []
        holder._hooks.append(hook)
        return _HookHandle(holder._hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn._retain = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        r = getattr(self.grad_fn, "_retain", None) if self.grad_fn is not None else None
        return r is not None and r() is self

    # --- device and dtype (non-differentiable variants; `to` is an op) ----------------
    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        if device is None:
            return self.to("cuda")
        return self.to(as_device(f"cuda:{device}" if isinstance(device, int) else device))

    # In-place ops (add_, mul_, zero_, copy_, x += y, x[i] = v, ...) live in
    # axonic/ops/inplace.py: in the graph they are recorded ops.

    # --- printing ---------------------------------------------------------------------
    def __repr__(self) -> str:
        a = to_numpy(self._data)
        body = _format_array(a)
        extras = []
        shown_implicitly = {get_default_dtype().name, "int64", "bool"}
        if a.dtype.name not in shown_implicitly or a.size == 0 and a.dtype != get_default_dtype():
            extras.append(f"dtype=axonic.{a.dtype.name}")
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}Backward>")
        elif self._rg:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __str__ = __repr__


def _format_array(a: np.ndarray) -> str:
    """The array as PyTorch prints it: whole floats as ``1.``, otherwise 4 decimals, and
    scientific notation when the magnitudes span more than 1000x or pass 1e8."""
    opts = dict(separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)
    if a.dtype.kind != "f" or a.size == 0:
        return np.array2string(a, **opts)
    finite = a[np.isfinite(a)]
    mags = np.abs(finite[finite != 0]).astype(np.float64)
    whole = bool(np.all(finite == np.round(finite)))
    sci = mags.size > 0 and (mags.max() > 1e8 or mags.max() / mags.min() > 1000
                             or not whole and mags.min() < 1e-4)
    if sci:
        width = 10 + bool((finite < 0).any()) + bool((mags >= 1e100).any() or (mags < 1e-99).any())
        width = max(width, 3 if finite.size == a.size else 4)

        def fmt(v):
            return (f"{v:.4e}" if np.isfinite(v) else str(v)).rjust(width)

        return np.array2string(a, formatter={"float_kind": fmt}, **opts)
    mode = "maxprec" if whole else "fixed"
    return np.array2string(a, precision=4, floatmode=mode, suppress_small=True, **opts)


class _HookHandle:
    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _make(data, rg: bool = False, fn=None) -> Tensor:
    """Wrap an array without copying or checks (the fast path used by every op)."""
    t = _new(Tensor)
    t._data = data
    t._rg = rg
    t.grad = None
    t.grad_fn = fn
    t._vc = [0]
    t._hooks = None
    t._retain = False
    t._base = None
    return t


def _rebuild(array, requires_grad):
    t = _make(array)
    t._rg = requires_grad
    return t


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a list, scalar, array or tensor).

    Python floats become the default dtype (float32), Python ints int64 and bools
    bool; NumPy arrays keep their dtype.

    >>> import axonic
    >>> axonic.tensor([[1, 2], [3, 4]]).dtype
    dtype('int64')
    >>> axonic.tensor([0.5]).dtype
    dtype('float32')
    """
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        dtype = resolve_dtype(dtype)
    xp = get_array_module(data)
    if hasattr(data, "__array__") or hasattr(data, "__dlpack__") and not isinstance(data, list):
        arr = xp.array(data, dtype=dtype, copy=True)
    else:
        try:
            arr = np.array(data, dtype=dtype)
        except (ValueError, TypeError) as e:
            raise TypeError(
                f"tensor(): could not build a tensor from {type(data).__name__}: {e}") from None
        if dtype is None and arr.dtype == np.float64:
            arr = arr.astype(get_default_dtype())
    if arr.dtype.kind in "OUSV":
        raise TypeError(
            f"tensor(): unsupported element type {arr.dtype}; expected numbers or bools")
    if dtype is None:
        resolve_dtype(arr.dtype)  # reject unsupported dtypes such as complex or uint32
    if device is not None:
        arr = to_device(arr, device)
    t = _make(arr)
    if requires_grad:
        t.requires_grad = True
    return t
