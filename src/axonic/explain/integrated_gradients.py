"""``IntegratedGradients`` (Sundararajan et al. 2017) with Captum's arguments: the path
integral of gradients from a baseline to the input, by Gauss-Legendre or Riemann sums."""

from __future__ import annotations

import numpy as np

from axonic.explain._common import (
    as_array,
    as_tuple,
    expand_target,
    format_baselines,
    format_target,
    fresh,
    gradients,
    like_inputs,
    target_outputs,
)

METHODS = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid",
           "gausslegendre")


def approximation_parameters(method: str, n_steps: int):
    """``(step_sizes, alphas)`` of the quadrature ``method`` with ``n_steps`` points.

    >>> sizes, alphas = approximation_parameters("riemann_trapezoid", 3)
    >>> sizes.tolist(), alphas.tolist()
    ([0.16666666666666666, 0.3333333333333333, 0.16666666666666666], [0.0, 0.5, 1.0])
    """
    if method not in METHODS:
        raise ValueError(f"IntegratedGradients: method must be one of {', '.join(METHODS)}, "
                         f"got {method!r}")
    if method == "gausslegendre":
        x, w = np.polynomial.legendre.leggauss(n_steps)
        return 0.5 * w, 0.5 * (1 + x)
    if n_steps < 2:
        raise ValueError(f"IntegratedGradients: the Riemann methods need n_steps >= 2, "
                         f"got {n_steps}")
    n = n_steps
    sizes = np.full(n, 1.0 / n)
    kind = method.split("_")[1]
    if kind == "trapezoid":
        sizes[0] /= 2
        sizes[-1] /= 2
        return sizes, np.linspace(0, 1, n)
    start, stop = {"left": (0, 1 - 1 / n), "right": (1 / n, 1),
                   "middle": (1 / (2 * n), 1 - 1 / (2 * n))}[kind]
    return sizes, np.linspace(start, stop, n)


class IntegratedGradients:
    """Attribution ``(x - x') * integral_0^1 grad f(x' + a (x - x')) da`` per feature.

    With ``return_convergence_delta=True`` also returns, per example, the sum of the
    attributions minus ``f(x) - f(x')``: how far the quadrature is from complete.

    >>> import axonic
    >>> from axonic import nn
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    >>> ig = IntegratedGradients(model)
    >>> attr, delta = ig.attribute(axonic.randn(2, 3), target=0, return_convergence_delta=True)
    >>> attr.shape, delta.shape
    ((2, 3), (2,))
    """

    def __init__(self, forward_func, multiply_by_inputs: bool = True):
        self.forward_func = forward_func
        self.multiplies_by_inputs = multiply_by_inputs

    def attribute(self, inputs, baselines=None, target=None, additional_forward_args=None,
                  n_steps=50, method="gausslegendre", internal_batch_size=None,
                  return_convergence_delta=False):
        who = "IntegratedGradients"
        items = as_tuple(inputs, who)
        if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
            raise ValueError(f"{who}: n_steps must be a positive int, got {n_steps!r}")
        arrays = [as_array(x) for x in items]
        bases = format_baselines(baselines, items, who)
        n = arrays[0].shape[0]
        targets = format_target(target, n, who)
        sizes, alphas = approximation_parameters(method, n_steps)
        per_call = n_steps if internal_batch_size is None else max(1, internal_batch_size // n)
        total = [np.zeros_like(a) for a in arrays]
        for start in range(0, n_steps, per_call):
            chunk = range(start, min(start + per_call, n_steps))
            scaled = [np.concatenate([b + alphas[k] * (a - b) for k in chunk]).astype(a.dtype)
                      for a, b in zip(arrays, bases)]
            grads = gradients(self.forward_func, scaled, expand_target(targets, len(chunk)),
                              who, additional_forward_args)
            for i, g in enumerate(grads):
                g = g.reshape((len(chunk),) + arrays[i].shape)
                w = sizes[list(chunk)].astype(g.dtype).reshape((-1,) + (1,) * arrays[i].ndim)
                total[i] += (g * w).sum(axis=0)
        if self.multiplies_by_inputs:
            total = [t * (a - b) for t, a, b in zip(total, arrays, bases)]
        attributions = like_inputs([fresh(t) for t in total], isinstance(inputs, tuple))
        if not return_convergence_delta:
            return attributions
        delta = self.compute_convergence_delta(attributions, baselines, inputs, target,
                                               additional_forward_args)
        return attributions, delta

    def compute_convergence_delta(self, attributions, start_point, end_point, target=None,
                                  additional_forward_args=None):
        """Per example: the attributions' sum minus ``f(end_point) - f(start_point)``."""
        who = "IntegratedGradients"
        ends = as_tuple(end_point, who)
        starts = format_baselines(start_point, ends, who)
        start_items = tuple(fresh(np.broadcast_to(s, e.shape).astype(as_array(e).dtype))
                            for s, e in zip(starts, ends))
        targets = format_target(target, ends[0].shape[0], who)
        f_end = target_outputs(self.forward_func, ends, targets, who, additional_forward_args)
        f_start = target_outputs(self.forward_func, start_items, targets, who,
                                 additional_forward_args)
        attrs = attributions if isinstance(attributions, tuple) else (attributions,)
        summed = sum(as_array(a).reshape(a.shape[0], -1).sum(axis=1) for a in attrs)
        return fresh(summed - (f_end - f_start))
