"""The remaining user-facing errors of axonic.quantization, each with its message."""

import numpy as np
import pytest

import axonic
import axonic.quantization as aq
from axonic import nn
from axonic.quantization import modules as qm


def _converted(model, x):
    m = aq.QuantWrapper(model.eval())
    m.qconfig = aq.get_default_qconfig()
    p = aq.prepare(m)
    p(axonic.tensor(np.asarray(x, np.float32)))
    return aq.convert(p)


def test_from_float_without_observer_says_to_prepare_first():
    lin = nn.Linear(2, 2)
    lin.qconfig = aq.get_default_qconfig()
    with pytest.raises(ValueError, match=r"convert: Linear has no output observer; run "
                                         r"prepare\(\) and calibrate before convert\(\)"):
        qm.Linear.from_float(lin)


def test_convert_refuses_a_non_zero_padded_conv():
    m = aq.QuantWrapper(nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")))
    m.qconfig = aq.get_default_qconfig()
    p = aq.prepare(m)
    p(axonic.randn(2, 1, 5, 5))
    with pytest.raises(ValueError, match=r"convert: quantised Conv2d supports "
                                         r"padding_mode='zeros' only, got 'circular'"):
        aq.convert(p)


def test_quantised_conv_names_the_expected_input():
    q = _converted(nn.Sequential(nn.Conv2d(3, 2, 3)), np.random.rand(4, 3, 6, 6))
    with pytest.raises(ValueError, match=r"expected input \(N, 3, H, W\), got shape "
                                         r"\(2, 1, 6, 6\)"):
        q(axonic.randn(2, 1, 6, 6))


def test_dynamic_lstm_names_the_expected_input():
    q = aq.quantize_dynamic(nn.Sequential(nn.LSTM(4, 3)), {nn.LSTM})
    with pytest.raises(ValueError, match=r"expected input \(L, N, 4\) .*got shape \(5, 2, 7\)"):
        q(axonic.randn(5, 2, 7))


def test_qdq_export_refuses_what_it_cannot_express(tmp_path):
    x = np.random.rand(4, 2, 4, 4).astype(np.float32)
    q = _converted(nn.Sequential(nn.Conv2d(2, 2, 1), nn.Flatten(0)), x)
    with pytest.raises(ValueError, match=r"export_qdq: module_1: Flatten\(start_dim=0, "
                                         r"end_dim=-1\) is not exported"):
        aq.export_qdq(q, axonic.tensor(x), tmp_path / "f.onnx")
    q = _converted(nn.Sequential(nn.Conv2d(2, 2, 1), nn.AdaptiveAvgPool2d(2)), x)
    with pytest.raises(ValueError, match=r"export_qdq: module_1 \(AdaptiveAvgPool2d\) has no "
                                         r"QDQ export"):
        aq.export_qdq(q, axonic.tensor(x), tmp_path / "a.onnx")

    class Skip(nn.Module):  # a residual connection is not a chain
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = aq.QuantStub(), aq.DeQuantStub()
            self.a, self.b = nn.Linear(3, 3), nn.Linear(3, 3)

        def forward(self, x):
            q = self.quant(x)
            self.a(q)
            return self.dequant(self.b(q))

    m = Skip().eval()
    m.qconfig = aq.get_default_qconfig()
    p = aq.prepare(m)
    p(axonic.randn(8, 3))
    with pytest.raises(ValueError, match=r"export_qdq: b \(Linear\) does not take the output "
                                         r"of a; only chains of modules are exported"):
        aq.export_qdq(aq.convert(p), axonic.randn(2, 3), tmp_path / "s.onnx")


def test_missing_ml_dtypes_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "ml_dtypes", None)
    with pytest.raises(ImportError, match=r"bfloat16 weights need the 'ml_dtypes' package: "
                                          r"pip install 'axonic\[quant\]'"):
        aq.quantize_dynamic(nn.Sequential(nn.Linear(2, 2)), dtype="bfloat16")


def test_missing_onnx_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    q = _converted(nn.Sequential(nn.Linear(2, 2)), np.random.rand(4, 2))
    with pytest.raises(ImportError, match=r"export_qdq needs the 'onnx' package: pip install "
                                          r"onnx"):
        aq.export_qdq(q, axonic.randn(1, 2), tmp_path / "m.onnx")
