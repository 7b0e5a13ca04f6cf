"""``OnnxGraph``: what an op's ``to_onnx`` writes its ONNX nodes into.

An op maps itself to ONNX with a ``to_onnx`` method whose signature mirrors its
``forward`` (the tensors arrive as ONNX value names, options as given), or, when it is one
ONNX op of the same inputs, with a class attribute ``onnx_op = "Tanh"``. Inside it, ``g``
gives what the op needs:

- ``g.op(type, *inputs, **attributes)`` adds a node and returns its output name (a list
  with ``outputs=n``); ``""`` stands for a missing optional input;
- ``g.const(value, dtype)`` / ``g.ints(values)`` add constants;
- ``g.dims(name)`` and ``g.out_dims``: shapes with each dynamic dim as a ``Sym`` (or
  ``None`` when it follows the dynamic axes in a way not known), so shape ops can build
  their target sizes at run time (``g.shape_tensor``) instead of baking in the batch size;
- ``g.twin``: the same op in the second pass (with the dynamic axes longer), to tell a
  size-dependent option (a slice end) from a fixed one; ``g.error(...)`` for refusals.

>>> g = OnnxGraph(opset=17)
>>> g.op("Relu", "x")
'Relu_0'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class OnnxExportError(RuntimeError):
    """A model (or an op in it) that cannot be written as ONNX, or bad export arguments."""


@dataclass(frozen=True)
class Sym:
    """A dynamic dim: its size at run time is ``shape(input)[axis]`` of a graph input."""

    input: str
    axis: int
    name: str


# Nodes whose inputs are all constants are computed at export time (do_constant_folding)
# when they are one of these (layout work on weights: gate reordering, transposes).
_FOLDABLE = {"Gather", "Unsqueeze", "Squeeze", "Concat", "Transpose", "Reshape", "Add",
             "Mul", "Cast", "Split", "Identity"}


class OnnxGraph:
    def __init__(self, opset: int = 17, fold: bool = True):
        self.opset = opset
        self.fold = fold
        self.nodes: list = []
        self.initializers: dict = {}  # name -> numpy array
        self.value_dims: dict = {}  # name -> tuple of int | Sym | None
        self._count: dict = {}
        self._runtime_dims: dict = {}
        self.node = None  # the trace Node being exported (set by the exporter)
        self.twin = None  # the same op's Function in the second pass
        self.twin_kwargs: dict = {}
        self.where = "export"  # what an error outside an op names
        self.reserved: set = set()  # the graph's input and output names

    # --- names and nodes --------------------------------------------------------------
    def fresh(self, base: str) -> str:
        """A new value name (never one of the graph's input or output names)."""
        while True:
            n = self._count.get(base, 0)
            self._count[base] = n + 1
            if f"{base}_{n}" not in self.reserved:
                return f"{base}_{n}"

    def op(self, op_type: str, *inputs, outputs: int = 1, **attrs):
        """Add one ONNX node; returns its output name (or a list of ``outputs`` names)."""
        from onnx import helper

        inputs = [i if i is not None else "" for i in inputs]
        while inputs and inputs[-1] == "":  # trailing missing optionals are left out
            inputs.pop()
        names = [self.fresh(op_type) for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        if self.fold and op_type in _FOLDABLE and inputs and all(
                i in self.initializers for i in inputs if i):
            values = _run_node(op_type, [self.initializers[i] if i else None for i in inputs],
                               attrs, outputs, self.opset)
            for name, v in zip(names, values):
                self.initializers[name] = v
        else:
            self.nodes.append(helper.make_node(op_type, inputs, names,
                                               name=self.fresh(f"n_{op_type}"), **attrs))
        return names[0] if outputs == 1 else names

    def const(self, value, dtype=None, name: str | None = None) -> str:
        """A constant (an initializer) holding ``value``."""
        arr = np.asarray(value, dtype=dtype)
        name = name or self.fresh("const")
        self.initializers[name] = arr
        self.value_dims[name] = arr.shape
        return name

    def ints(self, values) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64))

    # --- shapes -----------------------------------------------------------------------
    def dims(self, name: str) -> tuple:
        return self.value_dims[name]

    @property
    def out_dims(self) -> tuple:
        return self.node.dims

    @property
    def out_dtype(self):
        return self.node.dtype

    def is_dynamic(self, name: str, axis: int) -> bool:
        return not isinstance(self.value_dims[name][axis], int)

    def runtime_dim(self, sym: Sym) -> str:
        """A 1-element int64 tensor holding ``sym``'s size, read from its graph input."""
        if sym not in self._runtime_dims:
            shape = self.op("Shape", sym.input)
            self._runtime_dims[sym] = self.op("Gather", shape, self.ints([sym.axis]), axis=0)
        return self._runtime_dims[sym]

    def shape_tensor(self, dims, like: tuple = (), unknown: int = -1) -> str:
        """A 1-D int64 shape for Reshape/Expand: static dims as they are, a dynamic dim at
        the position where ``like`` has the same one as 0 (Reshape's "copy"), other
        symbols read at run time, and at most one dim of unknown origin as ``unknown``."""
        parts, static = [], []
        if sum(d is None for d in dims) > 1:
            raise self.error(f"the output shape {self._show(dims)} has more than one dim that "
                             "depends on the dynamic axes in a way that cannot be expressed")
        for i, d in enumerate(dims):
            if isinstance(d, Sym) and i < len(like) and like[i] == d and unknown == -1:
                static.append(0)
            elif isinstance(d, Sym):
                if static:
                    parts.append(self.ints(static))
                    static = []
                parts.append(self.runtime_dim(d))
            else:
                static.append(unknown if d is None else int(d))
        if static:
            parts.append(self.ints(static))
        return parts[0] if len(parts) == 1 else self.op("Concat", *parts, axis=0)

    def bound(self, a: int, b: int, size_a: int, size_b: int) -> int:
        """A slice bound for ONNX: ``a`` when it is the same in both passes, else counted
        from the end of the axis (the same distance from the end in both)."""
        if a == b:
            return a
        if a - size_a == b - size_b:
            return a - size_a
        raise self.error(f"an index ({a} here) depends on the size of a dynamic axis in a "
                         "way that cannot be expressed")

    @staticmethod
    def _show(dims) -> str:
        return "(" + ", ".join(d.name if isinstance(d, Sym) else "?" if d is None else str(d)
                               for d in dims) + ")"

    # --- helpers shared by several ops -----------------------------------------------
    def reduce(self, op_type: str, x: str, axes, keepdims: bool) -> str:
        """ReduceSum/Mean/Max/Min over ``axes`` (all when None), at this opset's form."""
        axes_in = "" if axes is None else self.ints(axes)
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, x, axes_in, keepdims=int(keepdims))
        return self.op(op_type, x, axes=None if axes is None else list(axes),
                       keepdims=int(keepdims))

    def cast(self, x: str, dtype) -> str:
        from onnx import helper

        return self.op("Cast", x, to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))

    def error(self, message: str) -> OnnxExportError:
        node = self.node
        if node is None:  # writing the graph's outputs
            return OnnxExportError(f"axonic.onnx.export: {self.where}: {message}")
        where = f" in {node.path}" if node.path else ""
        return OnnxExportError(f"axonic.onnx.export: op '{type(node.fn).__name__}'{where}: "
                               f"{message}")


def _run_node(op_type, values, attrs, outputs, opset):
    """Compute one node on constants (constant folding) with ONNX's reference runtime."""
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    names = [f"i{k}" if v is not None else "" for k, v in enumerate(values)]
    outs = [f"o{k}" for k in range(outputs)]
    node = helper.make_node(op_type, names, outs, **attrs)
    model = helper.make_model(
        helper.make_graph([node], "fold", [helper.make_tensor_value_info(n, 0, None)
                                           for n in names if n],
                          [helper.make_tensor_value_info(o, 0, None) for o in outs]),
        opset_imports=[helper.make_opsetid("", opset)])
    feeds = {n: v for n, v in zip(names, values) if n}
    return [np.asarray(r) for r in ReferenceEvaluator(model).run(None, feeds)]
