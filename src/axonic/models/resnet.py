"""ResNet (He et al., 2015) with torchvision's class names, constructor arguments and
``state_dict`` keys (``conv1``, ``bn1``, ``layer1.0.conv1`` ..., ``fc``), so torchvision's
checkpoints load with ``load_state_dict``: ``ResNet``, ``BasicBlock``, ``Bottleneck``,
``resnet18``, ``resnet34``, ``resnet50``."""

from __future__ import annotations

from axonic.autograd.tensor import Tensor
from axonic.models._weights import check_weights, load_weights
from axonic.nn import init
from axonic.nn.activation import ReLU
from axonic.nn.containers import Sequential
from axonic.nn.conv import Conv2d
from axonic.nn.linear import Linear
from axonic.nn.module import Module
from axonic.nn.normalization import BatchNorm2d, GroupNorm
from axonic.nn.pooling import AdaptiveAvgPool2d, MaxPool2d


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1) -> Conv2d:
    """3x3 convolution with padding, no bias (a BatchNorm follows)."""
    return Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                  groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1) -> Conv2d:
    """1x1 convolution, no bias."""
    return Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(Module):
    """Two 3x3 convolutions and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + x)``.

    >>> import axonic
    >>> BasicBlock(8, 8)(axonic.randn(1, 8, 5, 5)).shape
    (1, 8, 5, 5)
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = BatchNorm2d if norm_layer is None else norm_layer
        if groups != 1 or base_width != 64:
            raise ValueError(f"BasicBlock only supports groups=1 and base_width=64, got "
                             f"groups={groups!r}, base_width={base_width!r}")
        if dilation > 1:
            raise NotImplementedError(f"BasicBlock: dilation > 1 is not supported, got "
                                      f"dilation={dilation!r}")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(Module):
    """1x1 (reduce), 3x3 (stride here, as torchvision's "ResNet V1.5"), 1x1 (expand by 4),
    and a shortcut.

    >>> import axonic
    >>> Bottleneck(16, 4)(axonic.randn(1, 16, 5, 5)).shape
    (1, 16, 5, 5)
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = BatchNorm2d if norm_layer is None else norm_layer
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(Module):
    """A residual network: a 7x7 stem, four stages of ``block`` repeated ``layers[i]``
    times (widths 64, 128, 256, 512, times ``block.expansion``), global average pooling and
    a linear classifier ``fc``. Arguments and initialisation as torchvision's ``ResNet``.

    >>> import axonic
    >>> m = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10)
    >>> m(axonic.randn(2, 3, 32, 32)).shape
    (2, 10)
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        if block not in (BasicBlock, Bottleneck) and not (
                isinstance(block, type) and hasattr(block, "expansion")):
            raise ValueError(f"ResNet: block must be BasicBlock, Bottleneck or a Module class "
                             f"with an `expansion` attribute, got {block!r}")
        if len(layers) != 4 or any(not isinstance(n, int) or n < 1 for n in layers):
            raise ValueError(f"ResNet: layers must be 4 positive ints (blocks per stage), "
                             f"got {layers!r}")
        self._norm_layer = BatchNorm2d if norm_layer is None else norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element "
                             f"tuple, got {replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = ReLU(inplace=True)
        self.maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.fc = Linear(512 * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual):
        for m in self.modules():
            if isinstance(m, Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (BatchNorm2d, GroupNorm)):
                init.constant_(m.weight, 1)
                init.constant_(m.bias, 0)
        if zero_init_residual:  # each block starts as the identity (Goyal et al., 2017)
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False) -> Sequential:
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                    norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[1] != 3:
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise self.input_error(f"expected images of shape (N, 3, H, W), got {got}")
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def _resnet(block, layers, weights, progress, **kwargs) -> ResNet:
    check_weights(weights, "ResNet")
    model = ResNet(block, layers, **kwargs)
    return load_weights(model, weights)


def resnet18(*, weights=None, progress=True, **kwargs) -> ResNet:
    """ResNet-18 (11.7M parameters). ``weights``: None (random init), a state_dict or the
    path of a ``.safetensors`` / ``.npz`` file with torchvision's keys.

    >>> resnet18(num_classes=10).fc.out_features
    10
    """
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, progress, **kwargs)


def resnet34(*, weights=None, progress=True, **kwargs) -> ResNet:
    """ResNet-34 (21.8M parameters); ``weights`` as in :func:`resnet18`."""
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, progress, **kwargs)


def resnet50(*, weights=None, progress=True, **kwargs) -> ResNet:
    """ResNet-50 (25.6M parameters, Bottleneck blocks); ``weights`` as in :func:`resnet18`."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, **kwargs)
