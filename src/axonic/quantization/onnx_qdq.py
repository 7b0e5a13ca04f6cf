"""Export a statically quantised model (``convert``'s result) to ONNX in QDQ form:
each quantised activation is a QuantizeLinear/DequantizeLinear pair, each int8 weight an
int8 initializer behind a (per channel) DequantizeLinear, and the float ops (Gemm, Conv,
Relu, pooling, Flatten) sit between them, so runtimes such as onnxruntime can fuse them
into integer kernels. Chains of modules only: Quantize, Linear, Conv2d, ReLU, max/avg
pooling, global average pooling, Flatten, Dropout/Identity, DeQuantize.

>>> import os, tempfile, axonic
>>> from axonic import nn
>>> from axonic.quantization import QuantWrapper, convert, get_default_qconfig, prepare
>>> m = QuantWrapper(nn.Sequential(nn.Linear(4, 3))).eval()
>>> m.qconfig = get_default_qconfig()
>>> p = prepare(m); _ = p(axonic.randn(8, 4)); q = convert(p)
>>> path = os.path.join(tempfile.mkdtemp(), "q.onnx")
>>> export_qdq(q, axonic.randn(2, 4), path)
>>> import onnx; onnx.checker.check_model(onnx.load(path), full_check=True)
"""

from __future__ import annotations

import numpy as np

from axonic.nn.dropout import Dropout
from axonic.nn.linear import Identity
from axonic.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from axonic.quantization import modules as qm
from axonic.quantization.qtypes import QTensor

_ONNX_DTYPE = {"uint8": "UINT8", "int8": "INT8"}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("export_qdq needs the 'onnx' package: pip install onnx") from None
    return onnx


def _trace(model, example):
    """The leaf modules in call order, checking that they form a chain."""
    leaves = (qm.Quantize, qm.DeQuantize, qm.Linear, qm.Conv2d, qm.PassThrough)
    calls, handles = [], []
    for name, m in model.named_modules():
        if isinstance(m, leaves) and not any(m is c.module for c in model.modules()
                                             if isinstance(c, qm.PassThrough)):
            handles.append(m.register_forward_hook(
                lambda mod, args, out, name=name: calls.append((name, mod, args[0], out))))
    try:
        output = model(example)
    finally:
        for h in handles:
            h.remove()
    for (pname, _, _, prev), (name, mod, inp, _) in zip(calls, calls[1:]):
        if inp is not prev:
            raise ValueError(f"export_qdq: {name} ({type(mod).__name__}) does not take the "
                             f"output of {pname}; only chains of modules are exported")
    if not calls or calls[-1][3] is not output:
        raise ValueError("export_qdq: the model's output is not the last quantised module's "
                         "(end the model with a DeQuantStub, or wrap it in QuantWrapper)")
    return calls


class _Graph:
    def __init__(self, onnx):
        self.onnx, self.h = onnx, onnx.helper
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, base, array):
        name = self.name(base)
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, base, **attrs):
        out = self.name(base)
        self.nodes.append(self.h.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def qdq(self, x, scale, zero_point, storage, base):
        s = self.const(base + "_scale", np.float32(scale))
        z = self.const(base + "_zero_point", np.asarray(zero_point, storage))
        q = self.node("QuantizeLinear", [x, s, z], base + "_q")
        return self.node("DequantizeLinear", [q, s, z], base + "_dq")

    def weight(self, mod, base):
        w = self.const(base + "_weight_int8", mod.weight._data)
        s = self.const(base + "_weight_scale", mod.weight_scale._data)
        z = self.const(base + "_weight_zero_point",
                       mod.weight_zero_point._data.astype(mod.weight._data.dtype))
        return self.node("DequantizeLinear", [w, s, z], base + "_weight", axis=0)


def _pool_attrs(mod):
    k, s, p = mod._args[:3]
    attrs = dict(kernel_shape=list(k), strides=list(s), pads=[p[0], p[1], p[0], p[1]],
                 ceil_mode=int(mod.ceil_mode))
    if isinstance(mod, MaxPool2d) and mod._args[3] != (1, 1):
        attrs["dilations"] = list(mod._args[3])
    if isinstance(mod, AvgPool2d):
        attrs["count_include_pad"] = int(mod.count_include_pad)
    return attrs


def _emit(g, name, mod, x, out):
    base = name.replace(".", "_") or "m"
    if isinstance(mod, qm.Quantize):
        return g.qdq(x, mod.scale._data, mod.zero_point._data, mod.dtype.storage, base)
    if isinstance(mod, qm.DeQuantize):
        return x
    if isinstance(mod, qm.PassThrough):
        return _emit_pass(g, base, mod.module, x, out)
    w = g.weight(mod, base)
    b = [] if mod.bias is None else [g.const(base + "_bias", mod.bias._data)]
    if isinstance(mod, qm.Linear):
        y = g.node("Gemm", [x, w, *b], base + "_gemm", transB=1)
    else:
        (pt, pb), (pl, pr) = mod._pads
        y = g.node("Conv", [x, w, *b], base + "_conv", strides=list(mod.stride),
                   pads=[pt, pl, pb, pr], dilations=list(mod.dilation), group=mod.groups)
    if mod.relu:
        y = g.node("Relu", [y], base + "_relu")
    return g.qdq(y, mod.scale._data, mod.zero_point._data, mod.dtype.storage, base + "_out")


def _emit_pass(g, base, m, x, out):
    from axonic.nn.activation import ReLU
    from axonic.nn.flatten import Flatten

    if isinstance(m, Dropout | Identity):
        return x
    if isinstance(m, ReLU):
        return g.node("Relu", [x], base + "_relu")
    if isinstance(m, Flatten):
        if m.start_dim != 1 or m.end_dim != -1:
            raise ValueError(f"export_qdq: {base}: Flatten(start_dim={m.start_dim}, end_dim="
                             f"{m.end_dim}) is not exported; only start_dim=1, end_dim=-1")
        return g.node("Flatten", [x], base + "_flatten", axis=1)
    if isinstance(m, MaxPool2d):
        return g.node("MaxPool", [x], base + "_maxpool", **_pool_attrs(m))
    if isinstance(m, AvgPool2d) and m.divisor_override is None:
        y = g.node("AveragePool", [x], base + "_avgpool", **_pool_attrs(m))
    elif isinstance(m, AdaptiveAvgPool2d) and m.output_size in (1, (1, 1)):
        y = g.node("GlobalAveragePool", [x], base + "_gap")
    else:
        raise ValueError(f"export_qdq: {base} ({type(m).__name__}) has no QDQ export")
    # averages are rounded back to the grid, as the quantised model does
    return g.qdq(y, out.q_scale(), out.q_zero_point(), out.dtype.storage, base + "_out")


def export_qdq(model, args, f, input_names=("input",), output_names=("output",),
               opset_version: int = 17, dynamic_batch: bool = True) -> None:
    """Write the converted (statically quantised) ``model`` to ``f`` as a QDQ ONNX graph,
    traced on the example input ``args``; the batch axis is dynamic unless
    ``dynamic_batch=False``."""
    onnx = _onnx()
    if opset_version < 13:
        raise ValueError(f"export_qdq: opset_version must be >= 13 (per-channel "
                         f"DequantizeLinear), got {opset_version}")
    example = args[0] if isinstance(args, tuple) else args
    calls = _trace(model, example)
    if isinstance(calls[-1][3], QTensor):
        raise ValueError("export_qdq: the model returns quantised values; end it with a "
                         "DeQuantStub (or wrap it in QuantWrapper) so it returns floats")
    g = _Graph(onnx)
    x = input_names[0]
    for name, mod, _, out in calls:
        x = _emit(g, name, mod, x, out)
    g.nodes.append(g.h.make_node("Identity", [x], [output_names[0]], name="output"))
    batch = "batch" if dynamic_batch else example.shape[0]
    out_shape = calls[-1][3].shape
    tf = onnx.TensorProto.FLOAT
    graph = g.h.make_graph(
        g.nodes, "axonic_qdq",
        [g.h.make_tensor_value_info(input_names[0], tf, [batch, *example.shape[1:]])],
        [g.h.make_tensor_value_info(output_names[0], tf, [batch, *out_shape[1:]])],
        g.inits)
    proto = g.h.make_model(graph, opset_imports=[g.h.make_opsetid("", opset_version)],
                           producer_name="axonic")
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, f)
