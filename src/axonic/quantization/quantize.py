"""The eager-mode workflow, with PyTorch's names: ``prepare`` (attach observers) ->
run calibration data -> ``convert`` (swap in quantised modules); ``prepare_qat`` for
quantisation-aware training; ``propagate_qconfig_``.

>>> import axonic
>>> from axonic import nn
>>> from axonic.quantization import QuantWrapper, get_default_qconfig
>>> m = QuantWrapper(nn.Sequential(nn.Linear(4, 3), nn.ReLU())).eval()
>>> m.qconfig = get_default_qconfig("x86")
>>> p = prepare(m)
>>> _ = p(axonic.randn(16, 4))
>>> q = convert(p)
>>> type(q.module[0]).__name__, q(axonic.randn(2, 4)).shape
('Linear', (2, 3))
"""

from __future__ import annotations

import copy

from axonic.nn.activation import ReLU
from axonic.nn.containers import Sequential
from axonic.nn.conv import Conv2d
from axonic.nn.dropout import Dropout
from axonic.nn.flatten import Flatten
from axonic.nn.linear import Identity, Linear
from axonic.nn.module import Module
from axonic.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from axonic.quantization import modules as qm
from axonic.quantization import qat
from axonic.quantization.fuse import ConvReLU2d, LinearReLU
from axonic.quantization.stubs import DeQuantStub, QuantStub

# float (or QAT) module -> quantised module, for convert
STATIC_MAPPING = {
    QuantStub: qm.Quantize, DeQuantStub: qm.DeQuantize,
    Linear: qm.Linear, LinearReLU: qm.Linear, qat.Linear: qm.Linear, qat.LinearReLU: qm.Linear,
    Conv2d: qm.Conv2d, ConvReLU2d: qm.Conv2d, qat.Conv2d: qm.Conv2d,
    qat.ConvReLU2d: qm.Conv2d,
}
QAT_MAPPING = {Linear: qat.Linear, LinearReLU: qat.LinearReLU, Conv2d: qat.Conv2d,
               ConvReLU2d: qat.ConvReLU2d}
# modules that work on quantised values as they are (run on q - zero_point)
PASS_THROUGH = (ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Dropout, Identity)
_LEAVES = tuple(STATIC_MAPPING)


def propagate_qconfig_(module, qconfig_dict=None, qconfig_parent=None) -> None:
    """Give each submodule a ``qconfig``: its own, the one ``qconfig_dict`` names for its type
    or dotted name, or its parent's."""
    qconfig_dict = qconfig_dict or {}

    def visit(m, name, parent_qc):
        qc = qconfig_dict.get(type(m), qconfig_dict.get(name, getattr(m, "qconfig", parent_qc)))
        m.qconfig = qc
        for child_name, child in m.named_children():
            visit(child, f"{name}.{child_name}" if name else child_name, qc)

    visit(module, "", qconfig_parent)


def _observer_hook(module, inputs, output):
    return module.activation_post_process(output)


def _add_observers(module):
    for child in module.children():
        observed = isinstance(child, _LEAVES) and not isinstance(child, DeQuantStub)
        if observed and getattr(child, "qconfig", None) is not None:
            child.activation_post_process = child.qconfig.activation()
            child.register_forward_hook(_observer_hook)
        elif not isinstance(child, LinearReLU | ConvReLU2d):
            _add_observers(child)


def _check_qconfig(model, where):
    if not any(getattr(m, "qconfig", None) is not None for m in model.modules()):
        raise ValueError(f"{where}: the model has no qconfig; set model.qconfig = "
                         "get_default_qconfig('x86') (or pass qconfig_dict) first")


def prepare(model, inplace: bool = False, qconfig_dict=None):
    """Attach an output observer to each quantisable module (and QuantStub) that has a
    qconfig. Run representative data through the result, then ``convert`` it."""
    if not isinstance(model, Module):
        raise TypeError(f"prepare: expected an axonic.nn.Module, got {type(model).__name__}")
    if not inplace:
        model = copy.deepcopy(model)
    propagate_qconfig_(model, qconfig_dict)
    _check_qconfig(model, "prepare")
    _add_observers(model)
    return model


def _swap(module, mapping):
    for name, child in list(module.named_children()):
        new = mapping(child)
        if new is not None:
            setattr(module, name, new)
        else:
            _swap(child, mapping)


def prepare_qat(model, mapping=None, inplace: bool = False):
    """Swap Linear/Conv2d (and fused ones) for their fake-quantising QAT versions and
    attach fake quantisers to their outputs. Train the result, then ``convert`` it."""
    if not isinstance(model, Module):
        raise TypeError(f"prepare_qat: expected an axonic.nn.Module, got {type(model).__name__}")
    if not inplace:
        model = copy.deepcopy(model)
    propagate_qconfig_(model)
    _check_qconfig(model, "prepare_qat")
    mapping = mapping or QAT_MAPPING

    def to_qat(m):
        cls = mapping.get(type(m))
        return cls.from_float(m) if cls and getattr(m, "qconfig", None) is not None else None

    _swap(model, to_qat)
    return prepare(model, inplace=True)


def convert(module, mapping=None, inplace: bool = False):
    """Replace each observed module by its quantised version (scales and zero points from
    its observers); ReLU, pooling, Flatten and Dropout pass quantised values through."""
    if not isinstance(module, Module):
        raise TypeError(f"convert: expected an axonic.nn.Module, got {type(module).__name__}")
    if not inplace:
        module = copy.deepcopy(module)
    mapping = mapping or STATIC_MAPPING

    def to_quantized(m):
        cls = mapping.get(type(m))
        if cls is qm.DeQuantize:
            return qm.DeQuantize()
        if cls is not None and hasattr(m, "activation_post_process"):
            return cls.from_float(m)
        if isinstance(m, PASS_THROUGH) and getattr(m, "qconfig", None) is not None:
            return qm.PassThrough(m)
        return None

    _swap(module, to_quantized)
    return module.eval()


def quantize(model, run_fn, run_args=(), inplace: bool = False):
    """``prepare``, ``run_fn(prepared, *run_args)`` to calibrate, ``convert``."""
    model = prepare(model, inplace=inplace)
    run_fn(model, *run_args)
    return convert(model, inplace=True)


__all__ = ["prepare", "prepare_qat", "convert", "quantize", "propagate_qconfig_", "Sequential"]
