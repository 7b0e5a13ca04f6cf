"""MultiMarginLoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
TripletMarginWithDistanceLoss, LPPool1d/2d, RReLU, Dropout3d, AlphaDropout and
FeatureAlphaDropout against PyTorch's same-named layers (values and gradients, float64;
the random layers by their deterministic parts and their statistics), and their errors."""

import numpy as np
import pytest
import torch

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck

RNG = np.random.default_rng(0)


def pair(a, grad=True):
    return axonic.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def check(mine, theirs, inputs, extra=(), tol=1e-12):
    """Same value and same gradients of the float inputs."""
    pairs = [pair(a) for a in inputs]
    out = mine(*(p[0] for p in pairs), *(e[0] for e in extra))
    tout = theirs(*(p[1] for p in pairs), *(e[1] for e in extra))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=tol, atol=tol)
    g = RNG.standard_normal(tuple(tout.shape))
    out.backward(axonic.tensor(g))
    tout.backward(torch.tensor(g))
    for a, b in pairs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p, margin, weighted", [(1, 1.0, False), (2, 0.5, True)])
def test_multi_margin_loss_matches_torch(reduction, p, margin, weighted):
    x = RNG.standard_normal((6, 5))
    y = RNG.integers(0, 5, 6)
    w = RNG.uniform(0.5, 2, 5) if weighted else None
    kw = dict(p=p, margin=margin, reduction=reduction)
    mine = nn.MultiMarginLoss(weight=None if w is None else axonic.tensor(w), **kw)
    theirs = torch.nn.MultiMarginLoss(weight=None if w is None else torch.tensor(w), **kw)
    check(mine, theirs, [x], [(axonic.tensor(y), torch.tensor(y))])
    check(mine, theirs, [x[0]], [(axonic.tensor(y[0]), torch.tensor(y[0]))])  # unbatched


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss_matches_torch(reduction):
    x = RNG.standard_normal((4, 5))
    y = np.array([[3, 0, -1, 1, 2], [4, -1, 0, 0, 0], [0, 1, 2, 3, 4], [-1, 2, 2, 2, 2]])
    mine, theirs = nn.MultiLabelMarginLoss(reduction=reduction), torch.nn.MultiLabelMarginLoss(
        reduction=reduction)
    check(mine, theirs, [x], [(axonic.tensor(y), torch.tensor(y))])
    check(mine, theirs, [x[0]], [(axonic.tensor(y[0]), torch.tensor(y[0]))])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_loss_matches_torch(reduction, weighted):
    x = RNG.standard_normal((4, 6)) * 3
    y = RNG.integers(0, 2, (4, 6)).astype(np.float64)
    w = RNG.uniform(0.5, 2, 6) if weighted else None
    mine = nn.MultiLabelSoftMarginLoss(None if w is None else axonic.tensor(w),
                                       reduction=reduction)
    theirs = torch.nn.MultiLabelSoftMarginLoss(None if w is None else torch.tensor(w),
                                               reduction=reduction)
    check(mine, theirs, [x], [(axonic.tensor(y), torch.tensor(y))])


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("custom", [False, True])
def test_triplet_margin_with_distance_loss_matches_torch(swap, custom):
    def mine_d(a, b):
        return 1 - F.cosine_similarity(a, b)

    def their_d(a, b):
        return 1 - torch.nn.functional.cosine_similarity(a, b)

    mine = nn.TripletMarginWithDistanceLoss(distance_function=mine_d if custom else None,
                                            margin=0.7, swap=swap)
    theirs = torch.nn.TripletMarginWithDistanceLoss(
        distance_function=their_d if custom else None, margin=0.7, swap=swap)
    check(mine, theirs, [RNG.standard_normal((5, 4)) for _ in range(3)])


@pytest.mark.parametrize("norm_type", [1, 2, 3.5])
def test_lp_pool_matches_torch(norm_type):
    x = RNG.uniform(0.1, 2.0, (2, 3, 7, 8))  # positive: x^p stays real for any p
    check(nn.LPPool2d(norm_type, 3, stride=2), torch.nn.LPPool2d(norm_type, 3, stride=2), [x])
    check(nn.LPPool2d(norm_type, (2, 3), ceil_mode=True),
          torch.nn.LPPool2d(norm_type, (2, 3), ceil_mode=True), [x])
    check(nn.LPPool1d(norm_type, 3), torch.nn.LPPool1d(norm_type, 3), [x[0, :, 0]])
    assert repr(nn.LPPool2d(norm_type, 3, stride=2)) == repr(
        torch.nn.LPPool2d(norm_type, 3, stride=2))


def test_rrelu_in_eval_matches_torch_and_in_training_draws_slopes_in_range():
    x = RNG.standard_normal((4, 50))
    check(nn.RReLU(0.1, 0.3).eval(), torch.nn.RReLU(0.1, 0.3).eval(), [x])
    assert repr(nn.RReLU(0.1, 0.3)) == repr(torch.nn.RReLU(0.1, 0.3))
    axonic.manual_seed(0)
    t = axonic.tensor(x, requires_grad=True)
    y = nn.RReLU(0.1, 0.3)(t)
    y.sum().backward()
    slope = y.detach().numpy() / x
    neg = x < 0
    assert np.all(slope[~neg] == 1) and np.all((slope[neg] >= 0.1) & (slope[neg] <= 0.3))
    assert np.unique(np.round(slope[neg], 12)).size > 50  # one slope per element
    np.testing.assert_allclose(t.grad.numpy(), slope, rtol=1e-12)  # the gradient is the slope


def test_alpha_dropout_keeps_selu_statistics_and_follows_torchs_formula():
    axonic.manual_seed(0)
    x = nn.functional.selu(axonic.randn(200000, dtype=axonic.float64))
    y = nn.AlphaDropout(0.2)(x).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    s = 1.7580993408473766
    a = 1 / np.sqrt((s * s * 0.2 + 1) * 0.8)
    kept = np.isclose(y, x.numpy() * a + s * a * 0.2)
    dropped = np.isclose(y, -s * a + s * a * 0.2)
    assert np.all(kept | dropped) and abs(dropped.mean() - 0.2) < 0.005
    assert nn.AlphaDropout(0.2).eval()(x) is x
    z = nn.FeatureAlphaDropout(0.5)(axonic.ones(64, 8, 3, 3, dtype=axonic.float64)).numpy()
    assert np.all(z.std(axis=(2, 3)) < 1e-12)  # whole channels kept or dropped
    assert 0.3 < np.isclose(z[:, :, 0, 0], z.min()).mean() < 0.7


def test_dropout3d_drops_whole_channels_like_torch():
    axonic.manual_seed(0)
    x = axonic.ones(16, 8, 2, 3, 3)
    y = nn.Dropout3d(0.5)(x).numpy()
    per_channel = y.reshape(16, 8, -1)
    assert np.all(per_channel.std(-1) == 0) and set(np.unique(y)) == {0.0, 2.0}
    x = axonic.ones(2, 3, 1, 1, 2)
    assert nn.Dropout3d(0.5).eval()(x) is x


def test_gradchecks_of_the_composed_losses_and_pooling():
    x = axonic.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    y = axonic.tensor(np.array([1, 0, 3]))
    labels = axonic.tensor(np.array([[1, 2, -1, 0], [0, -1, 0, 0], [3, 1, 0, 2]]))
    targets = axonic.tensor(RNG.integers(0, 2, (3, 4)).astype(np.float64))
    pos = axonic.tensor(RNG.uniform(0.5, 2, (1, 2, 4, 4)), requires_grad=True)
    for fn, args in ((lambda x: F.multi_margin_loss(x, y, p=2), (x,)),
                     (lambda x: F.multilabel_margin_loss(x, labels), (x,)),
                     (lambda x: F.multilabel_soft_margin_loss(x, targets), (x,)),
                     (lambda p: F.lp_pool2d(p, 2.5, 2), (pos,))):
        assert gradcheck(fn, args)


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.MultiMarginLoss(p=3), ValueError, "MultiMarginLoss: p must be 1 or 2, got 3"),
    (lambda: F.multi_margin_loss(axonic.ones(2, 3), axonic.tensor(np.array([0, 3]))),
     IndexError, "multi_margin_loss: target 3 is out of range for 3 classes"),
    (lambda: nn.MultiMarginLoss()(axonic.ones(2, 3), axonic.tensor(np.array([0, 1, 2]))),
     ValueError, "MultiMarginLoss: expected a target of shape (2,) for input of shape (2, 3), "
                 "got (3,)"),
    (lambda: F.multilabel_margin_loss(axonic.ones(2, 3), axonic.ones(2, 3)), TypeError,
     "multilabel_margin_loss: expected an integer target, got float32"),
    (lambda: F.multilabel_soft_margin_loss(axonic.ones(2, 3), axonic.ones(2, 2)), ValueError,
     "multilabel_soft_margin_loss: expected input (N, C) or (C,) and a target of the same "
     "shape, got (2, 3) and (2, 2)"),
    (lambda: nn.TripletMarginWithDistanceLoss(margin=0), ValueError,
     "TripletMarginWithDistanceLoss: margin must be greater than 0, got 0"),
    (lambda: nn.LPPool2d(0, 2), ValueError,
     "LPPool2d: norm_type must be a positive number, got 0"),
    (lambda: nn.RReLU(0.5, 0.1), ValueError,
     "RReLU: expected 0 <= lower <= upper, got lower=0.5, upper=0.1"),
    (lambda: nn.Dropout3d()(axonic.ones(2, 3)), ValueError,
     "Dropout3d: expected a 5-d input (N, C, D, H, W) or a 4-d one without the batch dim, "
     "got shape (2, 3)"),
    (lambda: nn.AlphaDropout(1.0), ValueError, "AlphaDropout: p must be in [0, 1), got 1.0"),
])
def test_errors_name_the_layer_and_the_value(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


@pytest.mark.parametrize("size", [1, 3, (2, 5), (4, None), (7, 6)])
def test_adaptive_max_pool2d_matches_torch_with_indices(size):
    x = RNG.standard_normal((2, 3, 7, 6))
    check(nn.AdaptiveMaxPool2d(size), torch.nn.AdaptiveMaxPool2d(size), [x])
    _, idx = nn.AdaptiveMaxPool2d(size, return_indices=True)(axonic.tensor(x))
    _, tidx = torch.nn.AdaptiveMaxPool2d(size, return_indices=True)(torch.tensor(x))
    assert idx.tolist() == tidx.tolist()
    check(nn.AdaptiveMaxPool2d(size), torch.nn.AdaptiveMaxPool2d(size), [x[0]])  # unbatched


@pytest.mark.parametrize("size", [1, (2, 3, 4), (None, 2, 5)])
def test_adaptive_max_pool3d_matches_torch_with_indices(size):
    x = RNG.standard_normal((2, 3, 5, 6, 7))
    check(nn.AdaptiveMaxPool3d(size), torch.nn.AdaptiveMaxPool3d(size), [x])
    _, idx = nn.AdaptiveMaxPool3d(size, return_indices=True)(axonic.tensor(x))
    _, tidx = torch.nn.AdaptiveMaxPool3d(size, return_indices=True)(torch.tensor(x))
    assert idx.tolist() == tidx.tolist()
    check(nn.AdaptiveMaxPool3d(size), torch.nn.AdaptiveMaxPool3d(size), [x[1]])  # unbatched
    assert repr(nn.AdaptiveMaxPool3d(size)) == repr(torch.nn.AdaptiveMaxPool3d(size))


@pytest.mark.parametrize("size", [1, 3, 5, 9])
def test_adaptive_max_pool1d_matches_torch_with_indices(size):
    x = RNG.standard_normal((2, 3, 9))
    check(nn.AdaptiveMaxPool1d(size), torch.nn.AdaptiveMaxPool1d(size), [x])
    _, idx = F.adaptive_max_pool1d(axonic.tensor(x), size, return_indices=True)
    _, tidx = torch.nn.functional.adaptive_max_pool1d(torch.tensor(x), size,
                                                      return_indices=True)
    assert idx.tolist() == tidx.tolist()
    assert repr(nn.AdaptiveMaxPool1d(size)) == repr(torch.nn.AdaptiveMaxPool1d(size))


def _bag_pair(mode, **kw):
    mine = nn.EmbeddingBag(7, 3, mode=mode, dtype=axonic.float64, **kw)
    theirs = torch.nn.EmbeddingBag(7, 3, mode=mode, dtype=torch.float64, **kw)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(mine.weight.detach().numpy()))
    return mine, theirs


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_matches_torch(mode, padding_idx):
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 6, 0, 2])
    for offsets, last in (([0, 2, 2, 5], False), ([0, 3, 7, 10], True), ([0, 4, 9], False)):
        mine, theirs = _bag_pair(mode, padding_idx=padding_idx, include_last_offset=last)
        out = mine(axonic.tensor(idx), axonic.tensor(np.array(offsets)))
        tout = theirs(torch.tensor(idx), torch.tensor(offsets))
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12,
                                   atol=1e-12)
        g = RNG.standard_normal(tuple(tout.shape))
        out.backward(axonic.tensor(g))
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(mine.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   rtol=1e-12, atol=1e-12)
    mine, theirs = _bag_pair(mode, padding_idx=padding_idx)
    rows = idx.reshape(2, 5)  # a 2-d input: one bag per row
    np.testing.assert_allclose(mine(axonic.tensor(rows)).detach().numpy(),
                               theirs(torch.tensor(rows)).detach().numpy(), rtol=1e-12)
    assert repr(mine) == repr(theirs)


def test_embedding_bag_per_sample_weights_and_max_norm_match_torch():
    mine, theirs = _bag_pair("sum", max_norm=1.0)
    idx, offsets = np.array([0, 3, 3, 6, 1]), np.array([0, 3])
    w = RNG.uniform(0, 2, 5)
    psw, tpsw = pair(w)
    out = mine(axonic.tensor(idx), axonic.tensor(offsets), psw)
    tout = theirs(torch.tensor(idx), torch.tensor(offsets), tpsw)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-6)  # the looked-up rows renormalised in place
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(psw.grad.numpy(), tpsw.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: nn.EmbeddingBag(4, 2, mode="median"),
     "EmbeddingBag: mode must be 'sum', 'mean' or 'max', got 'median'"),
    (lambda: nn.EmbeddingBag(4, 2)(axonic.tensor(np.array([0, 1, 5])), axonic.tensor(
        np.array([0]))), "EmbeddingBag: index 5 is out of range for 4 embeddings"),
    (lambda: nn.EmbeddingBag(4, 2)(axonic.tensor(np.array([0, 1])), axonic.tensor(
        np.array([1]))), "EmbeddingBag: offsets must be a 1-d integer tensor starting at 0"),
    (lambda: nn.EmbeddingBag(4, 2)(axonic.tensor(np.array([0, 1]))),
     "EmbeddingBag: expected a 2-d input (bags, indices) or a 1-d input with offsets"),
    (lambda: nn.EmbeddingBag(4, 2)(axonic.tensor(np.array([[0, 1]])), None,
                                   axonic.ones(1, 2)),
     "EmbeddingBag: per_sample_weights work only with mode='sum', got mode='mean'"),
])
def test_embedding_bag_errors(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


@pytest.mark.parametrize("name", [
    "axonic.nn.activation_random", "axonic.nn.activation_shrink", "axonic.nn.adaptive_max_pool",
    "axonic.nn.conv3d", "axonic.nn.ctc_loss", "axonic.nn.embedding_bag", "axonic.nn.fold",
    "axonic.nn.instancenorm", "axonic.nn.lp_pool", "axonic.nn.multilabel_loss",
    "axonic.nn.padding", "axonic.nn.upsampling", "axonic.nn.utils.rnn", "axonic.ops.resize",
    "axonic.ops.rms_norm", "axonic.io.safetensors"])
def test_docstring_examples_of_the_new_layers_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, name
