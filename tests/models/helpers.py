"""Copying weights between torch and axonic modules, and comparing their gradients."""

import numpy as np
import torch

import axonic


def to_axonic(torch_module, axonic_module):
    """Load the torch module's state_dict (all keys, strict) into the axonic module."""
    axonic_module.load_state_dict({k: v.detach().numpy().copy()
                                   for k, v in torch_module.state_dict().items()})
    return axonic_module


def assert_same_keys_and_shapes(torch_module, axonic_module):
    ts = {k: tuple(v.shape) for k, v in torch_module.state_dict().items()}
    xs = {k: tuple(v.shape) for k, v in axonic_module.state_dict().items()}
    assert list(xs) == list(ts)
    assert xs == ts


def assert_param_grads_close(torch_module, axonic_module, rtol=1e-4, atol=1e-5):
    tg = {k: p.grad for k, p in torch_module.named_parameters() if p.requires_grad}
    checked = 0
    for k, p in axonic_module.named_parameters():
        if tg.get(k) is None:
            assert p.grad is None, k
            continue
        np.testing.assert_allclose(p.grad.numpy(), tg[k].numpy(), rtol=rtol, atol=atol,
                                   err_msg=k)
        checked += 1
    assert checked == len([g for g in tg.values() if g is not None])


def pair_input(shape, seed=0):
    """The same random float32 input for both libraries, both requiring grad."""
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return torch.tensor(a, requires_grad=True), axonic.tensor(a, requires_grad=True)
