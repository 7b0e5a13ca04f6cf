"""The one op-test harness: every op's spec is checked four ways.

1. forward against the float64 NumPy reference;
2. float64 gradcheck (central differences), and gradgradcheck of the gradient taken with
   ``create_graph=True`` for every op that has a second derivative;
3. parity with PyTorch in float32 (values and gradients), when torch is installed;
4. edge shapes (empty, 0-d, broadcast pairs, views) come from the specs' samples.
"""

import numpy as np
import pytest

import axonic
from axonic.autograd import gradcheck, gradgradcheck
from tests.conftest import requires_torch, torch

SPECS = axonic._all_specs()
CASES = [pytest.param(s, i, id=f"{s.name}-{i}") for s in SPECS for i in range(len(s.samples))]


def _inputs(spec, i, seed=0):
    return spec.make_inputs(spec.samples[i], np.random.default_rng(seed + i))


def _tensors(arrays, dtype):
    out = []
    for a in arrays:
        if a.dtype.kind == "f":
            out.append(axonic.tensor(a.astype(dtype), requires_grad=True))
        else:
            out.append(axonic.tensor(a))
    return out


def test_every_op_file_has_specs():
    names = {s.name for s in SPECS}
    for required in ["add", "mul", "div", "pow", "matmul_2d", "exp", "log", "sum", "max",
                     "softmax", "log_softmax", "reshape", "cat", "stack",
                     "getitem_int_array_repeated", "gather", "masked_fill", "where",
                     "einsum_bmm", "logsumexp", "tril"]:
        assert required in names
    assert len(SPECS) >= 80


@pytest.mark.parametrize("spec,i", CASES)
def test_forward_matches_numpy_float64(spec, i):
    arrays = _inputs(spec, i)
    got = spec.fn(*_tensors(arrays, np.float64))
    want = spec.ref(*arrays)
    assert got.shape == np.shape(want), f"{spec.name}: shape {got.shape} != {np.shape(want)}"
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("spec,i", [c for c in CASES if c.values[0].grad and c.values[0].gradcheck])
def test_gradcheck_float64(spec, i):
    arrays = _inputs(spec, i)
    ts = _tensors(arrays, np.float64)
    assert any(t.requires_grad for t in ts), f"{spec.name}: needs a float input"
    assert gradcheck(spec.fn, ts, atol=spec.atol)


_SECOND = [c for c in CASES if c.values[0].grad and c.values[0].gradcheck]


@pytest.mark.parametrize("spec,i", [c for c in _SECOND if not c.values[0].no_gradgrad])
def test_gradgradcheck_float64(spec, i):
    ts = _tensors(_inputs(spec, i), np.float64)
    assert gradgradcheck(spec.fn, ts, atol=spec.atol)


@pytest.mark.parametrize("spec,i", [c for c in _SECOND if c.values[0].no_gradgrad])
def test_ops_without_second_derivative_refuse_create_graph(spec, i):
    ts = _tensors(_inputs(spec, i), np.float64)
    out = spec.fn(*ts)
    with pytest.raises(RuntimeError, match="no second derivative"):
        axonic.autograd.grad(out.sum(), [t for t in ts if t.requires_grad], create_graph=True,
                             allow_unused=True)


@requires_torch
@pytest.mark.parametrize("spec,i", [c for c in CASES if c.values[0].torch_fn is not None])
def test_parity_with_torch_float32(spec, i):
    arrays = _inputs(spec, i)
    ours = _tensors(arrays, np.float32)
    theirs = [torch.tensor(a.astype(np.float32) if a.dtype.kind == "f" else a,
                           requires_grad=a.dtype.kind == "f") for a in arrays]
    out = spec.fn(*ours)
    ref = spec.torch_fn(*theirs)
    assert out.dtype == np.float32, f"{spec.name}: dtype {out.dtype} (no float64 upcast)"
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    if not spec.grad or not ref.requires_grad:
        return
    seed = np.random.default_rng(99).standard_normal(ref.shape).astype(np.float32)
    out.backward(axonic.tensor(seed))
    ref.backward(torch.tensor(seed))
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if b.requires_grad:
            ga = a.grad.numpy() if a.grad is not None else np.zeros(a.shape, np.float32)
            gb = b.grad.numpy() if b.grad is not None else np.zeros(b.shape, np.float32)
            np.testing.assert_allclose(ga, gb, rtol=1e-5, atol=1e-5,
                                       err_msg=f"{spec.name}: gradient of input {k}")


@pytest.mark.parametrize("spec,i", [c for c in CASES if c.values[0].grad])
def test_gradient_shape_equals_input_shape(spec, i):
    arrays = _inputs(spec, i)
    ts = _tensors(arrays, np.float64)
    out = spec.fn(*ts)
    out.backward(axonic.ones_like(out))
    assert any(t.grad is not None for t in ts), f"{spec.name}: no gradient reached any input"
    for t in ts:
        if t.grad is not None:  # None: the input was only used through detach()
            assert t.grad.shape == t.shape and t.grad.dtype == t.dtype
