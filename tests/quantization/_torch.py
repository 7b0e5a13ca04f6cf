"""Shared helpers: PyTorch's quantisation (the reference) without its deprecation noise,
and the same small models in both frameworks."""

import warnings

import numpy as np
import torch

import axonic
from axonic import nn

warnings.filterwarnings("ignore", module=r"torch\.ao\..*")
warnings.filterwarnings("ignore", message=r".*(deprecated|reduce_range).*")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import torch.ao.quantization as tq  # noqa: E402,F401


def to_axonic(torch_model, axonic_model):
    axonic_model.load_state_dict({k: v.detach().numpy() for k, v in
                                  torch_model.state_dict().items()})
    return axonic_model


def cnn(fw, pool="max"):
    """Conv+BN+ReLU, pooling, Conv+ReLU, Flatten, Linear+ReLU, Linear (8x8 inputs)."""
    p = fw.nn.MaxPool2d(2) if pool == "max" else fw.nn.AvgPool2d(2)
    return fw.nn.Sequential(
        fw.nn.Conv2d(1, 8, 3, padding=1), fw.nn.BatchNorm2d(8), fw.nn.ReLU(), p,
        fw.nn.Conv2d(8, 16, 3, padding=1), fw.nn.ReLU(), fw.nn.Flatten(),
        fw.nn.Linear(16 * 4 * 4, 32), fw.nn.ReLU(), fw.nn.Linear(32, 10))


CNN_FUSE = [["0", "1", "2"], ["4", "5"], ["7", "8"]]


def cnn_pair(pool="max", seed=0):
    torch.manual_seed(seed)
    t = cnn(torch, pool).eval()
    with torch.no_grad():  # batch norm statistics that are not the identity
        t[1].running_mean.uniform_(-0.5, 0.5)
        t[1].running_var.uniform_(0.5, 2.0)
        t[1].weight.uniform_(0.5, 1.5)
        t[1].bias.uniform_(-0.2, 0.2)
    return t, to_axonic(t, cnn(axonic, pool).eval())


def mlp(fw):
    return fw.nn.Sequential(fw.nn.Linear(64, 48), fw.nn.ReLU(), fw.nn.Linear(48, 10))


def mlp_pair(seed=0):
    torch.manual_seed(seed)
    t = mlp(torch).eval()
    return t, to_axonic(t, mlp(axonic).eval())


def images(n=64, seed=0):
    """Real digits (scikit-learn's 8x8), scaled to [0, 1], shape (n, 1, 8, 8)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(d.images), n, replace=False)
    return (d.images[idx] / 16.0).astype(np.float32)[:, None]


def static_pair(torch_model, axonic_model, calib, fuse=None, backend="x86"):
    """Both frameworks' prepare -> calibrate -> convert on the same float model."""
    tw, aw = tq.QuantWrapper(torch_model), axonic.quantization.QuantWrapper(axonic_model)
    tw.qconfig = tq.get_default_qconfig(backend)
    aw.qconfig = axonic.quantization.get_default_qconfig(backend)
    if fuse:
        tq.fuse_modules(tw.module, fuse, inplace=True)
        aw.module = axonic.quantization.fuse_modules(aw.module, fuse)
    tp, ap = tq.prepare(tw), axonic.quantization.prepare(aw)
    tp(torch.from_numpy(calib))
    ap(axonic.tensor(calib))
    return tq.convert(tp), axonic.quantization.convert(ap)


__all__ = ["nn"]
