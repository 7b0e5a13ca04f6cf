"""Transfer-learning helpers: freeze and unfreeze parts of a model, and per-layer
("discriminative") learning rates as optimizer parameter groups (Howard & Ruder, 2018)."""

from __future__ import annotations

from axonic.nn.module import Module
from axonic.nn.parameter import Parameter


def _params(group, who: str) -> list[Parameter]:
    if isinstance(group, Module):
        return list(group.parameters())
    if isinstance(group, Parameter):
        return [group]
    try:
        params = list(group)
    except TypeError:
        raise ValueError(f"{who}: expected a Module, a Parameter or an iterable of "
                         f"Parameters, got {type(group).__name__}") from None
    for p in params:
        if not isinstance(p, Parameter):
            raise ValueError(f"{who}: expected Parameters, got {type(p).__name__}")
    return params


def freeze(*groups) -> None:
    """Stop gradients to the parameters of each group (``requires_grad_(False)``), so a
    pre-trained part keeps its weights while the rest trains.

    >>> from axonic import nn
    >>> net = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    >>> freeze(net[0])
    >>> [p.requires_grad for p in net.parameters()]
    [False, False, True, True]
    """
    for g in groups:
        for p in _params(g, "freeze"):
            p.requires_grad_(False)


def unfreeze(*groups) -> None:
    """Let gradients flow to the parameters of each group again."""
    for g in groups:
        for p in _params(g, "unfreeze"):
            p.requires_grad_(True)


def discriminative_param_groups(groups, lr: float, decay: float = 2.6) -> list[dict]:
    """Optimizer parameter groups with learning rates falling from the output down:
    ``groups`` is ordered from the input to the output; the last gets ``lr``, the one
    before ``lr / decay``, then ``lr / decay**2`` ... (ULMFiT's factor 2.6 by default).
    Every parameter is included, trainable or not, so unfreezing later needs no new
    optimizer (a frozen parameter has no gradient and is skipped by ``step``).

    >>> from axonic import nn, optim
    >>> net = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 2))
    >>> opt = optim.SGD(discriminative_param_groups(list(net), lr=0.1, decay=10))
    >>> [round(g["lr"], 4) for g in opt.param_groups]
    [0.001, 0.01, 0.1]
    """
    groups = list(groups)
    if not groups:
        raise ValueError("discriminative_param_groups: groups is empty")
    if not lr > 0 or not decay >= 1:
        raise ValueError(f"discriminative_param_groups: expected lr > 0 and decay >= 1, got "
                         f"lr={lr!r}, decay={decay!r}")
    n = len(groups)
    return [{"params": _params(g, "discriminative_param_groups"), "lr": lr / decay ** (n - 1 - i)}
            for i, g in enumerate(groups)]
