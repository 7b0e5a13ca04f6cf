"""Quantisation with ``torch.ao.quantization``'s names: dynamic (``quantize_dynamic``),
static post-training (``prepare`` -> calibrate -> ``convert``), quantisation-aware
training (``prepare_qat``, ``FakeQuantize``), float16/bfloat16 weights, and export of the
result to ONNX in QDQ form (``export_qdq``).

>>> import axonic
>>> from axonic import nn
>>> from axonic.quantization import quantize_dynamic
>>> q = quantize_dynamic(nn.Sequential(nn.Linear(8, 4)), {nn.Linear}, dtype=axonic.qint8)
>>> q(axonic.randn(3, 8)).shape
(3, 4)
"""

from axonic.quantization.dynamic import DynamicLinear, DynamicLSTM, quantize_dynamic
from axonic.quantization.fake_quantize import (
    FakeQuantize,
    default_fake_quant,
    default_per_channel_weight_fake_quant,
    default_weight_fake_quant,
    disable_observer,
    enable_observer,
    fake_quantize_per_channel_affine,
    fake_quantize_per_tensor_affine,
)
from axonic.quantization.fuse import ConvReLU2d, LinearReLU, fuse_modules
from axonic.quantization.histogram import HistogramObserver
from axonic.quantization.observer import (
    MinMaxObserver,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    PerChannelMinMaxObserver,
    PlaceholderObserver,
    default_dynamic_quant_observer,
    default_observer,
    default_per_channel_weight_observer,
    default_weight_observer,
)
from axonic.quantization.qconfig import (
    QConfig,
    bfloat16_dynamic_qconfig,
    default_dynamic_qconfig,
    default_qat_qconfig,
    default_qconfig,
    float16_dynamic_qconfig,
    get_default_qat_qconfig,
    get_default_qconfig,
    per_channel_dynamic_qconfig,
)
from axonic.quantization.qtypes import (
    QTensor,
    per_channel_affine,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qint8,
    qint32,
    quantize_per_channel,
    quantize_per_tensor,
    quint8,
)
from axonic.quantization.quantize import (
    convert,
    prepare,
    prepare_qat,
    propagate_qconfig_,
    quantize,
)
from axonic.quantization.stubs import DeQuantStub, QuantStub, QuantWrapper


def __getattr__(name):
    if name == "bfloat16":  # NumPy's bfloat16 comes from ml_dtypes, imported on first use
        from axonic.quantization.qtypes import bfloat16

        return bfloat16()
    if name == "export_qdq":
        from axonic.quantization.onnx_qdq import export_qdq

        return export_qdq
    raise AttributeError(f"module 'axonic.quantization' has no attribute {name!r}")
