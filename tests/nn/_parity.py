"""Shared check: an axonic layer against the same-named PyTorch layer on the same weights."""

import numpy as np

import axonic
from tests.conftest import torch


def load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def assert_layer_matches(ours, theirs, *inputs, rtol=1e-5, atol=1e-6, seed=0, load=True,
                         grad_rtol=None, grad_atol=None):
    """Same state_dict, same inputs: compare the output, every input gradient, every
    parameter gradient, and the state after the call (running statistics)."""
    if load:
        load_from_torch(ours, theirs)
    grad_rtol = rtol if grad_rtol is None else grad_rtol
    grad_atol = atol if grad_atol is None else grad_atol
    ours_in = [axonic.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    theirs_in = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    out = ours(*ours_in)
    ref = theirs(*theirs_in)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=rtol, atol=atol,
                               err_msg="forward")
    assert out.dtype == np.dtype(str(ref.dtype).replace("torch.", "")), "dtype"
    if ref.requires_grad:
        g = np.random.default_rng(seed).standard_normal(ref.shape).astype(
            out.dtype if out.dtype.kind == "f" else np.float32)
        out.backward(axonic.tensor(g))
        ref.backward(torch.tensor(g))
        for k, (a, b) in enumerate(zip(ours_in, theirs_in)):
            if b.requires_grad:
                np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=grad_rtol,
                                           atol=grad_atol, err_msg=f"gradient of input {k}")
        theirs_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            tp = theirs_params[name]
            assert (p.grad is None) == (tp.grad is None), name
            if tp.grad is not None:
                np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=grad_rtol,
                                           atol=grad_atol, err_msg=f"gradient of {name}")
    theirs_state = theirs.state_dict()
    for k, v in ours.state_dict().items():
        np.testing.assert_allclose(v.numpy(), theirs_state[k].numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"state {k}")
    return out, ref
