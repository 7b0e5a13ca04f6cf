"""``Saliency`` and ``InputXGradient``: the gradient of the target output with respect to
the input, as is (absolute by default) or times the input. Captum's names and defaults."""

from __future__ import annotations

import numpy as np

from axonic.explain._common import (
    as_array,
    as_tuple,
    format_target,
    fresh,
    gradients,
    like_inputs,
)


class Saliency:
    """Simonyan et al.'s saliency map: ``|d f_target / d x|``.

    >>> import axonic
    >>> from axonic import nn
    >>> model = nn.Linear(3, 2)
    >>> x = axonic.randn(4, 3)
    >>> Saliency(model).attribute(x, target=1).shape
    (4, 3)
    """

    def __init__(self, forward_func):
        self.forward_func = forward_func

    def attribute(self, inputs, target=None, abs=True, additional_forward_args=None):
        items = as_tuple(inputs, "Saliency")
        targets = format_target(target, items[0].shape[0], "Saliency")
        grads = gradients(self.forward_func, [as_array(x) for x in items], targets,
                          "Saliency", additional_forward_args)
        return like_inputs([fresh(np.abs(g) if abs else g) for g in grads],
                           isinstance(inputs, tuple))


class InputXGradient:
    """The input times the gradient of the target output with respect to it.

    >>> import axonic
    >>> from axonic import nn
    >>> x = axonic.randn(4, 3)
    >>> InputXGradient(nn.Linear(3, 2)).attribute(x, target=0).shape
    (4, 3)
    """

    def __init__(self, forward_func):
        self.forward_func = forward_func

    def attribute(self, inputs, target=None, additional_forward_args=None):
        items = as_tuple(inputs, "InputXGradient")
        arrays = [as_array(x) for x in items]
        targets = format_target(target, arrays[0].shape[0], "InputXGradient")
        grads = gradients(self.forward_func, arrays, targets, "InputXGradient",
                          additional_forward_args)
        return like_inputs([fresh(g * a) for g, a in zip(grads, arrays)],
                           isinstance(inputs, tuple))
