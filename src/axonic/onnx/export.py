"""``axonic.onnx.export``: write a model as an ONNX file, as ``torch.onnx.export``.

The model runs once (eval mode, dropout gone) and the recorded autograd graph is the
trace (``export_trace``); each op writes its own ONNX nodes (its ``to_onnx`` method or
``onnx_op`` name, next to its forward in ``axonic/ops``); parameters and buffers become
initializers named by their ``state_dict`` keys; a second pass with the dynamic axes
longer makes their sizes symbolic. The file is checked with
``onnx.checker.check_model(full_check=True)`` before it is written.

>>> import io, axonic
>>> from axonic import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> buf = io.BytesIO()
>>> export(model, axonic.randn(3, 4), buf, input_names=["x"], output_names=["y"],
...        dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
>>> import onnx
>>> [n.op_type for n in onnx.load_from_string(buf.getvalue()).graph.node]
['Gemm', 'Relu', 'Gemm']
"""

from __future__ import annotations

import os

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.onnx.export_graph import OnnxExportError, OnnxGraph, Sym
from axonic.onnx.export_trace import resized_args, trace

_MIN_OPSET = 17  # LayerNormalization


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=17, do_constant_folding=True, export_params=True,
           verbose=False) -> None:
    """Export ``model`` called on ``args`` (a tensor or a tuple of them) to ``f`` (a path
    or a binary file object) as ONNX. ``dynamic_axes`` maps an input or output name to
    ``{axis: "name"}`` (or a list of axes); those axes may have any size at run time.
    With ``export_params=False`` the parameters are graph inputs instead of initializers.
    """
    onnx = _onnx()
    args = _check_args(args)
    opset = _check_opset(onnx, opset_version)
    in_names = _check_names("input_names", input_names, len(args), "input")
    was_training = model.training
    model.eval()
    try:
        first = trace(model, args)
        n_out = len(first.outputs)
        out_names = _check_names("output_names", output_names, n_out, "output")
        both = sorted(set(in_names) & set(out_names))
        if both:
            raise OnnxExportError(f"axonic.onnx.export: {both} name both an input and an "
                                  "output; every name must be unique")
        symbols = _check_dynamic_axes(dynamic_axes, args, in_names, out_names)
        labels = list(dict.fromkeys(s.name for s in symbols.values()))
        deltas = {key: labels.index(s.name) + 1 for key, s in symbols.items()}
        # always run: it also finds values computed from the inputs outside the graph
        second = trace(model, resized_args(args, deltas))
    finally:
        model.train(was_training)
    graph = _build(model, first, second, in_names, out_names, symbols, opset,
                   do_constant_folding, export_params)
    proto = _model(onnx, graph, type(model).__name__, first, args, in_names, out_names,
                   dynamic_axes, export_params, opset)
    onnx.checker.check_model(proto, full_check=True)
    if verbose:
        print(onnx.printer.to_text(proto.graph))
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    else:
        f.write(data)


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("axonic.onnx.export needs the onnx package: "
                          "pip install 'axonic[onnx]'") from None
    return onnx


def _check_args(args) -> tuple:
    args = args if isinstance(args, tuple) else (args,)
    if not args:
        raise OnnxExportError("axonic.onnx.export: args is empty; give the example input "
                              "(a tensor or a tuple of tensors) the model is called with")
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            raise OnnxExportError(f"axonic.onnx.export: args[{i}] is a {type(a).__name__}; "
                                  "expected an axonic Tensor")
    return tuple(a.detach() for a in args)  # the graph starts at the inputs


def _check_opset(onnx, opset) -> int:
    newest = onnx.defs.onnx_opset_version()
    if not isinstance(opset, int) or not _MIN_OPSET <= opset <= newest:
        raise OnnxExportError(f"axonic.onnx.export: opset_version={opset!r}; expected an int "
                              f"from {_MIN_OPSET} to {newest}")
    return opset


def _check_names(what, names, n, default) -> list:
    if names is None:
        names = []
    if isinstance(names, str) or not all(isinstance(s, str) for s in names):
        raise OnnxExportError(f"axonic.onnx.export: {what} must be a list of strings, got "
                              f"{names!r}")
    if len(names) > n or len(set(names)) != len(names):
        raise OnnxExportError(f"axonic.onnx.export: {what}={names!r} names {len(names)} "
                              f"values, but the model has {n} {default}(s) (names must be "
                              "unique)")
    return list(names) + [f"{default}_{i}" for i in range(len(names), n)]


def _check_dynamic_axes(dynamic_axes, args, in_names, out_names) -> dict:
    """Validate ``dynamic_axes``; returns (arg index, axis) -> Sym for the inputs' axes."""
    if dynamic_axes is None:
        return {}
    if not isinstance(dynamic_axes, dict):
        raise OnnxExportError("axonic.onnx.export: dynamic_axes must be a dict {name: "
                              f"{{axis: 'label'}}}}, got {type(dynamic_axes).__name__}")
    symbols = {}
    for name, axes in dynamic_axes.items():
        if name not in in_names and name not in out_names:
            raise OnnxExportError(f"axonic.onnx.export: dynamic_axes names '{name}', which is "
                                  f"neither an input {in_names} nor an output {out_names}")
        labels = _axis_labels(name, axes)
        if name in in_names:
            k = in_names.index(name)
            for axis, label in labels.items():
                if not -args[k].ndim <= axis < args[k].ndim:
                    raise OnnxExportError(f"axonic.onnx.export: dynamic_axes['{name}'] names "
                                          f"axis {axis}, but the input has shape "
                                          f"{tuple(args[k].shape)}")
                axis %= args[k].ndim
                first = next((v for v in symbols.values() if v.name == label), None)
                symbols[(k, axis)] = first or Sym(name, axis, label)
    return symbols


def _axis_labels(name, axes) -> dict:
    if isinstance(axes, (list, tuple)):
        axes = {a: f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
    if not isinstance(axes, dict) or not all(isinstance(a, int) for a in axes):
        raise OnnxExportError(f"axonic.onnx.export: dynamic_axes['{name}'] must be a list of "
                              f"axes or a dict {{axis: 'label'}}, got {axes!r}")
    return {a: str(v) for a, v in axes.items()}


def _dims(shape_a, shape_b, by_sizes) -> tuple:
    return tuple(a if a == b else by_sizes.get((a, b)) for a, b in zip(shape_a, shape_b))


def _build(model, first, second, in_names, out_names, symbols, opset, fold,
           export_params) -> OnnxGraph:
    from axonic.onnx.export_values import Values

    g = OnnxGraph(opset, fold)
    g.out_names = out_names
    g.reserved.update(in_names + out_names)
    by_sizes = {(first.args[k].shape[ax], second.args[k].shape[ax]): s
                for (k, ax), s in symbols.items()}
    values = Values(g, model, first, second, in_names, by_sizes, export_params)
    if len(first.nodes) != len(second.nodes):
        raise OnnxExportError("axonic.onnx.export: the model runs different ops when the "
                              "dynamic axes change size, so it cannot be one ONNX graph")
    for node, twin in zip(first.nodes, second.nodes):
        if type(node.fn) is not type(twin.fn):
            g.node = node
            raise g.error("the model runs different ops when the dynamic axes change size "
                          f"(here '{type(twin.fn).__name__}'), so it cannot be one graph")
        node.dims = _dims(node.shape, twin.shape, by_sizes)
        values.emit(node, twin)
    values.finish(first.outputs, second.outputs)
    return g


def _model(onnx, g, name, first, args, in_names, out_names, dynamic_axes, export_params,
           opset):
    from onnx import helper, numpy_helper

    def info(name, arr_dtype, shape, labels):
        dims = [labels.get(i, d) for i, d in enumerate(shape)]
        return helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(np.dtype(arr_dtype)), dims)

    axes = {n: _axis_labels(n, a) for n, a in (dynamic_axes or {}).items()}
    inputs = [info(n, a.dtype, a.shape, axes.get(n, {})) for n, a in zip(in_names, args)]
    if not export_params:
        inputs += [info(n, v.dtype, v.shape, {}) for n, v in g.param_inputs.items()]
    outputs = []
    for n, t in zip(out_names, first.outputs):
        labels = dict(axes.get(n, {}))
        for i, d in enumerate(g.value_dims.get(n, ())):
            if isinstance(d, Sym):
                labels.setdefault(i, d.name)
            elif d is None:
                labels.setdefault(i, f"{n}_dim_{i}")
        outputs.append(info(n, t.dtype, t.shape, labels))
    used = {i for node in g.nodes for i in node.input} | set(out_names)
    inits = [numpy_helper.from_array(np.array(v, order="C"), n)
             for n, v in g.initializers.items() if n in used]
    graph = helper.make_graph(g.nodes, name, inputs, outputs, inits)
    proto = helper.make_model(graph, producer_name="axonic",
                              opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = helper.find_min_ir_version_for(proto.opset_import)
    return proto


__all__ = ["OnnxExportError", "export"]
