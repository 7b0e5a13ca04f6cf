"""Every user-facing error of the attribution methods names the method and the value."""

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.explain import (
    FeatureAblation,
    IntegratedGradients,
    LayerGradCam,
    NoiseTunnel,
    Occlusion,
    Saliency,
)


@pytest.fixture
def model():
    axonic.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_target_errors(model):
    x = axonic.randn(2, 3)
    with pytest.raises(ValueError, match=r"Saliency: the model returns \(2,\) values per "
                                         "example; pass target="):
        Saliency(model).attribute(x)
    with pytest.raises(IndexError, match=r"Saliency: target 5 is out of range for an output "
                                         r"of shape \(2, 2\)"):
        Saliency(model).attribute(x, target=5)
    with pytest.raises(ValueError, match=r"Saliency: a list target needs one entry per "
                                         r"example \(2\), got 3"):
        Saliency(model).attribute(x, target=[0, 1, 0])
    with pytest.raises(TypeError, match="Saliency: target must be an int, a tuple, a list or "
                                        "a Tensor, got str"):
        Saliency(model).attribute(x, target="cat")
    with pytest.raises(TypeError, match="Saliency: inputs must be a Tensor or a tuple of "
                                        "Tensors, got ndarray"):
        Saliency(model).attribute(np.ones((2, 3)), target=0)


def test_integrated_gradients_errors(model):
    x = axonic.randn(2, 3)
    ig = IntegratedGradients(model)
    with pytest.raises(ValueError, match="IntegratedGradients: method must be one of "
                                         ".*gausslegendre, got 'simpson'"):
        ig.attribute(x, target=0, method="simpson")
    with pytest.raises(ValueError, match="n_steps must be a positive int, got 0"):
        ig.attribute(x, target=0, n_steps=0)
    with pytest.raises(ValueError, match="the Riemann methods need n_steps >= 2, got 1"):
        ig.attribute(x, target=0, n_steps=1, method="riemann_left")
    with pytest.raises(ValueError, match=r"baseline of shape \(4,\) does not broadcast to the "
                                         r"input of shape \(2, 3\)"):
        ig.attribute(x, baselines=np.zeros(4), target=0)


def test_noise_tunnel_errors(model):
    nt = NoiseTunnel(Saliency(model))
    x = axonic.randn(2, 3)
    with pytest.raises(ValueError, match="nt_type must be one of smoothgrad, smoothgrad_sq, "
                                         "vargrad, got 'mean'"):
        nt.attribute(x, nt_type="mean", target=0)
    with pytest.raises(ValueError, match="nt_samples must be a positive int, got 0"):
        nt.attribute(x, nt_samples=0, target=0)
    with pytest.raises(ValueError, match=r"noise for input 0 must have shape \(4, 3\)"):
        nt.attribute(x, nt_samples=2, target=0, noise=np.zeros((3, 3)))


def test_layer_and_window_errors(model):
    with pytest.raises(ValueError, match="LayerGradCam: the model has no layer 'conv1'; its "
                                         "layers are 0, 1, 2"):
        LayerGradCam(model, "conv1")
    with pytest.raises(TypeError, match="LayerGradCam: layer must be a Module or a dotted "
                                        "name, got int"):
        LayerGradCam(model, 3)
    x = axonic.randn(2, 3)
    with pytest.raises(ValueError, match=r"Occlusion: sliding window \(4,\) exceeds the input "
                                         r"dimensions \(3,\)"):
        Occlusion(model).attribute(x, (4,), target=0)
    with pytest.raises(ValueError, match=r"Occlusion: stride \(3,\) cannot exceed the sliding "
                                         r"window \(2,\)"):
        Occlusion(model).attribute(x, (2,), strides=3, target=0)
    with pytest.raises(ValueError, match="FeatureAblation: got 2 feature masks for 1 inputs"):
        FeatureAblation(model).attribute(x, target=0, feature_mask=(np.zeros(3), np.zeros(3)))


def test_more_input_errors(model):
    from axonic.explain import GuidedGradCam, KernelShap
    from axonic.explain.interpolate import interpolate

    x = axonic.randn(2, 3)
    with pytest.raises(ValueError, match=r"Saliency: target indexes 2 output dimension\(s\) "
                                         r"but the output has shape \(2, 2\)"):
        Saliency(model).attribute(x, target=(0, 1))
    with pytest.raises(ValueError, match="Saliency: the model must return a Tensor with one "
                                         "row per example"):
        Saliency(lambda t: t.sum()).attribute(x)
    with pytest.raises(ValueError, match="IntegratedGradients: got 2 baselines for 1 inputs"):
        IntegratedGradients(model).attribute(x, baselines=(0.0, 0.0), target=0)
    with pytest.raises(ValueError, match="NoiseTunnel: draw_baseline_from_distrib=True is not "
                                         "supported"):
        NoiseTunnel(Saliency(model)).attribute(x, target=0, draw_baseline_from_distrib=True)
    with pytest.raises(ValueError, match="NoiseTunnel: got 2 stdevs for 1 inputs"):
        NoiseTunnel(Saliency(model)).attribute(x, target=0, stdevs=(0.1, 0.2))
    with pytest.raises(ValueError, match=r"Occlusion: sliding_window_shapes \(1, 1\) must have "
                                         r"one entry per non-batch input dimension \(3,\)"):
        Occlusion(model).attribute(x, (1, 1), target=0)
    with pytest.raises(TypeError, match="LayerGradCam: a layer given by name \\('0'\\) needs a "
                                        "Module model, got function"):
        LayerGradCam(lambda t: model(t), "0")
    with pytest.raises(ValueError, match="KernelShap: takes a single input tensor, got 2"):
        KernelShap(model).attribute((x, x), target=0)
    with pytest.raises(ValueError, match="interpolate: mode must be one of nearest, linear, "
                                         "bilinear, trilinear, got 'cubic'"):
        interpolate(np.ones((1, 1, 2, 2)), (4, 4), "cubic")
    with pytest.raises(ValueError, match=r"interpolate: an array of shape \(1, 1, 2, 2\) has 2 "
                                         r"spatial axes but size \(4,\) has 1"):
        interpolate(np.ones((1, 1, 2, 2)), 4)
    with pytest.raises(ValueError, match=r"GuidedGradCam: cannot upsample a Grad-CAM map of "
                                         r"shape \(2, 1\) to an input of shape \(2, 3\)"):
        GuidedGradCam(model, "0").attribute(x, target=0)


def test_a_layer_that_runs_twice_is_named():
    lin = nn.Linear(3, 3)

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lin

        def forward(self, x):
            return self.lin(self.lin(x))

    with pytest.raises(RuntimeError, match="LayerGradCam: the layer Linear ran 2 times in one "
                                           "forward; expected exactly once"):
        LayerGradCam(Twice(), "lin").attribute(axonic.randn(2, 3), target=0)
