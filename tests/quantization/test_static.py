"""Post-training static quantisation: prepare -> calibrate -> convert, against
torch.ao.quantization on the same weights and inputs."""

import numpy as np
import pytest

import axonic
import axonic.quantization as aq
from axonic import nn
from tests.quantization._torch import (
    CNN_FUSE,
    cnn_pair,
    images,
    mlp_pair,
    static_pair,
    to_axonic,
    torch,
    tq,
)


def _out_scale(qmodel):
    return float(qmodel.module[len(qmodel.module) - 1].scale)


def test_static_cnn_matches_torch_within_one_output_step():
    t, a = cnn_pair()
    x = images(128)
    tqm, aqm = static_pair(t, a, x, fuse=CNN_FUSE)
    yt = tqm(torch.from_numpy(x)).numpy()
    ya = aqm(axonic.tensor(x)).numpy()
    step = _out_scale(tqm)
    assert np.isclose(step, float(aqm.module[9].scale._data))
    assert np.abs(yt - ya).max() <= step * 1.001
    assert (np.abs(yt - ya) > 1e-6).mean() < 0.05  # rounding differs at a few ties only
    assert (yt.argmax(1) == ya.argmax(1)).mean() >= 0.98


def test_static_mlp_matches_torch_within_one_output_step():
    t, a = mlp_pair()
    x = images(100).reshape(100, 64)
    tqm, aqm = static_pair(t, a, x, fuse=[["0", "1"]])
    yt, ya = tqm(torch.from_numpy(x)).numpy(), aqm(axonic.tensor(x)).numpy()
    assert np.abs(yt - ya).max() <= _out_scale(tqm) * 1.001


def test_each_quantised_layer_matches_torch_on_the_same_quantised_input():
    t, a = cnn_pair()
    x = images(32)
    tqm, aqm = static_pair(t, a, x, fuse=CNN_FUSE)
    qx_t = tqm.quant(torch.from_numpy(x))
    qx_a = aqm.quant(axonic.tensor(x))
    np.testing.assert_array_equal(qx_a.int_repr(), qx_t.int_repr().numpy())
    # the converted weights are the same integers with the same scales
    for i in (0, 4, 7, 9):
        tw, aw = tqm.module[i].weight(), aqm.module[i]
        np.testing.assert_array_equal(aw.weight.numpy(), tw.int_repr().numpy())
        np.testing.assert_allclose(aw.weight_scale.numpy(), tw.q_per_channel_scales().numpy(),
                                   rtol=1e-6)
    conv_t, conv_a = tqm.module[0](qx_t), aqm.module[0](qx_a)
    diff = np.abs(conv_a.int_repr().astype(int) - conv_t.int_repr().numpy().astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01


def test_per_tensor_qnnpack_config_matches_torch():
    t, a = mlp_pair(seed=1)
    x = images(80, seed=1).reshape(80, 64)
    tqm, aqm = static_pair(t, a, x, backend="qnnpack")
    yt = tqm(torch.from_numpy(x)).numpy()
    ya = aqm(axonic.tensor(x)).numpy()
    assert aqm.module[0].per_channel is False
    assert np.abs(yt - ya).max() <= _out_scale(tqm) * 1.001


def test_avg_pooling_runs_on_quantised_values():
    t, a = cnn_pair(pool="avg")
    x = images(64)
    tqm, aqm = static_pair(t, a, x, fuse=CNN_FUSE)
    yt, ya = tqm(torch.from_numpy(x)).numpy(), aqm(axonic.tensor(x)).numpy()
    assert np.abs(yt - ya).max() <= 2 * _out_scale(tqm) * 1.001


def test_fuse_modules_folds_batch_norm_like_torch():
    t, a = cnn_pair()
    tf = tq.fuse_modules(t, CNN_FUSE)
    af = aq.fuse_modules(a, CNN_FUSE)
    assert [type(m).__name__ for m in af][:3] == ["ConvReLU2d", "Identity", "Identity"]
    np.testing.assert_allclose(af[0][0].weight.detach().numpy(), tf[0][0].weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    x = images(16)
    np.testing.assert_allclose(af(axonic.tensor(x)).detach().numpy(),
                               t(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    assert type(a[1]).__name__ == "BatchNorm2d"  # not inplace: the original is unchanged


def test_static_quantisation_keeps_accuracy_of_a_trained_digit_classifier():
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(64, 48), torch.nn.ReLU(), torch.nn.Linear(48, 10))
    opt = torch.optim.Adam(t.parameters(), lr=1e-2)
    for _ in range(80):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(t(torch.from_numpy(x[:1400])),
                                          torch.from_numpy(y[:1400])).backward()
        opt.step()
    a = to_axonic(t, nn.Sequential(nn.Linear(64, 48), nn.ReLU(), nn.Linear(48, 10)).eval())
    _, aqm = static_pair(t.eval(), a, x[:300], fuse=[["0", "1"]])
    float_acc = (a(axonic.tensor(x[1400:])).detach().numpy().argmax(1) == y[1400:]).mean()
    q_acc = (aqm(axonic.tensor(x[1400:])).numpy().argmax(1) == y[1400:]).mean()
    assert float_acc > 0.9 and q_acc >= float_acc - 0.01


def test_quant_wrapper_and_stubs_pass_floats_before_convert():
    m = aq.QuantWrapper(nn.Sequential(nn.Linear(3, 2)))
    x = axonic.randn(4, 3)
    np.testing.assert_array_equal(m(x).detach().numpy(), m.module(x).detach().numpy())


def test_static_errors_name_the_problem():
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    with pytest.raises(ValueError, match=r"fuse_modules: folding 1 \(BatchNorm2d\) into 0 needs "
                                         r"the model in eval mode"):
        aq.fuse_modules(m, ["0", "1"])
    with pytest.raises(ValueError, match=r"fuse_modules: cannot fuse 0 \(Conv2d\) \+ 1 "
                                         r"\(Linear\); supported"):
        aq.fuse_modules(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Linear(2, 2)), ["0", "1"])
    with pytest.raises(ValueError, match=r"fuse_modules: the model has no submodule '7'"):
        aq.fuse_modules(m, ["0", "7"])
    with pytest.raises(ValueError, match=r"prepare: the model has no qconfig"):
        aq.prepare(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(TypeError, match=r"convert: expected an axonic.nn.Module, got int"):
        aq.convert(3)
    with pytest.raises(ValueError, match=r"get_default_qconfig: backend must be one of .*"
                                         r"got 'arm'"):
        aq.get_default_qconfig("arm")
    m = aq.QuantWrapper(nn.Sequential(nn.Linear(3, 2))).eval()
    m.qconfig = aq.get_default_qconfig()
    p = aq.prepare(m)
    p(axonic.randn(5, 3))
    q = aq.convert(p)
    with pytest.raises(ValueError, match=r"0 \(Linear\): expected a quantised input "
                                         r"\(QTensor\), got Tensor; put a QuantStub"):
        q.module(axonic.randn(2, 3))
    with pytest.raises(ValueError, match=r"expected input with last dimension 3, got shape"):
        q(axonic.randn(2, 4))
