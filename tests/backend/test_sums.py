"""``axonic.backend.sums``: sums over the last or leading axes as matrix-vector products,
against float64 sums, NumPy's own result wherever the rules send the sum back, and the
layers that use them (LayerNorm, softmax, Linear's bias, cross-entropy) at PyTorch
parity through that path."""

import numpy as np
import pytest

import axonic
from axonic.backend import sums
from tests.conftest import requires_torch, torch

SHAPES = [((2048, 128), 1), ((32, 64, 128), 1), ((8, 4, 64, 64), 1), ((16, 8, 40), 2),
          ((300, 17), 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k", SHAPES)
def test_sums_match_extended_precision_within_numpys_own_error(dtype, shape, k):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(dtype)
    x64 = x.astype(np.longdouble)  # the reference: extended precision on x86-64
    last = tuple(range(x.ndim - k, x.ndim))
    lead = tuple(range(x.ndim - k))
    for got, want, numpy_own, summed in (
            (sums.sum_last(x, k), x64.sum(axis=last, keepdims=True),
             x.sum(axis=last, keepdims=True), last),
            (sums.sum_last(x, k, keepdims=False), x64.sum(axis=last), x.sum(axis=last), last),
            (sums.sum_leading(x, k), x64.sum(axis=lead), x.sum(axis=lead), lead),
            (sums.mean_last(x, k), x64.mean(axis=last, keepdims=True),
             x.mean(axis=last, keepdims=True), last)):
        assert got.shape == numpy_own.shape and got.dtype == dtype
        err, numpy_err = np.abs(got - want).max(), np.abs(numpy_own - want).max()
        # a matrix-vector product's rounding is of the same order as a pairwise sum's,
        # measured at the size of the terms summed
        terms = np.abs(x64).sum(axis=summed).max()
        assert err <= 4 * numpy_err + 4 * np.finfo(dtype).eps * terms, (err, numpy_err)


def test_large_sums_reach_blas_and_small_or_odd_ones_are_numpys_own(monkeypatch):
    calls = []
    real = np.matmul

    def counting(a, b, *args, **kw):
        calls.append((a.shape, b.shape))
        return real(a, b, *args, **kw)

    monkeypatch.setattr(sums.np, "matmul", counting)
    x = np.random.default_rng(0).standard_normal((512, 64)).astype(np.float32)
    sums.sum_last(x)
    sums.sum_leading(x)
    assert calls == [((512, 64), (64,)), ((512,), (512, 64))]
    calls.clear()
    sent_back = [
        x[:, :32],  # not C-contiguous
        x[:8],  # fewer than MIN_SIZE elements
        x.astype(np.float16),  # not float32/64
        np.arange(8192, dtype=np.int64).reshape(512, 16),  # integers
    ]
    for a in sent_back:
        np.testing.assert_array_equal(sums.sum_last(a), a.sum(axis=-1, keepdims=True))
        np.testing.assert_array_equal(sums.sum_leading(a), a.sum(axis=0))
    rows_of_8 = np.ones((1024, 8), np.float32)  # rows shorter than MIN_ROW: NumPy's
    np.testing.assert_array_equal(sums.sum_last(rows_of_8), rows_of_8.sum(-1, keepdims=True))
    assert calls == []


def test_infinities_and_nans_propagate_as_in_a_sum():
    x = np.zeros((256, 64), np.float32)
    x[0, 3], x[1, 5], x[2, 1], x[2, 2], x[3, 7] = np.inf, -np.inf, np.inf, -np.inf, np.nan
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, with NumPy's warning, in both
        got, want = sums.sum_last(x, keepdims=False), x.sum(axis=-1)
        lead, lead_want = sums.sum_leading(x), x.sum(axis=0)
    np.testing.assert_array_equal(got[:4], want[:4])  # inf, -inf, nan, nan
    np.testing.assert_array_equal(lead[[1, 2, 3, 5, 7]], lead_want[[1, 2, 3, 5, 7]])


def test_empty_and_tensor_inputs_take_the_plain_sum():
    e = np.zeros((0, 128), np.float32)
    assert sums.sum_last(e).shape == (0, 1) and sums.sum_leading(e).shape == (128,)
    t = axonic.ones(4, 8, requires_grad=True)  # a create_graph backward passes tensors
    s = sums.sum_last(t)
    assert isinstance(s, axonic.Tensor) and s.shape == (4, 1) and s.requires_grad


@requires_torch
def test_transformer_layers_through_the_sums_match_torch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 64, 128)).astype(np.float32)
    s = rng.standard_normal((8, 4, 64, 64)).astype(np.float32)
    logits = rng.standard_normal((1024, 65)).astype(np.float32)
    target = rng.integers(0, 65, 1024)
    ln, tln = axonic.nn.LayerNorm(128), torch.nn.LayerNorm(128)
    lin, tlin = axonic.nn.Linear(128, 64), torch.nn.Linear(128, 64)
    with torch.no_grad():
        for p in ln.parameters():
            p.data = axonic.tensor(rng.standard_normal(p.shape).astype(np.float32))
        tln.weight.copy_(torch.tensor(ln.weight.detach().numpy()))
        tln.bias.copy_(torch.tensor(ln.bias.detach().numpy()))
        tlin.weight.copy_(torch.tensor(lin.weight.detach().numpy()))
        tlin.bias.copy_(torch.tensor(lin.bias.detach().numpy()))
    ax_in = [axonic.tensor(a, requires_grad=True) for a in (x, s, logits)]
    t_in = [torch.tensor(a, requires_grad=True) for a in (x, s, logits)]
    ax_loss = ((lin(ln(ax_in[0])) ** 2).mean() + (axonic.softmax(ax_in[1], -1) ** 2).sum()
               + (axonic.log_softmax(ax_in[1], -1)[..., 0]).mean()
               + axonic.nn.functional.cross_entropy(ax_in[2], axonic.tensor(target)))
    t_loss = ((tlin(tln(t_in[0])) ** 2).mean() + (torch.softmax(t_in[1], -1) ** 2).sum()
              + (torch.log_softmax(t_in[1], -1)[..., 0]).mean()
              + torch.nn.functional.cross_entropy(t_in[2], torch.tensor(target)))
    ax_loss.backward()
    t_loss.backward()
    np.testing.assert_allclose(ax_loss.item(), t_loss.item(), rtol=1e-5)
    for a, t in zip(ax_in, t_in):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-6)
    for a, t in ((ln.weight, tln.weight), (ln.bias, tln.bias), (lin.weight, tlin.weight),
                 (lin.bias, tlin.bias)):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)
