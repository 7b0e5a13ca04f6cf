"""clip_grad_norm_ and clip_grad_value_ against PyTorch's, and parameters <-> vector."""

import math

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)
from tests.conftest import requires_torch, torch


def _grads(scale):
    rng = np.random.default_rng(3)
    return [(rng.standard_normal(s) * scale).astype(np.float32) for s in [(3, 4), (4,), (2, 2)]]


def _with_grads(grads, lib):
    out = []
    for g in grads:
        if lib == "torch":
            p = torch.nn.Parameter(torch.zeros(g.shape))
            p.grad = torch.tensor(g.copy())
        else:
            p = nn.Parameter(axonic.zeros(*g.shape))
            p.grad = axonic.tensor(g.copy())
        out.append(p)
    return out


@requires_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf, -math.inf, 0])
@pytest.mark.parametrize("max_norm,scale", [(1.0, 1.0), (100.0, 1.0), (0.5, 1e-3)])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, scale):
    grads = _grads(scale)
    ap, tp = _with_grads(grads, "axonic"), _with_grads(grads, "torch")
    a_total = clip_grad_norm_(ap, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type, foreach=False)
    assert isinstance(a_total, axonic.Tensor) and a_total.dtype == np.float32
    np.testing.assert_allclose(a_total.item(), t_total.item(), rtol=1e-6)
    for a, t in zip(ap, tp):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_clip_grad_norm_scales_to_max_norm_and_leaves_small_grads():
    p = nn.Parameter(axonic.zeros(2))
    p.grad = axonic.tensor([3.0, 4.0])
    total = clip_grad_norm_(p, 1.0)
    assert total.item() == pytest.approx(5.0)
    assert np.linalg.norm(p.grad.numpy()) == pytest.approx(1.0, rel=1e-6)
    p.grad = axonic.tensor([0.3, 0.4])
    clip_grad_norm_([p], 1.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.3, 0.4], rtol=1e-6)


def test_clip_grad_norm_skips_params_without_grad_and_handles_none():
    a, b = nn.Parameter(axonic.zeros(2)), nn.Parameter(axonic.zeros(2))
    assert clip_grad_norm_([a, b], 1.0).item() == 0.0
    a.grad = axonic.tensor([0.0, 2.0])
    assert clip_grad_norm_([a, b], 1.0).item() == pytest.approx(2.0)
    assert b.grad is None


def test_clip_grad_norm_non_finite():
    p = nn.Parameter(axonic.zeros(2))
    p.grad = axonic.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="the total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isnan(clip_grad_norm_([p], 1.0).item())
    with pytest.raises(ValueError, match="norm_type must be >= 0, inf or -inf, got -1.0"):
        clip_grad_norm_([p], 1.0, norm_type=-1)


@requires_torch
@pytest.mark.parametrize("clip", [0.1, 0.5, 10.0])
def test_clip_grad_value_matches_torch(clip):
    grads = _grads(1.0)
    ap, tp = _with_grads(grads, "axonic"), _with_grads(grads, "torch")
    assert clip_grad_value_(ap, clip) is None
    torch.nn.utils.clip_grad_value_(tp, clip)
    for a, t in zip(ap, tp):
        np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
    assert max(np.abs(a.grad.numpy()).max() for a in ap) <= np.float32(clip)


def test_parameters_to_vector_and_back():
    ps = [nn.Parameter(axonic.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))),
          nn.Parameter(axonic.tensor([7.0]))]
    v = parameters_to_vector(ps)
    assert v.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0]
    (v * v).sum().backward()  # differentiable
    assert ps[1].grad.tolist() == [14.0]
    vector_to_parameters(axonic.arange(7.0) * 2, ps)
    assert ps[0].tolist() == [[0.0, 2.0, 4.0], [6.0, 8.0, 10.0]] and ps[1].tolist() == [12.0]
    with pytest.raises(ValueError, match=r"vec has shape \(3,\), the parameters need a 1-D "
                                         r"vector of 7 elements"):
        vector_to_parameters(axonic.zeros(3), ps)
    with pytest.raises(TypeError, match="expected vec of type Tensor, got list"):
        vector_to_parameters([1.0], ps)
