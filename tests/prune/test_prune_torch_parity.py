"""Pruning gives PyTorch's masks, state_dict keys, outputs and gradients on the same weights."""

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.nn.utils import prune
from tests.conftest import requires_torch, torch

if torch is not None:
    import torch.nn.utils.prune as tprune


def _pair(kind="conv", seed=0):
    """The same layer in axonic and PyTorch, with equal random weights (no ties)."""
    if kind == "conv":
        a, t = nn.Conv2d(4, 6, 3), torch.nn.Conv2d(4, 6, 3)
    else:
        a, t = nn.Linear(10, 7), torch.nn.Linear(10, 7)
    rng = np.random.default_rng(seed)
    sd = {k: rng.standard_normal(tuple(v.shape)).astype(np.float32)
          for k, v in t.state_dict().items()}
    a.load_state_dict(sd)
    t.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    return a, t


def _same_mask(a, t, name="weight"):
    np.testing.assert_array_equal(getattr(a, name + "_mask").numpy(),
                                  getattr(t, name + "_mask").numpy())


@requires_torch
@pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 1.0, 7])
@pytest.mark.parametrize("kind", ["conv", "linear"])
def test_l1_unstructured_mask_matches_torch(kind, amount):
    a, t = _pair(kind)
    prune.l1_unstructured(a, "weight", amount=amount)
    tprune.l1_unstructured(t, "weight", amount=amount)
    _same_mask(a, t)


@requires_torch
@pytest.mark.parametrize("kind,n,dim", [
    ("conv", 1, 0), ("conv", 2, 0), ("conv", 2, 1), ("conv", float("inf"), -1),
    ("linear", "fro", 0), ("conv", 3, 1), ("conv", float("-inf"), 0), ("linear", 1, 1)])
def test_ln_structured_mask_matches_torch(kind, n, dim):
    a, t = _pair(kind)
    prune.ln_structured(a, "weight", amount=0.5, n=n, dim=dim)
    tprune.ln_structured(t, "weight", amount=0.5, n=n, dim=dim)
    _same_mask(a, t)


@requires_torch
def test_importance_scores_decide_the_mask_as_in_torch():
    a, t = _pair("linear")
    scores = np.random.default_rng(5).standard_normal((7, 10)).astype(np.float32)
    prune.l1_unstructured(a, "weight", 0.4, importance_scores=axonic.tensor(scores))
    tprune.l1_unstructured(t, "weight", 0.4, importance_scores=torch.from_numpy(scores))
    _same_mask(a, t)
    a, t = _pair("conv")
    scores = np.random.default_rng(6).standard_normal((6, 4, 3, 3)).astype(np.float32)
    prune.ln_structured(a, "weight", 2, n=1, dim=0, importance_scores=axonic.tensor(scores))
    tprune.ln_structured(t, "weight", 2, n=1, dim=0, importance_scores=torch.from_numpy(scores))
    _same_mask(a, t)


@requires_torch
def test_repeated_pruning_composes_masks_as_in_torch():
    a, t = _pair("conv")
    steps = [("l1_unstructured", dict(amount=0.3)),
             ("ln_structured", dict(amount=0.34, n=2, dim=0)),
             ("l1_unstructured", dict(amount=5)),
             ("ln_structured", dict(amount=1, n=1, dim=1)),
             ("custom_from_mask", None)]
    cm = (np.random.default_rng(2).random((6, 4, 3, 3)) > 0.2).astype(np.float32)
    for fn, kw in steps:
        if fn == "custom_from_mask":
            prune.custom_from_mask(a, "weight", mask=axonic.tensor(cm))
            tprune.custom_from_mask(t, "weight", mask=torch.from_numpy(cm))
        else:
            getattr(prune, fn)(a, "weight", **kw)
            getattr(tprune, fn)(t, "weight", **kw)
        _same_mask(a, t)
    hook = [h for h in a._forward_pre_hooks.values() if isinstance(h, prune.BasePruningMethod)]
    assert len(hook) == 1 and isinstance(hook[0], prune.PruningContainer) and len(hook[0]) == 5


@requires_torch
def test_global_unstructured_matches_torch():
    a1, t1 = _pair("conv", 0)
    a2, t2 = _pair("linear", 1)
    prune.l1_unstructured(a2, "weight", 0.2)  # an earlier mask is respected
    tprune.l1_unstructured(t2, "weight", 0.2)
    prune.global_unstructured([(a1, "weight"), (a2, "weight"), (a2, "bias")],
                              prune.L1Unstructured, amount=0.6)
    tprune.global_unstructured([(t1, "weight"), (t2, "weight"), (t2, "bias")],
                               tprune.L1Unstructured, amount=0.6)
    _same_mask(a1, t1)
    _same_mask(a2, t2)
    _same_mask(a2, t2, "bias")


@requires_torch
def test_pruned_layer_state_dict_outputs_and_gradients_match_torch():
    a, t = _pair("conv")
    prune.ln_structured(a, "weight", 0.5, n=2, dim=0)
    tprune.ln_structured(t, "weight", 0.5, n=2, dim=0)
    assert list(a.state_dict()) == list(t.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in a.named_buffers()] == ["weight_mask"]
    x = np.random.default_rng(3).standard_normal((2, 4, 7, 7)).astype(np.float32)
    ya, yt = a(axonic.tensor(x)), t(torch.from_numpy(x))
    np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), atol=1e-5)
    ya.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(a.weight_orig.grad.numpy(), t.weight_orig.grad.numpy(), atol=1e-4)
    # the gradient reaches the unpruned entries only
    assert np.all(a.weight_orig.grad.numpy()[a.weight_mask.numpy() == 0] == 0)


@requires_torch
def test_pruned_state_dict_loads_into_torch_and_back():
    a, t = _pair("linear")
    prune.l1_unstructured(a, "weight", 0.5)
    tprune.identity(t, "weight")
    t.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in a.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((3, 10)).astype(np.float32)
    np.testing.assert_allclose(a(axonic.tensor(x)).detach().numpy(),
                               t(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
    b = prune.identity(nn.Linear(10, 7), "weight")
    b.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    np.testing.assert_array_equal(b(axonic.tensor(x)).detach().numpy(),
                                  a(axonic.tensor(x)).detach().numpy())
    np.testing.assert_array_equal(b.weight_mask.numpy(), a.weight_mask.numpy())


@requires_torch
def test_remove_makes_pruning_permanent_as_in_torch():
    a, t = _pair("linear")
    prune.l1_unstructured(a, "weight", 0.5)
    tprune.l1_unstructured(t, "weight", 0.5)
    prune.remove(a, "weight")
    tprune.remove(t, "weight")
    assert list(a.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    assert isinstance(a.weight, nn.Parameter) and not prune.is_pruned(a)
    np.testing.assert_array_equal(a.weight.detach().numpy(), t.weight.detach().numpy())
    assert not a._forward_pre_hooks
