"""Observers choose the same scales and zero points as PyTorch's on the same data."""

import numpy as np
import pytest

import axonic.quantization as aq
from tests.quantization._torch import torch, tq


def _batches():
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((32, 40)).astype(np.float32) * s for s in (1.0, 2.5, 0.5)]
    xs[1][0, 0] = 25.0  # an outlier: histogram and moving average must differ from minmax
    return xs


CASES = [
    ("MinMaxObserver", {}, {}),
    ("MinMaxObserver", {"dtype": aq.qint8, "qscheme": aq.per_tensor_symmetric},
     {"dtype": torch.qint8, "qscheme": torch.per_tensor_symmetric}),
    ("MinMaxObserver", {"quant_min": 0, "quant_max": 127}, {"quant_min": 0, "quant_max": 127}),
    ("MovingAverageMinMaxObserver", {"reduce_range": True}, {"reduce_range": True}),
    ("PerChannelMinMaxObserver", {"ch_axis": 1}, {"ch_axis": 1}),
    ("PerChannelMinMaxObserver", {"dtype": aq.qint8, "qscheme": aq.per_channel_symmetric},
     {"dtype": torch.qint8, "qscheme": torch.per_channel_symmetric}),
    ("MovingAveragePerChannelMinMaxObserver", {"averaging_constant": 0.1},
     {"averaging_constant": 0.1}),
    ("HistogramObserver", {"reduce_range": True}, {"reduce_range": True}),
    ("HistogramObserver", {"bins": 256, "dtype": aq.qint8, "qscheme": aq.per_tensor_symmetric},
     {"bins": 256, "dtype": torch.qint8, "qscheme": torch.per_tensor_symmetric}),
]


@pytest.mark.parametrize("name,ours_kw,theirs_kw", CASES)
def test_observer_qparams_match_torch(name, ours_kw, theirs_kw):
    ours, theirs = getattr(aq, name)(**ours_kw), getattr(tq, name)(**theirs_kw)
    for x in _batches():
        ours(x)
        theirs(torch.from_numpy(x))
    scale, zp = ours.calculate_qparams()
    t_scale, t_zp = theirs.calculate_qparams()
    np.testing.assert_array_equal(scale, t_scale.numpy().reshape(-1))
    np.testing.assert_array_equal(zp, t_zp.numpy().reshape(-1))


def test_dynamic_qparams_match_torch_choose_qparams():
    from axonic.quantization.observer import choose_qparams_dynamic

    for x in _batches() + [np.abs(_batches()[0]), -np.abs(_batches()[0])]:
        for reduce_range in (False, True):
            scale, zp = choose_qparams_dynamic(x, 0, 127 if reduce_range else 255)
            t_scale, t_zp = torch._choose_qparams_per_tensor(torch.from_numpy(x), reduce_range)
            assert (float(scale), zp) == (np.float32(t_scale), t_zp)


def test_unobserved_observer_gives_unit_scale():
    scale, zp = aq.MinMaxObserver().calculate_qparams()
    assert scale.tolist() == [1.0] and zp.tolist() == [0]


def test_observer_errors_name_the_bad_value():
    with pytest.raises(TypeError, match=r"MinMaxObserver: dtype must be one of .*got 'int9'"):
        aq.MinMaxObserver(dtype="int9")
    with pytest.raises(ValueError, match=r"qscheme must be one of .*got 'per_row'"):
        aq.MinMaxObserver(qscheme="per_row")
    with pytest.raises(ValueError, match=r"MinMaxObserver: qscheme must be a per_tensor_\* "
                                         r"scheme, got 'per_channel_affine'"):
        aq.MinMaxObserver(qscheme=aq.per_channel_affine)
    with pytest.raises(ValueError, match=r"quant_min \(1\) must be <= 0 <= quant_max \(5\)"):
        aq.MinMaxObserver(quant_min=1, quant_max=5)
    with pytest.raises(ValueError, match=r"quant_max - quant_min \(300\) does not fit in 8 bits"):
        aq.MinMaxObserver(quant_min=0, quant_max=300)
    with pytest.raises(ValueError, match=r"HistogramObserver: bins must be a positive "
                                         r"integer, got 0"):
        aq.HistogramObserver(bins=0)
    with pytest.raises(RuntimeError, match="PlaceholderObserver has no quantisation"):
        aq.PlaceholderObserver().calculate_qparams()
