"""The same tiny MLP in axonic and PyTorch (Parameters and matmuls only), for parity runs."""

import numpy as np

import axonic
from axonic import nn
from tests.conftest import torch


def weights(seed: int = 0) -> list:
    r = np.random.default_rng(seed)
    return [r.standard_normal(s).astype(np.float32) * 0.5 for s in [(4, 8), (8,), (8, 3), (3,)]]


def data(seed: int = 1):
    r = np.random.default_rng(seed)
    return r.standard_normal((16, 4)).astype(np.float32), r.standard_normal((16, 3)).astype(
        np.float32)


def ax_params(ws) -> list:
    return [nn.Parameter(axonic.tensor(w.copy())) for w in ws]


def torch_params(ws) -> list:
    return [torch.nn.Parameter(torch.tensor(w.copy())) for w in ws]


def ax_loss(ps, x, y):
    w1, b1, w2, b2 = ps
    h = (axonic.tensor(x) @ w1 + b1).tanh()
    return ((h @ w2 + b2 - axonic.tensor(y)) ** 2).mean()


def torch_loss(ps, x, y):
    w1, b1, w2, b2 = ps
    h = torch.tanh(torch.tensor(x) @ w1 + b1)
    return ((h @ w2 + b2 - torch.tensor(y)) ** 2).mean()


def groups(ps, split_lr):
    """All parameters in one group, or weights and biases in two groups (biases at split_lr)."""
    if split_lr is None:
        return ps
    return [{"params": [ps[0], ps[2]]}, {"params": [ps[1], ps[3]], "lr": split_lr}]
