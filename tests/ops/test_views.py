"""Edge shapes and memory layouts: non-contiguous inputs, empty and 0-d tensors, and
advanced indexing with repeated indices."""

import numpy as np
import pytest

import axonic
from axonic.autograd import gradcheck
from tests.conftest import requires_torch, torch

SPECS = axonic._all_specs()
CASES = [pytest.param(s, i, id=f"{s.name}-{i}") for s in SPECS for i in range(len(s.samples))
         if s.grad]


def _strided(a):
    """The same values in a non-contiguous layout: a transposed view of a Fortran copy, or a
    strided slice of a bigger buffer for 1-d arrays."""
    if a.ndim >= 2:
        return np.asfortranarray(a)
    if a.ndim == 1:
        buf = np.zeros(2 * a.size, a.dtype)
        buf[::2] = a
        return buf[::2]
    return a


@pytest.mark.parametrize("spec,i", CASES)
def test_non_contiguous_inputs_give_the_same_values_and_gradients(spec, i):
    arrays = spec.make_inputs(spec.samples[i], np.random.default_rng(i))

    def run(layout):
        # from_numpy keeps the array as it is (tensor() would copy it into C order)
        ts = [axonic.from_numpy(layout(a)).requires_grad_() if a.dtype.kind == "f"
              else axonic.tensor(a) for a in arrays]
        out = spec.fn(*ts)
        seed = np.random.default_rng(5).standard_normal(out.shape)
        out.backward(axonic.tensor(layout(seed)))
        return out.detach().numpy(), [t.grad.numpy() if t.grad is not None else None for t in ts]

    out_c, grads_c = run(lambda a: np.array(a, order="C"))
    out_s, grads_s = run(_strided)
    np.testing.assert_allclose(out_s, out_c, rtol=1e-12, atol=1e-12)
    for gc, gs in zip(grads_c, grads_s):
        if gc is not None:
            np.testing.assert_allclose(gs, gc, rtol=1e-12, atol=1e-12)


def test_gradcheck_on_a_transposed_view():
    base = axonic.randn(3, 4, dtype=axonic.float64)
    x = base.T.requires_grad_()  # a leaf whose data is a transposed view
    assert not x.is_contiguous() and x.is_leaf
    w = axonic.randn(3, 2, dtype=axonic.float64, requires_grad=True)
    assert gradcheck(lambda a, b: (a @ b).tanh() * a.sum(1, keepdim=True), (x, w))
    assert gradcheck(lambda a: a.softmax(0) * a.exp(), (x,))


def test_gradcheck_on_a_flipped_negative_stride_view():
    x = axonic.from_numpy((np.arange(6.0) / 3)[::-1]).requires_grad_()
    assert x._data.strides[0] < 0
    assert gradcheck(lambda a: (a * a.sin()).sum() * a[::2], (x,))


def test_transposed_view_in_graph_gradient_is_untransposed():
    x = axonic.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    w = axonic.tensor([[1.0], [10.0]])
    (x.T @ w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 1.0, 1.0], [10.0, 10.0, 10.0]])


def test_empty_tensors_through_ops_and_backward():
    x = axonic.zeros(0, 3, requires_grad=True)
    w = axonic.ones(3, 2, requires_grad=True)
    y = ((x * 2 + 1).exp() @ w).softmax(-1)
    assert y.shape == (0, 2)
    total = y.sum() + x.sum(0).sum()
    assert total.item() == 0.0
    total.backward()
    assert x.grad.shape == (0, 3) and w.grad.shape == (3, 2)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((3, 2)))


def test_empty_inner_dimension_matmul_gives_zeros():
    a = axonic.ones(2, 0, requires_grad=True)
    b = axonic.ones(0, 3, requires_grad=True)
    out = a @ b
    assert out.tolist() == [[0.0] * 3] * 2
    out.sum().backward()
    assert a.grad.shape == (2, 0) and b.grad.shape == (0, 3)


def test_empty_cat_split_reshape_and_indexing():
    e = axonic.zeros(0, 2)
    assert axonic.cat([e, axonic.ones(1, 2)]).shape == (1, 2)
    assert e.reshape(0, 1, 2).shape == (0, 1, 2)
    assert e[axonic.tensor([], dtype=axonic.int64)].shape == (0, 2)
    assert e[e.sum(1) > 0].shape == (0, 2)
    assert axonic.ones(3)[[]].shape == (0,)
    assert e.mean(0).shape == (2,) and np.isnan(e.mean(0).numpy()).all()  # as PyTorch


def test_zero_dim_tensors():
    x = axonic.tensor(2.0, requires_grad=True)
    y = (x * x).exp().log() + x.reshape(1)[0] - x[None].squeeze()
    assert y.shape == () and y.ndim == 0
    y.backward()
    assert x.grad.shape == () and x.grad.item() == 4.0
    s = axonic.tensor(3.0)
    assert s.sum().shape == () and s.mean().item() == 3.0 and s.max().item() == 3.0
    assert axonic.stack([s, s]).shape == (2,) and s.item() == 3.0 and s.tolist() == 3.0
    assert (axonic.ones(2, 3) * s).shape == (2, 3)


def test_repeated_advanced_indices_accumulate():
    x = axonic.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[axonic.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_repeated_pairs_of_indices_accumulate():
    x = axonic.zeros(2, 3, requires_grad=True)
    x[[0, 0, 1, 0], [1, 1, 2, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 3.0, 0.0], [0.0, 0.0, 1.0]])


def test_repeated_gather_and_index_select_accumulate():
    x = axonic.ones(2, 3, requires_grad=True)
    x.gather(1, axonic.tensor([[0, 0, 0], [2, 1, 2]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0, 0.0, 0.0], [0.0, 1.0, 2.0]])
    y = axonic.ones(2, 3, requires_grad=True)
    y.index_select(1, axonic.tensor([2, 2, 0])).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[1.0, 0.0, 2.0]] * 2)


@requires_torch
@pytest.mark.parametrize("index", [
    lambda lib: ([0, 2, 0], slice(None)),
    lambda lib: (slice(None), [1, 1, 0]),
    lambda lib: (lib.tensor([[0, 1], [1, 1]]),),
    lambda lib: (lib.tensor([True, False, True]), 1),
    lambda lib: (Ellipsis, [0, 0]),
    lambda lib: ([0, 1], None, [2, 2]),
    lambda lib: (slice(None, None, 2), [0, 0]),
])
def test_advanced_indexing_matches_torch(index):
    data = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    x = axonic.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    out, ref = x[index(axonic)], xt[index(torch)]
    assert out.shape == tuple(ref.shape)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    seed = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    out.backward(axonic.tensor(seed))
    ref.backward(torch.tensor(seed))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def test_boolean_mask_indexing_and_setitem():
    x = axonic.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    pos = x[x.detach() > 0]
    assert pos.tolist() == [1.0, 4.0]
    (pos * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0], [0.0, 2.0]])
    y = axonic.zeros(2, 2)
    y[y == 0] = 5.0
    y[0, 1] = axonic.tensor(7.0)
    assert y.tolist() == [[5.0, 7.0], [5.0, 5.0]]


def test_basic_index_gradient_goes_to_the_slice():
    x = axonic.zeros(3, 4, requires_grad=True)
    x[1:, ::2].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(),
                                  [[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]])


@requires_torch
@pytest.mark.parametrize("fn", [
    lambda t: t.logsumexp(1), lambda t: t.logsumexp(1, keepdim=True), lambda t: t.softmax(1),
    lambda t: t.log_softmax(0), lambda t: t.sum(1), lambda t: t.prod(1), lambda t: t.amax(0),
])
def test_reductions_over_an_empty_dim_match_torch(fn):
    ours, theirs = fn(axonic.zeros(2, 0)), fn(torch.zeros(2, 0))
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
