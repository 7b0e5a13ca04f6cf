"""``QConfig``: which observer (or fake quantiser) watches activations and which weights,
and the presets PyTorch names: ``get_default_qconfig``, ``get_default_qat_qconfig``,
``default_dynamic_qconfig``, ``per_channel_dynamic_qconfig``, ``float16_dynamic_qconfig``.

>>> qc = get_default_qconfig("x86")
>>> type(qc.activation()).__name__, type(qc.weight()).__name__
('HistogramObserver', 'PerChannelMinMaxObserver')
"""

from __future__ import annotations

from typing import NamedTuple

from axonic.quantization.fake_quantize import (
    FakeQuantize,
    default_fake_quant,
    default_per_channel_weight_fake_quant,
    default_weight_fake_quant,
)
from axonic.quantization.histogram import HistogramObserver
from axonic.quantization.observer import (
    MinMaxObserver,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    PlaceholderObserver,
    default_dynamic_quant_observer,
    default_observer,
    default_per_channel_weight_observer,
    default_weight_observer,
)
from axonic.quantization.qtypes import qint8, quint8

BACKENDS = ("x86", "fbgemm", "qnnpack", "onednn")


class QConfig(NamedTuple):
    """Factories (classes or ``with_args`` partials) of the activation and weight observers."""

    activation: object
    weight: object


def _check_backend(backend, where):
    if backend not in BACKENDS:
        raise ValueError(f"{where}: backend must be one of {list(BACKENDS)}, got {backend!r}")


def get_default_qconfig(backend: str = "x86") -> QConfig:
    """Post-training static quantisation: histogram-calibrated activations (7-bit on
    ``"x86"``/``"fbgemm"``, 8-bit on ``"onednn"``/``"qnnpack"``) and symmetric int8 weights
    (per channel; per tensor for ``"qnnpack"``), as PyTorch's presets."""
    _check_backend(backend, "get_default_qconfig")
    if backend == "qnnpack":
        return QConfig(activation=HistogramObserver.with_args(reduce_range=False),
                       weight=default_weight_observer)
    if backend == "onednn":
        return QConfig(activation=HistogramObserver.with_args(reduce_range=False),
                       weight=default_per_channel_weight_observer)
    return QConfig(activation=HistogramObserver.with_args(reduce_range=True),
                   weight=default_per_channel_weight_observer)


def get_default_qat_qconfig(backend: str = "x86") -> QConfig:
    """Quantisation-aware training: moving-average fake quantisers (per channel weights
    on x86)."""
    _check_backend(backend, "get_default_qat_qconfig")
    if backend == "qnnpack":
        return QConfig(activation=FakeQuantize.with_args(
            observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
            reduce_range=False), weight=default_weight_fake_quant)
    return QConfig(activation=default_fake_quant, weight=default_per_channel_weight_fake_quant)


default_qconfig = QConfig(activation=default_observer, weight=default_weight_observer)
default_qat_qconfig = QConfig(activation=default_fake_quant, weight=default_weight_fake_quant)
default_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                  weight=default_weight_observer)
per_channel_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                      weight=default_per_channel_weight_observer)
float16_dynamic_qconfig = QConfig(
    activation=PlaceholderObserver.with_args(dtype="float16", is_dynamic=True),
    weight=PlaceholderObserver.with_args(dtype="float16"))
bfloat16_dynamic_qconfig = QConfig(
    activation=PlaceholderObserver.with_args(dtype="bfloat16", is_dynamic=True),
    weight=PlaceholderObserver.with_args(dtype="bfloat16"))

__all__ = ["QConfig", "get_default_qconfig", "get_default_qat_qconfig", "default_qconfig",
           "default_qat_qconfig", "default_dynamic_qconfig", "per_channel_dynamic_qconfig",
           "float16_dynamic_qconfig", "bfloat16_dynamic_qconfig", "MinMaxObserver",
           "MovingAveragePerChannelMinMaxObserver", "qint8", "quint8"]
