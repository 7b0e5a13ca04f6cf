"""``QuantStub``/``DeQuantStub``: where a model's quantised region starts and ends.
Before ``convert`` they pass values through (``QuantStub`` carries the observer of the
input's range); ``convert`` turns them into ``Quantize``/``DeQuantize``.

>>> import axonic
>>> QuantStub()(axonic.ones(2)).tolist()
[1.0, 1.0]
"""

from __future__ import annotations

from axonic.nn.module import Module


class QuantStub(Module):
    """Float in, float out until converted; then quantises its input."""

    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig is not None:
            self.qconfig = qconfig

    def forward(self, x):
        return x


class DeQuantStub(Module):
    """Float in, float out until converted; then turns quantised values back to float."""

    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig is not None:
            self.qconfig = qconfig

    def forward(self, x):
        return x


class QuantWrapper(Module):
    """``DeQuantStub(module(QuantStub(x)))``: a float model made quantisable as a whole."""

    def __init__(self, module):
        super().__init__()
        if hasattr(module, "qconfig"):
            self.qconfig = module.qconfig
        self.quant = QuantStub()
        self.dequant = DeQuantStub()
        self.module = module

    def forward(self, x):
        return self.dequant(self.module(self.quant(x)))
