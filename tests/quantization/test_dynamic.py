"""Dynamic quantisation (int8 Linear and LSTM, float16 and bfloat16 weights) against
torch.ao.quantization.quantize_dynamic on the same weights and inputs."""

import numpy as np
import pytest

import axonic
import axonic.quantization as aq
from axonic import nn
from tests.quantization._torch import mlp_pair, to_axonic, torch, tq


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("name", ["per_channel_dynamic_qconfig", "default_dynamic_qconfig"])
def test_dynamic_linear_matches_torch(name):
    t, a = mlp_pair()
    x = _x((16, 64))
    tqd = tq.quantize_dynamic(t, {torch.nn.Linear: getattr(tq, name)})
    aqd = aq.quantize_dynamic(a, {nn.Linear: getattr(aq, name)})
    yt, ya = tqd(torch.from_numpy(x)).numpy(), aqd(axonic.tensor(x)).numpy()
    np.testing.assert_allclose(ya, yt, rtol=1e-5, atol=1e-6)
    w_t, _ = tqd[0]._packed_params._weight_bias()
    np.testing.assert_array_equal(aqd[0].weight.numpy(), w_t.int_repr().numpy())


def test_quantize_dynamic_qint8_default_is_per_output_channel():
    _, a = mlp_pair()
    q = aq.quantize_dynamic(a, {nn.Linear}, dtype=axonic.qint8)
    w = a[0].weight.detach().numpy()
    np.testing.assert_allclose(q[0].weight_scale.numpy(), np.abs(w).max(1) / 127.5, rtol=1e-6)
    assert type(q[1]).__name__ == "ReLU"  # only the named types are swapped


class _TorchLSTM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(6, 8, num_layers=2, bidirectional=True, batch_first=True)

    def forward(self, x):
        return self.lstm(x)


class _LSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 8, num_layers=2, bidirectional=True, batch_first=True)

    def forward(self, x):
        return self.lstm(x)


@pytest.mark.parametrize("name", ["default_dynamic_qconfig", "per_channel_dynamic_qconfig"])
def test_dynamic_lstm_matches_torch(name):
    torch.manual_seed(0)
    t = _TorchLSTM()
    a = to_axonic(t, _LSTM())
    x = _x((3, 5, 6))
    tqd = tq.quantize_dynamic(t, {torch.nn.LSTM: getattr(tq, name)})
    aqd = aq.quantize_dynamic(a, {nn.LSTM: getattr(aq, name)})
    (ot, (ht, ct)), (oa, (ha, ca)) = tqd(torch.from_numpy(x)), aqd(axonic.tensor(x))
    for ours, theirs in ((oa, ot), (ha, ht), (ca, ct)):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert type(aqd.lstm).__name__ == "DynamicLSTM"


def test_dynamic_lstm_takes_an_initial_state_and_unbatched_input():
    torch.manual_seed(1)
    t = torch.nn.LSTM(4, 5)
    a = to_axonic(t, nn.LSTM(4, 5))
    wrapped = aq.quantize_dynamic(nn.Sequential(a), {nn.LSTM})[0]
    h0, c0 = _x((1, 3, 5), 1), _x((1, 3, 5), 2)
    x = _x((7, 3, 4))
    out, (h, c) = wrapped(axonic.tensor(x), (axonic.tensor(h0), axonic.tensor(c0)))
    ref, _ = t(torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0)))
    assert np.abs(out.numpy() - ref.detach().numpy()).max() < 0.02  # int8 vs float
    assert wrapped(axonic.tensor(x[:, 0]))[0].shape == (7, 5)


def test_float16_weights_match_torch():
    t, a = mlp_pair()
    x = _x((8, 64))
    tqd = tq.quantize_dynamic(t, {torch.nn.Linear}, dtype=torch.float16)
    aqd = aq.quantize_dynamic(a, {nn.Linear}, dtype=axonic.float16)
    assert aqd[0].weight.dtype == np.float16
    np.testing.assert_allclose(aqd(axonic.tensor(x)).numpy(),
                               tqd(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_bfloat16_weights_round_as_torch():
    t, a = mlp_pair()
    aqd = aq.quantize_dynamic(a, {nn.Linear}, dtype=axonic.bfloat16)
    bits = t[0].weight.detach().to(torch.bfloat16).view(torch.int16).numpy()
    np.testing.assert_array_equal(aqd[0].weight.numpy(), bits)
    np.testing.assert_array_equal(aqd[0].weight_float(),
                                  t[0].weight.detach().to(torch.bfloat16).float().numpy())
    x = _x((8, 64))
    ref = t(torch.from_numpy(x)).detach().numpy()
    assert np.abs(aqd(axonic.tensor(x)).numpy() - ref).max() < 0.02


def test_dynamic_errors_name_the_problem():
    _, a = mlp_pair()
    with pytest.raises(ValueError, match=r"quantize_dynamic: dtype must be axonic.qint8, "
                                         r"axonic.float16 or axonic.bfloat16, got 'int4'"):
        aq.quantize_dynamic(a, dtype="int4")
    with pytest.raises(ValueError, match=r"got axonic.quint8 \(activations are uint8"):
        aq.quantize_dynamic(a, dtype=axonic.quint8)
    with pytest.raises(TypeError, match=r"quantize_dynamic: expected an axonic.nn.Module, "
                                        r"got list"):
        aq.quantize_dynamic([a])
    with pytest.raises(ValueError, match=r"quantize_dynamic: 0 \(LSTM\) supports dtype "
                                         r"axonic.qint8 only"):
        aq.quantize_dynamic(nn.Sequential(nn.LSTM(2, 2)), {nn.LSTM}, dtype=axonic.float16)
    q = aq.quantize_dynamic(a)
    with pytest.raises(ValueError, match=r"0 \(DynamicLinear\): expected input with last "
                                         r"dimension 64, got shape \(2, 3\)"):
        q(axonic.randn(2, 3))
