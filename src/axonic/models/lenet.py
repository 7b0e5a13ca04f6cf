"""LeNet-5 (LeCun et al., 1998): the convolution, squashing, pooling pattern of CNNs."""

from __future__ import annotations

from axonic.autograd.tensor import Tensor
from axonic.nn.activation import ReLU, Tanh
from axonic.nn.conv import Conv2d
from axonic.nn.linear import Linear
from axonic.nn.module import Module
from axonic.nn.pooling import AvgPool2d, MaxPool2d

_ACTIVATIONS = {"tanh": Tanh, "relu": ReLU}
_POOLS = {"avg": AvgPool2d, "max": MaxPool2d}


class LeNet5(Module):
    """Two convolution + activation + 2x2 pooling stages (6 and 16 feature maps of 5x5
    kernels), then 120, 84 and ``num_classes`` fully connected units. 28x28 inputs are
    padded by 2 to LeNet's 32x32. The 1998 paper's tanh and average pooling by default;
    ``activation="relu", pooling="max"`` gives the modern variant.

    >>> import axonic
    >>> LeNet5()(axonic.randn(2, 1, 28, 28)).shape
    (2, 10)
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "tanh",
                 pooling: str = "avg"):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet5: activation must be 'tanh' or 'relu', got {activation!r}")
        if pooling not in _POOLS:
            raise ValueError(f"LeNet5: pooling must be 'avg' or 'max', got {pooling!r}")
        self.in_channels = in_channels
        self.conv1 = Conv2d(in_channels, 6, kernel_size=5, padding=2)
        self.conv2 = Conv2d(6, 16, kernel_size=5)
        self.pool = _POOLS[pooling](2)
        self.act = _ACTIVATIONS[activation]()
        self.fc1 = Linear(16 * 5 * 5, 120)
        self.fc2 = Linear(120, 84)
        self.fc3 = Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != (
                self.in_channels, 28, 28):
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise self.input_error(f"expected images of shape (N, {self.in_channels}, 28, 28), "
                                   f"got {got}")
        x = self.pool(self.act(self.conv1(x)))
        x = self.pool(self.act(self.conv2(x))).flatten(1)
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))
