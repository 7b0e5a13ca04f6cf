"""InstanceNorm1d/2d/3d, LocalResponseNorm and ChannelShuffle against PyTorch's layers on
the same weights and inputs: outputs, input and parameter gradients, running statistics
over several training steps and eval mode; float64 gradcheck and gradgradcheck of the
functional forms; their errors by name."""

import numpy as np
import pytest
import torch

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def pair(shape, dtype=np.float64):
    x = (RNG.standard_normal(shape) * 2 + 0.5).astype(dtype)
    return axonic.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def close(a, b, tol):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    np.testing.assert_allclose(a, b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("affine, track", [(False, False), (True, False), (True, True),
                                           (False, True)])
def test_instance_norm_layers_match_torch_in_training_and_eval(dims, affine, track):
    name = f"InstanceNorm{dims}d"
    mine = getattr(nn, name)(3, affine=affine, track_running_stats=track, momentum=0.2)
    theirs = getattr(torch.nn, name)(3, affine=affine, track_running_stats=track,
                                     momentum=0.2).double()
    mine = mine.to(axonic.float64)
    if affine:
        w, b = RNG.uniform(0.5, 1.5, 3), RNG.standard_normal(3)
        mine.weight.data, mine.bias.data = axonic.tensor(w), axonic.tensor(b)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))
    shape = (2, 3) + (5, 4, 3)[:dims]
    for _ in range(3):  # running statistics move the same way step after step
        x, tx = pair(shape)
        y, ty = mine(x), theirs(tx)
        close(y, ty, 1e-12)
        g = RNG.standard_normal(shape)
        y.backward(axonic.tensor(g))
        ty.backward(torch.tensor(g))
        close(x.grad, tx.grad, 1e-11)
        if track:
            close(mine.running_mean, theirs.running_mean, 1e-12)
            close(mine.running_var, theirs.running_var, 1e-12)
    if affine:
        close(mine.weight.grad, theirs.weight.grad, 1e-11)
        close(mine.bias.grad, theirs.bias.grad, 1e-11)
    mine.eval(), theirs.eval()
    x, tx = pair(shape[1:])  # unbatched
    close(mine(x), theirs(tx), 1e-12)
    assert repr(mine) == repr(theirs)


def test_instance_norm_state_dict_keys_and_values_load_from_torch():
    theirs = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    theirs(torch.randn(4, 3, 5, 5))  # running statistics away from their start
    mine = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({k: axonic.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((2, 3, 5, 5)).astype(np.float32)
    close(mine.eval()(axonic.tensor(x)), theirs.eval()(torch.tensor(x)), 2e-6)
    assert mine.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 0


def test_instance_norm_without_bias_as_torch():
    mine, theirs = nn.InstanceNorm1d(2, affine=True, bias=False), torch.nn.InstanceNorm1d(
        2, affine=True, bias=False)
    assert mine.bias is None and repr(mine) == repr(theirs)
    x, tx = pair((3, 2, 5), np.float32)
    close(mine(x), theirs(tx), 2e-6)


def test_instance_norm_functional_gradchecks():
    x = axonic.tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    w = axonic.tensor(RNG.uniform(0.5, 1.5, 3), requires_grad=True)
    b = axonic.tensor(RNG.standard_normal(3), requires_grad=True)
    for fn in (lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
               lambda x, w, b: F.local_response_norm(x * w.reshape(1, 3, 1) + b.reshape(1, 3, 1),
                                                     3, alpha=0.5, beta=0.75, k=1.0),
               lambda x, w, b: F.channel_shuffle(x, 3) * w.reshape(1, 3, 1)):
        assert gradcheck(fn, (x, w, b))
        assert gradgradcheck(fn, (x, w, b))


@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize("shape", [(2, 7, 4), (2, 6, 3, 4), (1, 4, 2, 3, 3)])
def test_local_response_norm_matches_torch(size, shape):
    x, tx = pair(shape)
    mine, theirs = nn.LocalResponseNorm(size, 0.3, 0.6, 2.0), torch.nn.LocalResponseNorm(
        size, 0.3, 0.6, 2.0)
    y, ty = mine(x), theirs(tx)
    close(y, ty, 1e-12)
    g = RNG.standard_normal(shape)
    y.backward(axonic.tensor(g))
    ty.backward(torch.tensor(g))
    close(x.grad, tx.grad, 1e-12)
    assert repr(mine) == repr(theirs)


def test_channel_shuffle_matches_torch():
    x, tx = pair((2, 6, 3, 2))
    y, ty = nn.ChannelShuffle(3)(x), torch.nn.ChannelShuffle(3)(tx)
    close(y, ty, 0)
    assert repr(nn.ChannelShuffle(3)) == repr(torch.nn.ChannelShuffle(3))


@pytest.mark.parametrize("call, message", [
    (lambda: nn.InstanceNorm2d(3)(axonic.ones(2, 4, 5, 5)),
     "InstanceNorm2d: expected 3 channels (dim 1), got shape (2, 4, 5, 5)"),
    (lambda: nn.InstanceNorm1d(3)(axonic.ones(2, 3, 4, 4)),
     "InstanceNorm1d: expected a 2-d (unbatched) or 3-d (batched) input, got shape "
     "(2, 3, 4, 4)"),
    (lambda: nn.InstanceNorm1d(3)(axonic.ones(2, 3, 1)),
     "InstanceNorm1d: expected more than 1 spatial element per channel, got input of shape "
     "(2, 3, 1)"),
    (lambda: nn.InstanceNorm2d(0),
     "InstanceNorm2d: num_features must be a positive integer, got 0"),
    (lambda: F.instance_norm(axonic.ones(2, 3, 4), weight=axonic.ones(2)),
     "instance_norm: weight must have shape (3,) for an input with 3 channels, got (2,)"),
    (lambda: F.instance_norm(axonic.ones(2, 3, 4), use_input_stats=False),
     "instance_norm: running_mean and running_var are needed when use_input_stats=False"),
    (lambda: nn.LocalResponseNorm(0)(axonic.ones(1, 2, 3)),
     "LocalResponseNorm: size must be a positive int, got 0"),
    (lambda: nn.LocalResponseNorm(2)(axonic.ones(2, 3)),
     "LocalResponseNorm: expected input of shape (N, C, *), got shape (2, 3)"),
    (lambda: nn.ChannelShuffle(4)(axonic.ones(1, 6, 2)),
     "ChannelShuffle: expected input (N, C, *) with C divisible by groups=4, got shape "
     "(1, 6, 2)"),
    (lambda: nn.Hardshrink(-1.0), "Hardshrink: lambd must be >= 0, got -1.0"),
    (lambda: F.softshrink(axonic.ones(2), "a"), "softshrink: lambd must be a number, got 'a'"),
    (lambda: nn.Softmax2d()(axonic.ones(2, 3)),
     "Softmax2d: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got (2, 3)"),
])
def test_errors_name_the_layer_and_the_value(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)
