"""Quantised models save and load as int8 weights plus scales and zero points: files
about 4x smaller than float32, identical outputs after loading."""

import os

import numpy as np

import axonic
import axonic.quantization as aq
from axonic import nn


def _mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10)).eval()


def _static(model, calib=None):
    m = aq.QuantWrapper(model)
    m.qconfig = aq.get_default_qconfig()
    m.module = aq.fuse_modules(m.module, [["0", "1"], ["2", "3"]])
    p = aq.prepare(m)
    if calib is not None:
        p(axonic.tensor(calib))
    return aq.convert(p)


def test_static_int8_model_saves_4x_smaller_and_loads_to_the_same_outputs(tmp_path):
    x = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    model = _mlp()
    q = _static(model, x)
    f32, i8 = tmp_path / "f32.safetensors", tmp_path / "int8.safetensors"
    axonic.save(model.state_dict(), f32)
    axonic.save(q.state_dict(), i8)
    ratio = os.path.getsize(f32) / os.path.getsize(i8)
    assert 3.8 < ratio < 4.0
    assert q.state_dict()["module.0.weight"].dtype == np.int8
    fresh = _static(_mlp())  # the same structure, never calibrated, other weights
    fresh.load_state_dict(axonic.load(i8))
    np.testing.assert_array_equal(fresh(axonic.tensor(x)).numpy(), q(axonic.tensor(x)).numpy())


def test_dynamic_int8_and_half_models_save_and_load(tmp_path):
    x = np.random.default_rng(1).random((8, 784), dtype=np.float32)
    model = _mlp()
    sizes = {}
    for dtype in (axonic.qint8, axonic.float16, axonic.bfloat16):
        q = aq.quantize_dynamic(model, {nn.Linear}, dtype=dtype)
        path = tmp_path / f"{dtype}.safetensors"
        axonic.save(q.state_dict(), path)
        sizes[str(dtype)] = os.path.getsize(path)
        fresh = aq.quantize_dynamic(_mlp(), {nn.Linear}, dtype=dtype)
        fresh.load_state_dict(axonic.load(path))
        np.testing.assert_array_equal(fresh(axonic.tensor(x)).numpy(), q(axonic.tensor(x)).numpy())
    axonic.save(model.state_dict(), tmp_path / "f32.safetensors")
    f32 = os.path.getsize(tmp_path / "f32.safetensors")
    assert 3.8 < f32 / sizes["axonic.qint8"] < 4.0
    assert 1.9 < f32 / sizes["float16"] < 2.0 and 1.9 < f32 / sizes["bfloat16"] < 2.0


def test_dynamic_lstm_saves_and_loads(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(5, 7, num_layers=2)

        def forward(self, x):
            return self.lstm(x)[0]

    q = aq.quantize_dynamic(Net(), {nn.LSTM})
    axonic.save(q.state_dict(), tmp_path / "lstm.safetensors")
    fresh = aq.quantize_dynamic(Net(), {nn.LSTM})
    x = axonic.randn(4, 2, 5)
    before = fresh(x).numpy()
    fresh.load_state_dict(axonic.load(tmp_path / "lstm.safetensors"))
    after = fresh(x).numpy()
    np.testing.assert_array_equal(after, q(x).numpy())
    assert not np.array_equal(before, after)
