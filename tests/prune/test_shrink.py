"""shrink: pruned channels and units physically removed, outputs equal to the masked model's."""

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.nn.utils import prune


def _cnn():
    net = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.Dropout(0.2), nn.Flatten(),
        nn.Linear(16 * 2 * 2, 32), nn.Tanh(), nn.Linear(32, 10))
    rng = np.random.default_rng(0)
    for m in net:
        if isinstance(m, nn.BatchNorm2d):  # non-trivial running statistics and affine terms
            m.running_mean._data[:] = rng.standard_normal(m.num_features)
            m.running_var._data[:] = rng.random(m.num_features) + 0.5
            m.weight._data[:] = rng.standard_normal(m.num_features)
            m.bias._data[:] = rng.standard_normal(m.num_features)
    return net.eval()


def _close(a, b, x):
    with axonic.no_grad():
        np.testing.assert_allclose(a(x).numpy(), b(x).numpy(), atol=2e-5, rtol=1e-5)


def test_shrink_removes_half_the_filters_and_keeps_the_outputs():
    net = _cnn()
    for i in (0, 4, 9):
        prune.ln_structured(net[i], "weight", amount=0.5, n=2, dim=0)
        keep = (net[i].weight_mask.numpy().reshape(net[i].weight_mask.shape[0], -1).max(1) > 0)
        prune.custom_from_mask(net[i], "bias", mask=axonic.tensor(keep.astype(np.float32)))
    small = prune.shrink(net)
    assert (small[0].out_channels, small[1].num_features, small[4].in_channels) == (4, 4, 4)
    assert (small[4].out_channels, small[9].in_features, small[9].out_features) == (8, 32, 16)
    assert small[11].in_features == 16 and small[11].out_features == 10
    assert not prune.is_pruned(small) and prune.is_pruned(net)  # the original is untouched
    assert sum(p.numel() for p in small.parameters()) < 0.4 * sum(
        p.numel() for p in net.parameters())
    _close(small, net, axonic.randn(6, 1, 8, 8))


def test_shrink_folds_the_constant_output_of_a_pruned_unit_into_the_next_bias():
    net = _cnn()
    prune.ln_structured(net[4], "weight", amount=0.5, n=1, dim=0)  # bias kept: constants
    prune.ln_structured(net[9], "weight", amount=0.25, n=1, dim=0)
    small = prune.shrink(net)
    assert small[4].out_channels == 8 and small[9].out_features == 24
    _close(small, net, axonic.randn(5, 1, 8, 8))


def test_shrink_keeps_constant_channels_that_a_padded_conv_reads():
    net = _cnn()
    prune.ln_structured(net[0], "weight", amount=0.5, n=2, dim=0)  # next conv has no padding
    small = prune.shrink(net)
    assert small[0].out_channels == 4
    padded = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3, padding=1)).eval()
    padded[0].bias._data[:] = 1.0  # constant channels equal to 1: not foldable under padding
    prune.ln_structured(padded[0], "weight", amount=2, n=2, dim=0)
    small = prune.shrink(padded)
    assert small[0].out_channels == 4
    _close(small, padded, axonic.randn(2, 1, 6, 6))


def test_shrink_drops_units_the_next_layer_never_reads():
    net = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 5), nn.GELU(),
                        nn.Linear(5, 3)).eval()
    prune.ln_structured(net[2], "weight", amount=0.5, n=2, dim=1)  # unread inputs of layer 2
    prune.l1_unstructured(net[4], "weight", amount=0.3)  # unstructured: stays dense
    small = prune.shrink(net)
    assert (small[0].out_features, small[2].in_features, small[4].in_features) == (6, 6, 5)
    _close(small, net, axonic.randn(4, 6))


def test_shrunk_model_trains_and_saves_as_a_plain_model():
    net = _cnn()
    prune.ln_structured(net[0], "weight", amount=0.5, n=2, dim=0)
    small = prune.shrink(net).train()
    assert all("_orig" not in k and "_mask" not in k for k in small.state_dict())
    small(axonic.randn(4, 1, 8, 8)).sum().backward()
    assert all(p.grad is not None for p in small.parameters())


@pytest.mark.parametrize("model,message", [
    (nn.Linear(3, 2), "shrink: expected an nn.Sequential of Conv2d/BatchNorm/activation/"
                      "pooling/Flatten/Linear layers, got Linear"),
    (nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=1), nn.Linear(4, 2)),
     "shrink: layer 1 (Softmax) is not supported"),
    (nn.Sequential(nn.Conv2d(4, 4, 3, groups=2), nn.Conv2d(4, 2, 1)),
     "shrink: layer 0 (Conv2d) has groups=2; only groups=1 convolutions can be shrunk"),
    (nn.Sequential(nn.Conv2d(1, 3, 3), nn.Flatten(), nn.Linear(10, 2)),
     "shrink: Linear in_features=10 is not a multiple of the 3 channels of the layer before"),
])
def test_shrink_refuses_what_it_cannot_shrink(model, message):
    with pytest.raises((TypeError, ValueError)) as e:
        prune.shrink(model)
    assert message in str(e.value)
