"""ONNX in and out: ``export(model, args, f, ...)`` writes a model as an ONNX file (as
``torch.onnx.export``); ``load(path)`` reads one back as a Module.

The ``onnx`` package (and ``onnxruntime`` to run the files) come with the extra:
``pip install 'axonic[onnx]'``; they are imported only when a function here is called.

>>> import axonic
>>> callable(axonic.onnx.export)
True
"""

from __future__ import annotations

import importlib

from axonic.onnx.export import export
from axonic.onnx.export_graph import OnnxExportError

_LAZY = {"load": "axonic.onnx.load_model"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'axonic.onnx' has no attribute '{name}'")


__all__ = ["OnnxExportError", "export", "load"]
