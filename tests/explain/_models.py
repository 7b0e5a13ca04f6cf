"""The same small MLP and CNN in axonic and PyTorch, with the same weights."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from axonic import nn

torch = pytest.importorskip("torch")


def mlp_pair(dtype="float64", act="relu", seed=0):
    torch.manual_seed(seed)
    acts = {"relu": (nn.ReLU, torch.nn.ReLU), "tanh": (nn.Tanh, torch.nn.Tanh)}
    ours_act, their_act = acts[act]
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 16), their_act(), torch.nn.Linear(16, 8),
                                 their_act(), torch.nn.Linear(8, 3))
    ours = nn.Sequential(nn.Linear(5, 16), ours_act(), nn.Linear(16, 8), ours_act(),
                         nn.Linear(8, 3))
    return _same_weights(ours, theirs, dtype)


def cnn_pair(dtype="float64", seed=0):
    torch.manual_seed(seed)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 6, 3), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(6 * 4 * 4, 3))
    ours = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 6, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(6 * 4 * 4, 3))
    return _same_weights(ours, theirs, dtype)


def _same_weights(ours, theirs, dtype):
    theirs = theirs.double() if dtype == "float64" else theirs.float()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours = ours.double() if dtype == "float64" else ours.float()
    return ours.eval(), theirs.eval()


def inputs(shape, dtype="float64", seed=1):
    x = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    return axonic.tensor(x), torch.tensor(x)


def rel_err(ours, theirs) -> float:
    a = ours.numpy() if hasattr(ours, "numpy") and not hasattr(ours, "detach") else ours
    b = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    a = np.asarray(a.numpy() if hasattr(a, "numpy") else a, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


TOL = {"float64": 1e-5, "float32": 1e-4}
