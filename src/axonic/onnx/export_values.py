"""The values of an exported graph: which ONNX name each traced tensor has, and how each
recorded op is handed to its own ``to_onnx``.

Inputs the model was called with become graph inputs, parameters and buffers become
initializers named by their ``state_dict`` keys, and anything else an op read is a
constant, checked against the second pass: a constant whose shape follows a dynamic axis
is written as a fill of the run-time shape when all its values are equal, as ``Range``
when it is ``arange`` of that size (positions), and refused otherwise, as is one whose
values changed with the inputs (it was computed from them outside the graph).

>>> import axonic
>>> from axonic import nn
>>> from axonic.onnx.export_graph import OnnxGraph
>>> from axonic.onnx.export_trace import trace
>>> model = nn.Linear(2, 2)
>>> t = trace(model, (axonic.randn(1, 2),))
>>> g = OnnxGraph()
>>> v = Values(g, model, t, t, ["x"], {}, True)
>>> v.emit(t.nodes[0], t.nodes[0]); sorted(g.initializers)
['bias', 'weight']
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.backend import to_numpy
from axonic.onnx.export_graph import OnnxExportError, Sym

_ARRAY = (np.ndarray,)


class Values:
    def __init__(self, g, model, first, second, in_names, by_sizes, export_params):
        self.g, self.by_sizes, self.export_params = g, by_sizes, export_params
        self.names: dict = {}  # id(Function) or id(leaf) -> ONNX name
        self.keep: list = []  # leaves named by id must stay alive while ids are in use
        self.inputs = {}
        for k, (a, b) in enumerate(zip(first.args, second.args)):
            self.inputs[id(a)] = self.inputs[id(a._data)] = in_names[k]
            g.value_dims[in_names[k]] = self._dims(a.shape, b.shape)
        self.params = {}
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if isinstance(t, Tensor):
                self.params.setdefault(id(t), (name, t))
                self.params.setdefault(id(t._data), (name, t))
        g.param_inputs = {}

    def _dims(self, a, b) -> tuple:
        return tuple(x if x == y else self.by_sizes.get((x, y)) for x, y in zip(a, b))

    # --- one op ----------------------------------------------------------------------
    def emit(self, node, twin) -> None:
        g, fn = self.g, node.fn
        g.node, g.twin, g.twin_kwargs = node, twin.fn, twin.kwargs
        args = [self.value(a, b) for a, b in zip(fn.inputs, twin.fn.inputs)]
        kwargs = {k: self.value(v, twin.kwargs.get(k)) for k, v in node.kwargs.items()}
        _check_options(g, node, twin)
        onnx_op = getattr(type(fn), "onnx_op", None)
        if onnx_op is not None:
            out = g.op(onnx_op, *[self._operand(a) for a in args])
        elif hasattr(fn, "to_onnx"):
            out = fn.to_onnx(g, *args, **kwargs)
        else:
            raise g.error("has no ONNX mapping (give its Function a to_onnx method or an "
                          "onnx_op name)")
        self.names[id(fn)] = out
        g.value_dims[out] = node.dims

    def _operand(self, a):
        """A Python number next to tensors becomes a constant of the op's dtype."""
        if isinstance(a, str) or a is None:
            return a
        return self.g.const(a, self.g.out_dtype)

    # --- tensors ---------------------------------------------------------------------
    def value(self, a, b):
        """The ONNX name of input ``a`` (``b``: the same input in the second pass), or
        ``a`` itself when it is not a tensor or an array (an option)."""
        if isinstance(a, Tensor) and a.grad_fn is not None:
            return self.names[id(a.grad_fn)]
        if not isinstance(a, Tensor) and not isinstance(a, _ARRAY):
            return a
        key = id(a)
        if key in self.names:
            return self.names[key]
        name = self._leaf(a, b)
        self.names[key] = name
        self.keep.append(a)
        return name

    def _leaf(self, a, b) -> str:
        g = self.g
        if id(a) in self.inputs:
            return self.inputs[id(a)]
        if id(a) in self.params:
            name, t = self.params[id(a)]
            arr = to_numpy(t._data)
            if self.export_params:
                return g.const(arr, name=name)
            g.param_inputs[name] = arr
            g.value_dims[name] = arr.shape
            return name
        arr_a = to_numpy(a._data if isinstance(a, Tensor) else a)
        arr_b = to_numpy(b._data if isinstance(b, Tensor) else b)
        if arr_a.shape == arr_b.shape:
            if not np.array_equal(arr_a, arr_b, equal_nan=arr_a.dtype.kind in "fc"):
                raise g.error("reads a tensor that was computed from the model's inputs "
                              "outside autograd (an integer or comparison op, or a detached "
                              "value), so it would be baked into the file as a constant")
            return g.const(arr_a)
        return self._filled(arr_a, arr_b)

    def _filled(self, arr_a, arr_b) -> str:
        """A constant whose shape follows a dynamic axis (zeros of shape (batch, H)):
        its single value expanded to the run-time shape."""
        g = self.g
        flat = arr_a.reshape(-1)
        dims = self._dims(arr_a.shape, arr_b.shape)
        if _is_arange(arr_a) and _is_arange(arr_b) and isinstance(dims[0], Sym):
            return self._positions(dims[0], arr_a.dtype)
        tri = _triangle(arr_a)
        if tri is not None and tri == _triangle(arr_b) and isinstance(dims[0], Sym):
            return self._triangle_mask(dims, arr_a.dtype, *tri)
        if flat.size == 0 or not (flat == flat[0]).all() or any(d is None for d in dims):
            raise g.error(f"reads a constant of shape {arr_a.shape} whose size follows a "
                          "dynamic axis and whose values are not all equal (made from the "
                          "input's size, or computed from the input outside autograd by a "
                          "comparison or integer op); it cannot follow the axis in ONNX")
        value = g.const(flat[:1].reshape(()).astype(arr_a.dtype))
        out = g.op("Expand", value, g.shape_tensor(dims))
        g.value_dims[out] = dims
        return out

    def _positions(self, sym, dtype) -> str:
        """``arange(n)`` for a dynamic size n (positions 0..T-1) as ONNX's Range."""
        g = self.g
        n = g.op("Squeeze", g.runtime_dim(sym), g.ints([0]))
        if np.dtype(dtype) != np.int64:
            n = g.cast(n, dtype)
        out = g.op("Range", g.const(0, dtype), n, g.const(1, dtype))
        g.value_dims[out] = (sym,)
        return out

    def _triangle_mask(self, dims, dtype, upper, k, inside, outside) -> str:
        """A square mask, ``inside`` on and above (``upper``) or below diagonal ``k`` and
        ``outside`` elsewhere, of a dynamic size (a causal attention mask)."""
        g = self.g
        ones = g.op("Expand", g.const(1.0, np.float32), g.shape_tensor(dims))
        band = g.op("Trilu", ones, g.const(k, np.int64), upper=int(upper))
        where = g.op("Cast", band, to=9)  # BOOL
        out = g.op("Where", where, g.const(inside, dtype), g.const(outside, dtype))
        g.value_dims[out] = dims
        return out

    # --- the outputs -----------------------------------------------------------------
    def finish(self, outputs, twins) -> None:
        """Name the outputs: the node that makes one writes it under its output name (an
        input, a constant or a value given twice goes through an Identity)."""
        g = self.g
        g.node = None
        made = {o for node in g.nodes for o in node.output}
        renamed = {}
        for k, (t, tb) in enumerate(zip(outputs, twins)):
            name = g.out_names[k]
            g.where = f"output '{name}'"
            src = self.value(t, tb)
            if src in made and src not in renamed:
                renamed[src] = name
            else:
                g.nodes.append(_identity(renamed.get(src, src), name))
            g.value_dims[name] = self._dims(t.shape, tb.shape)
        for node in g.nodes:
            for names in (node.input, node.output):
                for i, n in enumerate(names):
                    names[i] = renamed.get(n, n)


def _identity(src, name):
    from onnx import helper

    return helper.make_node("Identity", [src], [name], name=f"output_{name}")


def _is_arange(arr) -> bool:
    return arr.ndim == 1 and arr.size > 1 and bool((arr == np.arange(arr.size)).all())


def _triangle(arr):
    """``(upper, k, inside, outside)`` when ``arr`` is square and two-valued as
    ``where(triu(ones, k), inside, outside)`` (or ``tril``), else None."""
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 2:
        return None
    n = arr.shape[0]
    corner, last = arr[0, -1], arr[-1, 0]
    if np.array_equal(corner, last, equal_nan=True):
        return None
    for upper, inside, outside in ((True, corner, last), (False, last, corner)):
        row = arr[0] if upper else arr[:, 0]
        hit = np.flatnonzero(_eq(row, inside))
        k = int(hit[0]) if upper else -int(hit[0])
        mask = np.triu(np.ones((n, n), bool), k) if upper else np.tril(np.ones((n, n), bool), k)
        if _eq(arr, np.where(mask, inside, outside)).all():
            return upper, k, inside.item(), outside.item()
    return None


def _eq(a, b):
    return (a == b) | (np.isnan(a) & np.isnan(b)) if np.asarray(a).dtype.kind == "f" else a == b


def _check_options(g, node, twin) -> None:
    """An option that differs between the passes depends on a dynamic size; only the ops
    that say so (``onnx_sized``: the names of such options) can express that."""
    sized = getattr(type(node.fn), "onnx_sized", ())
    for key, va in node.kwargs.items():
        if isinstance(va, (Tensor, *_ARRAY)):
            continue  # a tensor option is a value of the graph (checked as one)
        if key not in sized and not _same(va, twin.kwargs.get(key)):
            raise g.error(f"its option {key}={va!r} depends on the size of a dynamic axis "
                          f"(it is {twin.kwargs.get(key)!r} when that size changes), which "
                          "this op cannot express in ONNX")
    for k, (a, b) in enumerate(zip(node.fn.inputs, twin.fn.inputs)):
        if k not in sized and not isinstance(a, (Tensor, *_ARRAY)) and not _same(a, b):
            raise g.error(f"its argument {k} ({a!r}) depends on the size of a dynamic axis, "
                          "which this op cannot express in ONNX")


def _same(a, b) -> bool:
    if isinstance(a, _ARRAY) or isinstance(b, _ARRAY):
        return np.array_equal(np.asarray(a), np.asarray(b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


__all__ = ["OnnxExportError", "Sym", "Values"]
