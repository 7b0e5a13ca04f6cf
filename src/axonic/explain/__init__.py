"""Interpretability: attribution methods with Captum's class names, arguments and defaults,
attention maps, and adapters over ``shap`` and ``lime``.

>>> import axonic
>>> from axonic import nn
>>> from axonic.explain import IntegratedGradients
>>> model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
>>> IntegratedGradients(model).attribute(axonic.randn(2, 4), target=1).shape
(2, 4)
"""

from axonic.explain.ablation import FeatureAblation, Occlusion
from axonic.explain.attention import attention_maps, attention_rollout
from axonic.explain.grad_cam import LayerAttribution, LayerGradCam
from axonic.explain.guided_backprop import GuidedBackprop, GuidedGradCam
from axonic.explain.integrated_gradients import IntegratedGradients
from axonic.explain.noise_tunnel import NoiseTunnel
from axonic.explain.saliency import InputXGradient, Saliency
from axonic.explain.surrogate import KernelShap, Lime

__all__ = ["Saliency", "InputXGradient", "IntegratedGradients", "NoiseTunnel",
           "LayerGradCam", "LayerAttribution", "GuidedBackprop", "GuidedGradCam",
           "Occlusion", "FeatureAblation", "KernelShap", "Lime", "attention_maps",
           "attention_rollout"]
