"""``GuidedBackprop`` (Springenberg et al. 2015) and ``GuidedGradCam``: gradients where
every ``nn.ReLU`` lets only positive gradients through, alone or times Grad-CAM."""

from __future__ import annotations

import numpy as np

from axonic.explain._common import as_array, as_tuple, format_target, fresh, gradients, like_inputs
from axonic.explain.grad_cam import LayerAttribution, LayerGradCam
from axonic.nn.activation import ReLU


def _positive_gradient(module, grad_input, grad_output):
    return tuple(None if g is None else g.clamp(min=0) for g in grad_input)


class GuidedBackprop:
    """The input gradient with each ``nn.ReLU`` module's backward clipped at zero
    (functional ``F.relu`` calls are not modified, as in Captum).

    >>> import axonic
    >>> from axonic import nn
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> GuidedBackprop(model).attribute(axonic.randn(2, 3), target=1).shape
    (2, 3)
    """

    def __init__(self, model):
        self.model = model

    def attribute(self, inputs, target=None, additional_forward_args=None):
        who = type(self).__name__
        items = as_tuple(inputs, who)
        targets = format_target(target, items[0].shape[0], who)
        handles = [m.register_full_backward_hook(_positive_gradient)
                   for m in self.model.modules() if isinstance(m, ReLU)]
        try:
            grads = gradients(self.model, [as_array(x) for x in items], targets, who,
                              additional_forward_args)
        finally:
            for h in handles:
                h.remove()
        return like_inputs([fresh(g) for g in grads], isinstance(inputs, tuple))


class GuidedGradCam:
    """Guided backprop times Grad-CAM of ``layer`` (ReLU'd, upsampled to the input).

    >>> import axonic
    >>> from axonic import nn
    >>> model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))
    >>> GuidedGradCam(model, model[0]).attribute(axonic.randn(2, 1, 6, 6), target=0).shape
    (2, 1, 6, 6)
    """

    def __init__(self, model, layer, device_ids=None):
        self.grad_cam = LayerGradCam(model, layer)
        self.guided_backprop = GuidedBackprop(model)

    def attribute(self, inputs, target=None, additional_forward_args=None,
                  interpolate_mode="nearest", attribute_to_layer_input=False):
        items = as_tuple(inputs, "GuidedGradCam")
        cam = self.grad_cam.attribute(items, target, additional_forward_args,
                                      attribute_to_layer_input, relu_attributions=True)
        guided = self.guided_backprop.attribute(items, target, additional_forward_args)
        out = []
        for x, g in zip(items, guided):
            if x.ndim != cam.ndim or x.ndim < 3:  # needs spatial axes to upsample over
                raise ValueError(f"GuidedGradCam: cannot upsample a Grad-CAM map of shape "
                                 f"{tuple(cam.shape)} to an input of shape {tuple(x.shape)}")
            up = LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode)
            out.append(fresh(as_array(g) * np.asarray(as_array(up))))
        return like_inputs(out, isinstance(inputs, tuple))
