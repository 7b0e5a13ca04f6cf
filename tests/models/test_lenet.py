"""LeNet5 against the same network written in torch.nn: outputs and parameter gradients."""

import numpy as np
import pytest
import torch
from torch import nn

import axonic
from axonic.models import LeNet5

from .helpers import assert_param_grads_close, assert_same_keys_and_shapes, pair_input, to_axonic


class TorchLeNet5(nn.Module):
    def __init__(self, act, pool):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool, self.act = pool(2), act()
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(self.act(self.conv1(x)))
        x = self.pool(self.act(self.conv2(x))).flatten(1)
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))


@pytest.mark.parametrize("activation,pooling,act,pool", [
    ("tanh", "avg", nn.Tanh, nn.AvgPool2d), ("relu", "max", nn.ReLU, nn.MaxPool2d)])
def test_lenet5_matches_torch(activation, pooling, act, pool):
    torch.manual_seed(0)
    ref = TorchLeNet5(act, pool)
    model = LeNet5(activation=activation, pooling=pooling)
    assert_same_keys_and_shapes(ref, model)
    to_axonic(ref, model)
    tx, ax = pair_input((4, 1, 28, 28))
    tout, aout = ref(tx), model(ax)
    np.testing.assert_allclose(aout.detach().numpy(), tout.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    tout.square().sum().backward()
    aout.square().sum().backward()
    assert_param_grads_close(ref, model)
    np.testing.assert_allclose(ax.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-6)


def test_lenet5_errors_name_the_bad_input():
    with pytest.raises(ValueError, match="LeNet5: activation must be 'tanh' or 'relu', got "
                                         "'gelu'"):
        LeNet5(activation="gelu")
    with pytest.raises(ValueError, match="LeNet5: pooling must be 'avg' or 'max', got 'min'"):
        LeNet5(pooling="min")
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 1, 28, 28\), got "
                                         r"\(2, 1, 32, 32\)"):
        LeNet5()(axonic.randn(2, 1, 32, 32))
