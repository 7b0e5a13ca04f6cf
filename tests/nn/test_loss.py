import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck
from tests.conftest import requires_torch, torch

RNG = np.random.default_rng(0)


def _f32(*shape, low=-3, high=3):
    return RNG.uniform(low, high, shape).astype(np.float32)


def _pair(ours_cls, theirs_cls, kwargs, torch_kwargs=None):
    torch_kwargs = kwargs if torch_kwargs is None else torch_kwargs
    return ours_cls(**kwargs), theirs_cls(**torch_kwargs)


def _check(ours, theirs, x, t, rtol=1e-5, atol=1e-6, target_grad=False):
    """Loss value, input gradient (and target gradient) against torch."""
    a = axonic.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    ta = axonic.tensor(t, requires_grad=target_grad)
    tb = torch.tensor(t, requires_grad=target_grad)
    la, lb = ours(a, ta), theirs(b, tb)
    np.testing.assert_allclose(la.detach().numpy(), lb.detach().numpy(), rtol=rtol, atol=atol)
    assert la.dtype == np.float32
    g = np.asarray(np.random.default_rng(1).standard_normal(lb.shape), np.float32)
    la.backward(axonic.tensor(g))
    lb.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)
    if target_grad:
        np.testing.assert_allclose(ta.grad.numpy(), tb.grad.numpy(), rtol=rtol, atol=atol)
    return la, a.grad


REDUCTIONS = ["mean", "sum", "none"]


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", [
    ("MSELoss", {}), ("L1Loss", {}), ("HuberLoss", {}), ("HuberLoss", {"delta": 0.5}),
    ("SmoothL1Loss", {}), ("SmoothL1Loss", {"beta": 0.3}),
])
def test_regression_loss_matches_torch(name, kwargs, reduction):
    x, t = _f32(4, 5), _f32(4, 5)
    ours, theirs = _pair(getattr(nn, name), getattr(torch.nn, name),
                         dict(kwargs, reduction=reduction))
    _check(ours, theirs, x, t, target_grad=True)
    assert repr(ours) == repr(theirs)


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [
    {}, {"label_smoothing": 0.2}, {"weight": True}, {"weight": True, "label_smoothing": 0.3},
    {"ignore_index": 2}, {"ignore_index": 1, "weight": True, "label_smoothing": 0.1},
])
def test_cross_entropy_with_class_indices_matches_torch(opts, reduction):
    x = _f32(6, 5)
    t = np.array([0, 4, 1, 2, 2, 3])
    opts = dict(opts, reduction=reduction)
    w = RNG.uniform(0.2, 2, 5).astype(np.float32)
    ours_kw = dict(opts, weight=axonic.tensor(w)) if "weight" in opts else opts
    theirs_kw = dict(opts, weight=torch.tensor(w)) if "weight" in opts else opts
    _check(nn.CrossEntropyLoss(**ours_kw), torch.nn.CrossEntropyLoss(**theirs_kw), x, t)


@requires_torch
@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.25}, {"weight": True},
                                  {"reduction": "none"}, {"reduction": "sum", "weight": True}])
def test_cross_entropy_with_probabilities_matches_torch(opts):
    x = _f32(4, 3)
    p = RNG.uniform(0, 1, (4, 3)).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    w = RNG.uniform(0.2, 2, 3).astype(np.float32)
    ours_kw = dict(opts, weight=axonic.tensor(w)) if "weight" in opts else opts
    theirs_kw = dict(opts, weight=torch.tensor(w)) if "weight" in opts else opts
    _check(nn.CrossEntropyLoss(**ours_kw), torch.nn.CrossEntropyLoss(**theirs_kw), x, p)


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_unbatched_match_torch(reduction):
    x = _f32(2, 4, 3, 5)  # (N, C, H, W)
    t = RNG.integers(0, 4, (2, 3, 5))
    _check(nn.CrossEntropyLoss(reduction=reduction),
           torch.nn.CrossEntropyLoss(reduction=reduction), x, t)
    p = RNG.uniform(0, 1, (2, 4, 3, 5)).astype(np.float32)
    _check(nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1),
           torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1), x, p)
    _check(nn.CrossEntropyLoss(reduction=reduction),
           torch.nn.CrossEntropyLoss(reduction=reduction), _f32(5), np.array(3))


@requires_torch
def test_cross_entropy_is_stable_for_huge_logits():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]], np.float32)
    t = np.array([1, 2, 0])
    loss, grad = _check(nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), x, t)
    assert np.isfinite(loss.item()) and np.isfinite(grad.numpy()).all()
    assert loss.item() == pytest.approx((2e4 + 0 + np.log(2)) / 3, rel=1e-6)


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(reduction):
    x = np.log(RNG.dirichlet(np.ones(5), 6)).astype(np.float32)
    t = np.array([0, 4, 1, 2, 2, 3])
    _check(nn.NLLLoss(reduction=reduction), torch.nn.NLLLoss(reduction=reduction), x, t)
    w = RNG.uniform(0.2, 2, 5).astype(np.float32)
    _check(nn.NLLLoss(axonic.tensor(w), ignore_index=2, reduction=reduction),
           torch.nn.NLLLoss(torch.tensor(w), ignore_index=2, reduction=reduction), x, t)


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_torch(reduction):
    p = RNG.uniform(0.02, 0.98, (4, 3)).astype(np.float32)
    t = RNG.uniform(0, 1, (4, 3)).astype(np.float32)
    _check(nn.BCELoss(reduction=reduction), torch.nn.BCELoss(reduction=reduction), p, t,
           target_grad=True)
    w = RNG.uniform(0.5, 2, (3,)).astype(np.float32)
    _check(nn.BCELoss(axonic.tensor(w), reduction=reduction),
           torch.nn.BCELoss(torch.tensor(w), reduction=reduction), p, t)


@requires_torch
def test_bce_clamps_log_at_minus_100_like_torch():
    p = np.array([0.0, 1.0, 0.5], np.float32)
    t = np.array([1.0, 0.0, 1.0], np.float32)
    loss, _ = _check(nn.BCELoss(reduction="none"), torch.nn.BCELoss(reduction="none"), p, t)
    assert loss.detach().numpy()[0] == 100


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", ["plain", "pos_weight", "weight", "both"])
def test_bce_with_logits_matches_torch(opts, reduction):
    x, t = _f32(4, 3, low=-5, high=5), RNG.uniform(0, 1, (4, 3)).astype(np.float32)
    pw = RNG.uniform(0.5, 3, 3).astype(np.float32)
    w = RNG.uniform(0.5, 2, (4, 1)).astype(np.float32)
    ours_kw, theirs_kw = {"reduction": reduction}, {"reduction": reduction}
    if opts in ("pos_weight", "both"):
        ours_kw["pos_weight"], theirs_kw["pos_weight"] = axonic.tensor(pw), torch.tensor(pw)
    if opts in ("weight", "both"):
        ours_kw["weight"], theirs_kw["weight"] = axonic.tensor(w), torch.tensor(w)
    _check(nn.BCEWithLogitsLoss(**ours_kw), torch.nn.BCEWithLogitsLoss(**theirs_kw), x, t,
           target_grad=True)


@requires_torch
def test_bce_with_logits_is_stable_at_100():
    x = np.array([100.0, -100.0, 100.0, -100.0, 0.0], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5], np.float32)
    loss, grad = _check(nn.BCEWithLogitsLoss(reduction="none"),
                        torch.nn.BCEWithLogitsLoss(reduction="none"), x, t)
    assert np.isfinite(loss.detach().numpy()).all() and np.isfinite(grad.numpy()).all()
    np.testing.assert_allclose(loss.detach().numpy(), [0, 0, 100, 100, np.log(2)], atol=1e-6)
    pw = np.array(3.0, np.float32)
    _check(nn.BCEWithLogitsLoss(pos_weight=axonic.tensor(pw)),
           torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw)), x, t)


def _f64(*shape, low=-2, high=2):
    return axonic.tensor(RNG.uniform(low, high, shape), requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda x, t: F.mse_loss(x, t), lambda x, t: F.l1_loss(x, t, reduction="sum"),
    lambda x, t: F.huber_loss(x, t, delta=0.7), lambda x, t: F.smooth_l1_loss(x, t, beta=0.4),
    lambda x, t: F.binary_cross_entropy_with_logits(x, t.sigmoid(), pos_weight=axonic.tensor(
        [2.0, 0.5, 1.0], dtype=axonic.float64)),
    lambda x, t: F.binary_cross_entropy(x.sigmoid(), t.sigmoid(), reduction="none"),
])
def test_elementwise_losses_gradcheck_float64(fn):
    x, t = _f64(4, 3), _f64(4, 3)
    t._data[np.abs(t._data - x._data) < 0.05] += 0.2  # away from the kinks of |d|
    assert gradcheck(fn, (x, t))


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.2, "ignore_index": 1},
                                    {"reduction": "none"}])
def test_cross_entropy_and_nll_gradcheck_float64(kwargs):
    x = _f64(5, 4)
    t = axonic.tensor([0, 3, 1, 1, 2])
    w = axonic.tensor([0.5, 1.0, 2.0, 1.5], dtype=axonic.float64)
    assert gradcheck(lambda x: F.cross_entropy(x, t, weight=w, **kwargs), (x,))
    p = axonic.tensor(RNG.dirichlet(np.ones(4), 5))
    assert gradcheck(lambda x: F.cross_entropy(x, p, **kwargs), (x,))
    assert gradcheck(lambda x: F.nll_loss(x, t, weight=w, reduction="sum"), (x,))


def test_cross_entropy_names_an_out_of_range_target():
    with pytest.raises(ValueError, match=r"cross_entropy: target 12 is out of range for 10 "
                                         r"classes \(expected class indices in \[0, 9\] or "
                                         r"ignore_index=-100\)"):
        F.cross_entropy(axonic.zeros(3, 10), axonic.tensor([1, 12, 0]))
    with pytest.raises(ValueError, match=r"target -1 is out of range for 10 classes"):
        F.cross_entropy(axonic.zeros(3, 10), axonic.tensor([1, -1, 0]))
    with pytest.raises(nn.LayerInputError, match=r"^CrossEntropyLoss: target 5 is out of range"):
        nn.CrossEntropyLoss()(axonic.zeros(1, 5), axonic.tensor([5]))


def test_loss_argument_and_shape_errors():
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: reduction must be 'mean', 'sum' or "
                                         r"'none', got 'avg'"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: label_smoothing must be in \[0, 1\], "
                                         r"got 1.5"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"NLLLoss: ignore_index must be an int, got 'x'"):
        nn.NLLLoss(ignore_index="x")
    with pytest.raises(ValueError, match=r"HuberLoss: delta must be a positive number, got 0"):
        nn.HuberLoss(delta=0)
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(4,\) does not fit "
                                         r"input of shape \(3, 5\)"):
        F.cross_entropy(axonic.zeros(3, 5), axonic.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(5,\)"):
        F.cross_entropy(axonic.zeros(3, 5), axonic.tensor([0, 1, 2]), weight=axonic.ones(4))
    with pytest.raises(ValueError, match=r"^MSELoss: input of shape \(3, 2\) and target of shape "
                                         r"\(3, 4\) cannot be broadcast together"):
        nn.MSELoss()(axonic.zeros(3, 2), axonic.zeros(3, 4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities in "
                                         r"\[0, 1\], got values in \[-1, 2\]"):
        F.binary_cross_entropy(axonic.tensor([-1.0, 2.0]), axonic.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: target of shape \(2,\) must have "
                                         r"the input's shape \(3,\)"):
        nn.BCEWithLogitsLoss()(axonic.zeros(3), axonic.zeros(2))
    with pytest.raises(TypeError, match=r"nll_loss: target must hold class indices \(int\), got "
                                        r"dtype float32"):
        F.nll_loss(axonic.zeros(2, 3), axonic.zeros(2))


def test_loss_error_inside_a_model_names_its_path():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(3, 4)
            self.criterion = nn.CrossEntropyLoss()

        def forward(self, x, y):
            return self.criterion(self.head(x), y)

    with pytest.raises(nn.LayerInputError, match=r"^criterion \(CrossEntropyLoss\): target 7 is "
                                                 r"out of range for 4 classes"):
        Net()(axonic.ones(2, 3), axonic.tensor([1, 7]))


@requires_torch
def test_loss_buffers_are_in_state_dict_like_torch():
    w = np.array([1.0, 2.0], np.float32)
    ours = nn.BCEWithLogitsLoss(weight=axonic.tensor(w), pos_weight=axonic.tensor(w))
    theirs = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(nn.CrossEntropyLoss(weight=axonic.tensor(w)).state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []


@requires_torch
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # torch's note on 'mean'
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    x = np.log(RNG.dirichlet(np.ones(5), 4)).astype(np.float32)
    t = RNG.dirichlet(np.ones(5), 4).astype(np.float32)
    t[0, 1] = 0.0  # a zero target contributes 0, not nan
    if log_target:
        t = np.log(t + 1e-3).astype(np.float32)
    _check(nn.KLDivLoss(reduction=reduction, log_target=log_target),
           torch.nn.KLDivLoss(reduction=reduction, log_target=log_target), x, t,
           target_grad=log_target)


def test_kl_div_gradcheck_float64():
    x = _f64(3, 4)
    t = axonic.tensor(RNG.dirichlet(np.ones(4), 3))
    assert gradcheck(lambda x: F.kl_div(x, t, reduction="batchmean"), (x,))


@requires_torch
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_losses_match_torch(name):
    x, t, w = _f32(4, 3), _f32(4, 3), RNG.uniform(0.1, 2, (4, 3)).astype(np.float32)
    a = axonic.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    la = getattr(F, name)(a, axonic.tensor(t), weight=axonic.tensor(w))
    lb = getattr(torch.nn.functional, name)(b, torch.tensor(t), weight=torch.tensor(w))
    np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-5)
    la.backward()
    lb.backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_regression_weight_must_have_input_shape():
    with pytest.raises(ValueError, match=r"mse_loss: weight must have the input's shape \(4, 3\), "
                                         r"got \(3,\)"):
        F.mse_loss(axonic.zeros(4, 3), axonic.zeros(4, 3), weight=axonic.ones(3))


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses_match_torch(reduction):
    x1, x2 = _f32(6), _f32(6)
    y = np.array([1, -1, 1, 1, -1, -1], np.float32)
    for name, kw in [("MarginRankingLoss", {}), ("MarginRankingLoss", {"margin": 0.5})]:
        ours = getattr(nn, name)(reduction=reduction, **kw)
        theirs = getattr(torch.nn, name)(reduction=reduction, **kw)
        a, b = axonic.tensor(x1, requires_grad=True), torch.tensor(x1, requires_grad=True)
        la = ours(a, axonic.tensor(x2), axonic.tensor(y))
        lb = theirs(b, torch.tensor(x2), torch.tensor(y))
        np.testing.assert_allclose(la.detach().numpy(), lb.detach().numpy(), rtol=1e-5)
        la.sum().backward()
        lb.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5)
    _check(nn.HingeEmbeddingLoss(margin=0.7, reduction=reduction),
           torch.nn.HingeEmbeddingLoss(margin=0.7, reduction=reduction), x1, y)
    _check(nn.SoftMarginLoss(reduction=reduction), torch.nn.SoftMarginLoss(reduction=reduction),
           x1, y)


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_embedding_losses_match_torch(reduction):
    a1, a2, a3 = _f32(5, 4), _f32(5, 4), _f32(5, 4)
    y = np.array([1, -1, 1, -1, -1], np.float32)
    cases = [
        (nn.CosineEmbeddingLoss(0.2, reduction=reduction),
         torch.nn.CosineEmbeddingLoss(0.2, reduction=reduction), (a1, a2, y)),
        (nn.TripletMarginLoss(reduction=reduction),
         torch.nn.TripletMarginLoss(reduction=reduction), (a1, a2, a3)),
        (nn.TripletMarginLoss(margin=2.0, p=1.0, swap=True, reduction=reduction),
         torch.nn.TripletMarginLoss(margin=2.0, p=1.0, swap=True, reduction=reduction),
         (a1, a2, a3)),
    ]
    for ours, theirs, arrays in cases:
        ta = [axonic.tensor(v, requires_grad=k < 2) for k, v in enumerate(arrays)]
        tb = [torch.tensor(v, requires_grad=k < 2) for k, v in enumerate(arrays)]
        la, lb = ours(*ta), theirs(*tb)
        np.testing.assert_allclose(la.detach().numpy(), lb.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        la.sum().backward()
        lb.sum().backward()
        for u, v in zip(ta[:2], tb[:2]):
            np.testing.assert_allclose(u.grad.numpy(), v.grad.numpy(), rtol=1e-5, atol=1e-6)
        assert repr(ours) == repr(theirs)


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_matches_torch(reduction, full):
    x, t = _f32(4, 3), _f32(4, 3)
    var = RNG.uniform(0.1, 2, (4, 3)).astype(np.float32)
    var[0, 0] = 1e-8  # below eps: clamped for the value, gradient still flows
    for v in (var, var[:, :1], var[:, 0]):
        a, va = axonic.tensor(x, requires_grad=True), axonic.tensor(v, requires_grad=True)
        b, vb = torch.tensor(x, requires_grad=True), torch.tensor(v, requires_grad=True)
        la = nn.GaussianNLLLoss(full=full, reduction=reduction)(a, axonic.tensor(t), va)
        lb = torch.nn.GaussianNLLLoss(full=full, reduction=reduction)(b, torch.tensor(t), vb)
        np.testing.assert_allclose(la.detach().numpy(), lb.detach().numpy(), rtol=1e-5)
        la.sum().backward()
        lb.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(va.grad.numpy(), vb.grad.numpy(), rtol=1e-4)


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input,full", [(True, False), (False, False), (True, True)])
def test_poisson_nll_matches_torch(reduction, log_input, full):
    x = RNG.uniform(0.1, 3, (4, 3)).astype(np.float32)
    t = RNG.integers(0, 6, (4, 3)).astype(np.float32)
    _check(nn.PoissonNLLLoss(log_input, full, reduction=reduction),
           torch.nn.PoissonNLLLoss(log_input, full, reduction=reduction), x, t)


def test_margin_and_likelihood_loss_errors():
    with pytest.raises(ValueError, match=r"TripletMarginLoss: margin must be a number, got 'a'"):
        nn.TripletMarginLoss(margin="a")
    with pytest.raises(ValueError, match=r"^CosineEmbeddingLoss: expected two inputs of the same "
                                         r"shape \(N, D\) or \(D,\), got \(2, 3\) and \(2, 4\)"):
        nn.CosineEmbeddingLoss()(axonic.ones(2, 3), axonic.ones(2, 4), axonic.ones(2))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var has negative entries"):
        F.gaussian_nll_loss(axonic.ones(2), axonic.ones(2), -axonic.ones(2))
