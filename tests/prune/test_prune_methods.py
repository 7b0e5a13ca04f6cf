"""Random pruning's counts and structure, custom methods, the forward pre-hook, errors."""

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.nn.utils import prune


def test_random_unstructured_prunes_the_asked_number_of_entries():
    layer = nn.Conv2d(3, 8, 3)
    prune.random_unstructured(layer, "weight", amount=0.4)
    mask = layer.weight_mask.numpy()
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert int((mask == 0).sum()) == round(0.4 * mask.size)
    prune.random_unstructured(layer, "weight", amount=10)  # of the entries still unpruned
    assert int((layer.weight_mask.numpy() == 0).sum()) == round(0.4 * mask.size) + 10


def test_random_unstructured_is_reproducible_with_manual_seed():
    masks = []
    for _ in range(2):
        axonic.manual_seed(7)
        layer = nn.Linear(20, 20)
        prune.random_unstructured(layer, "weight", amount=0.5)
        masks.append(layer.weight_mask.numpy())
    np.testing.assert_array_equal(*masks)


def test_random_structured_prunes_whole_channels():
    layer = nn.Conv2d(3, 10, 3)
    prune.random_structured(layer, "weight", amount=0.3, dim=0)
    per_channel = layer.weight_mask.numpy().reshape(10, -1)
    assert set(per_channel.min(1)) <= {0.0, 1.0}
    assert (per_channel.min(1) == per_channel.max(1)).all()  # all or nothing per channel
    assert int((per_channel.max(1) == 0).sum()) == 3
    prune.random_structured(layer, "weight", amount=0.5, dim=0)  # half of the 7 left: 4
    assert int((layer.weight_mask.numpy().reshape(10, -1).max(1) == 0).sum()) == 7


def test_custom_method_subclass_is_applied_and_composes():
    class KeepPositive(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            return default_mask * (t > 0).to(default_mask.dtype)

    layer = nn.Linear(6, 5)
    KeepPositive.apply(layer, "weight")
    w = layer.weight_orig.detach().numpy()
    np.testing.assert_array_equal(layer.weight_mask.numpy(), (w > 0).astype(np.float32))
    prune.l1_unstructured(layer, "weight", amount=2)
    assert int(layer.weight_mask.numpy().sum()) == int((w > 0).sum()) - 2


def test_forward_pre_hook_recomputes_the_weight_after_a_step():
    layer = nn.Linear(4, 3)
    prune.l1_unstructured(layer, "weight", amount=0.5)
    opt = axonic.optim.SGD(layer.parameters(), lr=0.1)
    layer(axonic.randn(5, 4)).pow(2).sum().backward()
    opt.step()
    y = layer(axonic.ones(1, 4))  # the hook applies the mask to the stepped weight_orig
    w = (layer.weight_orig * layer.weight_mask).detach().numpy()
    np.testing.assert_allclose(layer.weight.detach().numpy(), w)
    np.testing.assert_allclose(y.detach().numpy()[0], w.sum(1) + layer.bias.detach().numpy(),
                               rtol=1e-6)
    assert (layer.weight.detach().numpy()[layer.weight_mask.numpy() == 0] == 0).all()


def test_is_pruned_sees_submodules_and_prune_method_leaves_modules_alone():
    net = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2))
    assert not prune.is_pruned(net)
    prune.identity(net[1], "bias")
    assert prune.is_pruned(net)
    t = axonic.tensor([[1.0, -3.0], [0.5, 2.0]])
    out = prune.L1Unstructured(amount=2).prune(t)
    np.testing.assert_array_equal(out.numpy(), [[0.0, -3.0], [0.0, 2.0]])


@pytest.mark.parametrize("call,message", [
    (lambda l: prune.l1_unstructured(l, "weight", amount=1.5),
     "amount=1.5 should either be a float in the range [0, 1] or a non-negative integer"),
    (lambda l: prune.l1_unstructured(l, "weight", amount=-1),
     "amount=-1 should either be a float"),
    (lambda l: prune.l1_unstructured(l, "weight", amount="half"),
     "amount must be a float in [0, 1] or a non-negative int, got 'half' (str)"),
    (lambda l: prune.l1_unstructured(l, "weight", amount=13),
     "amount=13 should be smaller than the number of parameters to prune=12"),
    (lambda l: prune.ln_structured(l, "bias", amount=1, n=2, dim=0),
     "LnStructured: structured pruning can only be applied to tensors of at least 2 "
     "dimensions; got shape (3,)"),
    (lambda l: prune.ln_structured(l, "weight", amount=1, n=2, dim=2),
     "LnStructured: dim 2 is out of range for a tensor of shape (3, 4)"),
    (lambda l: prune.ln_structured(l, "weight", amount=1, n="nuc", dim=0),
     "ln_structured: n must be a number, inf, -inf or 'fro'; got 'nuc'"),
    (lambda l: prune.l1_unstructured(l, "weights", amount=1),
     "prune: Linear has no tensor 'weights' to prune (got NoneType)"),
    (lambda l: prune.l1_unstructured(l, "weight", 1, importance_scores=axonic.ones(4)),
     "importance_scores should have the shape of parameter 'weight', (3, 4); got (4,)"),
    (lambda l: prune.custom_from_mask(l, "weight", mask=axonic.ones(4, 3)),
     "custom_from_mask: the mask has shape (4, 3), the tensor (3, 4); they must be equal"),
    (lambda l: prune.remove(l, "weight"),
     "prune.remove: parameter 'weight' of Linear is not pruned; nothing to remove"),
    (lambda l: prune.global_unstructured([(l, "weight")], prune.LnStructured, amount=1, n=2,
                                         dim=0),
     "global_unstructured(): only 'unstructured' pruning methods are supported; "
     "LnStructured is 'structured'"),
    (lambda l: prune.global_unstructured(5, prune.L1Unstructured, amount=1),
     "global_unstructured(): parameters is not an Iterable"),
    (lambda l: prune.global_unstructured([(l, "weight")], prune.L1Unstructured,
                                         importance_scores=[1], amount=1),
     "importance_scores must be a dict keyed by (module, name), got list"),
])
def test_bad_pruning_arguments_raise_clear_errors(call, message):
    layer = nn.Linear(4, 3)
    with pytest.raises((ValueError, TypeError, IndexError, AttributeError)) as e:
        call(layer)
    assert message in str(e.value)


def test_failed_pruning_leaves_the_layer_as_it_was():
    layer = nn.Linear(4, 3)
    with pytest.raises(ValueError):
        prune.l1_unstructured(layer, "weight", amount=100)
    assert isinstance(layer.weight, nn.Parameter)
    assert sorted(layer.state_dict()) == ["bias", "weight"] and not prune.is_pruned(layer)


def test_structured_method_without_dim_in_a_container_is_refused():
    class NoDim(prune.BasePruningMethod):
        PRUNING_TYPE = "structured"

        def compute_mask(self, t, default_mask):
            return default_mask

    layer = nn.Linear(4, 3)
    prune.identity(layer, "weight")
    with pytest.raises(AttributeError, match="NoDim: pruning methods of PRUNING_TYPE "
                                             "'structured' need the attribute `dim`"):
        NoDim.apply(layer, "weight")
