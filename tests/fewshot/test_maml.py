"""MAML's meta-gradient equals PyTorch's on one task (second and first order)."""

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.nn.maml import MAML, functional_call
from tests.conftest import torch


def _models():
    ours = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(),
                                 torch.nn.Linear(16, 3)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _torch_meta_gradient(model, task, lr, steps, first_order):
    xs, ys, xq, yq = (torch.tensor(a) for a in task)
    fast = dict(model.named_parameters())
    for _ in range(steps):
        out = torch.func.functional_call(model, fast, (xs,))
        loss = torch.nn.functional.cross_entropy(out, ys)
        grads = torch.autograd.grad(loss, list(fast.values()), create_graph=not first_order)
        fast = {n: p - lr * g for (n, p), g in zip(fast.items(), grads)}
    query = torch.nn.functional.cross_entropy(torch.func.functional_call(model, fast, (xq,)),
                                              yq)
    query.backward()
    return query.item(), {n: p.grad.numpy() for n, p in model.named_parameters()}


def _task(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((5, 4)), rng.integers(0, 3, 5),
            rng.standard_normal((9, 4)), rng.integers(0, 3, 9))


@pytest.mark.parametrize("steps,first_order", [(1, False), (3, False), (2, True)])
def test_maml_meta_gradient_matches_torch(steps, first_order):
    ours, theirs = _models()
    task = _task()
    maml = MAML(ours, lr=0.5, first_order=first_order)
    xs, ys, xq, yq = (axonic.tensor(a) for a in task)
    fast = None
    for _ in range(steps):
        fast = maml.adapt(nn.functional.cross_entropy(maml(xs, params=fast), ys), fast)
    query = nn.functional.cross_entropy(maml(xq, params=fast), yq)
    query.backward()
    want_loss, want = _torch_meta_gradient(theirs, task, 0.5, steps, first_order)
    np.testing.assert_allclose(query.item(), want_loss, rtol=1e-12)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), want[name], rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_second_order_terms_change_the_meta_gradient():
    grads = []
    for first_order in (False, True):
        ours, _ = _models()
        maml = MAML(ours, lr=0.5, first_order=first_order)
        xs, ys, xq, yq = (axonic.tensor(a) for a in _task())
        fast = maml.adapt(nn.functional.cross_entropy(maml(xs), ys))
        nn.functional.cross_entropy(maml(xq, params=fast), yq).backward()
        grads.append(ours[0].weight.grad.numpy().copy())
    assert not np.allclose(grads[0], grads[1], rtol=1e-3)


def test_functional_call_restores_the_parameters_and_names_unknown_ones():
    lin = nn.Linear(2, 2)
    before = lin.weight
    functional_call(lin, {"weight": axonic.zeros(2, 2)}, axonic.ones(1, 2))
    assert lin.weight is before
    with pytest.raises(KeyError, match="functional_call: Linear has no parameter 'scale'"):
        functional_call(lin, {"scale": axonic.zeros(1)}, axonic.ones(1, 2))
    assert lin.weight is before


def test_maml_rejects_a_non_positive_lr():
    with pytest.raises(ValueError, match="MAML: lr must be positive, got 0"):
        MAML(nn.Linear(2, 2), lr=0)
