"""Quantisation-aware training: fake quantisation and its straight-through gradient
against PyTorch's, gradcheck of the pass-through region, and prepare_qat -> train ->
convert."""

import numpy as np
import pytest

import axonic
import axonic.quantization as aq
from axonic import nn, optim
from axonic.autograd import gradcheck
from tests.quantization._torch import mlp_pair, torch, tq


def _x(shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def test_fake_quantize_per_tensor_and_its_gradient_match_torch():
    x = _x(500, scale=3.0)
    xa, xt = axonic.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya = aq.fake_quantize_per_tensor_affine(xa, 0.02, 60, 0, 255)
    yt = torch.fake_quantize_per_tensor_affine(xt, 0.02, 60, 0, 255)
    np.testing.assert_array_equal(ya.detach().numpy(), yt.detach().numpy())
    g = _x(500, seed=1)
    ya.backward(axonic.tensor(g))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(xa.grad.numpy(), xt.grad.numpy())
    assert 0 < (xa.grad.numpy() == 0).mean() < 1  # some values were clamped, some not


def test_fake_quantize_per_channel_and_its_gradient_match_torch():
    x = _x((4, 6, 3), scale=2.0)
    scale = np.array([0.01, 0.02, 0.005, 0.03, 0.015, 0.008], np.float32)
    zp = np.array([0, 3, -2, 0, 1, 0], np.int32)
    xa, xt = axonic.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya = aq.fake_quantize_per_channel_affine(xa, scale, zp, 1, -128, 127)
    yt = torch.fake_quantize_per_channel_affine(xt, torch.from_numpy(scale),
                                                torch.from_numpy(zp), 1, -128, 127)
    np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), rtol=0, atol=1e-7)
    ya.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(xa.grad.numpy(), xt.grad.numpy())


def test_straight_through_estimator_passes_gradcheck_on_a_fine_grid():
    # with a step (2**-40) far below gradcheck's eps (1e-6) the rounding is invisible to
    # central differences: inside the range the true derivative is 1, outside 0 - exactly
    # the straight-through estimator's
    s, lo, hi = 2.0 ** -40, -(2 ** 31), 2 ** 31 - 1
    inside = np.linspace(-1.5e-3, 1.5e-3, 7)
    outside = np.array([-4e-3, 3e-3])
    x = axonic.tensor(np.concatenate([inside, outside]), dtype=axonic.float64,
                      requires_grad=True)
    assert gradcheck(lambda t: aq.fake_quantize_per_tensor_affine(t, s, 0, lo, hi), (x,))
    y = aq.fake_quantize_per_tensor_affine(x, s, 0, lo, hi)
    y.sum().backward()
    assert x.grad.tolist() == [1.0] * 7 + [0.0, 0.0]
    xc = axonic.tensor(np.linspace(-1e-3, 1e-3, 6).reshape(2, 3), dtype=axonic.float64,
                       requires_grad=True)
    assert gradcheck(lambda t: aq.fake_quantize_per_channel_affine(
        t, [s, s / 2, s * 2], [0, 5, -5], 1, lo, hi), (xc,))


def test_fake_quantize_module_tracks_torch_over_batches():
    ours = aq.default_fake_quant()
    theirs = tq.FakeQuantize(observer=tq.MovingAverageMinMaxObserver, quant_min=0,
                             quant_max=255, dtype=torch.quint8, reduce_range=True)
    for seed in range(4):
        x = _x((16, 10), seed=seed, scale=1 + seed)
        np.testing.assert_array_equal(ours(axonic.tensor(x)).numpy(),
                                      theirs(torch.from_numpy(x)).numpy())
    np.testing.assert_array_equal(ours.scale, theirs.scale.numpy())
    ours.disable_observer()
    frozen = ours.scale.copy()
    ours(axonic.tensor(_x((4, 10), scale=50.0)))
    np.testing.assert_array_equal(ours.scale, frozen)
    assert ours.disable_fake_quant()(axonic.tensor([0.123])).tolist() == [
        pytest.approx(0.123)]


def test_prepare_qat_forward_and_gradients_match_torch():
    t, a = mlp_pair()
    t.train(), a.train()
    tw, aw = tq.QuantWrapper(t), aq.QuantWrapper(a)
    # PyTorch's preset uses its fused observer+fake-quant op, whose zero point rule differs
    # (fbgemm's ChooseQuantizationParams); the plain FakeQuantize is the same algorithm
    tw.qconfig = tq.QConfig(activation=tq.default_fake_quant,
                            weight=tq.default_per_channel_weight_fake_quant)
    aw.qconfig = aq.get_default_qat_qconfig("x86")
    tq.fuse_modules_qat(tw.module, [["0", "1"]], inplace=True)
    aw.module = aq.fuse_modules(aw.module, [["0", "1"]])
    tp, ap = tq.prepare_qat(tw), aq.prepare_qat(aw)
    assert type(ap.module[0]).__name__ == "LinearReLU" and hasattr(ap.module[0],
                                                                   "weight_fake_quant")
    x = _x((32, 64))
    yt, ya = tp(torch.from_numpy(x)), ap(axonic.tensor(x))
    step = float(ap.module[2].activation_post_process.scale[0])
    assert np.isclose(step, tp.module[2].activation_post_process.scale.item())
    diff = np.abs(ya.detach().numpy() - yt.detach().numpy())
    assert diff.max() <= step * 1.001 and (diff > 1e-6).mean() < 0.05  # ties round apart
    g = _x(yt.shape, seed=3)  # a fixed upstream gradient: outputs that round apart don't matter
    yt.backward(torch.from_numpy(g))
    ya.backward(axonic.tensor(g))
    # a hidden unit whose pre-activation sits on a rounding edge for some sample can get
    # the other STE mask there; every other unit's weight gradient is the same
    rows_equal = np.isclose(ap.module[0].weight.grad.numpy(), tp.module[0].weight.grad.numpy(),
                            rtol=1e-4, atol=1e-5).all(axis=1)
    assert rows_equal.mean() >= 0.9
    np.testing.assert_allclose(ap.module[2].bias.grad.numpy(), tp.module[2].bias.grad.numpy(),
                               rtol=1e-5, atol=1e-6)


def _fit(model, x, y, steps, lr):
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn, losses = nn.CrossEntropyLoss(), []
    for _ in range(steps):
        loss = loss_fn(model(axonic.tensor(x)), axonic.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _accuracy(model, x, y):
    with axonic.no_grad():
        return (model(axonic.tensor(x)).numpy().argmax(1) == y).mean()


def test_qat_fine_tunes_and_converts_to_an_int8_model_that_agrees_with_it():
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = (d.data / 16.0).astype(np.float32), d.target
    model = aq.QuantWrapper(nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)))
    _fit(model, x[:1400], y[:1400], 30, 3e-2)  # QAT starts from a trained float model
    float_acc = _accuracy(model.eval(), x[1400:], y[1400:])
    model.qconfig = aq.get_default_qat_qconfig()
    model.module = aq.fuse_modules(model.module, [["0", "1"]])
    qat = aq.prepare_qat(model.train())
    losses = _fit(qat, x[:1400], y[:1400], 8, 2e-3)
    assert losses[-1] < losses[0]
    qat.eval()
    qat.apply(aq.disable_observer)
    int8 = aq.convert(qat)
    with axonic.no_grad():
        fq = qat(axonic.tensor(x[1400:])).numpy()
    q = int8(axonic.tensor(x[1400:])).numpy()
    assert (fq.argmax(1) == q.argmax(1)).mean() > 0.98
    assert (q.argmax(1) == y[1400:]).mean() >= float_acc - 0.01


def test_qat_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"prepare_qat: the model has no qconfig"):
        aq.prepare_qat(nn.Sequential(nn.Linear(2, 2)))
    m = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"))
    m.qconfig = aq.get_default_qat_qconfig()
    with pytest.raises(ValueError, match=r"prepare_qat: Conv2d supports padding_mode='zeros' "
                                         r"only, got 'reflect'"):
        aq.prepare_qat(m)
    with pytest.raises(ValueError, match=r"fake_quantize_per_tensor_affine: scale must be > 0"):
        aq.fake_quantize_per_tensor_affine(axonic.ones(2), 0.0, 0, 0, 255)
    with pytest.raises(ValueError, match=r"fake_quantize_per_channel_affine: 2 scales for axis"):
        aq.fake_quantize_per_channel_affine(axonic.ones(3, 3), [1, 1], [0, 0], 0, -128, 127)
