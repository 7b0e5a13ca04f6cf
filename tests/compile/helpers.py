"""What the compile tests share: a small model, inputs, and calls through a plan."""

import numpy as np

import axonic
from axonic import nn


def mlp():
    axonic.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).eval()


def randn(*shape, seed=0):
    return axonic.tensor(np.random.default_rng(seed).standard_normal(shape, dtype="float32"))


def kinds(compiled):
    """What each signature of ``compiled`` runs: "Plan" or "_Eager"."""
    return [type(p).__name__ for p in compiled.__dict__["_compiler"].plans.values()]


def calls(compiled, model, x, n=3):
    """The compiled model's last of ``n`` calls and the eager output, under no_grad."""
    with axonic.no_grad():
        for _ in range(n):
            out = compiled(x)
        return out.numpy(), model(x).numpy()
