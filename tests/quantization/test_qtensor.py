"""quantize_per_tensor / quantize_per_channel round exactly as PyTorch's."""

import numpy as np
import pytest

import axonic
import axonic.quantization as aq
from tests.quantization._torch import torch


def test_quantize_per_tensor_matches_torch():
    x = np.random.default_rng(0).standard_normal(10000).astype(np.float32) * 3
    for scale, zp, ours, theirs in ((0.0123, 100, aq.quint8, torch.quint8),
                                    (0.05, 0, aq.qint8, torch.qint8),
                                    (1 / 3, -5, aq.qint8, torch.qint8)):
        q = aq.quantize_per_tensor(axonic.tensor(x), scale, zp, ours)
        t = torch.quantize_per_tensor(torch.from_numpy(x), scale, zp, theirs)
        np.testing.assert_array_equal(q.int_repr(), t.int_repr().numpy())
        np.testing.assert_array_equal(q.dequantize().numpy(), t.dequantize().numpy())


def test_quantize_per_channel_matches_torch_at_ties():
    # the largest weight of each row lands on -127.5 in float32: rounding must agree
    w = torch.randn(30, 20, generator=torch.Generator().manual_seed(0))
    obs = torch.ao.quantization.PerChannelMinMaxObserver(
        dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
    obs(w)
    scale, zp = obs.calculate_qparams()
    t = torch.quantize_per_channel(w, scale, zp, 0, torch.qint8)
    q = aq.quantize_per_channel(w.numpy(), scale.numpy(), zp.numpy(), 0, aq.qint8)
    np.testing.assert_array_equal(q.int_repr(), t.int_repr().numpy())
    assert q.q_per_channel_axis() == 0 and q.int_repr().dtype == np.int8


def test_qtensor_reports_its_parameters():
    q = axonic.quantize_per_tensor(axonic.tensor([[0.5, -0.5]]), 0.5, 3, axonic.quint8)
    assert (q.q_scale(), q.q_zero_point(), q.shape, q.dtype) == (0.5, 3, (1, 2), aq.quint8)
    assert q.flatten().shape == (2,) and "QTensor(shape=(1, 2)" in repr(q)


def test_quantize_errors_name_the_bad_value():
    with pytest.raises(ValueError, match=r"quantize_per_tensor: scale must be > 0, got 0"):
        aq.quantize_per_tensor(np.ones(2), 0, 0, aq.quint8)
    with pytest.raises(TypeError, match=r"quantize_per_tensor: dtype must be one of .*got "
                                        r"'float32'"):
        aq.quantize_per_tensor(np.ones(2), 1.0, 0, "float32")
    with pytest.raises(ValueError, match=r"quantize_per_channel: 3 scales for axis 0 of "
                                         r"size 2"):
        aq.quantize_per_channel(np.ones((2, 2)), [1, 1, 1], [0, 0, 0], 0, aq.qint8)
    with pytest.raises(ValueError, match=r"quantize_per_channel: scales must be > 0"):
        aq.quantize_per_channel(np.ones((2, 2)), [1, -1], [0, 0], 0, aq.qint8)
