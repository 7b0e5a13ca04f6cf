"""Drawing from distributions given as tensors: ``multinomial`` and ``bernoulli``.

Not differentiable (the results are indices or 0/1 draws). Draws come from ``generator``
(the default generator when None), on the CPU, and land on the input's device.

>>> import axonic
>>> _ = axonic.manual_seed(0)
>>> axonic.multinomial(axonic.tensor([0.0, 1.0, 0.0]), 3, replacement=True).tolist()
[1, 1, 1]
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import device_of, to_device, to_numpy
from axonic.backend.random import Generator, default_generator
from axonic.ops._registry import op


def _generator(generator, who):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{who}: generator must be an axonic.Generator, got "
                        f"{type(generator).__name__}")
    return generator or default_generator


def _weights(input, num_samples, replacement):
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: expected a Tensor of weights, got {type(input).__name__}")
    w = to_numpy(input._data)
    if w.ndim not in (1, 2) or w.dtype.kind != "f":
        raise ValueError("multinomial: prob_dist must be a 1 or 2 dim floating tensor, got "
                         f"shape {tuple(w.shape)} of {w.dtype.name}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int | np.integer):
        raise TypeError(f"multinomial: num_samples must be an int, got {num_samples!r}")
    if num_samples <= 0:
        raise ValueError(f"multinomial: cannot sample n_sample <= 0 samples (got {num_samples})")
    w = w.reshape(-1, w.shape[-1]).astype(np.float64)
    if not replacement and num_samples > w.shape[1]:
        raise ValueError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                         f"without replacement ({num_samples} > {w.shape[1]})")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("multinomial: probability tensor contains either inf, nan or "
                         "element < 0")
    if (w.sum(1) <= 0).any():
        raise ValueError("multinomial: invalid multinomial distribution (sum of probabilities "
                         "<= 0)")
    return w


@op(methods=("multinomial",))
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """``num_samples`` category indices per row of ``input`` (non-negative weights, not
    necessarily summing to one), as PyTorch's ``torch.multinomial``: with ``replacement``
    each draw is independent; without, a category is drawn at most once and the indices
    come in the order they were drawn. Returns int64, shape ``(num_samples,)`` or
    ``(rows, num_samples)``.

    >>> import axonic
    >>> g = axonic.Generator().manual_seed(3)
    >>> sorted(axonic.multinomial(axonic.tensor([1.0, 2.0, 3.0]), 3, generator=g).tolist())
    [0, 1, 2]
    """
    if out is not None:
        raise TypeError("multinomial: out= is not supported; use the returned tensor")
    rng = _generator(generator, "multinomial").rng
    w = _weights(input, num_samples, replacement)
    if replacement:
        cdf = np.cumsum(w, axis=1)
        u = rng.random((w.shape[0], num_samples)) * cdf[:, -1:]
        # side="right": a draw equal to a boundary goes past zero-weight categories
        idx = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        idx = np.minimum(idx, w.shape[1] - 1)
    else:
        # exponential race: the k smallest E_i / w_i are k draws without replacement, in order;
        # zero weights (key inf) come last (PyTorch's CPU kernel also returns them)
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(w.shape) / w
        idx = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    idx = idx.astype(np.int64).reshape(input.shape[:-1] + (num_samples,))
    return _make(to_device(idx, device_of(input._data)))


@op(methods=("bernoulli",))
def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (or ``p``) per element, else 0, in ``input``'s dtype.

    >>> import axonic
    >>> axonic.bernoulli(axonic.tensor([0.0, 1.0])).tolist()
    [0.0, 1.0]
    """
    probs = to_numpy(input._data) if p is None else np.broadcast_to(p, input.shape)
    if probs.size and (np.nanmin(probs) < 0 or np.nanmax(probs) > 1 or np.isnan(probs).any()):
        raise ValueError("bernoulli: expected 0 <= p <= 1 for every element")
    rng = _generator(generator, "bernoulli").rng
    draw = (rng.random(input.shape) < probs).astype(input._data.dtype)
    return _make(to_device(draw, device_of(input._data)))
