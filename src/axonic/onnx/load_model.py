"""``axonic.onnx.load``: an ONNX model as a trainable ``nn.Module``.

The graph's floating-point initializers become Parameters (so the model can be
fine-tuned), the others buffers; ``forward`` runs the graph node by node with axonic's
differentiable ops, each at the opset version the model declares
(``axonic/onnx/ops/`` holds the implementations).

>>> import axonic.onnx  # doctest: +SKIP
>>> model = axonic.onnx.load("model.onnx")  # doctest: +SKIP
>>> y = model(axonic.randn(1, 3, 32, 32))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from axonic.nn.module import Module
from axonic.nn.parameter import Parameter
from axonic.onnx.ops import lookup
from axonic.onnx.ops._util import from_onnx_tensor, to_value

_EXTRA = "ONNX import needs the onnx package: pip install 'axonic[onnx]'"


def _onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError(_EXTRA) from e
    return onnx


def _read_model(f):
    onnx = _onnx()
    if isinstance(f, onnx.ModelProto):
        return f, "<ModelProto>"
    if isinstance(f, (bytes, bytearray, memoryview)):
        where = "<bytes>"
        data = bytes(f)
    elif isinstance(f, (str, os.PathLike)):
        where = os.fspath(f)
        if not os.path.isfile(where):
            raise FileNotFoundError(f"axonic.onnx.load: no such file {where!r}")
        with open(where, "rb") as fh:
            data = fh.read()
    elif hasattr(f, "read"):
        where, data = getattr(f, "name", "<file object>"), f.read()
    else:
        raise TypeError(f"axonic.onnx.load: expected a path, bytes, a file object or an "
                        f"onnx.ModelProto; got {type(f).__name__}")
    try:
        model = onnx.ModelProto()
        model.ParseFromString(data)
    except Exception as e:
        raise ValueError(f"axonic.onnx.load: {where} is not an ONNX model ({e})") from None
    if not model.HasField("graph") or not model.opset_import:
        raise ValueError(f"axonic.onnx.load: {where} is not an ONNX model "
                         "(it has no graph or no opset_import)")
    if isinstance(f, (str, os.PathLike)) and _has_external_data(model):
        onnx.load_external_data_for_model(model, os.path.dirname(os.path.abspath(where)))
    return model, where


def _has_external_data(model) -> bool:
    return any(t.data_location == 1 for t in model.graph.initializer)


# --- the compiled graph ------------------------------------------------------------------

@dataclass
class NodeContext:
    """What an op implementation may ask about its node."""

    op_type: str
    name: str
    opset: int
    opsets: dict
    outputs: list
    run_graph: object = None  # run_graph(subgraph, feeds, outer_env) -> list of outputs
    scope: dict | None = None  # the values visible to the node (its subgraphs read them)

    def __str__(self):
        return f"{self.op_type} node {self.name!r} (opset {self.opset})"


@dataclass
class Node:
    fn: object
    inputs: list
    outputs: list
    attrs: dict
    ctx: NodeContext


@dataclass
class Graph:
    nodes: list
    inputs: list
    outputs: list
    constants: dict = field(default_factory=dict)


def _attrs(node, opsets, compile_graph):
    onnx = _onnx()
    out = {}
    for a in node.attribute:
        if a.ref_attr_name:
            raise NotImplementedError(f"ONNX import: node {node.name!r} ({node.op_type}) refers "
                                      f"to a function attribute {a.ref_attr_name!r}")
        v = onnx.helper.get_attribute_value(a)
        if a.type == onnx.AttributeProto.TENSOR:
            v = from_onnx_tensor(v)
        elif a.type == onnx.AttributeProto.TENSORS:
            v = [from_onnx_tensor(t) for t in v]
        elif a.type == onnx.AttributeProto.GRAPH:
            v = compile_graph(v, opsets)
        elif a.type == onnx.AttributeProto.GRAPHS:
            v = [compile_graph(g, opsets) for g in v]
        elif a.type == onnx.AttributeProto.STRING:
            v = v.decode("utf-8", "replace")
        elif a.type == onnx.AttributeProto.STRINGS:
            v = [s.decode("utf-8", "replace") for s in v]
        out[a.name] = v
    return out


def compile_graph(graph, opsets, where="model") -> Graph:
    """Resolve every node of ``graph`` to its implementation at the model's opset; raise
    naming the first op that axonic does not implement."""
    nodes = []
    for i, n in enumerate(graph.node):
        domain = "" if n.domain in ("", "ai.onnx") else n.domain
        if domain not in opsets:
            raise ValueError(f"ONNX import: node {n.name or i!r} ({n.op_type}) of {where} uses "
                             f"domain {domain or 'ai.onnx'!r}, which the model does not import")
        version = opsets[domain]
        impl = lookup(n.op_type, domain, version)
        if impl is None:
            raise NotImplementedError(
                f"ONNX import: op {n.op_type!r} (domain {domain or 'ai.onnx'!r}, opset "
                f"{version}) of node {n.name or f'#{i}'!r} in {where} is not supported by axonic")
        ctx = NodeContext(n.op_type, n.name or f"#{i}", version, opsets, list(n.output),
                          run_graph)
        nodes.append(Node(impl.fn, list(n.input), list(n.output),
                          _attrs(n, opsets, compile_graph), ctx))
    constants = {t.name: to_value(from_onnx_tensor(t)) for t in graph.initializer}
    return Graph(nodes, [i.name for i in graph.input], [o.name for o in graph.output], constants)


def run_graph(graph: Graph, feeds: dict, outer: dict | None = None) -> list:
    """Run ``graph`` on ``feeds`` (name -> value); names of ``outer`` are visible too (the
    enclosing scope of a subgraph). Returns the graph's outputs in order."""
    env = dict(outer) if outer else {}
    env.update(graph.constants)
    env.update(feeds)
    env[""] = None
    for node in graph.nodes:
        try:
            args = [env[name] for name in node.inputs]
        except KeyError as e:
            raise ValueError(f"ONNX import: {node.ctx} reads {e.args[0]!r}, which no earlier "
                             "node, input or initializer defines") from None
        node.ctx.scope = env
        out = node.fn(args, node.attrs, node.ctx)
        if not isinstance(out, tuple):  # one output (a list is one sequence value)
            out = (out,)
        for name, value in zip(node.outputs, out):
            if name:
                env[name] = value
    return [env[name] for name in graph.outputs]


# --- the Module -----------------------------------------------------------------------------

class OnnxModule(Module):
    """An imported ONNX graph. ``forward(*inputs)`` takes the graph's inputs in order (or by
    name as keywords) and returns its output, or a tuple when the graph has several.

    Initializers named like ``layer1.0.weight`` become parameters of nested submodules, so
    ``state_dict()`` keys are the initializer names; ``onnx_names`` maps each initializer to
    its state_dict key.
    """

    def __init__(self, model, where="model", constants_as_parameters=True):
        super().__init__()
        self.opsets = {("" if o.domain == "ai.onnx" else o.domain): o.version
                       for o in model.opset_import}
        self.source = where
        graph = model.graph
        self.graph = compile_graph(graph, self.opsets, where)
        inits = self.graph.constants
        self.graph.constants = {}
        if constants_as_parameters:
            inits.update(self._weights_from_constants())
        self.onnx_names = {}
        for name, value in inits.items():
            self.onnx_names[name] = self._register(name, value)
        self.input_names = [n for n in self.graph.inputs if n not in inits]
        self.output_names = list(self.graph.outputs)

    def _weights_from_constants(self):
        """Floating-point Constant nodes of more than one element (the weights of exporters
        that write them as nodes, such as Paddle2ONNX) taken out of the graph."""
        from axonic.autograd import Tensor

        weights, kept = {}, []
        for node in self.graph.nodes:
            value = node.attrs.get("value") if node.ctx.op_type == "Constant" else None
            if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size > 1 \
                    and value.dtype.name in ("float16", "float32", "float64"):
                weights[node.outputs[0]] = Tensor(value.copy())
            else:
                kept.append(node)
        self.graph.nodes = kept
        return weights

    def _register(self, name, value):
        from axonic.autograd import Tensor

        parts = name.split(".")
        if not all(p.isidentifier() or p.isdigit() for p in parts):
            parts = ["".join(c if c.isalnum() or c == "_" else "_" for c in name) or "_"]
        owner = self
        for p in parts[:-1]:
            child = owner._modules.get(p)
            if child is None:
                if p in owner._parameters or p in owner._buffers or hasattr(owner, p):
                    return self._register(name.replace(".", "_"), value)
                child = Module()
                owner.add_module(p, child)
            owner = child
        leaf = parts[-1]
        if leaf in owner._modules or leaf in owner._parameters or leaf in owner._buffers \
                or hasattr(type(owner), leaf):
            if owner is self and "." not in name:
                leaf = leaf + "_"
            else:
                return self._register(name.replace(".", "_"), value)
        if isinstance(value, Tensor) and value._data.dtype.kind == "f":
            owner.register_parameter(leaf, Parameter(value))
        elif isinstance(value, Tensor):
            owner.register_buffer(leaf, value)
        else:  # a dtype axonic's Tensor does not hold (strings, uint16 ...): kept as NumPy
            object.__setattr__(owner, leaf, value)
        prefix = ".".join(parts[:-1])
        return f"{prefix}.{leaf}" if prefix else leaf

    def _value(self, key):
        owner = self
        *path, leaf = key.split(".")
        for p in path:
            owner = owner._modules[p]
        if leaf in owner._parameters:
            return owner._parameters[leaf]
        if leaf in owner._buffers:
            return owner._buffers[leaf]
        return getattr(owner, leaf)

    def forward(self, *args, **kwargs):
        names = self.input_names
        if len(args) > len(names):
            raise TypeError(f"{self.source}: the graph takes {len(names)} inputs {names}; "
                            f"got {len(args)} positional arguments")
        feeds = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in names:
                raise TypeError(f"{self.source}: no graph input named {k!r}; inputs: {names}")
            feeds[k] = v
        missing = [n for n in names if n not in feeds]
        if missing:
            raise TypeError(f"{self.source}: missing graph inputs {missing}")
        feeds = {k: to_value(v) for k, v in feeds.items()}
        inits = {name: self._value(key) for name, key in self.onnx_names.items()}
        out = run_graph(self.graph, feeds, inits)
        return out[0] if len(out) == 1 else tuple(out)


def load(f, constants_as_parameters: bool = True) -> OnnxModule:
    """Import an ONNX model (a path, its bytes, a file object or an ``onnx.ModelProto``)
    as an ``nn.Module`` whose forward runs the graph with axonic's ops.

    Floating-point initializers become parameters, integer ones buffers; with
    ``constants_as_parameters`` (the default) so do floating-point Constant nodes of more
    than one element, which some exporters write instead of initializers.

    >>> import onnx, numpy as np, axonic
    >>> from onnx import helper, TensorProto
    >>> g = helper.make_graph(
    ...     [helper.make_node("Relu", ["x"], ["y"])], "g",
    ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
    ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    >>> m = load(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    >>> m(axonic.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    model, where = _read_model(f)
    return OnnxModule(model, where, constants_as_parameters)


def as_numpy(value):
    """A graph value (Tensor or NumPy array) as a NumPy array."""
    return value._data if hasattr(value, "_data") else np.asarray(value)
