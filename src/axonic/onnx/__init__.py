"""ONNX in axonic: ``load`` turns an ONNX model into a trainable ``nn.Module``.

>>> from axonic.onnx import load  # doctest: +SKIP
"""

from axonic.onnx.load_model import load

__all__ = ["load"]
