"""``LayerGradCam`` (Selvaraju et al. 2017) and ``LayerAttribution.interpolate``:
a layer's activations weighted by the spatial mean of their gradients. Captum's names."""

from __future__ import annotations

import numpy as np

from axonic.autograd.engine import grad
from axonic.autograd.grad_mode import enable_grad
from axonic.explain._common import (
    as_array,
    as_tuple,
    format_target,
    fresh,
    run,
    target_mask,
)
from axonic.explain.interpolate import interpolate
from axonic.explain.layers import Capture, resolve_layer


class LayerAttribution:
    """Helpers shared by layer attributions."""

    @staticmethod
    def interpolate(layer_attribution, interpolate_dims, interpolate_mode="nearest"):
        """Upsample ``(N, C, ...)`` layer attributions to ``interpolate_dims``.

        >>> import axonic
        >>> LayerAttribution.interpolate(axonic.ones(1, 1, 2, 2), (8, 8)).shape
        (1, 1, 8, 8)
        """
        return fresh(interpolate(as_array(layer_attribution), interpolate_dims,
                                 interpolate_mode))


def layer_gradients_and_eval(forward_func, layer, inputs: tuple, targets, who: str,
                             additional_forward_args=None, attribute_to_layer_input=False):
    """The layer's output (or input) and the gradient of the target outputs with respect to
    it, both as arrays."""
    leaves = tuple(fresh(as_array(x), requires_grad=True) for x in inputs)
    with enable_grad(), Capture(layer, attribute_to_layer_input) as cap:
        out = run(forward_func, leaves, additional_forward_args)
    if len(cap.values) != 1:
        raise RuntimeError(f"{who}: the layer {type(layer).__name__} ran {len(cap.values)} "
                           "times in one forward; expected exactly once")
    act = cap.values[0]
    mask = target_mask(tuple(out.shape), targets, who).astype(as_array(out).dtype)
    (g,) = grad([out], [act], [fresh(mask)], allow_unused=True)
    g = np.zeros_like(act.detach().numpy()) if g is None else g.numpy()
    return g, act.detach().numpy()


class LayerGradCam(LayerAttribution):
    """Grad-CAM of ``layer`` (a module or its dotted name in ``forward_func``): the layer's
    channels weighted by their mean gradient, summed over channels, shape ``(N, 1, ...)``.

    >>> import axonic
    >>> from axonic import nn
    >>> model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))
    >>> cam = LayerGradCam(model, "0").attribute(axonic.randn(2, 1, 6, 6), target=2)
    >>> cam.shape, LayerAttribution.interpolate(cam, (6, 6)).shape
    ((2, 1, 4, 4), (2, 1, 6, 6))
    """

    def __init__(self, forward_func, layer, device_ids=None):
        self.forward_func = forward_func
        self.layer = resolve_layer(forward_func, layer, "LayerGradCam")

    def attribute(self, inputs, target=None, additional_forward_args=None,
                  attribute_to_layer_input=False, relu_attributions=False,
                  attr_dim_summation=True):
        who = "LayerGradCam"
        items = as_tuple(inputs, who)
        targets = format_target(target, items[0].shape[0], who)
        g, act = layer_gradients_and_eval(self.forward_func, self.layer, items, targets, who,
                                          additional_forward_args, attribute_to_layer_input)
        weights = g.mean(axis=tuple(range(2, g.ndim)), keepdims=True) if g.ndim > 2 else g
        scaled = weights * act
        if attr_dim_summation:
            scaled = scaled.sum(axis=1, keepdims=True)
        if relu_attributions:
            scaled = np.maximum(scaled, 0)
        return fresh(scaled)
