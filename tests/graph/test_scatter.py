"""Scatter ops: NumPy float64 reference, float64 gradcheck (first and second order),
PyTorch parity, PyTorch Geometric's softmax, and the error messages."""

import numpy as np
import pytest

import axonic
from axonic.autograd import gradcheck, gradgradcheck
from axonic.ops.segment import SPECS, scatter, scatter_softmax
from tests.conftest import torch

CASES = [pytest.param(s, i, id=f"{s.name}-{i}") for s in SPECS for i in range(len(s.samples))]


def _inputs(spec, i, dtype=np.float64):
    arrays = spec.make_inputs(spec.samples[i], np.random.default_rng(i))
    return [axonic.tensor(a.astype(dtype), requires_grad=True) for a in arrays], arrays


@pytest.mark.parametrize("spec,i", CASES)
def test_scatter_matches_numpy_float64(spec, i):
    ts, arrays = _inputs(spec, i)
    np.testing.assert_allclose(spec.fn(*ts).detach().numpy(), spec.ref(*arrays), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("spec,i", CASES)
def test_scatter_gradcheck_float64(spec, i):
    ts, _ = _inputs(spec, i)
    assert gradcheck(spec.fn, ts)


@pytest.mark.parametrize("spec,i", CASES)
def test_scatter_second_derivative_float64(spec, i):
    ts, _ = _inputs(spec, i)
    assert gradgradcheck(lambda a: spec.fn(a) ** 2, ts)


@pytest.mark.parametrize("spec,i", [c for c in CASES if c.values[0].torch_fn is not None])
def test_scatter_matches_torch_scatter_reduce(spec, i):
    ts, arrays = _inputs(spec, i, np.float32)
    theirs = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out, ref = spec.fn(*ts), spec.torch_fn(*theirs)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6)
    g = np.random.default_rng(7).standard_normal(ref.shape).astype(np.float32)
    out.backward(axonic.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(ts[0].grad.numpy(), theirs[0].grad.numpy(), rtol=1e-6)


def test_scatter_max_splits_gradient_between_ties_like_torch():
    src = np.array([3.0, 3.0, 1.0, 5.0], np.float32)
    index = np.array([0, 0, 0, 1])
    ours = axonic.tensor(src, requires_grad=True)
    scatter(ours, index, reduce="max").sum().backward()
    theirs = torch.tensor(src, requires_grad=True)
    torch.zeros(2).scatter_reduce(0, torch.tensor(index), theirs, "amax",
                                  include_self=False).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    np.testing.assert_array_equal(ours.grad.numpy(), [0.5, 0.5, 0, 1])


def test_scatter_softmax_matches_pyg_softmax():
    from torch_geometric.utils import softmax

    rng = np.random.default_rng(0)
    src = rng.standard_normal((40, 4)).astype(np.float32) * 5
    index = rng.integers(0, 9, 40)
    ours = axonic.tensor(src, requires_grad=True)
    theirs = torch.tensor(src, requires_grad=True)
    out = scatter_softmax(ours, index, dim_size=10)
    ref = softmax(theirs, torch.tensor(index), num_nodes=10)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-7)
    g = rng.standard_normal(src.shape).astype(np.float32)
    out.backward(axonic.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_scatter_softmax_is_stable_for_large_scores():
    out = scatter_softmax(axonic.tensor([1e4, 0.0, -1e4, -1e4]), [0, 0, 1, 1])
    np.testing.assert_allclose(out.numpy(), [1, 0, 0.5, 0.5])


def test_scatter_empty_slots_are_zero_and_dim_size_defaults_to_max_index():
    out = scatter(axonic.tensor([1.0, 2.0]), axonic.tensor([3, 3]), reduce="min")
    np.testing.assert_array_equal(out.numpy(), [0, 0, 0, 1])


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(reduce="prod"), ValueError,
     "scatter: reduce must be one of ('sum', 'add', 'mean', 'max', 'min'), got 'prod'"),
    (dict(index=[0, 1]), ValueError,
     "scatter: index must be 1-d with one entry per slice of src along dim 0 (3), got shape (2,)"),
    (dict(index=[0.0, 1.0, 0.0]), TypeError,
     "scatter: index must be an integer tensor, got float64"),
    (dict(index=[0, -1, 0]), IndexError, "scatter: index must be non-negative, got -1"),
    (dict(dim_size=2, index=[0, 5, 0]), IndexError,
     "scatter: index 5 is out of range for dim_size 2"),
    (dict(dim=2), IndexError, "scatter"),
])
def test_scatter_errors_name_the_op_and_the_value(kwargs, error, message):
    args = dict(index=[0, 1, 0], dim=0, dim_size=None, reduce="sum") | kwargs
    with pytest.raises(error) as e:
        scatter(axonic.ones(3, 2), np.asarray(args.pop("index")), **args)
    assert message in str(e.value)


def test_scatter_rejects_an_array_as_src():
    with pytest.raises(TypeError, match="scatter: src must be a Tensor, got ndarray"):
        scatter(np.ones(3), [0, 1, 0])
