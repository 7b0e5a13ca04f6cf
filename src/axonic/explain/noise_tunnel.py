"""``NoiseTunnel``: SmoothGrad, SmoothGrad-squared and VarGrad over any attribution method
(Smilkov et al. 2017; Adebayo et al. 2018), with Captum's arguments and sample layout."""

from __future__ import annotations

import numpy as np

from axonic.backend.random import default_generator
from axonic.explain._common import as_array, as_tuple, format_target, fresh, like_inputs

NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")


def _interleave(value, times: int, n: int):
    """Repeat each example's row ``times`` (Captum's ``repeat_interleave`` layout)."""
    arr = as_array(value)
    if arr.ndim and arr.shape[0] == n:
        return fresh(np.repeat(arr, times, axis=0))
    return value


class NoiseTunnel:
    """Average an attribution over ``nt_samples`` copies of the input with Gaussian noise of
    standard deviation ``stdevs`` added: the mean (``smoothgrad``), the mean of squares
    (``smoothgrad_sq``) or the variance (``vargrad``).

    The noise is drawn from axonic's default generator (``axonic.manual_seed``); ``noise``
    gives it explicitly instead, one array per input of shape ``(batch * nt_samples, ...)``
    in Captum's layout (each example's samples next to each other).

    >>> import axonic
    >>> from axonic import nn
    >>> from axonic.explain import Saliency
    >>> nt = NoiseTunnel(Saliency(nn.Linear(3, 2)))
    >>> nt.attribute(axonic.randn(2, 3), nt_type="smoothgrad", nt_samples=4, target=1).shape
    (2, 3)
    """

    def __init__(self, attribution_method):
        self.attribution_method = attribution_method

    def attribute(self, inputs, nt_type="smoothgrad", nt_samples=5, nt_samples_batch_size=None,
                  stdevs=1.0, draw_baseline_from_distrib=False, noise=None, **kwargs):
        who = "NoiseTunnel"
        items = as_tuple(inputs, who)
        if nt_type not in NT_TYPES:
            raise ValueError(f"{who}: nt_type must be one of {', '.join(NT_TYPES)}, "
                             f"got {nt_type!r}")
        if isinstance(nt_samples, bool) or not isinstance(nt_samples, int) or nt_samples < 1:
            raise ValueError(f"{who}: nt_samples must be a positive int, got {nt_samples!r}")
        if draw_baseline_from_distrib:
            raise ValueError(f"{who}: draw_baseline_from_distrib=True is not supported")
        stdevs = stdevs if isinstance(stdevs, tuple) else (stdevs,) * len(items)
        if len(stdevs) != len(items):
            raise ValueError(f"{who}: got {len(stdevs)} stdevs for {len(items)} inputs")
        noise = None if noise is None else (noise if isinstance(noise, tuple) else (noise,))
        batch = nt_samples if nt_samples_batch_size is None else nt_samples_batch_size
        n = items[0].shape[0]
        sums, squares, deltas = None, None, []
        for start in range(0, nt_samples, batch):
            k = min(batch, nt_samples - start)
            noisy = self._noisy(items, stdevs, k, noise, start * n)
            attrs, delta = self._call(noisy, k, n, kwargs)
            parts = [as_array(a).reshape((n, k) + tuple(a.shape[1:])) for a in attrs]
            s = [p.sum(axis=1) for p in parts]
            q = [(p ** 2).sum(axis=1) for p in parts]
            sums = s if sums is None else [a + b for a, b in zip(sums, s)]
            squares = q if squares is None else [a + b for a, b in zip(squares, q)]
            if delta is not None:
                deltas.append(as_array(delta))
        mean = [s / nt_samples for s in sums]
        mean_sq = [q / nt_samples for q in squares]
        out = {"smoothgrad": mean, "smoothgrad_sq": mean_sq,
               "vargrad": [q - m * m for m, q in zip(mean, mean_sq)]}[nt_type]
        result = like_inputs([fresh(o) for o in out], isinstance(inputs, tuple))
        if kwargs.get("return_convergence_delta"):
            return result, fresh(np.concatenate(deltas))
        return result

    def _noisy(self, items, stdevs, k, noise, offset):
        out = []
        for i, (x, sd) in enumerate(zip(items, stdevs)):
            arr = as_array(x)
            shape = (arr.shape[0] * k,) + arr.shape[1:]
            if noise is None:
                eps = default_generator.normal(0.0, float(sd), shape)
            else:
                eps = as_array(noise[i])[offset:offset + shape[0]]
                if eps.shape != shape:
                    raise ValueError(f"NoiseTunnel: noise for input {i} must have shape "
                                     f"{(arr.shape[0] * k,) + arr.shape[1:]} per batch of "
                                     f"samples, got {eps.shape}")
            out.append(fresh((np.repeat(arr, k, axis=0) + eps).astype(arr.dtype)))
        return tuple(out)

    def _call(self, noisy, k, n, kwargs):
        kw = dict(kwargs)
        if kw.get("target") is not None:
            t = format_target(kw["target"], n, "NoiseTunnel")
            kw["target"] = [tuple(r) for r in np.repeat(t, k, axis=0)]
        for key in ("baselines", "feature_mask", "additional_forward_args"):
            value = kw.get(key)
            if isinstance(value, tuple):
                kw[key] = tuple(_interleave(v, k, n) for v in value)
            elif value is not None:
                kw[key] = _interleave(value, k, n)
        out = self.attribution_method.attribute(noisy if len(noisy) > 1 else noisy[0], **kw)
        delta = None
        if kw.get("return_convergence_delta"):
            out, delta = out
        return (out if isinstance(out, tuple) else (out,)), delta
