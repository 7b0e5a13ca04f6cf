import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic import nn
from tests.conftest import requires_torch, torch


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_train_zeroes_p_and_scales_the_rest(p):
    x = axonic.tensor(np.random.default_rng(0).uniform(1, 2, 100_000).astype(np.float32),
                      requires_grad=True)
    layer = nn.Dropout(p)
    out = layer(x)
    o, xv = out.detach().numpy(), x.detach().numpy()
    kept = o != 0
    assert abs((~kept).mean() - p) < 0.01
    np.testing.assert_allclose(o[kept], xv[kept] / (1 - p), rtol=1e-6)
    assert out.dtype == np.float32
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)


def test_dropout_eval_is_identity():
    x = axonic.randn(5, 4)
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert nn.Dropout(0.0)(x) is x


def test_dropout_follows_manual_seed():
    x = axonic.ones(1000)
    axonic.manual_seed(5)
    a = nn.Dropout(0.3)(x).numpy()
    axonic.manual_seed(5)
    b = nn.Dropout(0.3)(x).numpy()
    assert np.array_equal(a, b)
    assert not np.array_equal(a, nn.Dropout(0.3)(x).numpy())


@pytest.mark.parametrize("cls,shape", [(nn.Dropout1d, (20, 30, 7)), (nn.Dropout2d, (20, 30, 3, 4))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    out = cls(0.5)(axonic.ones(*shape)).numpy().reshape(shape[0], shape[1], -1)
    per_channel = out[:, :, 0]
    assert np.all(out == per_channel[:, :, None])  # a channel is all kept or all zero
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert 0.35 < (per_channel == 0).mean() < 0.65


@requires_torch
def test_dropout_repr_and_eval_match_torch():
    for ours, theirs in [(nn.Dropout(0.2), torch.nn.Dropout(0.2)),
                         (nn.Dropout1d(), torch.nn.Dropout1d()),
                         (nn.Dropout2d(0.3, inplace=True), torch.nn.Dropout2d(0.3, inplace=True))]:
        assert repr(ours) == repr(theirs)
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(nn.Dropout(0.4).eval()(axonic.tensor(x)).numpy(),
                                  torch.nn.Dropout(0.4).eval()(torch.tensor(x)).numpy())


def test_dropout_p_is_validated():
    with pytest.raises(ValueError, match=r"^Dropout: p must be in \[0, 1\), got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"^Dropout2d: p must be in \[0, 1\), got -0.1"):
        nn.Dropout2d(-0.1)
    with pytest.raises(ValueError, match=r"^dropout: p must be in \[0, 1\), got 1"):
        F.dropout(axonic.ones(2), 1)


def test_channel_dropout_input_errors():
    model = nn.Sequential(nn.Identity(), nn.Dropout2d())
    with pytest.raises(nn.LayerInputError, match=r"^1 \(Dropout2d\): expected a 4-d input "
                                                 r"\(N, C, H, W\) or a 3-d one without the "
                                                 r"batch dim, got shape \(2, 3\)"):
        model(axonic.ones(2, 3))


def test_channel_dropout_accepts_unbatched_inputs():
    out = nn.Dropout1d(0.5)(axonic.ones(40, 6)).numpy()
    assert np.all(out == out[:, :1])  # each of the 40 channels all kept or all zero
    assert 0.2 < (out[:, 0] == 0).mean() < 0.8
